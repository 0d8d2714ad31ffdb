// The format-independent view of a model's weights, what the GPU engine and the reference consume.
//
// Design: the attention input projections and the MLP input projections are held FUSED, in MLC's
// layout, because the GPU engine runs them as one matmul each:
//   qkv     [(numHeads + 2·numKvHeads)·headDim, hidden]   rows: q, then k, then v
//   gateUp  [2·intermediate, hidden]                      rows: gate, then up
// An HF checkpoint (separate q_proj/k_proj/v_proj, gate_proj/up_proj) is concatenated row-wise on load,
// exactly what MLC's own converter does; an MLC checkpoint is used as is. Every kind of data (f32, f16,
// q4) is row-major with independent rows, so the HF tensors are recovered exactly as row ranges:
// `hfTensor(weights, 'model.layers.0.self_attn.k_proj.weight')` returns such a view (no copy). That is how
// PEFT export and per-module LoRA address q/k/v and gate/up separately.
//
// Data stays in its stored form (f16 and q4 are dequantised on the GPU); bf16 becomes f32 on load.

import type { ModelConfig } from './config';
import { f16ArrayToF32 } from './half';
import { Q4_GROUP_SIZE, Q4_PER_WORD, dequantizeQ4, type Q4Data } from './q4';
import { shapeString } from './bytes';

export type WeightData = { kind: 'f32'; data: Float32Array } | { kind: 'f16'; data: Uint16Array } | Q4Data;

export interface WeightTensor {
  /** The logical (dequantised) shape: [out, in] for matrices, [n] for vectors. */
  shape: number[];
  data: WeightData;
}

export interface LayerWeights {
  inputLayernorm: WeightTensor;
  qkv: WeightTensor;
  /** Present for Qwen2 (attention bias), null for Llama. */
  qkvBias: WeightTensor | null;
  oProj: WeightTensor;
  postAttentionLayernorm: WeightTensor;
  gateUp: WeightTensor;
  downProj: WeightTensor;
}

export interface ModelWeights {
  embedTokens: WeightTensor;
  layers: LayerWeights[];
  norm: WeightTensor;
  /** null when the config ties the output projection to `embedTokens`. */
  lmHead: WeightTensor | null;
}

/** Row counts of the fused projections, in order. */
export function qkvSplit(c: ModelConfig): { q: number; k: number; v: number } {
  return { q: c.numHeads * c.headDim, k: c.numKvHeads * c.headDim, v: c.numKvHeads * c.headDim };
}
export function gateUpSplit(c: ModelConfig): { gate: number; up: number } {
  return { gate: c.intermediateSize, up: c.intermediateSize };
}

/** The expected logical shape of every tensor, for validation and writers. */
export function expectedShapes(c: ModelConfig): {
  embedTokens: number[];
  norm: number[];
  lmHead: number[];
  layer: Record<keyof LayerWeights, number[]>;
} {
  const { q, k, v } = qkvSplit(c);
  return {
    embedTokens: [c.vocabSize, c.hiddenSize],
    norm: [c.hiddenSize],
    lmHead: [c.vocabSize, c.hiddenSize],
    layer: {
      inputLayernorm: [c.hiddenSize],
      qkv: [q + k + v, c.hiddenSize],
      qkvBias: [q + k + v],
      oProj: [c.hiddenSize, q],
      postAttentionLayernorm: [c.hiddenSize],
      gateUp: [2 * c.intermediateSize, c.hiddenSize],
      downProj: [c.hiddenSize, c.intermediateSize],
    },
  };
}

export const numElements = (t: WeightTensor): number => t.shape.reduce((a, b) => a * b, 1);

/** Dequantises / widens any tensor to f32 (a copy for f16 and q4; the stored array for f32). */
export function dequantize(t: WeightTensor): Float32Array {
  switch (t.data.kind) {
    case 'f32':
      return t.data.data;
    case 'f16':
      return f16ArrayToF32(t.data.data);
    case 'q4': {
      const cols = t.shape[t.shape.length - 1]!;
      return dequantizeQ4(t.data, numElements(t) / cols, cols);
    }
  }
}

