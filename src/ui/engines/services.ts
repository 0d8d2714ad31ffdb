// What the composition root (main.tsx) hands the UI: the engines it may use, as plain interfaces, so the UI
// never imports WebLLM, the local engine or storage itself.
import type { LoadProgress } from '../../llm/webllm-progress';
import type { LoadedModel, ModelHost } from './model-host';

/** Which engine runs the agents, from the page's URL (`?engine=...`). */
export type EngineChoice =
  | { kind: 'webllm' }
  | { kind: 'local'; modelUrl: string }
  | { kind: 'scripted'; scriptUrl: string };

/** WebLLM as the Models page needs it (main.tsx loads the real module lazily). */
export interface WebLlmApi {
  load(options: { modelId: string; embeddingModelId?: string; onProgress: (progress: LoadProgress) => void }): Promise<LoadedModel>;
  isCached(modelId: string): Promise<boolean>;
  deleteCached(modelId: string): Promise<void>;
}

export interface Engines {
  choice: EngineChoice;
  host: ModelHost;
  webllm: WebLlmApi;
}

export function engineFromUrl(search: string): EngineChoice {
  const params = new URLSearchParams(search);
  const engine = params.get('engine');
  if (engine === 'scripted') return { kind: 'scripted', scriptUrl: params.get('script') ?? '' };
  if (engine === 'local') return { kind: 'local', modelUrl: params.get('model') ?? '' };
  return { kind: 'webllm' };
}

export function engineLabel(choice: EngineChoice): string {
  return choice.kind === 'webllm' ? 'WebLLM' : choice.kind === 'local' ? 'local engine' : 'scripted replies';
}
