// The WebLLM client up to the engine boundary, with a fake engine: what it loads, the requests it sends,
// progress and error mapping, embeddings, abort, unload, and the cache helpers.
import type { AppConfig, ChatCompletion, ChatCompletionRequest, CreateEmbeddingResponse, EmbeddingCreateParams, InitProgressReport } from '@mlc-ai/web-llm';
import { describe, expect, it, vi } from 'vitest';
import { FACTS_JSON_SCHEMA } from '../agents/schemas';
import type { LoadProgress } from './webllm-progress';
import { deleteCachedModel, isModelCached, WebLlmChatModel, type EngineFactory, type WebLlmEngine } from './webllm';
import { WebLlmError } from './webllm-errors';

const CHAT = 'Qwen2.5-1.5B-Instruct-q4f32_1-MLC';
const EMBED = 'snowflake-arctic-embed-s-q0f32-MLC-b4';

function completion(content: string): ChatCompletion {
  return {
    id: 'c', object: 'chat.completion', created: 0, model: CHAT,
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content } }],
    usage: { prompt_tokens: 10, completion_tokens: 4, total_tokens: 14, extra: {} },
  } as unknown as ChatCompletion;
}

class FakeEngine implements WebLlmEngine {
  requests: ChatCompletionRequest[] = [];
  embeddingRequests: EmbeddingCreateParams[] = [];
  interrupted = 0;
  unloaded = 0;
  reply: (request: ChatCompletionRequest) => Promise<ChatCompletion> = async () => completion('{"facts": ["a"]}');
  async chatCompletion(request: ChatCompletionRequest) {
    this.requests.push(request);
    return this.reply(request);
  }
  async embedding(request: EmbeddingCreateParams): Promise<CreateEmbeddingResponse> {
    this.embeddingRequests.push(request);
    const input = request.input as string[];
    // Out of order on purpose: the client must sort by index.
    const data = input.map((text, index) => ({ object: 'embedding' as const, index, embedding: [text.length, index] })).reverse();
    return { object: 'list', model: EMBED, data, usage: { prompt_tokens: 1, total_tokens: 1, extra: { prefill_tokens_per_s: 1 } } };
  }
  interruptGenerate() {
    this.interrupted++;
  }
  async unload() {
    this.unloaded++;
  }
}

function fakeFactory(engine: FakeEngine, reports: InitProgressReport[] = []) {
  const calls: { modelIds: string[]; appConfig: AppConfig }[] = [];
  let disposed = 0;
  const factory: EngineFactory = async (modelIds, config) => {
    calls.push({ modelIds, appConfig: config.appConfig });
    for (const report of reports) config.initProgressCallback(report);
    return { engine, dispose: () => disposed++ };
  };
  return { factory, calls, disposed: () => disposed };
}

