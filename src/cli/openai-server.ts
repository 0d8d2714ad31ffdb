// An OpenAI-compatible HTTP API over ChatModels (node:http): /v1/chat/completions (JSON or streamed as
// server-sent events, JSON Schema through response_format), /v1/embeddings, /v1/models and /health.
// The request's `model` picks which ChatModel answers, as vLLM's multi-LoRA serving picks base or
// adapter. Bad requests get OpenAI-shaped errors ({error: {message, type, param, code}}) naming the field.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ChatMessage, ChatModel, ChatRequest, JsonSchema } from '../llm/chat-model';
import { sseEvent } from '../llm/sse';
import { HttpError, readJsonBody, sendJson } from './http-json';

export interface ServedModel {
  model: ChatModel;
  /** The model an adapter is on (listed as `parent` in /v1/models, as vLLM lists LoRA adapters). */
  parent?: string;
}

export interface OpenAIServerOptions {
  /** Served names → models; the request's `model` picks one. */
  models: ReadonlyMap<string, ServedModel>;
  /** Embeddings of texts and their token count, for /v1/embeddings (absent: 404 there). */
  embed?: (model: string, texts: string[]) => Promise<{ vectors: Float32Array[]; tokens: number }>;
  /** Throws (with a message naming the problem) for a JSON Schema the models cannot enforce. */
  checkSchema?: (schema: JsonSchema) => void;
  /**
   * Web pages (origins, e.g. http://localhost:5173, or "*") allowed to call the server from a browser
   * (CORS). None by default: any page the user visits could otherwise use the model.
   */
  allowOrigins?: readonly string[];
  /** Largest request body (default 8 MiB). */
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

class ApiError extends HttpError {
  constructor(
    status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status >= 500 ? 'server_error' : status === 404 ? 'not_found_error' : 'invalid_request_error',
  ) {
    super(status, message);
  }
  get body() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

const ROLES = new Set(['system', 'user', 'assistant']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberField(body: Record<string, unknown>, name: string, check: (x: number) => boolean, wanted: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || !check(value)) throw new ApiError(400, `${name} must be ${wanted}, got ${JSON.stringify(value)}`, name);
  return value;
}

function messagesOf(value: unknown): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) throw new ApiError(400, 'messages must be a non-empty array of {role, content}', 'messages');
  return value.map((m, i) => {
    if (!isObject(m) || typeof m.role !== 'string' || !ROLES.has(m.role)) throw new ApiError(400, `messages[${i}].role must be system, user or assistant`, `messages[${i}].role`);
    let content = m.content;
    // Content parts: only text parts can be read by a text model.
    if (Array.isArray(content)) {
      if (!content.every((p) => isObject(p) && p.type === 'text' && typeof p.text === 'string')) throw new ApiError(400, `messages[${i}].content: only text parts are supported`, `messages[${i}].content`);
      content = content.map((p) => (p as { text: string }).text).join('');
    }
    if (typeof content !== 'string') throw new ApiError(400, `messages[${i}].content must be a string`, `messages[${i}].content`);
    return { role: m.role as ChatMessage['role'], content };
  });
}

/** The schema of a response_format, or undefined for plain text. */
function schemaOf(format: unknown, cache: Map<string, JsonSchema>, check: ((schema: JsonSchema) => void) | undefined): JsonSchema | undefined {
  if (format === undefined || format === null) return undefined;
  if (!isObject(format)) throw new ApiError(400, 'response_format must be an object', 'response_format');
  let schema: unknown;
  if (format.type === 'text') return undefined;
  if (format.type === 'json_schema') {
    schema = isObject(format.json_schema) ? format.json_schema.schema : undefined;
    if (!isObject(schema)) throw new ApiError(400, 'response_format.json_schema.schema must be a JSON Schema object', 'response_format.json_schema.schema');
  } else if (format.type === 'json_object') {
    // WebLLM's form carries the schema as a string beside the type.
    schema = typeof format.schema === 'string' ? safeParse(format.schema) : format.schema;
    if (!isObject(schema)) throw new ApiError(400, 'this server enforces JSON through a schema: send response_format {type: "json_schema", json_schema: {schema}}', 'response_format');
  } else {
    throw new ApiError(400, `response_format.type must be text, json_object or json_schema, got ${JSON.stringify(format.type)}`, 'response_format.type');
  }
  // One object per distinct schema, so models that compile a schema once per object do so once.
  const key = JSON.stringify(schema);
  let kept = cache.get(key);
  if (!kept) {
    try {
      check?.(schema as JsonSchema);
    } catch (error) {
      throw new ApiError(400, `response_format schema: ${(error as Error).message}`, 'response_format');
    }
    kept = schema as JsonSchema;
    cache.set(key, kept);
  }
  return kept;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function stopOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s.length > 0)) throw new ApiError(400, 'stop must be a string or an array of non-empty strings', 'stop');
  return list as string[];
}

