// The WebLLM model the user chose (Models page, kept in settings), resolved for this GPU.
import { chatModelEntry, EMBEDDING_MODELS, pickQuantisation, type Quantisation } from '../../llm/webllm-catalogue';
import type { Settings } from '../settings';
import type { Engines } from './services';

export interface ModelChoice {
  label: string;
  modelId: string;
  embeddingModelId?: string;
}

export function quantisationFor(f16: boolean): Quantisation {
  return pickQuantisation({ has: (feature) => f16 && feature === 'shader-f16' });
}

export function chosenModel(settings: Pick<Settings, 'chatModel' | 'embeddingModel'>, f16: boolean): ModelChoice | undefined {
  const entry = settings.chatModel ? chatModelEntry(settings.chatModel) : undefined;
  if (!entry) return undefined;
  const quantisation = quantisationFor(f16);
  const embedding = EMBEDDING_MODELS.find((e) => e.id === settings.embeddingModel);
  return {
    label: `${entry.label} (${quantisation}${embedding ? ` + ${embedding.label}` : ''})`,
    modelId: entry.ids[quantisation],
    ...(embedding ? { embeddingModelId: embedding.id } : {}),
  };
}

export function loadChoice(engines: Engines, choice: ModelChoice): Promise<void> {
  return engines.host.load(choice.label, (onProgress) =>
    engines.webllm.load({ modelId: choice.modelId, ...(choice.embeddingModelId ? { embeddingModelId: choice.embeddingModelId } : {}), onProgress }),
  );
}
