// What the engine worker (workers/engine.worker.ts) exposes through Comlink: load a model folder from
// a URL with progress, chat (the ChatModel request, streamed through a callback), score, manage LoRA
// adapters, and train them (./trainer-host.ts). Kept here rather than in the worker so it runs, and is
// tested, in Node as well. GPU work runs one request (or one training step) at a time.

import { releaseProxy } from 'comlink';
import { requestGpuContext, type GpuContext } from '../gpu/device';
import type { ModelConfig } from '../model/config';
import { Engine } from '../model/engine';
import { loadModel } from '../model/load';
import type { PeftFiles } from '../model/peft';
import { UrlSource, type DownloadProgress, type ModelSource } from '../model/source';
import type { CheckpointStorage } from '../train/checkpoint';
import type { ChatMessage, ChatRequest, ChatResponse } from '../llm/chat-model';
import { LocalChatModel, type LocalEngine } from '../llm/local';
import { identityKey } from '../eval/runner';
import type { TrainingTuples } from '../eval/tuples';
import type { LocomoRunSetup } from '../eval/tuples.idb';
import { createTrainerHost, type TrainerHostApi, type TrainingListener, type TupleStore } from './trainer-host';

export type EngineLoadProgress =
  | { phase: 'download'; path: string; loaded: number; total: number | null }
  | { phase: 'upload' }
  | { phase: 'ready' };

export interface EngineInfo {
  architecture: ModelConfig['architecture'];
  vocabSize: number;
  /** Longest prompt + reply a request may use. */
  maxTokens: number;
  hasChatTemplate: boolean;
  adapters: string[];
}

/** A chat request as it crosses to the worker: no callbacks or signals (those go separately). */
export type EngineChatRequest = Omit<ChatRequest, 'onToken' | 'signal'> & {
  /** A LoRA adapter added with addAdapter; none = the base model. */
  adapter?: string;
  /** Lets cancel() stop this request. */
  requestId?: string;
};

export interface ScoreRequest {
  /** Raw text (tokenised with the tokenizer's special tokens, e.g. Llama-3's BOS) or messages (chat template, assistant turn opened). */
  prompt: string | ChatMessage[];
  completion: string;
  adapter?: string;
}

export interface ScoreResult {
  completionIds: number[];
  /** log p(token | everything before it), per completion token. */
  logprobs: Float32Array;
  total: number;
}

export interface EngineHostApi extends TrainerHostApi {
  load(baseUrl: string, onProgress?: (p: EngineLoadProgress) => void, options?: { maxTokens?: number }): Promise<EngineInfo>;
  chat(request: EngineChatRequest, onToken?: (delta: string) => void): Promise<ChatResponse>;
  /** Aborts a chat under way (it rejects with an AbortError); unknown ids are ignored. */
  cancel(requestId: string): void;
  score(request: ScoreRequest): Promise<ScoreResult>;
  addAdapter(name: string, files: PeftFiles): Promise<string[]>;
  removeAdapter(name: string): Promise<string[]>;
  unload(): Promise<void>;
}

/** The engine operations the host uses (Engine has them; tests pass a fake). */
export interface HostEngine extends LocalEngine {
  readonly config: Pick<ModelConfig, 'architecture' | 'vocabSize'>;
  readonly adapterNames: string[];
  score(promptIds: readonly number[], completionIds: readonly number[], options?: { adapter?: string }): Promise<Float32Array>;
  addAdapter(name: string, adapter: PeftFiles): void;
  removeAdapter(name: string): void;
  dispose(): void;
}

export type EngineOpener = (baseUrl: string, onProgress: (p: EngineLoadProgress) => void, options: { maxTokens?: number }) => Promise<HostEngine>;

