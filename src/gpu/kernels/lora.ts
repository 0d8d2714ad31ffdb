// LoRA: y += scale · (x · A^T) · B^T with A [r, K], B [N, r] (PEFT's lora_A / lora_B weights,
// scale = lora_alpha / r). Two small linears: the rank-r intermediate is tiny, and the second matmul
// accumulates straight into y, so no extra [M, N] buffer is needed.
// Reference: float64 via linearReference.

import type { GpuRuntime } from '../runtime';
import { numel, type GpuTensor, type Weight } from '../tensor';
import { linear, linearReference } from './linear';

/** Adds the LoRA update to `y` [M, N] in place; returns the [M, r] intermediate if `keepHidden` (for backward), else releases it. */
export function loraAdd(
  rt: GpuRuntime,
  x: GpuTensor,
  a: Weight,
  b: Weight,
  scale: number,
  y: GpuTensor,
  options: { keepHidden?: boolean } = {},
): GpuTensor | undefined {
  const [N, r] = b.shape as readonly [number, number];
  if (a.shape[0] !== r) throw new Error(`lora: A has rank ${a.shape[0]}, B has rank ${r}`);
  const K = a.shape[1] ?? 0;
  const M = numel(x.shape) / K;
  if (numel(y.shape) !== M * N) throw new Error(`lora: y has ${numel(y.shape)} values, expected ${M} x ${N}`);
  const hidden = linear(rt, x, a); // [M, r]
  linear(rt, hidden, b, { out: y, accumulate: true, alpha: scale });
  if (options.keepHidden) return hidden;
  rt.release(hidden);
  return undefined;
}

export function loraReference(
  x: Float32Array,
  a: Float32Array,
  b: Float32Array,
  scale: number,
  y: Float32Array,
  dims: { M: number; K: number; N: number; r: number },
): Float32Array {
  const { M, K, N, r } = dims;
  const hidden = linearReference(x, a, M, r, K);
  return linearReference(hidden, b, M, N, r, { alpha: scale, accumulateInto: y });
}
