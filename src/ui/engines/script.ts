// `?engine=scripted&script=URL`: a JSON script of replies turned into a ScriptedChatModel, so the whole app
// (chat, demo, tests) runs without any model. A developer feature; the format is documented in the README.
//
// Replies are chosen by rules rather than only by position, because how many model calls a turn makes
// depends on what the bank holds (no facts → no manager call). A rule names the kind of call (extract,
// manage, answer, reply: told apart by the JSON schema the agent asks for, and the chat reply by its
// system prompt) and a phrase that must occur in the call's subject: the message for extract and reply,
// the facts for manage, the question for answer.
// `$id(memory text)` in a reply becomes the short id the prompt gave that memory, so scripts never depend
// on retrieval order.
import { z } from 'zod';
import { REPLY_SYSTEM, replyPromptMessage } from '../../agents/reply';
import { FACTS_JSON_SCHEMA, MANAGER_JSON_SCHEMA } from '../../agents/schemas';
import type { ChatModel, ChatRequest, ChatResponse } from '../../llm/chat-model';
import { ScriptedChatModel } from '../../llm/scripted';

export const CALL_KINDS = ['extract', 'manage', 'answer', 'reply'] as const;
export type CallKind = (typeof CALL_KINDS)[number];

/** A reply is text, or JSON written inline (stringified for the model's output). */
const ReplySchema = z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).transform((r) => (typeof r === 'string' ? r : JSON.stringify(r)));

const RuleSchema = z
  .object({
    call: z.enum(CALL_KINDS).optional(),
    /** Case-insensitive phrase that must occur in the call's subject; absent: any. */
    match: z.string().optional(),
    reply: ReplySchema.optional(),
    /** Instead of a reply, the call fails with this message (to see how the app reports a model's failure). */
    error: z.string().max(1000).optional(),
  })
  .strict()
  .refine((rule) => (rule.reply === undefined) !== (rule.error === undefined), 'a rule has either "reply" or "error"');

export const ScriptSchema = z
  .object({
    id: z.string().max(100).default('scripted'),
    /** Used first, one per call, in order. */
    replies: z.array(ReplySchema).default([]),
    /** Then the first matching rule. */
    rules: z.array(RuleSchema).default([]),
    /** Then these; the defaults mean "no facts", "no operations", "unknown", and a reply that knows nothing. */
    fallback: z.object({ extract: ReplySchema.optional(), manage: ReplySchema.optional(), answer: ReplySchema.optional(), reply: ReplySchema.optional() }).strict().default({}),
    /** Pause between streamed words, so a demo looks like a model typing. */
    tokenDelayMs: z.number().min(0).max(1000).default(0),
    /** A pause before each call of a kind, as a model spends time on a reply it does not stream (e.g. the manager's JSON). */
    callDelayMs: z.object({ extract: z.number().min(0).max(60_000), manage: z.number().min(0).max(60_000), answer: z.number().min(0).max(60_000), reply: z.number().min(0).max(60_000) }).partial().strict().default({}),
    /** Give the model embeddings too: each text as a hashed bag of its words in this many dimensions. */
    embedDimensions: z.number().int().min(1).max(4096).optional(),
  })
  .strict();
export type Script = z.output<typeof ScriptSchema>;

const DEFAULT_FALLBACK: Record<CallKind, string> = {
  extract: '{"facts": []}',
  manage: '{"memory": []}',
  answer: 'Memories used: none\n**Answer:** unknown',
  reply: 'I have nothing scripted to say to that. Tell me more?\nMemories used: none',
};

export function callKind(request: ChatRequest): CallKind {
  const schema = request.json_schema;
  if (!schema) return request.messages[0]?.role === 'system' && request.messages[0].content === REPLY_SYSTEM ? 'reply' : 'answer';
  if (schema === FACTS_JSON_SCHEMA || JSON.stringify(schema) === JSON.stringify(FACTS_JSON_SCHEMA)) return 'extract';
  if (schema === MANAGER_JSON_SCHEMA || JSON.stringify(schema) === JSON.stringify(MANAGER_JSON_SCHEMA)) return 'manage';
  return 'answer';
}

function parseString(line: string | undefined): string | undefined {
  if (line === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Lines strictly between an opening and closing tag line (all blocks of that tag). */
function blockLines(prompt: string, tag: string): string[] {
  const lines = prompt.split('\n');
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.trim() === `<${tag}>`) inside = true;
    else if (line.trim() === `</${tag}>`) inside = false;
    else if (inside) out.push(line);
  }
  return out;
}

