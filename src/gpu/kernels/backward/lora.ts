// LoRA backward. Forward (lora.ts): y += s · (x Aᵀ) Bᵀ with x [M, K], A [r, K], B [N, r], h = x Aᵀ [M, r].
// With dy [M, N] and g = dy B [M, r] (the gradient reaching h, before the scale s):
//   dB [N, r] += s · dyᵀ h          dA [r, K] += s · gᵀ x          dx [M, K] += s · g A
// A and B are the trainable f32 parameters; their gradients always accumulate (+=) so micro-batches
// sum into the same buffers (zero them once per optimizer step). dx accumulates too: x also feeds the
// frozen base linear, whose input gradient (linearTransposed) goes into the same buffer.
//
// The products have four different transposition patterns, and x / dy / dx may be column slices of
// fused buffers (a LoRA on q inside a fused qkv output: dy = dqkv[:, 0 : H·D], row stride (H+2Hkv)·D).
// So everything goes through one general kernel, matmulStrided, where each operand is addressed by
// element strides: C(m, n) = c[off + m·rs + n·cs]. One WGSL source, one compile, four uses.
// matmulStrided: 64x64 output tile per workgroup of 16x16 threads, 4x4 outputs per thread, the
// reduction in slices of 16 staged through workgroup memory (tiled-matmul.ts, as linear.ts's prefill).
// Reference: float64.

import type { GpuRuntime } from '../../runtime';
import { numel, type GpuTensor } from '../../tensor';
import { expectF32 } from '../../wgsl';
import { TILE, tiledMatmulWgsl } from '../tiled-matmul';
import { resolveRows, type RowLayout } from './layout';

const MATMUL_STRIDED_WGSL = /* wgsl */ `
struct Params {
  M: u32, N: u32, K: u32, alpha: f32, accumulate: u32,
  a_off: u32, a_rs: u32, a_cs: u32, b_off: u32, b_rs: u32, b_cs: u32, c_off: u32, c_rs: u32, c_cs: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
fn load_a(m: u32, k: u32) -> f32 { return a[params.a_off + m * params.a_rs + k * params.a_cs]; }
fn load_b(n: u32, k: u32) -> f32 { return b[params.b_off + k * params.b_rs + n * params.b_cs]; }
fn store(m: u32, n: u32, acc: f32) {
  let idx = params.c_off + m * params.c_rs + n * params.c_cs;
  var v = params.alpha * acc;
  if (params.accumulate != 0u) { v += c[idx]; }
  c[idx] = v;
}
${tiledMatmulWgsl()}`;

/** A logical matrix inside a tensor: element (i, j) is tensor[offset + i·rowStride + j·colStride]. */
export interface MatrixView {
  tensor: GpuTensor;
  rowStride: number;
  /** Default 1 (rows contiguous); a transposed view of a row-major [R, C] matrix has rowStride 1, colStride C. */
  colStride?: number;
  offset?: number;
}

function checkView(view: MatrixView, rows: number, cols: number, what: string): [number, number, number] {
  expectF32(view.tensor, `matmulStrided: ${what}`);
  const { rowStride, colStride = 1, offset = 0 } = view;
  if (rows > 0 && cols > 0 && offset + (rows - 1) * rowStride + (cols - 1) * colStride >= numel(view.tensor.shape)) {
    throw new Error(`matmulStrided: ${what} view [${rows}, ${cols}] (strides ${rowStride}, ${colStride}, offset ${offset}) reaches past its ${numel(view.tensor.shape)} elements`);
  }
  return [offset, rowStride, colStride];
}

/**
 * C[M, N] = alpha · A[M, K] · B[K, N] (+ C if `accumulate`), every operand an arbitrary strided view.
 * C must not share a buffer with A or B.
 */
export function matmulStrided(
  rt: GpuRuntime,
  a: MatrixView,
  b: MatrixView,
  c: MatrixView,
  dims: { M: number; N: number; K: number },
  options: { alpha?: number; accumulate?: boolean } = {},
): void {
  const { M, N, K } = dims;
  const { alpha = 1, accumulate = false } = options;
  const av = checkView(a, M, K, 'a');
  const bv = checkView(b, K, N, 'b');
  const cv = checkView(c, M, N, 'c');
  if (c.tensor.buffer === a.tensor.buffer || c.tensor.buffer === b.tensor.buffer) throw new Error('matmulStrided: c must not alias a or b');
  if (M === 0 || N === 0) return;
  rt.dispatch(
    { code: MATMUL_STRIDED_WGSL, bindings: ['uniform', 'read', 'read', 'write'], label: 'matmulStrided' },
    [{ u32: M }, { u32: N }, { u32: K }, { f32: alpha }, { u32: accumulate ? 1 : 0 }, ...[...av, ...bv, ...cv].map((u32) => ({ u32 }))],
    [a.tensor.buffer, b.tensor.buffer, c.tensor.buffer],
    [Math.ceil(N / TILE), Math.ceil(M / TILE)],
  );
}

export interface LoraBackwardArgs {
  /** The LoRA input x [M, K] (a strided row view with xLayout) and the upstream gradient dy [M, N]. */
  x: GpuTensor;
  dy: GpuTensor;
  xLayout?: RowLayout;
  dyLayout?: RowLayout;
  /** Rows; default numel(x) / K (needed when x is a strided view). */
  M?: number;
  /** A [r, K] and B [N, r], f32. */
  a: GpuTensor;
  b: GpuTensor;
  scale: number;
  /** h = x Aᵀ [M, r] from the forward (loraAdd's keepHidden); recomputed when omitted. */
  hidden?: GpuTensor;
  /** Gradients, accumulated (+=): dA [r, K], dB [N, r], and optionally dx [M, K] (with dxLayout). */
  dA: GpuTensor;
  dB: GpuTensor;
  dx?: GpuTensor;
  dxLayout?: RowLayout;
}

