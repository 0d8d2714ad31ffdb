// Which WebLLM prebuilt model a local engine's model folder is, by its URL: a merge into WebLLM reuses
// that record's model library (.wasm), since a merge changes weights only. Only prebuilt models have a
// library WebLLM can fetch, so a folder served from anywhere else has no record.
import { prebuiltAppConfig, type ModelRecord } from '@mlc-ai/web-llm';

/** "https://huggingface.co/mlc-ai/X/resolve/main/" and "https://huggingface.co/mlc-ai/X" are the same model. */
function normalise(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/resolve\/main$/, '').replace(/\/+$/, '').toLowerCase();
}

export function prebuiltRecordFor(modelUrl: string, records: readonly ModelRecord[] = prebuiltAppConfig.model_list): ModelRecord | null {
  const wanted = normalise(modelUrl);
  return records.find((r) => normalise(r.model) === wanted) ?? null;
}
