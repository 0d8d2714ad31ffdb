// The app's composition root: opens the memory bank, picks the engine from the URL (WebLLM by default,
// `?engine=local&model=URL`, `?engine=scripted&script=URL`) and hands both to the UI, which never opens
// storage or the GPU itself.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MemoryStore, requestPersistentStorage, type Embedder } from './memory';
import { App } from './ui/App';
import { ModelHost, type LoadedModel } from './ui/engines/model-host';
import { scriptedModel } from './ui/engines/script';
import { engineFromUrl, type EngineChoice, type WebLlmApi } from './ui/engines/services';
import type { LoadProgress } from './llm/webllm-progress';
import './ui/styles.css';

/** WebLLM, imported only when first used so the app starts without downloading it. */
const webllm: WebLlmApi = {
  async load({ modelId, embeddingModelId, onProgress }) {
    const { WebLlmChatModel } = await import('./llm/webllm');
    return WebLlmChatModel.load({ modelId, ...(embeddingModelId ? { embeddingModelId } : {}), onProgress });
  },
  async isCached(modelId) {
    return (await import('./llm/webllm')).isModelCached(modelId);
  },
  async deleteCached(modelId) {
    return (await import('./llm/webllm')).deleteCachedModel(modelId);
  },
};

/**
 * Offline mode: our own WebGPU engine in workers/engine.worker.ts, loading an HF or MLC folder from `url`.
 * Its progress (bytes per file, then the upload to the GPU) is shown on the same bar as WebLLM's.
 */
async function loadLocalEngine(url: string, onProgress: (progress: LoadProgress) => void): Promise<LoadedModel> {
  const { EngineClient } = await import('./llm/engine-client');
  const client = EngineClient.start();
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
    client.terminate();
    throw error;
  }
  const model = client.chatModel();
  return Object.assign(model, {
    async unload() {
      await client.unload();
      client.terminate();
    },
  });
}

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
    const label = `local engine: ${choice.modelUrl || '(no model URL)'}`;
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
    root.render(
      <StrictMode>
        <App store={store} persistence={persistence} gpu={navigator.gpu} engines={{ choice, host, webllm }} />
      </StrictMode>,
    );
  } catch (error) {
    root.render(<p role="alert">Memory-R1 could not open its storage: {(error as Error).message}</p>);
  }
}

void start();
