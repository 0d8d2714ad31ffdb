// The transformer forward pass on the GPU (Qwen2 / Llama), the same computation as reference.ts:
//   x = embed[ids]
//   per layer: a = RMSNorm(x); qkv = a·Wqkvᵀ (+b) (+ LoRA q|k|v into their column slices)
//              RoPE(q, k) at positions past..past+T-1; append k, v to the cache; causal GQA attention
//              x += att·Woᵀ (+ LoRA o)
//              m = RMSNorm(x); gu = m·Wgate_upᵀ (+ LoRA gate|up); x += (SiLU(gate)⊙up)·Wdownᵀ (+ LoRA down)
//   logits = RMSNorm(x[rows])·Wlmᵀ, only for the requested rows (the lm_head is the largest matmul)
// Everything is recorded into the runtime's open batch; the caller's download submits it all at once.

import { add, addInPlace, addRows, attention, copyRows, embedding, linear, loraAdd, reshape, rmsNorm, rope, siluMulFused, type GpuRuntime, type GpuTensor } from '../gpu';
import type { ModelConfig } from './config';
import type { GpuModelWeights } from './gpu-weights';
import type { KvCache } from './kv-cache';
import { fusedSlice, type LoraAdapter, type LoraWeights } from './lora';
import type { LoraTarget } from './reference';
import { qkvSplit } from './weights';

export interface ForwardArgs {
  /** Token ids [T] already uploaded as u32. */
  ids: GpuTensor;
  T: number;
  cache: KvCache;
  adapter: LoraAdapter | null;
  /** Rows of the T new positions whose logits are wanted: [start, start + count). count 0 → none. */
  logitRows: { start: number; count: number };
  /**
   * Training only (train/backprop.ts): keep the activations the backward pass needs instead of
   * releasing them. Requires an empty cache (the whole sequence in one forward). The caller owns the
   * recorded tensors (releaseForwardRecord).
   */
  record?: ForwardRecord;
}

/** What one decoder layer's backward needs (all [T, ·] f32, row t = position t). */
export interface LayerRecord {
  /** The residual stream entering the layer (input of the first RMSNorm). */
  x: GpuTensor;
  /** RMSNorm(x): input of qkv and of the q/k/v LoRAs. */
  n1: GpuTensor;
  /** Fused q|k|v after the bias, the LoRAs and RoPE [T, qDim + 2·kvDim]. */
  qkv: GpuTensor;
  /** Attention output [T, qDim] (input of o_proj) and its log-sum-exp per (t, head) [T, H]. */
  att: GpuTensor;
  lse: GpuTensor;
  /** The residual stream after attention (input of the second RMSNorm). */
  h: GpuTensor;
  /** RMSNorm(h): input of gate_up and of the gate/up LoRAs. */
  n2: GpuTensor;
  /** gate|up before the activation [T, 2I]. */
  gateUp: GpuTensor;
  /** SiLU(gate)⊙up [T, I]: input of down_proj and its LoRA. */
  act: GpuTensor;
}

export interface ForwardRecord {
  layers: LayerRecord[];
  /** The final residual stream's requested rows [count, C] (input of the final norm)… */
  rows?: GpuTensor;
  /** …and RMSNorm of them (input of lm_head; a value head reads it too). */
  normed?: GpuTensor;
}

export function releaseForwardRecord(rt: GpuRuntime, record: ForwardRecord): void {
  for (const l of record.layers) rt.release(l.x, l.n1, l.qkv, l.att, l.lse, l.h, l.n2, l.gateUp, l.act);
  rt.release(record.rows, record.normed);
  record.layers = [];
  delete record.rows;
  delete record.normed;
}

/** y_slice += scale · (x·Aᵀ)·Bᵀ where the target's output is a column slice of a fused y. */
/**
 * The residual update x + input·Wᵀ (+ the LoRA delta): in place, freeing `input`, unless the pass is
 * recorded for backprop, which keeps every intermediate (so x is a new tensor then).
 */
function addProjection(rt: GpuRuntime, x: GpuTensor, input: GpuTensor, weight: Parameters<typeof linear>[2], m: LoraWeights | undefined, scale: number, recorded: boolean): GpuTensor {
  const y = linear(rt, input, weight);
  if (m) loraAdd(rt, input, m.A, m.B, scale, y);
  let out = x;
  if (recorded) out = add(rt, x, y);
  else {
    rt.release(input);
    addInPlace(rt, x, y);
  }
  rt.release(y);
  return out;
}