/** The browser's opener: files over HTTP from the app's server, the worker's own WebGPU device. */
export function urlEngineOpener(
  gpu: () => GPU | undefined,
  fetchSource: (base: string, onProgress: (p: DownloadProgress) => void) => ModelSource = (base, onProgress) => new UrlSource(base, { onProgress }),
): EngineOpener {
  let context: Promise<GpuContext> | undefined;
  return async (baseUrl, onProgress, options) => {
    if (!context) {
      const requested = (context = requestGpuContext(gpu()));
      // A lost device cannot come back: the next load asks for a new one.
      requested.then((c) => c.device.lost.then(() => void (context === requested && (context = undefined))), () => void (context = undefined));
    }
    const source = fetchSource(baseUrl, (p) => onProgress({ phase: 'download', ...p }));
    const device = await context;
    const model = await loadModel(source);
    onProgress({ phase: 'upload' });
    return Engine.create(model, device, options.maxTokens === undefined ? {} : { maxTokens: options.maxTokens });
  };
}

function abortError(): DOMException {
  return new DOMException('The request was aborted.', 'AbortError');
}

/** A model's checkpoint storage; `remove` lets the trainer keep only the latest few. */
export type TrainingStorage = CheckpointStorage & { remove(name: string): Promise<void> };

export interface EngineHostOptions {
  /** Where a model's training checkpoints go (the worker: IndexedDB per model URL); default in memory. */
  checkpointStorage?: (modelUrl: string) => Promise<TrainingStorage>;
  /** Where LoCoMo training tuples go (the worker: IndexedDB); default in memory. */
  tupleStore?: () => Promise<TupleStore>;
  /** The loaded model's folder, read again by a merge or a full model's export; default over HTTP. */
  modelSource?: (modelUrl: string) => ModelSource;
}

/** Tuples kept in memory only (Node tests, or a host given no store). */
function memoryTupleStore(): TupleStore {
  const tuples = new Map<string, TrainingTuples>();
  const runs = new Map<string, LocomoRunSetup>();
  return {
    load: async (identity) => tuples.get(identityKey(identity)),
    save: async (t) => void tuples.set(identityKey(t.identity), t),
    saveRun: async (model, setup) => void runs.set(model, setup),
    lastRun: async (model) => runs.get(model),
  };
}

/** Checkpoints kept in memory only (Node tests, or a host given no storage). */
function memoryStorage(): TrainingStorage {
  const entries = new Map<string, Uint8Array>();
  return {
    save: async (name, bytes) => void entries.set(name, bytes.slice()),
    load: async (name) => {
      const bytes = entries.get(name);
      if (!bytes) throw new Error(`There is no checkpoint named "${name}".`);
      return bytes.slice();
    },
    list: async () => [...entries.keys()],
    remove: async (name) => void entries.delete(name),
  };
}

/** The engine's GPU device, when it is a real Engine (tests pass fakes): its loss is watched. */
function lostOf(engine: HostEngine): Promise<GPUDeviceLostInfo> | undefined {
  return engine instanceof Engine ? engine.runtime.device.lost : undefined;
}

