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
 * SEAM (issue 6, offline mode): the local WebGPU engine's ChatModel, `src/llm/engine-client.ts`, plugs in
 * here once it exists, e.g.
 *   const { EngineChatModel } = await import('./llm/engine-client');
 *   return EngineChatModel.load({ url, onProgress });
 * Its progress only needs mapping onto LoadProgress (phase, fraction, elapsedS, text).
 */
async function loadLocalEngine(url: string, onProgress: (progress: LoadProgress) => void): Promise<LoadedModel> {
  void onProgress;
  throw new Error(`The local engine is not part of this build yet, so ${url || 'the model folder'} cannot be loaded. Open the app without ?engine=local to use WebLLM.`);
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