function loraIntoSlice(rt: GpuRuntime, c: ModelConfig, x: GpuTensor, y: GpuTensor, T: number, target: LoraTarget, m: LoraWeights, scale: number): void {
  const slice = fusedSlice(c, target)!;
  const hidden = linear(rt, x, m.A); // [T, r]
  const delta = linear(rt, hidden, m.B, { alpha: scale }); // [T, width]
  addRows(rt, delta, y, { rows: T, width: slice.width, srcStride: slice.width, dstStride: slice.stride, dstOffset: slice.offset });
  rt.release(hidden, delta);
}

/**
 * Runs T new tokens through the model after the cache's `length` cached ones, appends their K/V to
 * the cache and returns logits [count, vocab] for the requested rows (or null when count is 0).
 */
export function forward(rt: GpuRuntime, c: ModelConfig, w: GpuModelWeights, args: ForwardArgs): GpuTensor | null {
  const { ids, T, cache, adapter, logitRows, record } = args;
  const past = cache.length;
  if (record && past !== 0) throw new Error('forward: recording activations needs the whole sequence in one forward (empty cache)');
  if (past + T > cache.maxTokens) throw new Error(`forward: ${past} cached + ${T} new tokens exceed the cache's ${cache.maxTokens}`);
  const { q: qDim, k: kvDim } = qkvSplit(c);
  const H = c.numHeads;
  const Hkv = c.numKvHeads;
  const D = c.headDim;
  const qkvDim = qDim + 2 * kvDim;
  const eps = c.rmsNormEps;

  // While recording, the residual adds are out of place so each layer's inputs stay intact.
  let x = embedding(rt, w.embedTokens, ids); // [T, C]
  w.layers.forEach((layer, i) => {
    const xIn = x;
    const lora = adapter?.layers[i] ?? {};
    const scale = adapter?.scale ?? 0;

    // Attention block.
    const a = rmsNorm(rt, x, layer.inputLayernorm, eps);
    const qkv = linear(rt, a, layer.qkv, layer.qkvBias ? { bias: layer.qkvBias } : {}); // [T, qkvDim]
    for (const t of ['q', 'k', 'v'] as const) {
      const m = lora[t];
      if (m) loraIntoSlice(rt, c, a, qkv, T, t, m, scale);
    }
    if (!record) rt.release(a);
    rope(rt, qkv, w.invFreq, { T, H, D, rowStride: qkvDim, offset: 0, posOffset: past });
    rope(rt, qkv, w.invFreq, { T, H: Hkv, D, rowStride: qkvDim, offset: qDim, posOffset: past });
    const kv = { rows: T, width: kvDim, srcStride: qkvDim, dstStride: kvDim, dstOffset: past * kvDim };
    copyRows(rt, qkv, cache.k[i]!, { ...kv, srcOffset: qDim });
    copyRows(rt, qkv, cache.v[i]!, { ...kv, srcOffset: qDim + kvDim });
    const lse = record ? rt.empty([T, H]) : undefined;
    const att = reshape(attention(rt, { q: qkv, qRowStride: qkvDim, kCache: cache.k[i]!, vCache: cache.v[i]!, T, H, Hkv, D, past, ...(lse ? { lse } : {}) }), [T, qDim]);
    if (!record) rt.release(qkv);
    x = addProjection(rt, x, att, layer.oProj, lora.o, scale, !!record);
    const h = x;

    // MLP block (SwiGLU).
    const m = rmsNorm(rt, x, layer.postAttentionLayernorm, eps);
    const gateUp = linear(rt, m, layer.gateUp); // [T, 2I]: gate, then up
    for (const t of ['gate', 'up'] as const) {
      const mm = lora[t];
      if (mm) loraIntoSlice(rt, c, m, gateUp, T, t, mm, scale);
    }
    const act = siluMulFused(rt, gateUp); // [T, I]
    if (!record) rt.release(m, gateUp);
    x = addProjection(rt, x, act, layer.downProj, lora.down, scale, !!record);
    record?.layers.push({ x: xIn, n1: a, qkv, att, lse: lse!, h, n2: m, gateUp, act });
  });
  cache.length = past + T;

  // Final norm and lm_head on the requested rows only.
  const { start, count } = logitRows;
  if (count === 0) {
    rt.release(x);
    return null;
  }
  let rows = x;
  if (start !== 0 || count !== T) {
    rows = rt.empty([count, c.hiddenSize]);
    copyRows(rt, x, rows, { rows: count, width: c.hiddenSize, srcStride: c.hiddenSize, srcOffset: start * c.hiddenSize, dstStride: c.hiddenSize });
    rt.release(x);
  }
  const normed = rmsNorm(rt, rows, w.norm, eps);
  const logits = linear(rt, normed, w.lmHead); // [count, vocab]
  if (record) {
    record.rows = rows;
    record.normed = normed;
  } else rt.release(rows, normed);
  return logits;
}
