// The generation loop over a DecodeSession: greedy or seeded top-p sampling, EOS ids, stop strings
// (never streaming text that might still become one), UTF-8-safe decoding of byte-level tokens, and
// JSON-Schema-constrained decoding that always ends in a valid document.
//
// Constrained decoding: each step walks the top-k candidates in logit order and keeps those whose bytes
// keep the JSON prefix valid (greedy takes the first; sampling renormalises over the valid ones). When
// none of the top k is valid, it scans the whole vocabulary (session.logits()); when even that finds
// nothing it writes the shortest completion. When the token budget would no longer fit the shortest
// completion, it closes the value with it, so the output is always valid JSON matching the schema.

import { sampleTopP } from '../gpu/kernels/sampling';
import type { DecodeSession } from './decode-session';
import { JsonConstraint, type JsonState } from './json-constraint';
import { createRng, type Rng } from './rng';
import { StopMatcher } from './stop-strings';
import { tokenBytesOf, type TokenBytes } from './token-bytes';
import { byteToUnicode } from './tiny-tokenizer';
import type { ModelTokenizer } from './tokenizer';

export type FinishReason = 'stop' | 'length' | 'eos';

export interface GenerateOptions {
  /** Tokens to append before generating (may be empty when the session already holds a context). */
  promptIds: readonly number[];
  /** Most tokens to generate (the KV cache's room may cut it shorter). */
  maxTokens: number;
  /** 0 (default) = greedy, ties to the lowest id. */
  temperature?: number;
  /** Nucleus mass (default 1), within the top-k candidates. */
  topP?: number;
  /** Candidates fetched per step for sampling and constrained decoding (default 64). */
  topK?: number;
  /** Same seed, same output. Without one, sampling is not reproducible. */
  seed?: number;
  /** Generation ends before the first of these strings; they are not part of the text. Ignored with jsonSchema. */
  stop?: readonly string[];
  /** Constrain the output to JSON matching this schema (a JSON Schema object or a built constraint). */
  jsonSchema?: Record<string, unknown> | JsonConstraint;
  /** Receives the text as it becomes final (never text that later turns out to start a stop string). */
  onToken?: (delta: string) => void;
  /** Rejects with an AbortError between steps once aborted. */
  signal?: AbortSignal;
  /** End-of-sequence ids (default: the tokenizer's stop ids). */
  eosIds?: readonly number[];
}

export interface GenerateResult {
  /** Generated ids (for JSON output closed by force, the closing text's ids are included). */
  ids: number[];
  text: string;
  /** eos: an end-of-sequence token; stop: a stop string or a finished JSON value; length: out of tokens. */
  finishReason: FinishReason;
  usage: { promptTokens: number; completionTokens: number };
  /** How many of the last `ids` were written by force to close a JSON value (not sampled; 0 otherwise). */
  forcedTokens: number;
}

const NONE = 0xffffffff;
/** Candidates fetched per greedy constrained step (topK costs O(k·V) on the GPU). */
const GREEDY_K = 16;

function abortError(): DOMException {
  return new DOMException('The generation was aborted.', 'AbortError');
}

interface Candidate {
  id: number;
  value: number;
  /** JSON state after the token; null for an end-of-sequence token ending a finished value. */
  next: JsonState | null;
}

/** The text side: UTF-8 decoding across token boundaries, stop strings, streaming. */
class TextOutput {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly stops: StopMatcher;
  text = '';
  constructor(
    stop: readonly string[],
    private readonly onToken?: (delta: string) => void,
  ) {
    this.stops = new StopMatcher(stop);
  }
  /** Adds bytes; true when a stop string ended the text. */
  push(bytes: Uint8Array): boolean {
    const r = this.stops.push(this.decoder.decode(bytes, { stream: true }));
    this.emit(r.emit);
    return r.stopped;
  }
  finish(): void {
    const r = this.stops.push(this.decoder.decode());
    this.emit(r.emit);
    if (!r.stopped) this.emit(this.stops.flush());
  }
  private emit(delta: string): void {
    if (!delta) return;
    this.text += delta;
    this.onToken?.(delta);
  }
}

