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

/** A trained model (merged on the Train page) is chosen as `trained:<its WebLLM model id>`. */
export const TRAINED_PREFIX = 'trained:';

export function chosenModel(settings: Pick<Settings, 'chatModel' | 'embeddingModel'>, f16: boolean): ModelChoice | undefined {
  const embedding = EMBEDDING_MODELS.find((e) => e.id === settings.embeddingModel);
  const withEmbedding = (label: string, modelId: string): ModelChoice => ({
    label: embedding ? `${label} + ${embedding.label}` : label,
    modelId,
    ...(embedding ? { embeddingModelId: embedding.id } : {}),
  });
  if (settings.chatModel.startsWith(TRAINED_PREFIX)) {
    const name = settings.chatModel.slice(TRAINED_PREFIX.length);
    return name ? withEmbedding(`${name} (trained)`, name) : undefined;
  }
  const entry = settings.chatModel ? chatModelEntry(settings.chatModel) : undefined;
  if (!entry) return undefined;
  const quantisation = quantisationFor(f16);
  return withEmbedding(`${entry.label} (${quantisation})`, entry.ids[quantisation]);
}

export function loadChoice(engines: Engines, choice: ModelChoice): Promise<void> {
  return engines.host.load(choice.label, (onProgress) =>
    engines.webllm.load({ modelId: choice.modelId, ...(choice.embeddingModelId ? { embeddingModelId: choice.embeddingModelId } : {}), onProgress }),
  );
}