describe('WebLlmChatModel', () => {
  it('loads the chat and embedding models with the prebuilt list and the chosen cache, reporting progress', async () => {
    const engine = new FakeEngine();
    const { factory, calls } = fakeFactory(engine, [
      { progress: 0.5, timeElapsed: 1, text: 'Fetching param cache[1/2]: 400MB fetched. 50% completed, 1 secs elapsed.' },
      { progress: 1, timeElapsed: 2, text: 'Finish loading on WebGPU - test' },
    ]);
    const progress: LoadProgress[] = [];
    const model = await WebLlmChatModel.load({ modelId: CHAT, embeddingModelId: EMBED, cacheBackend: 'indexeddb', onProgress: (p) => progress.push(p), createEngine: factory });
    expect(calls[0]!.modelIds).toEqual([CHAT, EMBED]);
    expect(calls[0]!.appConfig.useIndexedDBCache).toBe(true);
    expect(calls[0]!.appConfig.model_list.some((r) => r.model_id === CHAT)).toBe(true);
    expect(progress.map((p) => [p.phase, p.fraction])).toEqual([['download', 0.4], ['ready', 1]]);
    expect(model.id).toBe(CHAT);
  });

  it('sends OpenAI-style requests with the model id, schema, temperature and seed', async () => {
    const engine = new FakeEngine();
    const model = await WebLlmChatModel.load({ modelId: CHAT, createEngine: fakeFactory(engine).factory });
    const reply = await model.chat({ messages: [{ role: 'user', content: 'x' }], temperature: 0, seed: 1, max_tokens: 64, json_schema: FACTS_JSON_SCHEMA });
    expect(reply).toEqual({ text: '{"facts": ["a"]}', usage: { promptTokens: 10, completionTokens: 4 }, finishReason: 'stop' });
    expect(engine.requests[0]).toMatchObject({
      model: CHAT,
      temperature: 0,
      seed: 1,
      max_tokens: 64,
      stream: true, // always: see WebLlmChatModel.chat
      response_format: { type: 'json_object', schema: JSON.stringify(FACTS_JSON_SCHEMA) },
    });
    expect(model.embed).toBeUndefined();
  });

  it('streams when asked through onToken', async () => {
    const engine = new FakeEngine();
    engine.chatCompletion = async (request) => {
      engine.requests.push(request);
      return (async function* () {
        yield { id: 'c', object: 'chat.completion.chunk', created: 0, model: CHAT, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] };
        yield { id: 'c', object: 'chat.completion.chunk', created: 0, model: CHAT, choices: [{ index: 0, delta: { content: 'lo' }, finish_reason: 'stop' }] };
      })() as never;
    };
    const model = await WebLlmChatModel.load({ modelId: CHAT, createEngine: fakeFactory(engine).factory });
    const deltas: string[] = [];
    expect((await model.chat({ messages: [{ role: 'user', content: 'x' }], onToken: (d) => deltas.push(d) })).text).toBe('Hello');
    expect(deltas).toEqual(['Hel', 'lo']);
    expect(engine.requests[0]).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  it('embeds through the embedding model, in input order', async () => {
    const engine = new FakeEngine();
    const model = await WebLlmChatModel.load({ modelId: CHAT, embeddingModelId: EMBED, createEngine: fakeFactory(engine).factory });
    expect(await model.embed!(['a', 'bcd'])).toEqual([Float32Array.of(1, 0), Float32Array.of(3, 1)]);
    expect(engine.embeddingRequests[0]).toEqual({ input: ['a', 'bcd'], model: EMBED });
    expect(await model.embed!([])).toEqual([]);
  });

  it('turns load failures into clear errors: device lost, out of memory, network, missing model', async () => {
    const failing = (detail: unknown): EngineFactory => async () => {
      throw detail; // the worker client rejects with WebLLM's error text
    };
    const load = (detail: unknown) => WebLlmChatModel.load({ modelId: CHAT, createEngine: failing(detail) });
    await expect(load('DeviceLostError: The WebGPU device was lost while loading the model.')).rejects.toMatchObject({ kind: 'device-lost' });
    await expect(load(new RangeError('Array buffer allocation failed'))).rejects.toMatchObject({ kind: 'out-of-memory', message: expect.stringContaining('1.9 GB') });
    await expect(load('TypeError: Failed to fetch')).rejects.toMatchObject({ kind: 'network', message: expect.stringContaining('900 MB') });
    const factory = vi.fn<EngineFactory>();
    await expect(WebLlmChatModel.load({ modelId: 'Qwen9-1T-q4f16_1-MLC', createEngine: factory })).rejects.toMatchObject({ kind: 'model-not-found' });
    expect(factory).not.toHaveBeenCalled();
  });

  it('turns chat failures into clear errors', async () => {
    const engine = new FakeEngine();
    engine.reply = async () => {
      throw 'ContextWindowSizeExceededError: Prompt tokens exceed context window size: number of prompt tokens: 5000; context window size: 4096';
    };
    const model = await WebLlmChatModel.load({ modelId: CHAT, createEngine: fakeFactory(engine).factory });
    const error = await model.chat({ messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WebLlmError);
    expect(error).toMatchObject({ kind: 'context-too-long' });
  });

  it('interrupts generation on abort and rejects with AbortError', async () => {
    const engine = new FakeEngine();
    const controller = new AbortController();
    engine.reply = async () => {
      controller.abort();
      return completion('partial');
    };
    const model = await WebLlmChatModel.load({ modelId: CHAT, createEngine: fakeFactory(engine).factory });
    await expect(model.chat({ messages: [{ role: 'user', content: 'x' }], signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(engine.interrupted).toBe(1);
  });

  it('unloads the engine and stops the worker once', async () => {
    const engine = new FakeEngine();
    const fake = fakeFactory(engine);
    const model = await WebLlmChatModel.load({ modelId: CHAT, createEngine: fake.factory });
    await model.unload();
    await model.unload();
    expect([engine.unloaded, fake.disposed()]).toEqual([1, 1]);
    await expect(model.chat({ messages: [{ role: 'user', content: 'x' }] })).rejects.toThrow(/unloaded/);
  });
});

describe('cache helpers', () => {
  it('ask and delete through WebLLM with the chosen backend, waiting until the weights are gone', async () => {
    const seen: [string, string, boolean | undefined][] = [];
    let present = 3; // WebLLM 0.2.79 deletes in the background: still seen twice after the call
    const cache = {
      hasModelInCache: async (id: string, config?: AppConfig) => (seen.push(['has', id, config?.useIndexedDBCache]), present-- > 0),
      deleteModelAllInfoInCache: async (id: string, config?: AppConfig) => void seen.push(['delete', id, config?.useIndexedDBCache]),
    };
    expect(await isModelCached(CHAT, 'indexeddb', cache)).toBe(true);
    await deleteCachedModel(CHAT, 'cache', cache);
    expect(seen).toEqual([['has', CHAT, true], ['delete', CHAT, false], ['has', CHAT, false], ['has', CHAT, false], ['has', CHAT, false]]);
  });

  it('know custom models when asked about them', async () => {
    const custom = { name: 'mine', record: { model: 'https://local.invalid/mine', model_id: 'mine', model_lib: 'lib.wasm' }, files: [], bytes: 0, installedAt: '' };
    const cache = { hasModelInCache: async (id: string, config?: AppConfig) => config!.model_list.some((r) => r.model_id === id), deleteModelAllInfoInCache: async () => undefined };
    expect(await isModelCached('mine', 'cache', cache, [custom])).toBe(true);
    expect(await isModelCached('mine', 'cache', cache)).toBe(false);
  });

  it('map cache failures', async () => {
    const cache = { hasModelInCache: async () => Promise.reject(new Error('QuotaExceededError')), deleteModelAllInfoInCache: async () => undefined };
    await expect(isModelCached(CHAT, 'cache', cache)).rejects.toMatchObject({ kind: 'storage-full' });
  });
});
