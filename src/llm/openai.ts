// The ChatModel on any OpenAI-compatible server (vLLM, Ollama, llama.cpp's llama-server, OpenAI, or
// `memory-r1 serve`): chat completions, streamed as server-sent events when the caller streams, with
// our JSON Schema as `response_format` where the server enforces it (else the agents' repair path),
// embeddings, seeds and stop strings passed through. Busy, failing or cut-off servers are retried with
// backoff (Retry-After honoured); at most `concurrency` requests are in flight. The API key is handed in
// by the caller (read from an environment variable) and never appears in an error message.
import type { ChatModel, ChatRequest, ChatResponse, JsonSchema } from './chat-model';
import { displayUrl, EndpointError, parseRetryAfter, statusError } from './openai-errors';
import { readSse } from './sse';

export { EndpointError } from './openai-errors';

/**
 * How the server is asked for JSON: `json_schema` (OpenAI's structured outputs; vLLM, llama-server,
 * Ollama ≥ 0.5 and `memory-r1 serve` enforce it), `json_object` (JSON of any shape; the prompt says
 * which), or `none` (plain text; the agents parse and repair).
 */
export type JsonMode = 'json_schema' | 'json_object' | 'none';
export const JSON_MODES: readonly JsonMode[] = ['json_schema', 'json_object', 'none'];

export interface OpenAIChatModelOptions {
  /** The API's base URL, e.g. http://127.0.0.1:8000/v1 (a bare host gets /v1). */
  url: string;
  /** The model name the server knows (vLLM: --served-model-name or an adapter's --lora-modules name). */
  model: string;
  apiKey?: string;
  /** The environment variable the key came from: named in advice, never the key itself. */
  apiKeyVariable?: string;
  /** A model for /embeddings; absent = no embeddings (lexical retrieval only). */
  embeddingModel?: string;
  jsonMode?: JsonMode;
  /** A request's time limit; for a stream, the longest silence between two chunks (default 120 s). */
  timeoutMs?: number;
  /** Tries after the first for retryable failures (default 4). */
  retries?: number;
  /** First backoff; doubles each retry (default 500 ms). */
  retryBaseMs?: number;
  /** Longest wait between tries, Retry-After included; a server asking for more fails the request (default 60 s). */
  maxRetryWaitMs?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Refuse replies whose `model` is another model than the one asked for (default true). */
  checkModel?: boolean;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Told of each retry (e.g. to log it). */
  onRetry?: (error: EndpointError, attempt: number, waitMs: number) => void;
}

/** A counting semaphore: at most `limit` holders. */
class Slots {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

const abortError = () => new DOMException('The request was aborted.', 'AbortError');

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The base URL with /v1 when only a host was given, and no trailing slash. */
export function apiBase(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a URL: give the server's address, e.g. http://127.0.0.1:8000/v1`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`"${displayUrl(url)}" is not an http(s) URL`);
  if (u.pathname === '/' || u.pathname === '') u.pathname = '/v1';
  return u.toString().replace(/\/$/, '');
}

/** OpenAI returns dated snapshots ("gpt-4o" → "gpt-4o-2024-08-06") and Ollama tags ("llama3" → "llama3:latest"). */
function sameModel(asked: string, answered: string): boolean {
  return answered === asked || answered.startsWith(`${asked}-`) || answered.startsWith(`${asked}:`) || answered.endsWith(`/${asked}`);
}

interface Attempt {
  signal: AbortSignal;
  /** Restarts the time limit (a stream's chunk arrived). */
  touch(): void;
  timedOut(): boolean;
}

export class OpenAIChatModel implements ChatModel {
  readonly id: string;
  readonly endpoint: string;
  readonly embed?: (texts: string[]) => Promise<Float32Array[]>;
  private readonly base: string;
  private readonly slots: Slots;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly options: Omit<OpenAIChatModelOptions, 'apiKey'>;
  /** A true private field: not in JSON.stringify, structured clones or object dumps of the model. */
  readonly #apiKey: string | undefined;

