// Gradients of the base weights that the LoRA backward never needed (full fine-tuning). The linear
// weights' dW = dyᵀ·x and the bias's db = Σ_t dy_t are matmulStrided products; the two added here:
//
//   RMSNorm's weight: y_tj = x_tj · inv_t · w_j  →  dw_j = Σ_t dy_tj · x_tj · inv_t,
//     inv_t = (mean_j x_tj² + eps)^(-1/2). Two passes: one thread per row computes inv_t, then one
//     thread per column j sums over the rows (each output owned by one thread: no atomics, the sum
//     in row order).
//   The embedding: e_t = E[id_t]  →  dE[id_t] += de_t. One thread per column j walks the tokens in
//     order, so repeated ids add up without races.
// Both accumulate into their output (gradients of one optimiser update add over sequences).
// References: float64.

import type { GpuRuntime } from '../../runtime';
import { numel, shapeToString, type GpuTensor } from '../../tensor';
import { expectF32, WG_INDEX } from '../../wgsl';

const WG = 64;

const RMS_INV_WGSL = /* wgsl */ `
struct Params { rows: u32, D: u32, eps: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> inv: array<f32>;
${WG_INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = wg_index(wid, nwg) * ${WG}u + lid;
  if (t >= params.rows) { return; }
  var ss = 0.0;
  for (var j = 0u; j < params.D; j++) { let v = x[t * params.D + j]; ss = fma(v, v, ss); }
  inv[t] = inverseSqrt(ss / f32(params.D) + params.eps);
}`;

const RMS_WEIGHT_GRAD_WGSL = /* wgsl */ `
struct Params { rows: u32, D: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> inv: array<f32>;
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dw: array<f32>;
${WG_INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wg_index(wid, nwg) * ${WG}u + lid;
  if (j >= params.D) { return; }
  var s = 0.0;
  for (var t = 0u; t < params.rows; t++) { let e = t * params.D + j; s = fma(dy[e] * x[e], inv[t], s); }
  dw[j] = dw[j] + s;
}`;

/** dw [D] += the RMSNorm weight's gradient given its input x [rows, D] and dy [rows, D]. */
export function rmsNormWeightBackward(rt: GpuRuntime, x: GpuTensor, eps: number, dy: GpuTensor, dw: GpuTensor): void {
  for (const [t, what] of [[x, 'x'], [dy, 'dy'], [dw, 'dw']] as const) expectF32(t, `rmsNormWeightBackward: ${what}`);
  const D = numel(dw.shape);
  if (D === 0 || numel(x.shape) % D !== 0) throw new Error(`rmsNormWeightBackward: x ${shapeToString(x.shape)} is not rows of D = ${D}`);
  if (numel(dy.shape) !== numel(x.shape)) throw new Error(`rmsNormWeightBackward: dy ${shapeToString(dy.shape)} does not match x ${shapeToString(x.shape)}`);
  if (dw.buffer === x.buffer || dw.buffer === dy.buffer) throw new Error('rmsNormWeightBackward: dw must not alias x or dy');
  const rows = numel(x.shape) / D;
  if (rows === 0) return;
  const inv = rt.empty([rows]);
  rt.dispatch({ code: RMS_INV_WGSL, bindings: ['uniform', 'read', 'write'], label: 'rmsNormInv' }, [{ u32: rows }, { u32: D }, { f32: eps }], [x.buffer, inv.buffer], rt.grid1d(Math.ceil(rows / WG)));
  rt.dispatch(
    { code: RMS_WEIGHT_GRAD_WGSL, bindings: ['uniform', 'read', 'read', 'read', 'write'], label: 'rmsNormWeightBackward' },
    [{ u32: rows }, { u32: D }],
    [x.buffer, inv.buffer, dy.buffer, dw.buffer],
    rt.grid1d(Math.ceil(D / WG)),
  );
  rt.release(inv);
}

const EMBEDDING_GRAD_WGSL = /* wgsl */ `
struct Params { T: u32, C: u32, vocab: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dE: array<f32>;
${WG_INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = wg_index(wid, nwg) * ${WG}u + lid;
  if (j >= params.C) { return; }
  for (var t = 0u; t < params.T; t++) {
    let id = ids[t];
    if (id >= params.vocab) { continue; }
    let e = id * params.C + j;
    dE[e] = dE[e] + dy[t * params.C + j];
  }
}`;

/** dE [vocab, C] += the embedding's gradient: row ids[t] gets dy[t] (ids u32 [T], dy [T, C]). */
export function embeddingBackward(rt: GpuRuntime, ids: GpuTensor, dy: GpuTensor, dE: GpuTensor): void {
  expectF32(dy, 'embeddingBackward: dy');
  expectF32(dE, 'embeddingBackward: dE');
  if (ids.dtype !== 'u32') throw new Error('embeddingBackward: ids must be u32');
  const [vocab, C] = dE.shape as [number, number];
  const T = numel(ids.shape);
  if (dE.shape.length !== 2 || numel(dy.shape) !== T * C) throw new Error(`embeddingBackward: dy ${shapeToString(dy.shape)} is not [${T}, ${C}] for dE ${shapeToString(dE.shape)}`);
  if (T === 0) return;
  rt.dispatch(
    { code: EMBEDDING_GRAD_WGSL, bindings: ['uniform', 'read', 'read', 'write'], label: 'embeddingBackward' },
    [{ u32: T }, { u32: C }, { u32: vocab }],
    [ids.buffer, dy.buffer, dE.buffer],
    rt.grid1d(Math.ceil(C / WG)),
  );
}

// ---------------------------------------------------------------------------------------------
// References (float64).

export function rmsNormWeightBackwardReference(x: ArrayLike<number>, eps: number, dy: ArrayLike<number>, D: number): Float64Array {
  const dw = new Float64Array(D);
  for (let base = 0; base < x.length; base += D) {
    let ss = 0;
    for (let j = 0; j < D; j++) ss += x[base + j]! ** 2;
    const inv = 1 / Math.sqrt(ss / D + eps);
    for (let j = 0; j < D; j++) dw[j]! += dy[base + j]! * x[base + j]! * inv;
  }
  return dw;
}

export function embeddingBackwardReference(ids: ArrayLike<number>, dy: ArrayLike<number>, vocab: number, C: number): Float64Array {
  const dE = new Float64Array(vocab * C);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    if (id >= vocab) continue;
    for (let j = 0; j < C; j++) dE[id * C + j]! += dy[t * C + j]!;
  }
  return dE;
}