/** Accumulates dA, dB (and dx) of y += scale · (x Aᵀ) Bᵀ. Four matmulStrided dispatches (five without `hidden`). */
export function loraBackward(rt: GpuRuntime, args: LoraBackwardArgs): void {
  const { x, dy, a, b, scale, hidden, dA, dB, dx } = args;
  for (const [t, what] of [
    [a, 'a'],
    [b, 'b'],
    [dA, 'dA'],
    [dB, 'dB'],
  ] as const) expectF32(t, `loraBackward: ${what}`);
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error('loraBackward: A and B must be 2-D');
  const [r, K] = a.shape as [number, number];
  const [N, rB] = b.shape as [number, number];
  if (rB !== r) throw new Error(`loraBackward: A has rank ${r}, B has rank ${rB}`);
  if (numel(dA.shape) !== r * K || numel(dB.shape) !== N * r) throw new Error('loraBackward: dA / dB sizes do not match A / B');
  const M = args.M ?? (K === 0 ? 0 : numel(x.shape) / K);
  if (!Number.isInteger(M)) throw new Error(`loraBackward: x has ${numel(x.shape)} values, not a whole number of rows of K = ${K}`);
  const [xs, xo] = resolveRows(x, args.xLayout, M, K, 'loraBackward: x');
  const [ys, yo] = resolveRows(dy, args.dyLayout, M, N, 'loraBackward: dy');
  if (M === 0) return;
  let h = hidden;
  if (h) {
    if (numel(h.shape) !== M * r) throw new Error(`loraBackward: hidden must be [${M}, ${r}]`);
  } else {
    h = rt.empty([M, r]); // h = x Aᵀ: B-operand (k, c) = A[c, k]
    matmulStrided(rt, { tensor: x, rowStride: xs, offset: xo }, { tensor: a, rowStride: 1, colStride: K }, { tensor: h, rowStride: r }, { M, N: r, K });
  }
  // g = dy B [M, r] (unscaled; s is applied once in each gradient below).
  const g = rt.empty([M, r]);
  matmulStrided(rt, { tensor: dy, rowStride: ys, offset: yo }, { tensor: b, rowStride: r }, { tensor: g, rowStride: r }, { M, N: r, K: N });
  // dB[n, c] += s Σ_m dy[m, n] h[m, c]: A-operand is dy transposed.
  matmulStrided(rt, { tensor: dy, rowStride: 1, colStride: ys, offset: yo }, { tensor: h, rowStride: r }, { tensor: dB, rowStride: r }, { M: N, N: r, K: M }, { alpha: scale, accumulate: true });
  // dA[c, k] += s Σ_m g[m, c] x[m, k]: A-operand is g transposed.
  matmulStrided(rt, { tensor: g, rowStride: 1, colStride: r }, { tensor: x, rowStride: xs, offset: xo }, { tensor: dA, rowStride: K }, { M: r, N: K, K: M }, { alpha: scale, accumulate: true });
  if (dx) {
    const [dxs, dxo] = resolveRows(dx, args.dxLayout, M, K, 'loraBackward: dx');
    matmulStrided(rt, { tensor: g, rowStride: r }, { tensor: a, rowStride: K }, { tensor: dx, rowStride: dxs, offset: dxo }, { M, N: K, K: r }, { alpha: scale, accumulate: true });
  }
  rt.release(g);
  if (!hidden) rt.release(h);
}

// ---------------------------------------------------------------------------------------------
// References (float64, contiguous x [M, K], dy [M, N]).

export interface LoraDims {
  M: number;
  K: number;
  N: number;
  r: number;
}

/** y = s · (x Aᵀ) Bᵀ in float64 (the LoRA term alone; the residual y it is added to has no parameters here). */
export function loraForward64(x: ArrayLike<number>, a: ArrayLike<number>, b: ArrayLike<number>, scale: number, dims: LoraDims): Float64Array {
  const { M, K, N, r } = dims;
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) {
    const h = new Float64Array(r);
    for (let c = 0; c < r; c++) for (let k = 0; k < K; k++) h[c]! += x[m * K + k]! * a[c * K + k]!;
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let c = 0; c < r; c++) s += h[c]! * b[n * r + c]!;
      y[m * N + n] = scale * s;
    }
  }
  return y;
}

/** Fresh (not accumulated) dA [r, K], dB [N, r], dx [M, K]. */
export function loraBackwardReference(
  x: ArrayLike<number>,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  scale: number,
  dy: ArrayLike<number>,
  dims: LoraDims,
): { dA: Float64Array; dB: Float64Array; dx: Float64Array } {
  const { M, K, N, r } = dims;
  const dA = new Float64Array(r * K);
  const dB = new Float64Array(N * r);
  const dx = new Float64Array(M * K);
  for (let m = 0; m < M; m++) {
    const h = new Float64Array(r);
    const g = new Float64Array(r);
    for (let c = 0; c < r; c++) {
      for (let k = 0; k < K; k++) h[c]! += x[m * K + k]! * a[c * K + k]!;
      for (let n = 0; n < N; n++) g[c]! += dy[m * N + n]! * b[n * r + c]!;
    }
    for (let n = 0; n < N; n++) for (let c = 0; c < r; c++) dB[n * r + c]! += scale * dy[m * N + n]! * h[c]!;
    for (let c = 0; c < r; c++) {
      for (let k = 0; k < K; k++) {
        dA[c * K + k]! += scale * g[c]! * x[m * K + k]!;
        dx[m * K + k]! += scale * g[c]! * a[c * K + k]!;
      }
    }
  }
  return { dA, dB, dx };
}