export async function generate(session: DecodeSession, tokenizer: ModelTokenizer, options: GenerateOptions): Promise<GenerateResult> {
  const temperature = options.temperature ?? 0;
  const topP = options.topP ?? 1;
  const k = options.topK ?? 64;
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`generate: temperature must be >= 0, got ${temperature}`);
  if (!(topP > 0 && topP <= 1)) throw new Error(`generate: top_p must be in (0, 1], got ${topP}`);
  if (!Number.isInteger(k) || k < 1) throw new Error(`generate: topK must be a positive integer, got ${k}`);
  if (!Number.isInteger(options.maxTokens) || options.maxTokens < 0) throw new Error(`generate: maxTokens must be a non-negative integer, got ${options.maxTokens}`);
  const room = session.maxTokens - session.length - options.promptIds.length;
  if (room < 0) throw new Error(`generate: the prompt (${options.promptIds.length} tokens) does not fit the session's ${session.maxTokens - session.length} free positions; shorten it or open a longer session.`);
  if (options.promptIds.length === 0 && session.length === 0) throw new Error('generate: nothing to continue from (empty prompt and empty session)');
  if (options.signal?.aborted) throw abortError();

  const constraint = options.jsonSchema === undefined ? null : options.jsonSchema instanceof JsonConstraint ? options.jsonSchema : new JsonConstraint(options.jsonSchema);
  const table = tokenBytesOf(tokenizer);
  const eos = new Set(options.eosIds ?? tokenizer.stopIds);
  const rng = createRng(options.seed);
  const out = new TextOutput(constraint ? [] : (options.stop ?? []), options.onToken);
  // Each generated token but the last is appended to the cache: room + 1 tokens fit.
  const budget = Math.min(options.maxTokens, room + 1);
  const ids: number[] = [];
  let finishReason: FinishReason = 'length';
  let state = constraint?.initial ?? null;

  let forcedTokens = 0;
  const result = (): GenerateResult => {
    out.finish();
    return { ids, text: out.text, finishReason, usage: { promptTokens: options.promptIds.length, completionTokens: ids.length }, forcedTokens };
  };
  /** Writes the shortest completion of the JSON value (forced: no model call). */
  const close = (reason: FinishReason): GenerateResult => {
    const bytes = constraint!.completion(state!);
    const forced = bytesToIds(tokenizer, bytes);
    forcedTokens = forced.length;
    ids.push(...forced);
    out.push(bytes);
    finishReason = reason;
    return result();
  };

  // JSON: keep room to close the value. Invariant: the tokens left always fit the shortest completion
  // (each candidate must leave room for its own); when nothing fits, close now.
  const fits = (next: JsonState): boolean => {
    const left = budget - ids.length - 1;
    const bytes = constraint!.completion(next);
    return bytes.length <= left || bytesToIds(tokenizer, bytes).length <= left; // tokens <= bytes: encode only when tight
  };
  // A budget too small for anything but the shortest JSON value forces the reply: no model call at all.
  if (constraint && state && bytesToIds(tokenizer, constraint.completion(state)).length >= budget) return close('length');
  if (options.promptIds.length > 0) await session.append([...options.promptIds]);

  while (ids.length < budget) {
    if (options.signal?.aborted) throw abortError();
    let id: number;
    if (constraint && state) {
      const pick = await pickConstrained(session, constraint, state, table, eos, fits, { temperature, topP, k, rng });
      if (pick === 'budget') return close('length');
      if (pick === null) return close('stop');
      if (pick.next === null) {
        finishReason = 'eos';
        break;
      }
      id = pick.id;
      state = pick.next;
    } else {
      id = await pickFree(session, { temperature, topP, k, rng });
      if (eos.has(id)) {
        finishReason = 'eos';
        break;
      }
    }
    ids.push(id);
    if (out.push(table.bytes(id))) {
      finishReason = 'stop';
      break;
    }
    if (constraint && state && !constraint.canContinue(state)) {
      finishReason = 'stop';
      break;
    }
    if (ids.length < budget) await session.append([id]);
  }
  if (constraint && state && finishReason === 'length') return close('length');
  return result();
}

interface PickOptions {
  temperature: number;
  topP: number;
  k: number;
  rng: Rng;
}

async function pickFree(session: DecodeSession, o: PickOptions): Promise<number> {
  if (o.temperature === 0) {
    const { indices } = await session.topK(1, 0);
    return indices[0]!;
  }
  const { values, indices, lse } = await session.topK(o.k, o.temperature);
  return sampleTopP(values, indices, lse, { temperature: o.temperature, topP: o.topP, random: o.rng() });
}

