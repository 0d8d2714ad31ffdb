// What the composition root (main.tsx) hands the UI: the engines it may use, as plain interfaces, so the UI
// never imports WebLLM, the local engine or storage itself.
import type { EvalStore } from '../../eval/runner';
import type { ExportedFile, MergeResult, StartTrainingRequest, TrainingListener, TrainingStatus } from '../../hosts/trainer-host';
import type { LoadProgress } from '../../llm/webllm-progress';
import type { LoadedModel, ModelHost } from './model-host';

/** Which engine runs the agents, from the page's URL (`?engine=...`). */
export type EngineChoice =
  | { kind: 'webllm' }
  | { kind: 'local'; modelUrl: string }
  | { kind: 'scripted'; scriptUrl: string };

/** A model merged from a trained adapter (Train page) and installed in WebLLM's cache. */
export interface TrainedModel {
  /** Its WebLLM model id. */
  name: string;
  bytes: number;
  installedAt: string;
}

/** WebLLM as the Models page needs it (main.tsx loads the real module lazily). */
export interface WebLlmApi {
  load(options: { modelId: string; embeddingModelId?: string; onProgress: (progress: LoadProgress) => void }): Promise<LoadedModel>;
  isCached(modelId: string): Promise<boolean>;
  deleteCached(modelId: string): Promise<void>;
  trainedModels(): Promise<TrainedModel[]>;
  deleteTrainedModel(name: string): Promise<void>;
}

/** The local engine's trainer (only with `?engine=local&model=URL`): runs in the engine worker. */
export interface TrainingApi {
  /** The model folder being trained (absolute URL). */
  modelUrl: string;
  start(request: StartTrainingRequest, listener: TrainingListener): Promise<TrainingStatus>;
  pause(): Promise<TrainingStatus>;
  resume(listener: TrainingListener): Promise<TrainingStatus>;
  stop(): Promise<TrainingStatus>;
  status(): Promise<TrainingStatus>;
  /** PEFT files (a full run: the Hugging Face model's files) of the live run, or of a checkpoint. */
  exportAdapter(checkpoint?: string): Promise<ExportedFile[]>;
  /** Merges the adapter into the (MLC, WebLLM-prebuilt) base and installs it as a WebLLM custom model. */
  merge(name: string): Promise<MergeResult>;
  /** Loads the model again (after the GPU device was lost). */
  reloadModel(): Promise<void>;
}

/** An evaluation's saved progress, which can be thrown away to start over. */
export interface ResettableEvalStore extends EvalStore {
  clear(): Promise<void>;
}

/** Where evaluations keep their progress (IndexedDB in the app), one store per run set-up. */
export interface EvaluationApi {
  openStore(runId: string): Promise<ResettableEvalStore>;
}

export interface Engines {
  choice: EngineChoice;
  host: ModelHost;
  webllm: WebLlmApi;
  training?: TrainingApi;
  evaluation?: EvaluationApi;
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