  constructor(options: OpenAIChatModelOptions) {
    const { apiKey, ...rest } = options;
    this.options = rest;
    this.#apiKey = apiKey;
    this.base = apiBase(options.url);
    this.endpoint = displayUrl(this.base);
    this.id = `endpoint:${options.model}`;
    this.slots = new Slots(Math.max(1, options.concurrency ?? 4));
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.sleep = options.sleep ?? defaultSleep;
    if (options.embeddingModel) this.embed = (texts) => this.embedTexts(texts);
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const stream = request.onToken !== undefined;
    const body = this.chatBody(request, stream);
    // A retried stream replays what was already passed on: only text beyond it goes to onToken, and a
    // retry that says something else fails rather than contradict what the caller has shown.
    let emitted = '';
    const deliver = (full: string) => {
      const agrees = full.length <= emitted.length ? emitted.startsWith(full) : full.startsWith(emitted);
      if (!agrees) throw new EndpointError(this.endpoint, 'diverged', 'a stream was cut off and the retry answered differently (no fixed seed?); rerun the request');
      if (full.length > emitted.length) {
        const delta = full.slice(emitted.length);
        emitted = full;
        request.onToken!(delta);
      }
    };
    try {
      return await this.withRetries(request.signal, (attempt) => this.chatOnce(body, attempt, stream ? deliver : undefined));
    } catch (error) {
      // The likeliest reason a server refuses an agent's request: it does not take our response_format.
      if (error instanceof EndpointError && error.problem === 'bad-request' && body.response_format) {
        const mode = this.options.jsonMode ?? 'json_schema';
        const instead = mode === 'json_schema' ? 'json_object or none' : 'none';
        throw new EndpointError(this.endpoint, error.problem, `${stripPrefix(error, this.endpoint)}; if the server does not take response_format ${mode}, pass --endpoint-json ${instead}`, error.status);
      }
      throw error;
    }
  }

  private chatBody(request: ChatRequest, stream: boolean): Record<string, unknown> {
    const body: Record<string, unknown> = { model: this.options.model, messages: request.messages.map((m) => ({ role: m.role, content: m.content })) };
    if (request.temperature !== undefined) body.temperature = request.temperature;
    if (request.top_p !== undefined) body.top_p = request.top_p;
    if (request.max_tokens !== undefined) body.max_tokens = request.max_tokens;
    if (request.seed !== undefined) body.seed = Math.trunc(request.seed);
    if (request.stop?.length) body.stop = request.stop;
    const format = responseFormat(request.json_schema, this.options.jsonMode ?? 'json_schema');
    if (format) body.response_format = format;
    if (stream) {
      body.stream = true;
      body.stream_options = { include_usage: true };
    }
    return body;
  }

  private async chatOnce(body: Record<string, unknown>, attempt: Attempt, deliver: ((full: string) => void) | undefined): Promise<ChatResponse> {
    const response = await this.post('/chat/completions', body, attempt);
    const type = response.headers.get('content-type') ?? '';
    if (!deliver || !type.includes('text/event-stream')) {
      const parsed = this.parseCompletion(await this.readText(response, attempt));
      if (deliver && parsed.text) deliver(parsed.text);
      return parsed;
    }
    let text = '';
    let finishReason: string | undefined;
    let usage = { promptTokens: 0, completionTokens: 0 };
    let finished = false;
    try {
      for await (const item of readSse(response.body!, attempt.signal)) {
        attempt.touch();
        if (item.done) {
          finished = true;
          break;
        }
        const chunk = this.parseJson(item.data, 'a stream chunk') as StreamChunk;
        if (chunk.error) throw new EndpointError(this.endpoint, 'server', `the stream reported an error (${errorText(chunk.error)}); rerun (progress is kept)`);
        this.checkModel(chunk.model);
        const choice = chunk.choices?.[0];
        const delta = choice?.delta?.content;
        if (typeof delta === 'string' && delta) {
          text += delta;
          deliver(text);
        }
        if (choice?.finish_reason) finishReason = choice.finish_reason;
        if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens ?? 0, completionTokens: chunk.usage.completion_tokens ?? 0 };
      }
    } catch (error) {
      throw this.transportError(error, attempt);
    }
    // A stream that stops before [DONE] and before any finish reason was cut off, not finished.
    if (!finished && finishReason === undefined) throw new EndpointError(this.endpoint, 'truncated', `the stream ended after ${text.length} characters without finishing; retry, or check the server and any proxy in between`);
    return { text, usage, ...(finishReason ? { finishReason } : {}) };
  }

