// A fully fine-tuned model as a Hugging Face folder: model.safetensors (F32, the Hugging Face tensor
// names, fused q|k|v and gate|up split back apart), the base folder's config.json with its dtype set to
// float32, and the base's tokenizer and generation files unchanged.
import type { ModelConfig } from '../model/config';
import { writeSafetensors } from '../model/safetensors';
import type { ModelSource } from '../model/source';
import { dequantize, hfTensor, hfTensorNames, type ModelWeights } from '../model/weights';

/** Files taken from the base folder as they are (when present). */
const COPIED = ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json', 'vocab.json', 'merges.txt'];

export async function writeHfModel(weights: ModelWeights, config: ModelConfig, base: ModelSource): Promise<Map<string, Uint8Array>> {
  if (!(await base.exists('config.json'))) throw new Error(`${base.name}: no config.json; export a full model from a Hugging Face folder (an MLC build has none)`);
  const files = new Map<string, Uint8Array>();
  const tensors = hfTensorNames(config).map((name) => {
    const t = hfTensor(weights, config, name);
    return { name, dtype: 'F32' as const, shape: [...t.shape], data: Float32Array.from(dequantize(t)) };
  });
  files.set('model.safetensors', writeSafetensors(tensors, { format: 'pt' }));
  const json = JSON.parse(new TextDecoder().decode(await base.read('config.json'))) as Record<string, unknown>;
  files.set('config.json', new TextEncoder().encode(`${JSON.stringify({ ...json, torch_dtype: 'float32' }, null, 2)}\n`));
  for (const name of COPIED) if (await base.exists(name)) files.set(name, await base.read(name));
  return files;
}
