// MLC's 4-bit group quantisation (q4f16_1 / q4f32_1), as in mlc_llm/quantization/group_quantization.py
// with linear_weight_layout "NK": for a weight W [rows, cols] (rows = out features; cols = in features,
// the reduction axis, grouped by 32):
//   q_scale [rows, cols/32] = max|W| over the group / 7
//   nibble                  = clamp(round(W / scale + 7), 0, 14)
//   q_weight [rows, cols/8] uint32, element 8j+r of a row in bits 4r..4r+3 of word j
//   W ≈ (nibble - 7) · scale
// Rows are independent, so a row range of a quantised matrix is itself a valid quantised matrix.

import { f16ToF32, f32ToF16 } from './half';
import type { Rng } from './rng';

export const Q4_GROUP_SIZE = 32;
export const Q4_PER_WORD = 8;
const MAX_INT = 7;

export type ScaleDtype = 'f16' | 'f32';

export interface Q4Data {
  kind: 'q4';
  /** [rows, cols/8] */
  qWeight: Uint32Array;
  /** [rows, cols/32], f16 bit patterns or f32 as `scaleDtype` says. */
  qScale: Float32Array | Uint16Array;
  scaleDtype: ScaleDtype;
}

function checkCols(cols: number): void {
  if (cols % Q4_GROUP_SIZE !== 0) throw new Error(`q4 quantisation needs the input dimension (${cols}) to be a multiple of ${Q4_GROUP_SIZE}`);
}

/** How far from a grid point (in steps) a value still counts as on it: float error of W = (n - 7)·scale. */
const ON_GRID = 1e-4;

/**
 * x rounded up with probability frac(x), else down: unbiased, so a change smaller than half a step
 * survives in expectation where round-to-nearest would drop it. Values on the grid stay exactly put.
 */
function roundStochastic(x: number, rng: Rng): number {
  const nearest = Math.round(x);
  if (Math.abs(x - nearest) < ON_GRID) return nearest;
  const floor = Math.floor(x);
  return rng() < x - floor ? floor + 1 : floor;
}

/**
 * Quantises a row-major [rows, cols] matrix the way MLC's converter does (round half away from zero, as
 * TVM's round), or, given `rng`, with stochastic rounding (the merge: see train/merge.ts).
 */
export function quantizeQ4(values: ArrayLike<number>, rows: number, cols: number, scaleDtype: ScaleDtype, rng?: Rng): Q4Data {
  checkCols(cols);
  const groups = cols / Q4_GROUP_SIZE;
  const qWeight = new Uint32Array((rows * cols) / Q4_PER_WORD);
  const scales = new Float64Array(rows * groups);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      let maxAbs = 0;
      for (let i = 0; i < Q4_GROUP_SIZE; i++) maxAbs = Math.max(maxAbs, Math.abs(values[r * cols + g * Q4_GROUP_SIZE + i]!));
      // The scale is stored in the model dtype; quantise with the stored value so decode matches.
      const raw = maxAbs / MAX_INT;
      scales[r * groups + g] = scaleDtype === 'f16' ? f16ToF32(f32ToF16(raw)) : Math.fround(raw);
    }
  }
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const scale = scales[r * groups + Math.floor(c / Q4_GROUP_SIZE)]!;
      // x ≥ 0 up to rounding, so Math.round (half up) is TVM's round (half away from zero) here.
      const x = values[r * cols + c]! / (scale === 0 ? 1 : scale) + MAX_INT;
      const nibble = Math.min(Math.max(rng ? roundStochastic(x, rng) : Math.round(x), 0), 2 * MAX_INT);
      const word = (r * cols + c) >> 3;
      qWeight[word] = (qWeight[word]! | (nibble << (4 * (c % Q4_PER_WORD)))) >>> 0;
    }
  }
  const qScale = scaleDtype === 'f16' ? Uint16Array.from(scales, f32ToF16) : Float32Array.from(scales);
  return { kind: 'q4', qWeight, qScale, scaleDtype };
}

/** (nibble - 7) · scale for every element of a quantised [rows, cols] matrix. */
export function dequantizeQ4(q: Q4Data, rows: number, cols: number): Float32Array {
  checkCols(cols);
  const groups = cols / Q4_GROUP_SIZE;
  if (q.qWeight.length !== (rows * cols) / Q4_PER_WORD || q.qScale.length !== rows * groups) {
    throw new Error(`q4 tensor sizes do not match [${rows}, ${cols}]: q_weight has ${q.qWeight.length} words, q_scale ${q.qScale.length} values`);
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const s = q.qScale[r * groups + g]!;
      const scale = q.scaleDtype === 'f16' ? f16ToF32(s) : s;
      for (let i = 0; i < Q4_GROUP_SIZE; i++) {
        const c = g * Q4_GROUP_SIZE + i;
        const word = q.qWeight[(r * cols + c) >> 3]!;
        const nibble = (word >>> (4 * (c % Q4_PER_WORD))) & 0xf;
        out[r * cols + c] = (nibble - MAX_INT) * scale;
      }
    }
  }
  return out;
}
