// The WebLLM models offered for the agents: small instruction-tuned models that fit a laptop GPU, each in
// two quantisations, q4f16_1 (needs the adapter's `shader-f16`) and q4f32_1 (runs everywhere). Ids are
// WebLLM 0.2.79's prebuilt ones (a test checks them against `prebuiltAppConfig`); this module is plain
// data so the UI can list models without loading WebLLM.

export type Quantisation = 'q4f16_1' | 'q4f32_1';

/**
 * The folder of MLC's prebuilt model libraries that the pinned WebLLM (0.2.79) links against; its
 * `prebuiltAppConfig` names libraries there. Every chat library of the later folders (v0_2_80 and up)
 * fails to link against that runtime, and 0.2.80+ cannot run these, so WebLLM and this folder move together.
 */
export const WEBLLM_LIBRARY_FOLDER = 'v0_2_48';

export interface CatalogueEntry {
  key: string;
  label: string;
  family: 'Qwen2.5' | 'Llama-3.2' | 'Qwen3' | 'SmolLM2';
  params: string;
  /** The prebuilt model id per quantisation. */
  ids: Record<Quantisation, string>;
  /** GPU memory WebLLM says the model needs (its `vram_required_MB`). */
  vramMB: Record<Quantisation, number>;
  /** Rough size of the first download (weights at about 4.5 bits per parameter plus tokenizer and library). */
  approxDownloadMB: number;
  /** Qwen3 thinks aloud unless told not to; the agents want short structured replies. */
  disableThinking?: boolean;
  note: string;
}

export const CHAT_MODELS: readonly CatalogueEntry[] = [
  {
    key: 'qwen2.5-0.5b', label: 'Qwen2.5 0.5B Instruct', family: 'Qwen2.5', params: '0.5B',
    ids: { q4f16_1: 'Qwen2.5-0.5B-Instruct-q4f16_1-MLC', q4f32_1: 'Qwen2.5-0.5B-Instruct-q4f32_1-MLC' },
    vramMB: { q4f16_1: 945, q4f32_1: 1060 }, approxDownloadMB: 300,
    note: 'Smallest and fastest; weak at following the JSON format without constraints.',
  },
  {
    key: 'qwen2.5-1.5b', label: 'Qwen2.5 1.5B Instruct', family: 'Qwen2.5', params: '1.5B',
    ids: { q4f16_1: 'Qwen2.5-1.5B-Instruct-q4f16_1-MLC', q4f32_1: 'Qwen2.5-1.5B-Instruct-q4f32_1-MLC' },
    vramMB: { q4f16_1: 1630, q4f32_1: 1889 }, approxDownloadMB: 900,
    note: 'Default: the best balance of quality and speed on a laptop.',
  },
  {
    key: 'qwen2.5-3b', label: 'Qwen2.5 3B Instruct', family: 'Qwen2.5', params: '3B',
    ids: { q4f16_1: 'Qwen2.5-3B-Instruct-q4f16_1-MLC', q4f32_1: 'Qwen2.5-3B-Instruct-q4f32_1-MLC' },
    vramMB: { q4f16_1: 2505, q4f32_1: 2894 }, approxDownloadMB: 1800,
    note: 'The Memory-R1 paper\'s smallest base model family; needs a discrete or recent integrated GPU.',
  },
  {
    key: 'llama-3.2-1b', label: 'Llama 3.2 1B Instruct', family: 'Llama-3.2', params: '1B',
    ids: { q4f16_1: 'Llama-3.2-1B-Instruct-q4f16_1-MLC', q4f32_1: 'Llama-3.2-1B-Instruct-q4f32_1-MLC' },
    vramMB: { q4f16_1: 879, q4f32_1: 1129 }, approxDownloadMB: 700,
    note: 'Small Llama; the paper also fine-tunes Llama models.',
  },
  {
    key: 'llama-3.2-3b', label: 'Llama 3.2 3B Instruct', family: 'Llama-3.2', params: '3B',
    ids: { q4f16_1: 'Llama-3.2-3B-Instruct-q4f16_1-MLC', q4f32_1: 'Llama-3.2-3B-Instruct-q4f32_1-MLC' },
    vramMB: { q4f16_1: 2264, q4f32_1: 2952 }, approxDownloadMB: 1800,
    note: 'Stronger Llama; needs about 2.3 GB of GPU memory.',
  },
  {
    key: 'qwen3-0.6b', label: 'Qwen3 0.6B', family: 'Qwen3', params: '0.6B',
    ids: { q4f16_1: 'Qwen3-0.6B-q4f16_1-MLC', q4f32_1: 'Qwen3-0.6B-q4f32_1-MLC' },
    vramMB: { q4f16_1: 1403, q4f32_1: 1925 }, approxDownloadMB: 350, disableThinking: true,
    note: 'Small Qwen3, thinking switched off.',
  },
  {
    key: 'qwen3-1.7b', label: 'Qwen3 1.7B', family: 'Qwen3', params: '1.7B',
    ids: { q4f16_1: 'Qwen3-1.7B-q4f16_1-MLC', q4f32_1: 'Qwen3-1.7B-q4f32_1-MLC' },
    vramMB: { q4f16_1: 2037, q4f32_1: 2635 }, approxDownloadMB: 1000, disableThinking: true,
    note: 'Qwen3, thinking switched off.',
  },
  {
    key: 'smollm2-360m', label: 'SmolLM2 360M Instruct', family: 'SmolLM2', params: '360M',
    ids: { q4f16_1: 'SmolLM2-360M-Instruct-q4f16_1-MLC', q4f32_1: 'SmolLM2-360M-Instruct-q4f32_1-MLC' },
    vramMB: { q4f16_1: 376, q4f32_1: 580 }, approxDownloadMB: 220,
    note: 'Tiny: for trying the app on weak hardware; answers are poor.',
  },
  {
    key: 'smollm2-1.7b', label: 'SmolLM2 1.7B Instruct', family: 'SmolLM2', params: '1.7B',
    ids: { q4f16_1: 'SmolLM2-1.7B-Instruct-q4f16_1-MLC', q4f32_1: 'SmolLM2-1.7B-Instruct-q4f32_1-MLC' },
    vramMB: { q4f16_1: 1774, q4f32_1: 2692 }, approxDownloadMB: 1000,
    note: 'SmolLM2 at 1.7B.',
  },
];

