// A ChatModel test double: replies come from a script (a queue of strings, or a function of the request)
// and every request is recorded, so agent logic can be tested exactly and deterministically.
import type { ChatModel, ChatRequest, ChatResponse } from './chat-model';

export type ScriptReply = string | ((request: ChatRequest, callIndex: number) => string | Promise<string>);

export interface ScriptedOptions {
  id?: string;
  /** Replies used in order; when exhausted, `fallback` answers (default: throw, so a test sees an unexpected call). */
  fallback?: (request: ChatRequest, callIndex: number) => string | Promise<string>;
  /** Embeddings for `embed` (absent: the model has no embed method). */
  embed?: (texts: string[]) => Float32Array[] | Promise<Float32Array[]>;
}

/** Counts "tokens" as whitespace-separated words: enough for reports and tests to see non-zero usage. */
function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed ? trimmed.split(/\s+/).length : 0;
}

export class ScriptedChatModel implements ChatModel {
  readonly id: string;
  readonly requests: ChatRequest[] = [];
  private readonly queue: ScriptReply[];
  readonly embed?: (texts: string[]) => Promise<Float32Array[]>;

  constructor(
    script: readonly ScriptReply[] | ((request: ChatRequest, callIndex: number) => string | Promise<string>),
    private readonly options: ScriptedOptions = {},
  ) {
    this.id = options.id ?? 'scripted';
    this.queue = typeof script === 'function' ? [] : [...script];
    if (typeof script === 'function') this.options = { ...options, fallback: script };
    const embed = options.embed;
    if (embed) this.embed = async (texts) => embed(texts);
  }

  /** Replies not yet used. */
  get remaining(): number {
    return this.queue.length;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const callIndex = this.requests.length;
    this.requests.push(request);
    if (request.signal?.aborted) throw new DOMException('The request was aborted.', 'AbortError');
    const next = this.queue.shift();
    let text: string;
    if (next !== undefined) text = typeof next === 'string' ? next : await next(request, callIndex);
    else if (this.options.fallback) text = await this.options.fallback(request, callIndex);
    else throw new Error(`ScriptedChatModel: no reply scripted for call #${callIndex + 1}`);
    if (request.onToken) for (const piece of text.match(/\S+\s*|\s+/g) ?? []) request.onToken(piece);
    const prompt = request.messages.map((m) => m.content).join('\n');
    return { text, usage: { promptTokens: countWords(prompt), completionTokens: countWords(text) }, finishReason: 'stop' };
  }
}
