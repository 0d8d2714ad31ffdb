// The ChatModel on WebLLM: the engine runs in workers/llm.worker.ts and this client talks to it. Loading
// reports progress as one bar; failures (no WebGPU, device lost, out of memory, no network, unknown model)
// become WebLlmErrors that say what to do. The engine is reached through a small interface so the
// requests we send can be checked in Node against a fake engine.
import {
  CreateWebWorkerMLCEngine,
  deleteModelAllInfoInCache,
  hasModelInCache,
  prebuiltAppConfig,
  type AppConfig,
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  type CreateEmbeddingResponse,
  type EmbeddingCreateParams,
  type InitProgressReport,
  type WebWorkerMLCEngine,
} from '@mlc-ai/web-llm';
import type { ChatModel, ChatRequest, ChatResponse } from './chat-model';
import { cacheApiStore, indexedDbStore, MODEL_SCOPE, withCustomModels, type CustomModelEntry } from './webllm-custom-model';
import { TENSOR_CACHE_NAMES } from '../model/mlc';
import { webllmModelUrl } from '../model/source';
import { chatModelEntry, EMBEDDING_MODELS } from './webllm-catalogue';
import { toWebLlmError, WebLlmError, type ErrorContext } from './webllm-errors';
import { toLoadProgress, type LoadProgress } from './webllm-progress';
import { fromChatCompletion, fromChunks, toChatCompletionRequest } from './webllm-request';

/** The few engine methods we call (WebWorkerMLCEngine has them; tests pass a fake). */
export interface WebLlmEngine {
  chatCompletion(request: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterable<ChatCompletionChunk>>;
  embedding(request: EmbeddingCreateParams): Promise<CreateEmbeddingResponse>;
  interruptGenerate(): void;
  unload(): Promise<void>;
}

export interface EngineConfig {
  appConfig: AppConfig;
  initProgressCallback: (report: InitProgressReport) => void;
}

/** Creates an engine with these models loaded; owns whatever it starts (worker) and frees it in `dispose`. */
export type EngineFactory = (modelIds: string[], config: EngineConfig) => Promise<{ engine: WebLlmEngine; dispose(): void }>;

export type CacheBackend = 'cache' | 'indexeddb';

/**
 * WebLLM's prebuilt model list with our choice of cache (Cache API by default, WebLLM's best tested),
 * plus custom models (trained adapters merged into a base, see webllm-custom-model.ts). WebLLM 0.2.79
 * names the choice `useIndexedDBCache` (later releases replaced it with `cacheBackend`).
 */
export function appConfigFor(cacheBackend: CacheBackend = 'cache', extraModels: readonly CustomModelEntry[] = []): AppConfig {
  return withCustomModels({ ...prebuiltAppConfig, useIndexedDBCache: cacheBackend === 'indexeddb' }, extraModels);
}

/** WebLLM in workers/llm.worker.ts, with all its methods. A worker that fails to start rejects instead of hanging. */
export async function startWorkerEngine(modelIds: string[], config: EngineConfig): Promise<{ engine: WebWorkerMLCEngine; dispose(): void }> {
  const worker = new Worker(new URL('../../workers/llm.worker.ts', import.meta.url), { type: 'module', name: 'webllm' });
  const crashed = new Promise<never>((_, reject) => {
    worker.addEventListener('error', (event) => reject(new Error(`The WebLLM worker failed to start: ${event.message || 'script error'}`)), { once: true });
  });
  try {
    const engine = await Promise.race([CreateWebWorkerMLCEngine(worker, modelIds, config), crashed]);
    return { engine, dispose: () => worker.terminate() };
  } catch (error) {
    worker.terminate();
    throw error;
  }
}

/** The real engine factory. */
export const workerEngine: EngineFactory = startWorkerEngine;

export interface WebLlmLoadOptions {
  /** A prebuilt model id (see webllm-catalogue.ts for the ones offered). */
  modelId: string;
  /** An embedding model id to load beside it (EMBEDDING_MODELS), for hybrid retrieval. */
  embeddingModelId?: string;
  cacheBackend?: CacheBackend;
  /** Custom models (merged adapters installed in WebLLM's cache, listCustomModels()) that `modelId` may name. */
  extraModels?: readonly CustomModelEntry[];
  onProgress?: (progress: LoadProgress) => void;
  createEngine?: EngineFactory;
}

function contextFor(modelId: string, phase: ErrorContext['phase']): ErrorContext {
  const entry = chatModelEntry(modelId);
  const quantisation = entry && (Object.entries(entry.ids).find(([, id]) => id === modelId)?.[0] as keyof typeof entry.vramMB | undefined);
  const context: ErrorContext = { phase, modelId };
  if (entry && quantisation) context.vramMB = entry.vramMB[quantisation];
  if (entry) context.downloadMB = entry.approxDownloadMB;
  const embedding = EMBEDDING_MODELS.find((e) => e.id === modelId);
  if (embedding) {
    context.vramMB = embedding.vramMB;
    context.downloadMB = embedding.approxDownloadMB;
  }
  return context;
}

export class WebLlmChatModel implements ChatModel {
  readonly embed?: (texts: string[]) => Promise<Float32Array[]>;
  private disposed = false;

  private constructor(
    readonly id: string,
    private readonly engine: WebLlmEngine,
    private readonly dispose: () => void,
    readonly embeddingModelId?: string,
  ) {
    if (embeddingModelId) this.embed = (texts) => this.embedTexts(embeddingModelId, texts);
  }