  private parseCompletion(raw: string): ChatResponse {
    const body = this.parseJson(raw, 'the reply') as Completion;
    if (body.error) throw new EndpointError(this.endpoint, 'server', `the reply is an error (${errorText(body.error)})`);
    const choice = body.choices?.[0];
    const content = choice?.message?.content;
    if (!choice || (content !== null && content !== undefined && typeof content !== 'string')) {
      throw new EndpointError(this.endpoint, 'malformed', 'the reply has no choices[0].message.content; is this an OpenAI-compatible chat completions API?');
    }
    this.checkModel(body.model);
    return {
      text: content ?? '',
      usage: { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: body.usage?.completion_tokens ?? 0 },
      ...(choice.finish_reason ? { finishReason: choice.finish_reason } : {}),
    };
  }

  private async embedTexts(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    const BATCH = 64;
    for (let start = 0; start < texts.length; start += BATCH) {
      const input = texts.slice(start, start + BATCH);
      const vectors = await this.withRetries(undefined, async (attempt) => {
        const response = await this.post('/embeddings', { model: this.options.embeddingModel, input, encoding_format: 'float' }, attempt);
        const body = this.parseJson(await this.readText(response, attempt), 'the embeddings reply') as { data?: { index?: number; embedding?: unknown }[] };
        const data = body.data;
        if (!Array.isArray(data) || data.length !== input.length) {
          throw new EndpointError(this.endpoint, 'malformed', `asked for ${input.length} embeddings, got ${Array.isArray(data) ? data.length : 'none'}; does "${this.options.embeddingModel}" serve /embeddings?`);
        }
        const sorted = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
        return sorted.map((d) => {
          if (!Array.isArray(d.embedding) || !d.embedding.every((x) => typeof x === 'number')) throw new EndpointError(this.endpoint, 'malformed', 'an embedding is not a list of numbers');
          return Float32Array.from(d.embedding as number[]);
        });
      });
      out.push(...vectors);
    }
    return out;
  }

  /** Runs `once` with a fresh time limit per try, retrying what may pass on a second try. */
  private async withRetries<T>(signal: AbortSignal | undefined, once: (attempt: Attempt) => Promise<T>): Promise<T> {
    const retries = Math.max(0, this.options.retries ?? 4);
    const base = this.options.retryBaseMs ?? 500;
    const maxWait = this.options.maxRetryWaitMs ?? 60_000;
    for (let tried = 0; ; tried++) {
      let error: unknown;
      try {
        return await this.slots.run(() => this.attempt(signal, once));
      } catch (e) {
        error = e;
      }
      if (signal?.aborted) throw abortError();
      if (!(error instanceof EndpointError)) throw error;
      if (!error.retryable) throw error;
      if (tried >= retries) throw new EndpointError(this.endpoint, error.problem, `${stripPrefix(error, this.endpoint)} (gave up after ${tried + 1} ${tried === 0 ? 'try' : 'tries'})`, error.status);
      const wait = error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : base * 2 ** tried * (1 + Math.random() * 0.25);
      if (wait > maxWait) throw new EndpointError(this.endpoint, error.problem, `${stripPrefix(error, this.endpoint)}; it asked to wait ${Math.ceil(wait / 1000)} s, longer than ${Math.round(maxWait / 1000)} s: rerun later`, error.status);
      this.options.onRetry?.(error, tried + 1, wait);
      await this.sleep(wait, signal);
    }
  }