export const DEFAULT_CHAT_MODEL = 'qwen2.5-1.5b';

export interface EmbeddingEntry {
  key: string;
  label: string;
  id: string;
  dimensions: number;
  vramMB: number;
  approxDownloadMB: number;
}

/** Optional embeddings for hybrid retrieval; without one the bank retrieves lexically (BM25) alone. */
export const EMBEDDING_MODELS: readonly EmbeddingEntry[] = [
  { key: 'arctic-embed-s', label: 'Snowflake Arctic Embed S', id: 'snowflake-arctic-embed-s-q0f32-MLC-b4', dimensions: 384, vramMB: 239, approxDownloadMB: 130 },
  { key: 'arctic-embed-m', label: 'Snowflake Arctic Embed M', id: 'snowflake-arctic-embed-m-q0f32-MLC-b4', dimensions: 768, vramMB: 539, approxDownloadMB: 440 },
];

/** q4f16_1 when the adapter can do 16-bit float shaders (faster, smaller), else q4f32_1. */
export function pickQuantisation(adapterFeatures: { has(feature: string): boolean }): Quantisation {
  return adapterFeatures.has('shader-f16') ? 'q4f16_1' : 'q4f32_1';
}

export function chatModelEntry(keyOrId: string): CatalogueEntry | undefined {
  return CHAT_MODELS.find((entry) => entry.key === keyOrId || Object.values(entry.ids).includes(keyOrId));
}

/** The prebuilt model id to load for a catalogue key (or id) on an adapter with these features. */
export function chatModelId(keyOrId: string, adapterFeatures: { has(feature: string): boolean }): string {
  const entry = chatModelEntry(keyOrId);
  if (!entry) throw new Error(`"${keyOrId}" is not in the model catalogue. Known models: ${CHAT_MODELS.map((e) => e.key).join(', ')}.`);
  return entry.ids[pickQuantisation(adapterFeatures)];
}
