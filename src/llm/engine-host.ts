// What the engine worker (workers/engine.worker.ts) exposes through Comlink: load a model folder from
// a URL with progress, chat (the ChatModel request, streamed through a callback), score, and manage
// LoRA adapters. Kept here rather than in the worker so it runs, and is tested, in Node as well.
// GPU work runs one request at a time.

import { releaseProxy } from 'comlink';
import { requestGpuContext, type GpuContext } from '../gpu/device';
import type { ModelConfig } from '../model/config';
import { Engine } from '../model/engine';
import { loadModel } from '../model/load';
import type { PeftFiles } from '../model/peft';
import { UrlSource, type DownloadProgress, type ModelSource } from '../model/source';
import type { ChatMessage, ChatRequest, ChatResponse } from './chat-model';
import { LocalChatModel, type LocalEngine } from './local';

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

export interface EngineHostApi {
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

/**
 * fetch, except that an HTML page answering for a model file counts as 404: single-page-app servers
 * (Vite's dev server among them) answer unknown paths with index.html, which would otherwise make a
 * Hugging Face folder look like an MLC one (mlc-chat-config.json "exists").
 */
export async function fetchModelFile(input: string, init?: { method?: string }): Promise<Response> {
  const response = await fetch(input, init);
  if (response.ok && (response.headers.get('content-type') ?? '').includes('text/html')) return new Response(null, { status: 404 });
  return response;
}

/** The browser's opener: files over HTTP from the app's server, the worker's own WebGPU device. */
export function urlEngineOpener(
  gpu: () => GPU | undefined,
  fetchSource: (base: string, onProgress: (p: DownloadProgress) => void) => ModelSource = (base, onProgress) => new UrlSource(base, { onProgress, fetch: fetchModelFile }),
): EngineOpener {
  let context: Promise<GpuContext> | undefined;
  return async (baseUrl, onProgress, options) => {
    context ??= requestGpuContext(gpu());
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

export function createEngineHost(open: EngineOpener): EngineHostApi {
  let engine: HostEngine | null = null;
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

  return {
    load: (baseUrl, onProgress, options = {}) =>
      serial(async () => {
        try {
          engine?.dispose();
          engine = null;
          models.clear();
          engine = await open(baseUrl, (p) => void onProgress?.(p), options);
          onProgress?.({ phase: 'ready' });
          return { architecture: engine.config.architecture, vocabSize: engine.config.vocabSize, maxTokens: engine.maxTokens, hasChatTemplate: engine.tokenizer.hasChatTemplate, adapters: engine.adapterNames };
        } finally {
          (onProgress as Partial<Record<typeof releaseProxy, () => void>> | undefined)?.[releaseProxy]?.();
        }
      }),

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

    unload: () =>
      serial(async () => {
        engine?.dispose();
        engine = null;
        models.clear();
      }),
  };
}