  private async attempt<T>(signal: AbortSignal | undefined, once: (attempt: Attempt) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const limit = this.options.timeoutMs ?? 120_000;
    let timedOut = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const touch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, limit);
    };
    const onAbort = () => controller.abort();
    if (signal?.aborted) throw abortError();
    signal?.addEventListener('abort', onAbort, { once: true });
    touch();
    try {
      return await once({ signal: controller.signal, touch, timedOut: () => timedOut });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async post(path: string, body: unknown, attempt: Attempt): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let response: Response;
    try {
      response = await this.fetch(`${this.base}${path}`, { method: 'POST', headers, body: JSON.stringify(body), signal: attempt.signal });
    } catch (error) {
      throw this.transportError(error, attempt);
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw statusError(this.endpoint, response.status, this.redact(text), parseRetryAfter(response.headers.get('retry-after')), this.options.apiKeyVariable);
    }
    return response;
  }

  private async readText(response: Response, attempt: Attempt): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      throw this.transportError(error, attempt);
    }
  }

  /** Network failures and our time limit as EndpointErrors; the caller's abort stays an AbortError. */
  private transportError(error: unknown, attempt: Attempt): unknown {
    if (error instanceof EndpointError) return error;
    const seconds = (this.options.timeoutMs ?? 120_000) / 1000;
    if (attempt.timedOut()) return new EndpointError(this.endpoint, 'timeout', `no answer within ${seconds} s; the server may be overloaded: raise --endpoint-timeout or lower --endpoint-concurrency`);
    if (attempt.signal.aborted) return abortError();
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? cause?.message ?? (error as Error).message;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || /terminated|other side closed/i.test(String(code))) {
      return new EndpointError(this.endpoint, 'truncated', `the connection was cut off mid-reply (${code}); retry, or check the server and any proxy in between`);
    }
    if (code === 'bad port') return new EndpointError(this.endpoint, 'bad-request', 'fetch refuses this port (it is on the list of ports browsers block): serve on another port');
    return new EndpointError(this.endpoint, 'unreachable', `cannot connect (${code}); is the server running at this address?`);
  }

  private parseJson(text: string, what: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      const start = this.redact(text.slice(0, 60)).replace(/\s+/g, ' ');
      throw new EndpointError(this.endpoint, 'malformed', `${what} is not JSON (it starts "${start}"); is this an OpenAI-compatible API?`);
    }
  }

  private checkModel(answered: unknown): void {
    if (this.options.checkModel === false || typeof answered !== 'string' || !answered) return;
    if (!sameModel(this.options.model, answered)) {
      throw new EndpointError(
        this.endpoint,
        'wrong-model',
        `asked for model "${this.options.model}" but "${answered}" answered; check --endpoint-model against the names the server lists at /v1/models (or pass --endpoint-any-model if it always answers under one name)`,
      );
    }
  }

  /** Never let a key echoed by a server reach a message. */
  private redact(text: string): string {
    const key = this.#apiKey;
    return key ? text.split(key).join('***') : text;
  }
}

function responseFormat(schema: JsonSchema | undefined, mode: JsonMode): Record<string, unknown> | undefined {
  if (!schema || mode === 'none') return undefined;
  if (mode === 'json_object') return { type: 'json_object' };
  // strict: false — OpenAI's strict mode accepts only a subset of JSON Schema that ours need not fit.
  return { type: 'json_schema', json_schema: { name: 'reply', schema, strict: false } };
}

function stripPrefix(error: EndpointError, endpoint: string): string {
  const prefix = `model server ${endpoint}: `;
  return error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' ? message : JSON.stringify(error).slice(0, 200);
}

interface Usage {
  prompt_tokens?: number;
  completion_tokens?: number;
}

interface Completion {
  model?: unknown;
  error?: unknown;
  choices?: { message?: { content?: unknown }; finish_reason?: string | null }[];
  usage?: Usage;
}

interface StreamChunk {
  model?: unknown;
  error?: unknown;
  choices?: { delta?: { content?: unknown }; finish_reason?: string | null }[];
  usage?: Usage | null;
}
