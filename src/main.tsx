// The app's composition root: opens the memory bank, picks the engine from the URL (WebLLM by default,
// `?engine=local&model=URL`, `?engine=scripted&script=URL`) and hands both to the UI, which never opens
// storage or the GPU itself; with the local engine also its trainer, and evaluation's IndexedDB store.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { indexedDbUserData, MemoryStore, requestPersistentStorage, type Embedder } from './memory';
import { App } from './ui/App';
import { ModelHost, type LoadedModel } from './ui/engines/model-host';
import { scriptedModel } from './ui/engines/script';
import { engineFromUrl, type EngineChoice, type EvaluationApi, type TrainingApi, type WebLlmApi } from './ui/engines/services';
import type { EngineClient } from './hosts/engine-client';
import type { LoadProgress } from './llm/webllm-progress';
import './ui/styles.css';

/** WebLLM, imported only when first used so the app starts without downloading it. */
const webllm: WebLlmApi = {
  async load({ modelId, embeddingModelId, onProgress }) {
    const { WebLlmChatModel } = await import('./llm/webllm');
    // Models merged on the Train page are WebLLM custom models: their records come from the cache's registry.
    const extraModels = await (await import('./llm/webllm-custom-model')).listCustomModels().catch(() => []);
    return WebLlmChatModel.load({ modelId, ...(embeddingModelId ? { embeddingModelId } : {}), extraModels, onProgress });
  },
  async isCached(modelId) {
    return (await import('./llm/webllm')).isModelCached(modelId);
  },
  async deleteCached(modelId) {
    return (await import('./llm/webllm')).deleteCachedModel(modelId);
  },
  async trainedModels() {
    const entries = await (await import('./llm/webllm-custom-model')).listCustomModels();
    return entries.map((e) => ({ name: e.name, bytes: e.bytes, installedAt: e.installedAt }));
  },
  async deleteTrainedModel(name) {
    await (await import('./llm/webllm-custom-model')).removeCustomModel(name);
  },
};

/** The one engine worker of the page (the model and its trainer live there for the page's lifetime). */
let engineClient: Promise<EngineClient> | undefined;
function localClient(): Promise<EngineClient> {
  engineClient ??= import('./hosts/engine-client').then(({ EngineClient }) => EngineClient.start());
  return engineClient;
}

/**
 * Offline mode: our own WebGPU engine in workers/engine.worker.ts, loading an HF or MLC folder from `url`.
 * Its progress (bytes per file, then the upload to the GPU) is shown on the same bar as WebLLM's.
 */
async function loadLocalEngine(url: string, onProgress: (progress: LoadProgress) => void): Promise<LoadedModel> {
  const client = await localClient();
  const started = performance.now();
  const report = (phase: LoadProgress['phase'], fraction: number, text: string, megabytes?: number) =>
    onProgress({ phase, fraction, phaseFraction: fraction, elapsedS: (performance.now() - started) / 1000, text, ...(megabytes === undefined ? {} : { megabytes }) });
  try {
    await client.load(new URL(url, window.location.href).href, {
      onProgress: (p) => {
        if (p.phase === 'download') report('download', p.total ? 0.9 * (p.loaded / p.total) : 0, `Fetching ${p.path}`, p.loaded / 1e6);
        else if (p.phase === 'upload') report('shaders', 0.95, 'Uploading weights to the GPU');
        else report('ready', 1, 'Ready');
      },
    });
  } catch (error) {
    await client.unload().catch(() => undefined);
    throw error;
  }
  const model = client.chatModel();
  // The worker stays up: it holds the training run's state and listener between models. A plain object,
  // so nothing that inspects the app's state can reach the Comlink proxy inside the model.
  return { id: model.id, chat: (request) => model.chat(request), unload: () => client.unload() };
}

/** The local engine's trainer, for the Train page; merging looks up the base's WebLLM record here. */
function localTraining(modelUrl: string, host: ModelHost, label: string): TrainingApi {
  const url = new URL(modelUrl, window.location.href).href;
  const client = localClient;
  return {
    modelUrl: url,
    start: async (request, listener) => (await client()).startTraining(request, listener),
    pause: async () => (await client()).pauseTraining(),
    resume: async (listener) => (await client()).resumeTraining(listener),
    stop: async () => (await client()).stopTraining(),
    status: async () => (await client()).trainingStatus(),
    exportAdapter: async (checkpoint) => (await client()).exportAdapter(checkpoint),
    async merge(name) {
      const { prebuiltRecordFor } = await import('./llm/webllm-base-record');
      return (await client()).mergeIntoWebLlm(name, prebuiltRecordFor(url));
    },
    reloadModel: () => host.load(label, (onProgress) => loadLocalEngine(modelUrl, onProgress)),
  };
}

const evaluation: EvaluationApi = {
  async openStore(runId) {
    const { IndexedDbEvalStore } = await import('./eval/runner-store.idb');
    return IndexedDbEvalStore.open(runId);
  },
};

const localLabel = (choice: EngineChoice) => `local engine: ${choice.kind === 'local' && choice.modelUrl ? choice.modelUrl : '(no model URL)'}`;

/** Starts the engine the URL asks for; WebLLM waits for the user to pick a model on the Models page. */
async function startEngine(choice: EngineChoice, host: ModelHost): Promise<void> {
  if (choice.kind === 'scripted') {
    const label = `script ${choice.scriptUrl}`;
    try {
      if (!choice.scriptUrl) throw new Error('Add &script=URL of a JSON script of replies.');
      const response = await fetch(choice.scriptUrl);
      if (!response.ok) throw new Error(`Could not fetch the script (${response.status} ${response.statusText}).`);
      host.use(label, scriptedModel(await response.text()));
    } catch (error) {
      host.fail(label, (error as Error).message);
    }
  } else if (choice.kind === 'local') {
    const label = localLabel(choice);
    if (!choice.modelUrl) return host.fail(label, 'Add &model=URL of a Hugging Face or MLC model folder.');
    void host.load(label, (onProgress) => loadLocalEngine(choice.modelUrl, onProgress));
  }
}

async function start() {
  const root = createRoot(document.getElementById('root')!);
  const host = new ModelHost();
  // The bank embeds with whatever model is loaded; with none (or none that embeds) retrieval is lexical.
  const embedder: Embedder = { embed: async (texts) => (await host.model?.embed?.(texts)) ?? [] };
  try {
    const store = await MemoryStore.open({ embedder, onStale: () => alert('Memory-R1 was updated in another tab. Reload this page to continue.') });
    const persistence = await requestPersistentStorage();
    const choice = engineFromUrl(window.location.search);
    void startEngine(choice, host);
    const training = choice.kind === 'local' && choice.modelUrl ? localTraining(choice.modelUrl, host, localLabel(choice)) : undefined;
    root.render(
      <StrictMode>
        <App store={store} persistence={persistence} gpu={navigator.gpu} data={indexedDbUserData()} engines={{ choice, host, webllm, evaluation, ...(training ? { training } : {}) }} />
      </StrictMode>,
    );
  } catch (error) {
    root.render(<p role="alert">Memory-R1 could not open its storage: {(error as Error).message}</p>);
  }
}

void start();