  /** Downloads (first time) or reads from the cache, then compiles and loads the model(s) onto the GPU. */
  static async load(options: WebLlmLoadOptions): Promise<WebLlmChatModel> {
    const modelIds = [options.modelId, ...(options.embeddingModelId ? [options.embeddingModelId] : [])];
    const appConfig = appConfigFor(options.cacheBackend, options.extraModels);
    const known = new Set(appConfig.model_list.map((record) => record.model_id));
    for (const id of modelIds) if (!known.has(id)) throw toWebLlmError(`ModelNotFoundError: Cannot find model record in appConfig for ${id}`, contextFor(id, 'load'));
    const createEngine = options.createEngine ?? workerEngine;
    try {
      const { engine, dispose } = await createEngine(modelIds, {
        appConfig,
        initProgressCallback: (report) => options.onProgress?.(toLoadProgress(report)),
      });
      return new WebLlmChatModel(options.modelId, engine, dispose, options.embeddingModelId);
    } catch (error) {
      throw toWebLlmError(error, contextFor(options.modelId, 'load'));
    }
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    if (this.disposed) throw new WebLlmError('unknown', `The model "${this.id}" was unloaded; load it again.`, 'unloaded');
    // Always streamed: WebLLM 0.2.79's non-streaming path checks its interrupt flag before clearing it, so
    // once a request was stopped, every later non-streamed request would end at once with no text.
    const body = toChatCompletionRequest(request, { model: this.id, stream: true, disableThinking: chatModelEntry(this.id)?.disableThinking ?? false });
    const signal = request.signal;
    if (signal?.aborted) throw new DOMException('The request was aborted.', 'AbortError');
    const onAbort = () => this.engine.interruptGenerate();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const reply = await this.engine.chatCompletion(body);
      const response = Symbol.asyncIterator in reply ? await fromChunks(reply, request.onToken) : fromChatCompletion(reply);
      if (signal?.aborted) throw new DOMException('The request was aborted.', 'AbortError');
      return response;
    } catch (error) {
      if (error instanceof DOMException && error.name === 'AbortError') throw error;
      throw toWebLlmError(error, contextFor(this.id, 'chat'));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async embedTexts(modelId: string, texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    try {
      const response = await this.engine.embedding({ input: texts, model: modelId });
      const vectors = [...response.data].sort((a, b) => a.index - b.index).map((item) => Float32Array.from(item.embedding));
      if (vectors.length !== texts.length) throw new Error(`expected ${texts.length} embeddings, got ${vectors.length}`);
      return vectors;
    } catch (error) {
      throw toWebLlmError(error, contextFor(modelId, 'embed'));
    }
  }

  /** Stops the generation under way (its request resolves with what was generated so far). */
  interrupt(): void {
    this.engine.interruptGenerate();
  }

  /** Frees the GPU memory and stops the worker. */
  async unload(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.engine.unload();
    } finally {
      this.dispose();
    }
  }
}

/**
 * WebLLM 0.2.79 deletes a model's shards but can leave its tensor list (ndarray-cache.json) behind; remove
 * it (under both names) where the browser's storage is at hand.
 */
async function deleteTensorList(modelId: string, appConfig: AppConfig, cacheBackend: CacheBackend): Promise<void> {
  const record = appConfig.model_list.find((r) => r.model_id === modelId);
  const available = cacheBackend === 'cache' ? globalThis.caches !== undefined : globalThis.indexedDB !== undefined;
  if (!record || !available) return;
  const store = cacheBackend === 'cache' ? cacheApiStore() : indexedDbStore();
  await store.deleteAll(MODEL_SCOPE, TENSOR_CACHE_NAMES.map((file) => new URL(file, webllmModelUrl(record.model)).href));
}

/** The cache functions WebLLM provides (injectable for tests). */
export interface CacheApi {
  hasModelInCache(modelId: string, appConfig?: AppConfig): Promise<boolean>;
  deleteModelAllInfoInCache(modelId: string, appConfig?: AppConfig): Promise<void>;
}

const webllmCache: CacheApi = { hasModelInCache, deleteModelAllInfoInCache };

/** Whether the model's weights are already downloaded (the next load works offline). `extraModels` as for load. */
export async function isModelCached(
  modelId: string,
  cacheBackend: CacheBackend = 'cache',
  cache: CacheApi = webllmCache,
  extraModels: readonly CustomModelEntry[] = [],
): Promise<boolean> {
  try {
    return await cache.hasModelInCache(modelId, appConfigFor(cacheBackend, extraModels));
  } catch (error) {
    throw toWebLlmError(error, contextFor(modelId, 'cache'));
  }
}

/**
 * Deletes the model's weights, config and library from the browser's storage. Resolves once they are
 * gone: WebLLM 0.2.79 starts deleting the weights without waiting, so this waits until it no longer
 * sees them.
 */
export async function deleteCachedModel(
  modelId: string,
  cacheBackend: CacheBackend = 'cache',
  cache: CacheApi = webllmCache,
  extraModels: readonly CustomModelEntry[] = [],
): Promise<void> {
  const appConfig = appConfigFor(cacheBackend, extraModels);
  try {
    await cache.deleteModelAllInfoInCache(modelId, appConfig);
    for (let wait = 10; await cache.hasModelInCache(modelId, appConfig); wait *= 2) {
      if (wait > 5000) throw new Error(`the browser still holds the weights of ${modelId} after deleting them`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await deleteTensorList(modelId, appConfig, cacheBackend);
  } catch (error) {
    throw toWebLlmError(error, contextFor(modelId, 'cache'));
  }
}
