// Our ChatRequest as WebLLM's OpenAI-style request, and its replies back. Pure, so the exact requests
// sent to WebLLM are tested in Node without a GPU.
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, ChatCompletionRequestBase } from '@mlc-ai/web-llm';
import type { ChatRequest, ChatResponse } from './chat-model';

export interface RequestOptions {
  /** The model to ask (needed once an embedding model is loaded beside the chat model). */
  model: string;
  stream: boolean;
  /** Qwen3: ask for no thinking block. */
  disableThinking?: boolean;
}

export function toChatCompletionRequest(request: ChatRequest, options: RequestOptions): ChatCompletionRequest {
  const body: ChatCompletionRequestBase = {
    model: options.model,
    messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
  };
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.top_p !== undefined) body.top_p = request.top_p;
  if (request.max_tokens !== undefined) body.max_tokens = request.max_tokens;
  if (request.seed !== undefined) body.seed = Math.trunc(request.seed); // WebLLM refuses a non-integer seed
  if (request.stop?.length) body.stop = request.stop;
  // WebLLM's JSON mode takes the schema as a string and compiles it to a grammar (XGrammar).
  if (request.json_schema) body.response_format = { type: 'json_object', schema: JSON.stringify(request.json_schema) };
  if (options.disableThinking) body.extra_body = { enable_thinking: false };
  return options.stream ? { ...body, stream: true, stream_options: { include_usage: true } } : { ...body, stream: false };
}

/** Qwen3 may still emit an (empty) think block; the agents only want the reply. */
export function stripThinking(text: string): string {
  return text.replace(/<think>[\s\S]*?<\/think>\s*/g, '');
}

export function fromChatCompletion(completion: ChatCompletion): ChatResponse {
  const choice = completion.choices[0];
  const response: ChatResponse = {
    text: stripThinking(choice?.message.content ?? ''),
    usage: { promptTokens: completion.usage?.prompt_tokens ?? 0, completionTokens: completion.usage?.completion_tokens ?? 0 },
  };
  if (choice?.finish_reason) response.finishReason = choice.finish_reason;
  return response;
}

/** Collects a stream, passing each text delta on as it comes. */
export async function fromChunks(chunks: AsyncIterable<ChatCompletionChunk>, onToken?: (delta: string) => void): Promise<ChatResponse> {
  let text = '';
  const response: ChatResponse = { text: '', usage: { promptTokens: 0, completionTokens: 0 } };
  for await (const chunk of chunks) {
    const choice = chunk.choices[0];
    const delta = choice?.delta.content ?? '';
    if (delta) {
      text += delta;
      onToken?.(delta);
    }
    if (choice?.finish_reason) response.finishReason = choice.finish_reason;
    if (chunk.usage) response.usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens };
  }
  response.text = stripThinking(text);
  return response;
}
