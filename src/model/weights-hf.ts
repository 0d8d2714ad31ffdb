// Hugging Face checkpoints ↔ ModelWeights: tensors named as in transformers' Qwen2/Llama
// (model.layers.N.self_attn.q_proj.weight, ...), q/k/v and gate/up fused on load (see weights.ts).

import type { ModelConfig } from './config';
import { shapeString } from './bytes';
import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToF16 } from './half';
import { safetensorsData, type SafetensorsInput, type SafetensorsTensor } from './safetensors';
import { concatRows, dequantize, hfTensor, hfTensorNames, qkvSplit, validateWeights, type LayerWeights, type ModelWeights, type WeightTensor } from './weights';

/** The shape transformers gives each named tensor. */
export function hfExpectedShape(c: ModelConfig, name: string): number[] {
  const { q, k } = qkvSplit(c);
  const h = c.hiddenSize;
  const rules: Array<[RegExp, number[]]> = [
    [/^model\.embed_tokens\.weight$|^lm_head\.weight$/, [c.vocabSize, h]],
    [/(input_layernorm|post_attention_layernorm)\.weight$|^model\.norm\.weight$/, [h]],
    [/q_proj\.weight$/, [q, h]],
    [/[kv]_proj\.weight$/, [k, h]],
    [/q_proj\.bias$/, [q]],
    [/[kv]_proj\.bias$/, [k]],
    [/o_proj\.weight$/, [h, q]],
    [/(gate_proj|up_proj)\.weight$/, [c.intermediateSize, h]],
    [/down_proj\.weight$/, [h, c.intermediateSize]],
  ];
  for (const [re, shape] of rules) if (re.test(name)) return shape;
  throw new Error(`no expected shape for "${name}"`);
}

/** A loaded safetensors tensor together with the file it came from (for error messages). */
export interface HfSourceTensor {
  tensor: SafetensorsTensor;
  file: string;
}

function toWeightTensor(src: HfSourceTensor, c: ModelConfig): WeightTensor {
  const { tensor: t, file } = src;
  const expected = hfExpectedShape(c, t.name);
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${file}: tensor "${t.name}" has shape ${shapeString(t.shape)} but config.json needs ${shapeString(expected)}. The weights do not match config.json; re-download the model.`);
  }
  const data = safetensorsData(t);
  switch (t.dtype) {
    case 'F32':
      return { shape: t.shape, data: { kind: 'f32', data: data as Float32Array } };
    case 'F16':
      return { shape: t.shape, data: { kind: 'f16', data: data as Uint16Array } };
    case 'BF16':
      return { shape: t.shape, data: { kind: 'f32', data: bf16ArrayToF32(data as Uint16Array) } };
    default:
      throw new Error(`${file}: tensor "${t.name}" has dtype ${t.dtype}; weights must be F32, F16 or BF16.`);
  }
}

/** Widens f16 parts to f32 when a group mixes kinds, so that they can be concatenated. */
function sameKind(parts: WeightTensor[]): WeightTensor[] {
  if (parts.every((p) => p.data.kind === parts[0]!.data.kind)) return parts;
  return parts.map((p) => ({ shape: p.shape, data: { kind: 'f32', data: dequantize(p) } }));
}

/** Builds ModelWeights from named HF tensors (from one or several safetensors files). */
export function hfWeights(tensors: ReadonlyMap<string, HfSourceTensor>, c: ModelConfig, defaultFile = 'model.safetensors'): ModelWeights {
  const get = (name: string): WeightTensor => {
    const src = tensors.get(name);
    if (!src) throw new Error(`${defaultFile}: tensor "${name}" is missing. A ${c.architecture} checkpoint with this config.json must contain it; re-download the model.`);
    return toWeightTensor(src, c);
  };
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const qkvNames = ['q_proj', 'k_proj', 'v_proj'].map((m) => `${p}.self_attn.${m}`);
    layers.push({
      inputLayernorm: get(`${p}.input_layernorm.weight`),
      qkv: concatRows(sameKind(qkvNames.map((n) => get(`${n}.weight`)))),
      qkvBias: c.attentionBias ? concatRows(sameKind(qkvNames.map((n) => get(`${n}.bias`)))) : null,
      oProj: get(`${p}.self_attn.o_proj.weight`),
      postAttentionLayernorm: get(`${p}.post_attention_layernorm.weight`),
      gateUp: concatRows(sameKind([get(`${p}.mlp.gate_proj.weight`), get(`${p}.mlp.up_proj.weight`)])),
      downProj: get(`${p}.mlp.down_proj.weight`),
    });
  }
  const weights: ModelWeights = {
    embedTokens: get('model.embed_tokens.weight'),
    layers,
    norm: get('model.norm.weight'),
    // Tied checkpoints sometimes still carry lm_head.weight (a copy); the config decides.
    lmHead: c.tieWordEmbeddings ? null : get('lm_head.weight'),
  };
  validateWeights(weights, c, (field, layer) => `${defaultFile}: ${field}${layer === undefined ? '' : ` of layer ${layer}`}`);
  return weights;
}

/** ModelWeights → safetensors inputs under HF names, as F32 or F16 (q4 tensors are not exportable here). */
export function hfSafetensorsInputs(w: ModelWeights, c: ModelConfig, dtype: 'F32' | 'F16'): SafetensorsInput[] {
  return hfTensorNames(c).map((name) => {
    const t = hfTensor(w, c, name);
    if (t.data.kind === 'q4') throw new Error(`"${name}" is q4-quantised; dequantise before exporting to safetensors`);
    const d = t.data;
    if (dtype === 'F32') return { name, dtype, shape: t.shape, data: d.kind === 'f32' ? d.data : f16ArrayToF32(d.data) };
    return { name, dtype, shape: t.shape, data: d.kind === 'f16' ? d.data.slice() : f32ArrayToF16(d.data) };
  });
}
