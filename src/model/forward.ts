// The transformer forward pass on the GPU (Qwen2 / Llama), the same computation as reference.ts:
//   x = embed[ids]
//   per layer: a = RMSNorm(x); qkv = a·Wqkvᵀ (+b) (+ LoRA q|k|v into their column slices)
//              RoPE(q, k) at positions past..past+T-1; append k, v to the cache; causal GQA attention
//              x += att·Woᵀ (+ LoRA o)
//              m = RMSNorm(x); gu = m·Wgate_upᵀ (+ LoRA gate|up); x += (SiLU(gate)⊙up)·Wdownᵀ (+ LoRA down)
//   logits = RMSNorm(x[rows])·Wlmᵀ, only for the requested rows (the lm_head is the largest matmul)
// Everything is recorded into the runtime's open batch; the caller's download submits it all at once.

import { addInPlace, addRows, attention, copyRows, embedding, linear, loraAdd, reshape, rmsNorm, rope, siluMulFused, type GpuRuntime, type GpuTensor } from '../gpu';
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
}

/** y_slice += scale · (x·Aᵀ)·Bᵀ where the target's output is a column slice of a fused y. */
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
  const { ids, T, cache, adapter, logitRows } = args;
  const past = cache.length;
  if (past + T > cache.maxTokens) throw new Error(`forward: ${past} cached + ${T} new tokens exceed the cache's ${cache.maxTokens}`);
  const { q: qDim, k: kvDim } = qkvSplit(c);
  const H = c.numHeads;
  const Hkv = c.numKvHeads;
  const D = c.headDim;
  const qkvDim = qDim + 2 * kvDim;
  const eps = c.rmsNormEps;

  const x = embedding(rt, w.embedTokens, ids); // [T, C]
  w.layers.forEach((layer, i) => {
    const lora = adapter?.layers[i] ?? {};
    const scale = adapter?.scale ?? 0;

    // Attention block.
    const a = rmsNorm(rt, x, layer.inputLayernorm, eps);
    const qkv = linear(rt, a, layer.qkv, layer.qkvBias ? { bias: layer.qkvBias } : {}); // [T, qkvDim]
    for (const t of ['q', 'k', 'v'] as const) {
      const m = lora[t];
      if (m) loraIntoSlice(rt, c, a, qkv, T, t, m, scale);
    }
    rt.release(a);
    rope(rt, qkv, w.invFreq, { T, H, D, rowStride: qkvDim, offset: 0, posOffset: past });
    rope(rt, qkv, w.invFreq, { T, H: Hkv, D, rowStride: qkvDim, offset: qDim, posOffset: past });
    const kv = { rows: T, width: kvDim, srcStride: qkvDim, dstStride: kvDim, dstOffset: past * kvDim };
    copyRows(rt, qkv, cache.k[i]!, { ...kv, srcOffset: qDim });
    copyRows(rt, qkv, cache.v[i]!, { ...kv, srcOffset: qDim + kvDim });
    const att = reshape(attention(rt, { q: qkv, qRowStride: qkvDim, kCache: cache.k[i]!, vCache: cache.v[i]!, T, H, Hkv, D, past }), [T, qDim]);
    rt.release(qkv);
    const o = linear(rt, att, layer.oProj);
    if (lora.o) loraAdd(rt, att, lora.o.A, lora.o.B, scale, o);
    rt.release(att);
    addInPlace(rt, x, o);
    rt.release(o);

    // MLP block (SwiGLU).
    const m = rmsNorm(rt, x, layer.postAttentionLayernorm, eps);
    const gateUp = linear(rt, m, layer.gateUp); // [T, 2I]: gate, then up
    for (const t of ['gate', 'up'] as const) {
      const mm = lora[t];
      if (mm) loraIntoSlice(rt, c, m, gateUp, T, t, mm, scale);
    }
    rt.release(m);
    const act = siluMulFused(rt, gateUp); // [T, I]
    rt.release(gateUp);
    const down = linear(rt, act, layer.downProj);
    if (lora.down) loraAdd(rt, act, lora.down.A, lora.down.B, scale, down);
    rt.release(act);
    addInPlace(rt, x, down);
    rt.release(down);
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
  rt.release(rows);
  const logits = linear(rt, normed, w.lmHead); // [count, vocab]
  rt.release(normed);
  return logits;
}
