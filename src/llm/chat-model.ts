// The one interface the agents talk to: an OpenAI chat-completions call (the shape WebLLM also speaks), so
// the same agents run on WebLLM in the browser, on our local engine, and on a scripted double in tests.

export type ChatRole = 'system' | 'user' | 'assistant';

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

/** A JSON Schema object (as `z.toJSONSchema` returns it). */
export type JsonSchema = Record<string, unknown>;

export interface ChatRequest {
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  /** Integer seed for reproducible sampling, where the implementation supports it. */
  seed?: number;
  stop?: string[];
  /** Constrain the reply to JSON matching this schema (WebLLM: `response_format` json_object + schema). */
  json_schema?: JsonSchema;
  /**
   * Streaming: called with each new piece of text as it is generated (in order; their concatenation is
   * the final `text`). The promise still resolves with the whole reply. A callback rather than an async
   * iterator so callers that do not stream pay nothing and every implementation returns the same shape.
   */
  onToken?: (delta: string) => void;
  /** Aborts generation; the promise then rejects with an AbortError. */
  signal?: AbortSignal;
}

/** The sampling settings an agent chooses (the rest of a request is its prompt). */
export type Sampling = Pick<ChatRequest, 'temperature' | 'top_p' | 'max_tokens' | 'seed'>;

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ChatResponse {
  text: string;
  usage: TokenUsage;
  /** Why generation ended, when the implementation says: 'stop' (done), 'length' (hit max_tokens), 'abort'. */
  finishReason?: string;
}

export interface ChatModel {
  /** What is answering, for reports and the UI (e.g. a WebLLM model id). */
  readonly id: string;
  chat(request: ChatRequest): Promise<ChatResponse>;
  /** Unit-length-or-not embeddings, one per text; absent when the model has no embedding model. */
  embed?(texts: string[]): Promise<Float32Array[]>;
}

export const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0 };

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return { promptTokens: a.promptTokens + b.promptTokens, completionTokens: a.completionTokens + b.completionTokens };
}

/** The model's embeddings as the memory bank's `Embedder`, or undefined (lexical retrieval alone). */
export function embedderOf(model: ChatModel): { embed(texts: string[]): Promise<Float32Array[]> } | undefined {
  const embed = model.embed?.bind(model);
  return embed ? { embed } : undefined;
}