export function createEngineHost(open: EngineOpener, options: EngineHostOptions = {}): EngineHostApi {
  let engine: HostEngine | null = null;
  let modelUrl: string | null = null;
  let queue: Promise<unknown> = Promise.resolve();
  const running = new Map<string, AbortController>();
  const models = new Map<string, LocalChatModel>();

  /** Runs GPU work one job at a time, in call order. */
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const next = queue.then(job);
    queue = next.catch(() => undefined);
    return next;
  };
  const live = (): HostEngine => {
    if (!engine) throw new Error('No model is loaded in the engine worker; call load() first.');
    return engine;
  };
  const modelFor = (adapter: string | undefined): LocalChatModel => {
    const key = adapter ?? '';
    let m = models.get(key);
    if (!m) models.set(key, (m = new LocalChatModel(live(), adapter === undefined ? {} : { adapter })));
    return m;
  };
  const storages = new Map<string, Promise<TrainingStorage>>();
  let tupleStore: Promise<TupleStore> | undefined;
  const openStorage = options.checkpointStorage ?? (async () => memoryStorage());
  const trainer = createTrainerHost({
    engine: () => {
      const e = live();
      if (!(e instanceof Engine)) throw new Error('Training needs the WebGPU engine.');
      return e;
    },
    modelUrl: () => {
      if (!modelUrl) throw new Error('No model is loaded in the engine worker; call load() first.');
      return modelUrl;
    },
    modelSource: () => (options.modelSource ?? ((url) => new UrlSource(url)))(modelUrl ?? ''),
    serial,
    storage: (url) => {
      let s = storages.get(url);
      if (!s) storages.set(url, (s = openStorage(url)));
      return s;
    },
    tuples: () => (tupleStore ??= (options.tupleStore ?? (async () => memoryTupleStore()))()),
  });
  const watchDevice = (e: HostEngine): void => {
    void lostOf(e)?.then((info) => {
      if (engine !== e) return; // a device lost after this engine was replaced
      engine = null;
      models.clear();
      trainer.deviceLost(info.message || info.reason || 'device lost');
    });
  };
  /** Releases a listener proxy once the host no longer calls it. */
  const release = (callback: unknown): void => (callback as Partial<Record<typeof releaseProxy, () => void>> | undefined)?.[releaseProxy]?.();
  let trainingListener: TrainingListener | undefined;
  const keepListener = (l: TrainingListener | undefined): TrainingListener | undefined => {
    if (l && l !== trainingListener) {
      release(trainingListener);
      trainingListener = l;
    }
    return l;
  };

  return {
    load: async (baseUrl, onProgress, options = {}) => {
      await trainer.beforeUnload();
      return serial(async () => {
        try {
          engine?.dispose();
          engine = null;
          modelUrl = null;
          models.clear();
          engine = await open(baseUrl, (p) => void onProgress?.(p), options);
          modelUrl = baseUrl;
          watchDevice(engine);
          onProgress?.({ phase: 'ready' });
          return { architecture: engine.config.architecture, vocabSize: engine.config.vocabSize, maxTokens: engine.maxTokens, hasChatTemplate: engine.tokenizer.hasChatTemplate, adapters: engine.adapterNames };
        } finally {
          release(onProgress);
        }
      });
    },

    async chat(request, onToken) {
      const { adapter, requestId, ...chat } = request;
      const controller = new AbortController();
      if (requestId !== undefined) running.set(requestId, controller);
      try {
        return await serial(() => {
          if (controller.signal.aborted) throw abortError();
          return modelFor(adapter).chat({ ...chat, signal: controller.signal, ...(onToken ? { onToken: (d: string) => void onToken(d) } : {}) });
        });
      } finally {
        if (requestId !== undefined) running.delete(requestId);
        (onToken as Partial<Record<typeof releaseProxy, () => void>> | undefined)?.[releaseProxy]?.();
      }
    },

    cancel(requestId) {
      running.get(requestId)?.abort();
    },

    score: (request) =>
      serial(async () => {
        const e = live();
        const tok = e.tokenizer;
        const promptIds = typeof request.prompt === 'string' ? tok.encode(request.prompt, { addSpecialTokens: true }) : tok.encode(tok.applyChatTemplate(request.prompt, { addGenerationPrompt: true }));
        const completionIds = tok.encode(request.completion);
        const logprobs = await e.score(promptIds, completionIds, request.adapter === undefined ? {} : { adapter: request.adapter });
        return { completionIds, logprobs, total: logprobs.reduce((s, x) => s + x, 0) };
      }),

    addAdapter: (name, files) =>
      serial(async () => {
        live().addAdapter(name, files);
        return live().adapterNames;
      }),

    removeAdapter: (name) =>
      serial(async () => {
        live().removeAdapter(name);
        models.delete(name);
        return live().adapterNames;
      }),

    unload: async () => {
      await trainer.beforeUnload();
      return serial(async () => {
        engine?.dispose();
        engine = null;
        models.clear();
      });
    },

    startTraining: (request, listener) => trainer.startTraining(request, keepListener(listener)),
    pauseTraining: () => trainer.pauseTraining(),
    resumeTraining: (listener) => trainer.resumeTraining(keepListener(listener)),
    stopTraining: () => trainer.stopTraining(),
    trainingStatus: () => trainer.trainingStatus(),
    exportAdapter: (checkpoint) => trainer.exportAdapter(checkpoint),
    mergeIntoWebLlm: (name, record) => trainer.mergeIntoWebLlm(name, record),
  };
}