/** Rows [start, start+count) of a 2-D tensor or elements of a 1-D one, as a view (no copy). */
export function sliceRows(t: WeightTensor, start: number, count: number): WeightTensor {
  const cols = t.shape.length === 1 ? 1 : t.shape[1]!;
  const shape = t.shape.length === 1 ? [count] : [count, cols];
  const d = t.data;
  switch (d.kind) {
    case 'f32':
      return { shape, data: { kind: 'f32', data: d.data.subarray(start * cols, (start + count) * cols) } };
    case 'f16':
      return { shape, data: { kind: 'f16', data: d.data.subarray(start * cols, (start + count) * cols) } };
    case 'q4': {
      const words = cols / Q4_PER_WORD;
      const groups = cols / Q4_GROUP_SIZE;
      return {
        shape,
        data: {
          kind: 'q4',
          qWeight: d.qWeight.subarray(start * words, (start + count) * words),
          qScale: d.qScale.subarray(start * groups, (start + count) * groups),
          scaleDtype: d.scaleDtype,
        },
      };
    }
  }
}

/** Stacks tensors of the same kind row-wise (HF q,k,v → qkv). */
export function concatRows(parts: readonly WeightTensor[]): WeightTensor {
  const first = parts[0]!;
  const rows = parts.reduce((n, p) => n + p.shape[0]!, 0);
  const shape = first.shape.length === 1 ? [rows] : [rows, first.shape[1]!];
  const kind = first.data.kind;
  if (parts.some((p) => p.data.kind !== kind || p.shape.length !== first.shape.length || p.shape[1] !== first.shape[1])) {
    throw new Error('concatRows: tensors differ in kind or column count');
  }
  const cat = <T extends Float32Array | Uint16Array | Uint32Array>(arrays: T[], make: (n: number) => T): T => {
    const out = make(arrays.reduce((n, a) => n + a.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a, at);
      at += a.length;
    }
    return out;
  };
  if (kind === 'f32') return { shape, data: { kind, data: cat(parts.map((p) => (p.data as { data: Float32Array }).data), (n) => new Float32Array(n)) } };
  if (kind === 'f16') return { shape, data: { kind, data: cat(parts.map((p) => (p.data as { data: Uint16Array }).data), (n) => new Uint16Array(n)) } };
  const qs = parts.map((p) => p.data as Q4Data);
  const scaleDtype = qs[0]!.scaleDtype;
  return {
    shape,
    data: {
      kind: 'q4',
      qWeight: cat(qs.map((q) => q.qWeight), (n) => new Uint32Array(n)),
      qScale:
        scaleDtype === 'f16'
          ? cat(qs.map((q) => q.qScale as Uint16Array), (n) => new Uint16Array(n))
          : cat(qs.map((q) => q.qScale as Float32Array), (n) => new Float32Array(n)),
      scaleDtype,
    },
  };
}

/** The number of stored elements a tensor's data must have for its logical shape. */
function checkDataSize(t: WeightTensor, where: string): void {
  const n = numElements(t);
  const d = t.data;
  if (d.kind === 'q4') {
    const cols = t.shape[t.shape.length - 1]!;
    if (d.qWeight.length * Q4_PER_WORD !== n || d.qScale.length * Q4_GROUP_SIZE !== n || cols % Q4_GROUP_SIZE !== 0) {
      throw new Error(`${where}: q4 data (${d.qWeight.length} words, ${d.qScale.length} scales) does not fit shape ${shapeString(t.shape)}`);
    }
  } else if (d.data.length !== n) {
    throw new Error(`${where}: ${d.data.length} values do not fit shape ${shapeString(t.shape)}`);
  }
}

function checkShape(t: WeightTensor, expected: number[], where: string): void {
  if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
    throw new Error(`${where}: shape ${shapeString(t.shape)} but the config needs ${shapeString(expected)}. The weights do not belong to this config; re-download the model.`);
  }
  checkDataSize(t, where);
}

/**
 * Checks every tensor against the config. `describe(field, layer?)` names the tensor as the source
 * file spells it, so errors point at the file and tensor the user can look for.
 */