export function createOpenAIServer(options: OpenAIServerOptions): Server {
  const limit = options.maxBodyBytes ?? 8 << 20;
  const schemas = new Map<string, JsonSchema>();
  let counter = 0;
  const served = () => [...options.models.keys()].join(', ');
  const pick = (name: unknown): ServedModel => {
    if (typeof name !== 'string' || !name) throw new ApiError(400, `model is required; this server serves: ${served()}`, 'model');
    const model = options.models.get(name);
    if (!model) throw new ApiError(404, `the model "${name}" does not exist; this server serves: ${served()}`, 'model', 'model_not_found');
    return model;
  };

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, limit);
    if (!isObject(body)) throw new ApiError(400, 'the request body must be a JSON object');
    const name = body.model as string;
    const { model } = pick(body.model);
    numberField(body, 'n', (x) => x === 1, '1 (one choice per request)');
    const maxTokens = numberField(body, 'max_completion_tokens', (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0') ?? numberField(body, 'max_tokens', (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0');
    const temperature = numberField(body, 'temperature', (x) => x >= 0 && x <= 2, 'a number in [0, 2]');
    const topP = numberField(body, 'top_p', (x) => x > 0 && x <= 1, 'a number in (0, 1]');
    const seed = numberField(body, 'seed', Number.isInteger, 'an integer');
    const stop = stopOf(body.stop);
    const schema = schemaOf(body.response_format, schemas, options.checkSchema);
    const stream = body.stream === true;
    const includeUsage = isObject(body.stream_options) && body.stream_options.include_usage === true;
    const request: ChatRequest = {
      messages: messagesOf(body.messages),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(topP !== undefined ? { top_p: topP } : {}),
      ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(stop ? { stop } : {}),
      ...(schema ? { json_schema: schema } : {}),
    };
    const id = `chatcmpl-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    // A client that hangs up stops generation.
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    request.signal = controller.signal;
    if (!stream) {
      const reply = await model.chat(request);
      sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: name,
        choices: [{ index: 0, message: { role: 'assistant', content: reply.text }, finish_reason: reply.finishReason ?? 'stop' }],
        usage: { prompt_tokens: reply.usage.promptTokens, completion_tokens: reply.usage.completionTokens, total_tokens: reply.usage.promptTokens + reply.usage.completionTokens },
      });
      return;
    }
    const chunk = (delta: Record<string, unknown>, finish: string | null) => ({ id, object: 'chat.completion.chunk', created, model: name, choices: [{ index: 0, delta, finish_reason: finish }] });
    // Headers wait for the first token, so a request that fails before any (a prompt too long for the
    // context, say) still gets a proper status and error body.
    let started = false;
    const begin = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(sseEvent(chunk({ role: 'assistant', content: '' }, null)));
    };
    request.onToken = (delta) => {
      begin();
      res.write(sseEvent(chunk({ content: delta }, null)));
    };
    let reply;
    try {
      reply = await model.chat(request);
    } catch (error) {
      if (!started) throw error;
      // Headers are sent: the error goes in the stream, and no [DONE] follows.
      if (!controller.signal.aborted) res.end(sseEvent(failure(error).body));
      else res.end();
      return;
    }
    begin();
    res.write(sseEvent(chunk({}, reply.finishReason ?? 'stop')));
    if (includeUsage) {
      const usage = { prompt_tokens: reply.usage.promptTokens, completion_tokens: reply.usage.completionTokens, total_tokens: reply.usage.promptTokens + reply.usage.completionTokens };
      res.write(sseEvent({ id, object: 'chat.completion.chunk', created, model: name, choices: [], usage }));
    }
    res.end(sseEvent('[DONE]'));
  }

  async function embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req, limit);
    if (!isObject(body)) throw new ApiError(400, 'the request body must be a JSON object');
    const name = body.model as string;
    pick(body.model);
    if (!options.embed) throw new ApiError(404, 'this server has no embedding model', 'model');
    if (body.encoding_format !== undefined && body.encoding_format !== 'float') throw new ApiError(400, 'encoding_format must be "float"', 'encoding_format');
    const input = typeof body.input === 'string' ? [body.input] : body.input;
    if (!Array.isArray(input) || input.length === 0 || !input.every((t) => typeof t === 'string')) throw new ApiError(400, 'input must be a string or a non-empty array of strings', 'input');
    const { vectors, tokens } = await options.embed(name, input as string[]);
    sendJson(res, 200, {
      object: 'list',
      model: name,
      data: vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) })),
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  function models(res: ServerResponse): void {
    const created = Math.floor(Date.now() / 1000);
    sendJson(res, 200, {
      object: 'list',
      data: [...options.models].map(([id, m]) => ({ id, object: 'model', created, owned_by: 'memory-r1', root: m.parent ?? id, parent: m.parent ?? null })),
    });
  }

  const allowed = new Set(options.allowOrigins ?? []);
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/$/, '');
    const origin = req.headers.origin;
    if (origin && (allowed.has(origin) || allowed.has('*'))) {
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('vary', 'origin');
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': 'authorization, content-type', 'access-control-max-age': '600' });
        return void res.end();
      }
    }
    const route = async () => {
      if (path === '/health') return void res.writeHead(200).end();
      if (path === '/v1/models' && req.method === 'GET') return models(res);
      if (path === '/v1/chat/completions' || path === '/v1/embeddings') {
        if (req.method !== 'POST') throw new ApiError(405, `${path} takes POST`);
        return path === '/v1/chat/completions' ? chat(req, res) : embeddings(req, res);
      }
      throw new ApiError(404, `no route ${req.method} ${path}; this server answers /v1/chat/completions, /v1/embeddings and /v1/models`);
    };
    route().catch((error: unknown) => {
      const api = failure(error);
      if (api.status >= 500) options.log?.(`${req.method} ${path}: ${(error as Error).message}`);
      if (!res.headersSent) sendJson(res, api.status, api.body);
      else res.end();
    });
  });
}

function failure(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HttpError) return new ApiError(error.status, error.message);
  const message = (error as Error).message ?? String(error);
  // The prompt did not fit: the client's to fix, as vLLM reports it.
  if (/context holds|too many tokens|context window/i.test(message)) return new ApiError(400, message, 'messages', 'context_length_exceeded');
  return new ApiError(500, message);
}