/** What a rule's phrase is matched against; the whole prompt when the prompt's layout is not recognised. */
export function callSubject(kind: CallKind, prompt: string): string {
  const lines = prompt.split('\n');
  if (kind === 'extract') return parseString(lines[lines.findIndex((l) => l.trim() === 'Message:') + 1]) ?? prompt;
  if (kind === 'reply') return replyPromptMessage(prompt) ?? prompt;
  if (kind === 'manage') {
    const facts = blockLines(prompt, 'facts').map(parseString).filter((f): f is string => f !== undefined);
    return facts.length ? facts.join('\n') : prompt;
  }
  const question = lines.find((l) => l.startsWith('Question: '));
  return parseString(question?.slice('Question: '.length)) ?? prompt;
}

/** Short id → text of every memory the prompt shows. */
export function shownMemories(prompt: string): Map<string, string> {
  const shown = new Map<string, string>();
  for (const line of blockLines(prompt, 'memories')) {
    try {
      const value = JSON.parse(line) as { id?: unknown; text?: unknown };
      if (typeof value.id === 'string' && typeof value.text === 'string') shown.set(value.id, value.text);
    } catch {
      // "(none)" and anything else that is not a memory line
    }
  }
  return shown;
}

const norm = (text: string) => text.trim().toLowerCase();

/** `$id(text)` → the short id of the shown memory with that text ("missing" if none, which the bank rejects). */
export function resolveIds(reply: string, prompt: string): string {
  if (!reply.includes('$id(')) return reply;
  const shown = [...shownMemories(prompt)];
  return reply.replace(/\$id\(([^)]*)\)/g, (_, text: string) => shown.find(([, t]) => norm(t) === norm(text))?.[0] ?? 'missing');
}

export function replyFor(script: Script, request: ChatRequest, callIndex: number): string {
  const prompt = request.messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
  const kind = callKind(request);
  let reply = script.replies[callIndex];
  if (reply === undefined) {
    const subject = norm(callSubject(kind, prompt));
    const rule = script.rules.find((r) => (!r.call || r.call === kind) && (r.match === undefined || subject.includes(norm(r.match))));
    if (rule?.error !== undefined) throw new Error(rule.error);
    reply = rule?.reply ?? script.fallback[kind] ?? DEFAULT_FALLBACK[kind];
  }
  return resolveIds(reply, prompt);
}

/** A text's words (lower-cased), each counted at its FNV-1a hash modulo `dim`: similar wording, similar vectors. */
export function hashedWords(text: string, dim: number): Float32Array {
  const vector = new Float32Array(dim);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    let h = 0x811c9dc5;
    for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
    vector[h % dim]! += 1;
  }
  return vector;
}

/** Streams a finished reply word by word with a pause, so scripted demos look alive. */
class Paced implements ChatModel {
  readonly embed?: (texts: string[]) => Promise<Float32Array[]>;
  constructor(
    private readonly inner: ChatModel,
    private readonly delayMs: number,
  ) {
    if (inner.embed) this.embed = inner.embed.bind(inner);
  }
  get id() {
    return this.inner.id;
  }
  async chat(request: ChatRequest): Promise<ChatResponse> {
    const { onToken, ...rest } = request;
    const response = await this.inner.chat(rest);
    if (onToken) {
      for (const piece of response.text.match(/\S+\s*|\s+/g) ?? []) {
        if (request.signal?.aborted) throw new DOMException('The request was aborted.', 'AbortError');
        onToken(piece);
        await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      }
    }
    return response;
  }
}

/** Parses a script (JSON text) into a ChatModel; throws an Error naming the problem. */
export function scriptedModel(jsonText: string): ChatModel {
  let raw: unknown;
  try {
    raw = JSON.parse(jsonText);
  } catch (error) {
    throw new Error(`The script is not JSON (${(error as Error).message}).`);
  }
  const parsed = ScriptSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`The script does not match the format: ${issue?.path.join('.') || 'top level'}: ${issue?.message ?? 'invalid'}.`);
  }
  const script = parsed.data;
  const dims = script.embedDimensions;
  const model = new ScriptedChatModel(async (request, callIndex) => {
    const pause = script.callDelayMs[callKind(request)];
    if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
    return replyFor(script, request, callIndex);
  }, {
    id: script.id,
    ...(dims ? { embed: (texts: string[]) => texts.map((text) => hashedWords(text, dims)) } : {}),
  });
  return script.tokenDelayMs > 0 ? new Paced(model, script.tokenDelayMs) : model;
}