export function validateWeights(w: ModelWeights, c: ModelConfig, describe: (field: string, layer?: number) => string): void {
  const shapes = expectedShapes(c);
  checkShape(w.embedTokens, shapes.embedTokens, describe('embedTokens'));
  checkShape(w.norm, shapes.norm, describe('norm'));
  if (c.tieWordEmbeddings !== (w.lmHead === null)) {
    throw new Error(`${describe('lmHead')}: ${c.tieWordEmbeddings ? 'present although the config ties it to the embedding' : 'missing and the config does not tie word embeddings'}`);
  }
  if (w.lmHead) checkShape(w.lmHead, shapes.lmHead, describe('lmHead'));
  if (w.layers.length !== c.numLayers) throw new Error(`${describe('layers')}: found ${w.layers.length} layers, the config says ${c.numLayers}`);
  w.layers.forEach((layer, i) => {
    for (const key of Object.keys(shapes.layer) as (keyof LayerWeights)[]) {
      const t = layer[key];
      if (t === null) {
        if (key === 'qkvBias' && c.attentionBias) throw new Error(`${describe(key, i)}: missing; ${c.architecture} needs q/k/v biases`);
        continue;
      }
      if (key === 'qkvBias' && !c.attentionBias) throw new Error(`${describe(key, i)}: present but ${c.architecture} has no attention bias`);
      checkShape(t, shapes.layer[key], describe(key, i));
    }
  });
}

/** All logical tensors under their Hugging Face names, in a stable order (for PEFT export, comparisons). */
export function hfTensorNames(c: ModelConfig): string[] {
  const names = ['model.embed_tokens.weight'];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    names.push(`${p}.input_layernorm.weight`);
    for (const m of ['q_proj', 'k_proj', 'v_proj']) {
      names.push(`${p}.self_attn.${m}.weight`);
      if (c.attentionBias) names.push(`${p}.self_attn.${m}.bias`);
    }
    names.push(`${p}.self_attn.o_proj.weight`, `${p}.post_attention_layernorm.weight`);
    names.push(`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`, `${p}.mlp.down_proj.weight`);
  }
  names.push('model.norm.weight');
  if (!c.tieWordEmbeddings) names.push('lm_head.weight');
  return names;
}

/** The tensor a Hugging Face name refers to, as a view into the fused storage. */
export function hfTensor(w: ModelWeights, c: ModelConfig, name: string): WeightTensor {
  if (name === 'model.embed_tokens.weight') return w.embedTokens;
  if (name === 'model.norm.weight') return w.norm;
  if (name === 'lm_head.weight') return w.lmHead ?? w.embedTokens;
  const m = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
  const layer = m ? w.layers[Number(m[1])] : undefined;
  if (!m || !layer) throw new Error(`unknown tensor name "${name}"`);
  const { q, k, v } = qkvSplit(c);
  const { gate, up } = gateUpSplit(c);
  const rest = m[2]!;
  const qkvRange: Record<string, [number, number]> = { q_proj: [0, q], k_proj: [q, k], v_proj: [q + k, v] };
  const attn = /^self_attn\.([qkv]_proj)\.(weight|bias)$/.exec(rest);
  if (attn) {
    const [start, count] = qkvRange[attn[1]!]!;
    const source = attn[2] === 'weight' ? layer.qkv : layer.qkvBias;
    if (!source) throw new Error(`"${name}": this model has no attention bias`);
    return sliceRows(source, start, count);
  }
  switch (rest) {
    case 'input_layernorm.weight':
      return layer.inputLayernorm;
    case 'post_attention_layernorm.weight':
      return layer.postAttentionLayernorm;
    case 'self_attn.o_proj.weight':
      return layer.oProj;
    case 'mlp.gate_proj.weight':
      return sliceRows(layer.gateUp, 0, gate);
    case 'mlp.up_proj.weight':
      return sliceRows(layer.gateUp, gate, up);
    case 'mlp.down_proj.weight':
      return layer.downProj;
  }
  throw new Error(`unknown tensor name "${name}"`);
}
