import { ModelType, postInitAndCheckFieldsChatCompletion, type ChatCompletion, type ChatCompletionChunk } from '@mlc-ai/web-llm';
import { describe, expect, it } from 'vitest';
import { MANAGER_JSON_SCHEMA } from '../agents/schemas';
import { fromChatCompletion, fromChunks, toChatCompletionRequest } from './webllm-request';

const messages = [
  { role: 'system' as const, content: 'sys' },
  { role: 'user' as const, content: 'hi' },
];

describe('toChatCompletionRequest', () => {
  it('maps sampling, seed, stop and the JSON schema to WebLLM fields', () => {
    const request = toChatCompletionRequest(
      { messages, temperature: 0.6, top_p: 0.9, max_tokens: 300, seed: 7, stop: ['\n\n'], json_schema: MANAGER_JSON_SCHEMA },
      { model: 'Qwen2.5-1.5B-Instruct-q4f32_1-MLC', stream: false },
    );
    expect(request).toEqual({
      model: 'Qwen2.5-1.5B-Instruct-q4f32_1-MLC',
      messages,
      temperature: 0.6,
      top_p: 0.9,
      max_tokens: 300,
      seed: 7,
      stop: ['\n\n'],
      response_format: { type: 'json_object', schema: JSON.stringify(MANAGER_JSON_SCHEMA) },
      stream: false,
    });
    // WebLLM 0.2.79's own request checks accept it.
    expect(() => postInitAndCheckFieldsChatCompletion(request, request.model!, ModelType.LLM)).not.toThrow();
  });

  it('streams with usage, leaves out what was not asked for, turns Qwen3 thinking off', () => {
    const request = toChatCompletionRequest({ messages, seed: 3.9 }, { model: 'Qwen3-0.6B-q4f16_1-MLC', stream: true, disableThinking: true });
    expect(request).toEqual({ model: 'Qwen3-0.6B-q4f16_1-MLC', messages, seed: 3, stream: true, stream_options: { include_usage: true }, extra_body: { enable_thinking: false } });
    expect(() => postInitAndCheckFieldsChatCompletion(request, request.model!, ModelType.LLM)).not.toThrow();
  });
});

describe('replies', () => {
  it('reads a completion and strips a think block', () => {
    const completion = {
      id: 'x', object: 'chat.completion', created: 0, model: 'm',
      choices: [{ index: 0, finish_reason: 'length', logprobs: null, message: { role: 'assistant', content: '<think>\n\n</think>\n\n{"facts": []}' } }],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, extra: {} },
    } as unknown as ChatCompletion;
    expect(fromChatCompletion(completion)).toEqual({ text: '{"facts": []}', usage: { promptTokens: 12, completionTokens: 5 }, finishReason: 'length' });
  });

  it('collects a stream, passing deltas on, usage from the last chunk', async () => {
    const chunk = (content: string | undefined, extra: object = {}) => ({ id: 'x', object: 'chat.completion.chunk', created: 0, model: 'm', choices: [{ index: 0, delta: content === undefined ? {} : { content }, finish_reason: null }], ...extra }) as unknown as ChatCompletionChunk;
    async function* stream() {
      yield chunk('**Answer:**');
      yield chunk(' Paris');
      yield { ...chunk(undefined), choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] } as unknown as ChatCompletionChunk;
      yield { ...chunk(undefined), choices: [], usage: { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 } } as unknown as ChatCompletionChunk;
    }
    const deltas: string[] = [];
    expect(await fromChunks(stream(), (d) => deltas.push(d))).toEqual({ text: '**Answer:** Paris', usage: { promptTokens: 9, completionTokens: 3 }, finishReason: 'stop' });
    expect(deltas).toEqual(['**Answer:**', ' Paris']);
  });
});