/**
 * The next token under the constraint; 'budget' when valid tokens exist but none leaves room to close
 * the value; null when no token in the vocabulary keeps the JSON valid.
 */
async function pickConstrained(
  session: DecodeSession,
  c: JsonConstraint,
  state: JsonState,
  table: TokenBytes,
  eos: ReadonlySet<number>,
  fits: (next: JsonState) => boolean,
  o: PickOptions,
): Promise<Candidate | 'budget' | null> {
  const greedy = o.temperature === 0;
  const complete = c.isComplete(state);
  let tooLong = false;
  const valid = (id: number, value: number): Candidate | null => {
    if (eos.has(id)) return complete ? { id, value, next: null } : null;
    const bytes = table.bytes(id);
    if (bytes.length === 0) return null; // special tokens and unknown ids never appear in JSON
    const next = c.advance(state, bytes);
    return next ? { id, value, next } : null;
  };
  const ok = (cand: Candidate): boolean => {
    if (cand.next === null || fits(cand.next)) return true;
    tooLong = true;
    return false;
  };
  // Greedy needs only the best valid token: a short list usually has it (the full scan covers the rest).
  const { values, indices } = await session.topK(greedy ? Math.min(o.k, GREEDY_K) : o.k, o.temperature);
  const found: Candidate[] = [];
  for (let j = 0; j < indices.length && indices[j] !== NONE; j++) {
    const cand = valid(indices[j]!, values[j]!);
    if (!cand) continue;
    if (greedy) {
      if (ok(cand)) return cand; // the best valid token: checking the budget of this one alone is enough
    } else found.push(cand);
  }
  // Sampling: draw among the valid candidates; one that does not fit the budget is dropped and we draw again.
  while (found.length > 0) {
    const cand = sample(found, o);
    if (ok(cand)) return cand;
    found.splice(found.indexOf(cand), 1);
  }
  const scanned = await scanVocabulary(session, c, state, table, (id, value) => {
    const cand = valid(id, value);
    return cand && ok(cand) ? cand : null;
  }, greedy ? 1 : o.k);
  if (scanned.length > 0) return greedy ? scanned[0]! : sample(scanned, o);
  return tooLong ? 'budget' : null;
}

/** Top-p sampling renormalised over the given candidates (sorted by logit): their own log-sum-exp. */
function sample(cands: readonly Candidate[], o: PickOptions): Candidate {
  let m = -Infinity;
  for (const v of cands) m = Math.max(m, v.value / o.temperature);
  let s = 0;
  for (const v of cands) s += Math.exp(v.value / o.temperature - m);
  const chosen = sampleTopP(
    cands.map((v) => v.value),
    cands.map((v) => v.id),
    m + Math.log(s),
    { temperature: o.temperature, topP: o.topP, random: o.rng() },
  );
  return cands.find((v) => v.id === chosen)!;
}

/** The best `want` valid tokens of the whole vocabulary, in logit order (ties: lower id first). */
async function scanVocabulary(session: DecodeSession, c: JsonConstraint, state: JsonState, table: TokenBytes, test: (id: number, value: number) => Candidate | null, want: number): Promise<Candidate[]> {
  const logits = await session.logits();
  // Most tokens fail on their first byte: find the allowed first bytes once.
  const firstOk = new Uint8Array(256);
  for (let b = 0; b < 256; b++) firstOk[b] = c.advance(state, [b]) ? 1 : 0;
  const order: number[] = [];
  for (let id = 0; id < logits.length; id++) {
    const bytes = table.bytes(id);
    if (bytes.length === 0 ? c.isComplete(state) : firstOk[bytes[0]!] === 1) order.push(id);
  }
  order.sort((a, b) => logits[b]! - logits[a]! || a - b);
  const found: Candidate[] = [];
  for (const id of order) {
    const cand = test(id, logits[id]!);
    if (cand && Number.isFinite(cand.value)) found.push(cand);
    if (found.length >= want) break;
  }
  return found;
}

/** Ids for forced bytes: the tokenizer's encoding when they are whole UTF-8, else one byte token each. */
function bytesToIds(tokenizer: ModelTokenizer, bytes: Uint8Array): number[] {
  if (bytes.length === 0) return [];
  try {
    return tokenizer.encode(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    const chars = byteToUnicode();
    return [...bytes].map((b) => tokenizer.tokenId(chars[b]!)).filter((id): id is number => id !== undefined);
  }
}
