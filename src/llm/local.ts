// The ChatModel on our own WebGPU engine (src/model/engine.ts), with an optional LoRA adapter: renders
// the messages with the model's chat template, generates (src/model/generate.ts) and reports usage.
// `json_schema` turns on our constrained decoding, so the reply always parses and matches the schema.
// With `embedding`, it also embeds texts (an engine's mean-pooled hidden states: a separate embedding
// model's, or the chat model's own with its adapter off), so the memory bank's retrieval is hybrid.
// Requests run one at a time: they share one GPU queue, and interleaving them would only slow each.

import type { DecodeSession } from '../model/decode-session';
import { generate, type FinishReason } from '../model/generate';
import { JsonConstraint } from '../model/json-constraint';
import type { ModelTokenizer } from '../model/tokenizer';
import type { ChatModel, ChatRequest, ChatResponse, JsonSchema } from './chat-model';

/** What the chat model needs of an Engine (Engine satisfies it; tests may pass a fake). */
export interface LocalEngine {
  readonly tokenizer: ModelTokenizer;
  /** The longest session the engine allows by default (prompt + reply). */
  readonly maxTokens: number;
  /** With `reusePrefixOf`, the session may already hold a prefix of that prompt (`length` tokens). */
  session(options: { adapter?: string; maxTokens?: number; reusePrefixOf?: readonly number[] }): DecodeSession;
}

/** What embeds texts (Engine satisfies it): one unit vector per text. */
export interface LocalEmbedder {
  embed(text: string): Promise<Float32Array>;
}

export interface LocalChatModelOptions {
  /** Embeds memories and questions (default: none, so the bank retrieves lexically only). */
  embedding?: LocalEmbedder;
  /** Name of an adapter added to the engine; none = the base model. */
  adapter?: string;
  /** Shown in reports and the UI (default "local" or "local:<adapter>"). */
  id?: string;
  /** Reply length when a request gives no max_tokens (default 512, always within the context). */
  defaultMaxTokens?: number;
  /** Candidates per sampling step (default 64). */
  topK?: number;
}

/** OpenAI's finish reasons: an end-of-sequence token is a normal "stop". */
function finishReasonOf(reason: FinishReason): string {
  return reason === 'length' ? 'length' : 'stop';
}

export class LocalChatModel implements ChatModel {
  readonly id: string;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly constraints = new WeakMap<JsonSchema, JsonConstraint>();
  readonly embed?: (texts: string[]) => Promise<Float32Array[]>;

  constructor(
    private readonly engine: LocalEngine,
    private readonly options: LocalChatModelOptions = {},
  ) {
    this.id = options.id ?? (options.adapter ? `local:${options.adapter}` : 'local');
    const embedder = options.embedding;
    if (embedder) this.embed = (texts) => this.queued(async () => {
      const out: Float32Array[] = [];
      for (const text of texts) out.push(await embedder.embed(text));
      return out;
    });
  }

  /** Runs `work` after every request before it (one GPU queue). */
  private queued<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The prompt ids of a request: the chat template with the assistant's turn opened. */
  promptIds(request: Pick<ChatRequest, 'messages'>): number[] {
    const text = this.engine.tokenizer.applyChatTemplate(request.messages, { addGenerationPrompt: true });
    return this.engine.tokenizer.encode(text);
  }

  chat(request: ChatRequest): Promise<ChatResponse> {
    return this.queued(() => this.run(request));
  }

  private async run(request: ChatRequest): Promise<ChatResponse> {
    if (request.signal?.aborted) throw new DOMException('The request was aborted.', 'AbortError');
    const promptIds = this.promptIds(request);
    const context = this.engine.maxTokens;
    if (promptIds.length >= context) {
      throw new Error(`The prompt has ${promptIds.length} tokens, but the local model's context holds ${context}; shorten the conversation or the retrieved memories.`);
    }
    const wanted = request.max_tokens ?? this.options.defaultMaxTokens ?? 512;
    const maxTokens = Math.max(0, Math.min(wanted, context - promptIds.length));
    // The agents' prompts share long fixed instructions: start from a cache that holds them.
    const session = this.engine.session({ adapter: this.options.adapter, maxTokens: Math.max(1, promptIds.length + maxTokens), reusePrefixOf: promptIds });
    try {
      const result = await generate(session, this.engine.tokenizer, {
        promptIds: promptIds.slice(session.length),
        maxTokens,
        temperature: request.temperature ?? 1,
        topP: request.top_p ?? 1,
        topK: this.options.topK,
        seed: request.seed,
        stop: request.stop,
        jsonSchema: request.json_schema ? this.constraint(request.json_schema) : undefined,
        onToken: request.onToken,
        signal: request.signal,
      });
      return { text: result.text, usage: { ...result.usage, promptTokens: promptIds.length }, finishReason: finishReasonOf(result.finishReason) };
    } finally {
      session.dispose();
    }
  }

  /** Compiled once per schema object (agents pass the same constant every turn). */
  private constraint(schema: JsonSchema): JsonConstraint {
    let c = this.constraints.get(schema);
    if (!c) {
      c = new JsonConstraint(schema);
      this.constraints.set(schema, c);
    }
    return c;
  }
}
