// The main thread's side of the engine worker: spawns workers/engine.worker.ts, talks to it with
// Comlink, and offers the ChatModel contract over it (streaming through a proxied callback, abort
// through cancel()), plus the trainer's controls (start / pause / resume / stop, progress through a
// proxied listener, checkpoints, export, merge). The UI thread never runs model code.

import { proxy, wrap, type Endpoint, type Remote } from 'comlink';
import type { PeftFiles } from '../model/peft';
import type { ChatModel, ChatRequest, ChatResponse } from '../llm/chat-model';
import type { ModelRecord } from '../llm/webllm-custom-model';
import type { EngineHostApi, EngineInfo, EngineLoadProgress, ScoreRequest, ScoreResult } from './engine-host';
import type { ExportedFile, MergeResult, StartTrainingRequest, TrainingListener, TrainingStatus } from './trainer-host';

let nextRequest = 0;

/** Errors cross the worker boundary as plain Errors: give an abort its usual shape back. */
function restore(error: unknown): unknown {
  if (error instanceof Error && error.name === 'AbortError' && !(error instanceof DOMException)) return new DOMException(error.message, 'AbortError');
  return error;
}

export class EngineClient {
  private readonly remote: Remote<EngineHostApi>;

  /** @param endpoint the worker (or any Comlink endpoint, e.g. a MessagePort in tests); `close` ends it. */
  constructor(
    endpoint: Endpoint,
    private readonly close: () => void = () => undefined,
  ) {
    this.remote = wrap<EngineHostApi>(endpoint);
  }

  /** Starts the engine worker. */
  static start(): EngineClient {
    const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
    return new EngineClient(worker, () => worker.terminate());
  }

  /** Loads a model folder served under `baseUrl` (HF or MLC files), reporting download and upload progress. */
  load(baseUrl: string, options: { onProgress?: (p: EngineLoadProgress) => void; maxTokens?: number } = {}): Promise<EngineInfo> {
    const { onProgress, ...rest } = options;
    return this.remote.load(baseUrl, onProgress ? proxy(onProgress) : undefined, rest) as Promise<EngineInfo>;
  }

  /** A ChatModel answering with the loaded model (and this adapter, when given). */
  chatModel(adapter?: string): ChatModel {
    return new EngineChatModel(this.remote, adapter);
  }

  score(request: ScoreRequest): Promise<ScoreResult> {
    return this.remote.score(request) as Promise<ScoreResult>;
  }

  addAdapter(name: string, files: PeftFiles): Promise<string[]> {
    return this.remote.addAdapter(name, files);
  }

  removeAdapter(name: string): Promise<string[]> {
    return this.remote.removeAdapter(name);
  }

  // ----- training (see trainer-host.ts) ---------------------------------------------------------

  /** Starts a run; `listener` hears every step's metrics and every change of state. */
  startTraining(request: StartTrainingRequest, listener?: TrainingListener): Promise<TrainingStatus> {
    return this.remote.startTraining(request, listener ? proxy(listener) : undefined);
  }

  pauseTraining(): Promise<TrainingStatus> {
    return this.remote.pauseTraining();
  }

  /** Continues a paused run, or the latest checkpoint's (after a reload or a lost GPU device). */
  resumeTraining(listener?: TrainingListener): Promise<TrainingStatus> {
    return this.remote.resumeTraining(listener ? proxy(listener) : undefined);
  }

  stopTraining(): Promise<TrainingStatus> {
    return this.remote.stopTraining();
  }

  trainingStatus(): Promise<TrainingStatus> {
    return this.remote.trainingStatus();
  }

  /** adapter_config.json and adapter_model.safetensors (a full run: the Hugging Face model's files) of the live run (or of a checkpoint). */
  exportAdapter(checkpoint?: string): Promise<ExportedFile[]> {
    return this.remote.exportAdapter(checkpoint);
  }

  mergeIntoWebLlm(name: string, baseRecord: ModelRecord | null): Promise<MergeResult> {
    return this.remote.mergeIntoWebLlm(name, baseRecord);
  }

  /** Frees the model's GPU memory (the worker stays up). */
  unload(): Promise<void> {
    return this.remote.unload();
  }

  /** Stops the worker. */
  terminate(): void {
    this.close();
  }
}

class EngineChatModel implements ChatModel {
  readonly id: string;
  constructor(
    private readonly remote: Remote<EngineHostApi>,
    private readonly adapter?: string,
  ) {
    this.id = adapter ? `local:${adapter}` : 'local';
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const { onToken, signal, ...rest } = request;
    if (signal?.aborted) throw new DOMException('The request was aborted.', 'AbortError');
    const requestId = `chat-${++nextRequest}`;
    const onAbort = () => void this.remote.cancel(requestId);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.remote.chat({ ...rest, requestId, ...(this.adapter === undefined ? {} : { adapter: this.adapter }) }, onToken ? proxy(onToken) : undefined);
    } catch (error) {
      throw restore(error);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
}
