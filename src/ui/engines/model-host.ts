// The one chat model the app uses at a time, whichever engine it comes from (WebLLM, the local engine, a
// script), with its loading state for the UI. Calls are queued one at a time: the chat and the demo may
// both want the model, and an engine generating two replies at once would mix them up.
import { useSyncExternalStore } from 'react';
import type { ChatModel, ChatRequest, ChatResponse } from '../../llm/chat-model';
import type { LoadProgress } from '../../llm/webllm-progress';

/** A loaded model; `unload` frees the GPU memory (absent for models that hold none). */
export interface LoadedModel extends ChatModel {
  unload?(): Promise<void>;
}

export type ModelLoader = (onProgress: (progress: LoadProgress) => void) => Promise<LoadedModel>;

export type ModelState =
  | { status: 'none' }
  | { status: 'loading'; label: string; progress: LoadProgress | null }
  | { status: 'ready'; label: string; model: ChatModel }
  | { status: 'error'; label: string; message: string };

/** Runs calls one after another, in order. */
class Serialised implements ChatModel {
  private tail: Promise<unknown> = Promise.resolve();
  readonly embed?: (texts: string[]) => Promise<Float32Array[]>;

  constructor(private readonly inner: LoadedModel) {
    const embed = inner.embed?.bind(inner);
    if (embed) this.embed = (texts) => this.queue(() => embed(texts));
  }
  get id() {
    return this.inner.id;
  }
  private queue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
  chat(request: ChatRequest): Promise<ChatResponse> {
    return this.queue(() => this.inner.chat(request));
  }
}

export class ModelHost {
  private state: ModelState = { status: 'none' };
  private loaded: LoadedModel | undefined;
  private readonly listeners = new Set<() => void>();
  private generation = 0;

  /** For `useSyncExternalStore`. */
  readonly subscribe = (listener: () => void) => {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  };
  readonly snapshot = () => this.state;

  /** The ready model, if any. */
  get model(): ChatModel | undefined {
    return this.state.status === 'ready' ? this.state.model : undefined;
  }

  private set(state: ModelState) {
    this.state = state;
    for (const listener of this.listeners) listener();
  }

  /** Unloads the current model, then loads another; a load started later wins over an earlier one. */
  async load(label: string, loader: ModelLoader): Promise<void> {
    const generation = ++this.generation;
    await this.release();
    this.set({ status: 'loading', label, progress: null });
    // A worker's progress callbacks travel on their own channel and may arrive after the load itself has
    // resolved: once it has, a late "Ready" report must not put the state back to loading.
    let settled = false;
    try {
      const model = await loader((progress) => {
        if (!settled && generation === this.generation) this.set({ status: 'loading', label, progress });
      });
      settled = true;
      if (generation !== this.generation) return void (await model.unload?.());
      this.loaded = model;
      this.set({ status: 'ready', label, model: new Serialised(model) });
    } catch (error) {
      settled = true;
      if (generation === this.generation) this.set({ status: 'error', label, message: error instanceof Error ? error.message : String(error) });
    }
  }

  /** Makes a model that needs no loading (scripted) the current one. */
  use(label: string, model: LoadedModel): void {
    void this.load(label, async () => model);
  }

  fail(label: string, message: string): void {
    this.generation++;
    this.set({ status: 'error', label, message });
  }

  async unload(): Promise<void> {
    this.generation++;
    await this.release();
    this.set({ status: 'none' });
  }

  private async release() {
    const previous = this.loaded;
    this.loaded = undefined;
    await previous?.unload?.().catch(() => undefined);
  }
}

export function useModelState(host: ModelHost): ModelState {
  return useSyncExternalStore(host.subscribe, host.snapshot);
}
