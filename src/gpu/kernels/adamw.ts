// Optimizer kernels for the LoRA trainer: AdamW, the global gradient norm (for clipping), an in-place
// scale, and a non-finite detector — all on the GPU so a whole step (backward, norm, clip, update) is
// one submit and the trainer reads back two numbers afterwards, for logging and skip bookkeeping.
//
// adamw: per element, exactly PyTorch's torch.optim.AdamW (single-tensor path), with decoupled decay:
//   g  = grad · gradScale                      (the clip factor, a number and/or an f32 [1] tensor)
//   m  = β1 m + (1 - β1) g;   v = β2 v + (1 - β2) g²
//   p  = p · (1 - lr·wd) - (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + eps),  bc_i = 1 - β_i^t
// bc1 and sqrt(bc2) are formed in float64 in JS from the step t (1-based) and passed as uniforms.
// `skipIf` (u32 [1], e.g. gradNormSquared's nonFinite) makes the kernel leave p, m, v untouched when
// non-zero, so a NaN step is dropped without a readback; the trainer must then not advance t (it reads
// the flag back with the loss).
//
// gradNormSquared: Σ x² over several tensors -> f32 [1], plus nonFinite -> u32 [1] (1 if any element
// is NaN or ±inf, or the sum itself overflowed). Non-finite values are found by their exponent bits,
// not by x != x: WGSL lets compilers assume floats are finite and fold such comparisons away. Stage 1:
// per tensor, up to 64 workgroups of 256 threads grid-stride over it and write one (Σx², count)
// partial each; stage 2: one workgroup sums all partials in a fixed order (deterministic).
// clipFactor: min(1, maxNorm / (sqrt(Σx²) + 1e-6)) -> f32 [1], torch.nn.utils.clip_grad_norm_'s rule
// (0 when the norm is not finite). scaleInPlace: x *= number · factor[0].
// References: float64.

import type { GpuRuntime } from '../runtime';
import { numel, type GpuTensor } from '../tensor';
import { expectF32, WG_INDEX, workgroupReducePairWgsl } from '../wgsl';

const WG = 256;
const MAX_PARTIALS_PER_TENSOR = 64;

const ELEMENT = `${WG_INDEX}
fn element(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return wg_index(wid, nwg) * ${WG}u + lid; }`;

const ADAMW_WGSL = /* wgsl */ `
struct Params {
  n: u32, lr: f32, beta1: f32, beta2: f32, eps: f32, weight_decay: f32, bc1: f32, bc2_sqrt: f32,
  grad_scale: f32, has_scale: u32, has_skip: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
@group(0) @binding(5) var<storage, read> scale_in: array<f32>;
@group(0) @binding(6) var<storage, read> skip_in: array<u32>;
${ELEMENT}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, nwg, lid);
  if (i >= params.n) { return; }
  if (params.has_skip != 0u && skip_in[0] != 0u) { return; }
  var g = grad[i] * params.grad_scale;
  if (params.has_scale != 0u) { g *= scale_in[0]; }
  let mi = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let vi = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = mi;
  v[i] = vi;
  let denom = sqrt(vi) / params.bc2_sqrt + params.eps;
  param[i] = param[i] * (1.0 - params.lr * params.weight_decay) - (params.lr / params.bc1) * mi / denom;
}`;

// Exponent bits all ones <=> NaN or ±inf.
const NON_FINITE_FN = 'fn non_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) == 0x7f800000u; }';

const SUM_SQUARES_WGSL = /* wgsl */ `
struct Params { n: u32, slot: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>; // [slots, 2]: Σx², non-finite count
${NON_FINITE_FN}
${workgroupReducePairWgsl(WG)}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  var ss = 0.0;
  var nf = 0.0;
  for (var i = wid.x * ${WG}u + lid; i < params.n; i += nwg.x * ${WG}u) {
    let v = x[i];
    if (non_finite(v)) { nf += 1.0; } else { ss = fma(v, v, ss); }
  }
  let total = reduce_sum2(lid, vec2f(ss, nf));
  if (lid == 0u) {
    let slot = params.slot + wid.x;
    partials[2u * slot] = total.x;
    partials[2u * slot + 1u] = total.y;
  }
}`;

const SUM_PARTIALS_WGSL = /* wgsl */ `
struct Params { slots: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read_write> sum_squares: array<f32>;
@group(0) @binding(3) var<storage, read_write> non_finite_out: array<u32>;
${NON_FINITE_FN}
${workgroupReducePairWgsl(WG)}
@compute @workgroup_size(${WG})
fn main(@builtin(local_invocation_index) lid: u32) {
  var ss = 0.0;
  var nf = 0.0;
  for (var i = lid; i < params.slots; i += ${WG}u) { ss += partials[2u * i]; nf += partials[2u * i + 1u]; }
  let total = reduce_sum2(lid, vec2f(ss, nf));
  if (lid == 0u) {
    sum_squares[0] = total.x;
    non_finite_out[0] = select(0u, 1u, total.y > 0.0 || non_finite(total.x));
  }
}`;

const CLIP_FACTOR_WGSL = /* wgsl */ `
struct Params { max_norm: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> sum_squares: array<f32>;
@group(0) @binding(2) var<storage, read_write> factor: array<f32>;
${NON_FINITE_FN}
@compute @workgroup_size(1)
fn main() {
  let ss = sum_squares[0];
  factor[0] = select(min(1.0, params.max_norm / (sqrt(ss) + 1e-6)), 0.0, non_finite(ss));
}`;

const SCALE_WGSL = /* wgsl */ `
struct Params { n: u32, scale: f32, has_factor: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> factor: array<f32>;
${ELEMENT}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, nwg, lid);
  if (i >= params.n) { return; }
  var s = params.scale;
  if (params.has_factor != 0u) { s *= factor[0]; }
  x[i] = x[i] * s;
}`;

export interface AdamWOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
  /** 1-based step number (after this update), for the bias corrections. */
  step: number;
  /** Multiplies the gradient (e.g. a clip factor known on the host). Default 1. */
  gradScale?: number;
  /** f32 [1] tensor that also multiplies the gradient (clipFactor's output). */
  gradScaleTensor?: GpuTensor;
  /** u32 [1] tensor: when non-zero the update is skipped (gradNormSquared's nonFinite). */
  skipIf?: GpuTensor;
}

/** One AdamW update of a flat f32 parameter tensor and its moments m, v (in place; grad unchanged). */
export function adamw(rt: GpuRuntime, param: GpuTensor, grad: GpuTensor, m: GpuTensor, v: GpuTensor, options: AdamWOptions): void {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01, step, gradScale = 1, gradScaleTensor, skipIf } = options;
  for (const [t, what] of [
    [param, 'param'],
    [grad, 'grad'],
    [m, 'm'],
    [v, 'v'],
  ] as const) expectF32(t, `adamw: ${what}`);
  const n = numel(param.shape);
  if (numel(grad.shape) !== n || numel(m.shape) !== n || numel(v.shape) !== n) throw new Error(`adamw: param, grad, m and v must all have ${n} elements`);
  if (new Set([param.buffer, grad.buffer, m.buffer, v.buffer]).size !== 4) throw new Error('adamw: param, grad, m and v must be distinct buffers');
  if (!(step >= 1) || !Number.isInteger(step)) throw new Error(`adamw: step must be an integer >= 1, got ${step}`);
  if (gradScaleTensor && (gradScaleTensor.dtype !== 'f32' || numel(gradScaleTensor.shape) < 1)) throw new Error('adamw: gradScaleTensor must be f32 [1]');
  if (skipIf && skipIf.dtype !== 'u32') throw new Error('adamw: skipIf must be a u32 tensor');
  const bc1 = 1 - beta1 ** step;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  rt.dispatch(
    { code: ADAMW_WGSL, bindings: ['uniform', 'write', 'read', 'write', 'write', 'read', 'read'], label: 'adamw' },
    [
      { u32: n },
      { f32: lr },
      { f32: beta1 },
      { f32: beta2 },
      { f32: eps },
      { f32: weightDecay },
      { f32: bc1 },
      { f32: bc2Sqrt },
      { f32: gradScale },
      { u32: gradScaleTensor ? 1 : 0 },
      { u32: skipIf ? 1 : 0 },
    ],
    // Absent optional inputs bind the (read-only) grad buffer as a placeholder.
    [param.buffer, grad.buffer, m.buffer, v.buffer, (gradScaleTensor ?? grad).buffer, (skipIf ?? grad).buffer],
    rt.grid1d(Math.ceil(n / WG)),
  );
}

/** Σ x² over all `tensors` (f32 [1]) and a non-finite flag (u32 [1]: 1 if any NaN/inf or the sum overflowed). */
export function gradNormSquared(rt: GpuRuntime, tensors: readonly GpuTensor[]): { sumSquares: GpuTensor; nonFinite: GpuTensor } {
  const counts = tensors.map((t) => {
    expectF32(t, 'gradNormSquared');
    const n = numel(t.shape);
    return Math.min(MAX_PARTIALS_PER_TENSOR, Math.ceil(n / WG));
  });
  const slots = counts.reduce((a, b) => a + b, 0);
  const partials = rt.empty([Math.max(1, slots), 2]);
  let slot = 0;
  tensors.forEach((t, i) => {
    const wgs = counts[i]!;
    if (wgs === 0) return;
    rt.dispatch({ code: SUM_SQUARES_WGSL, bindings: ['uniform', 'read', 'write'], label: 'gradNormSquared.partials' }, [{ u32: numel(t.shape) }, { u32: slot }], [t.buffer, partials.buffer], [wgs]);
    slot += wgs;
  });
  const sumSquares = rt.empty([1]);
  const nonFinite = rt.empty([1], 'u32');
  rt.dispatch(
    { code: SUM_PARTIALS_WGSL, bindings: ['uniform', 'read', 'write', 'write'], label: 'gradNormSquared.sum' },
    [{ u32: slots }],
    [partials.buffer, sumSquares.buffer, nonFinite.buffer],
    [1],
  );
  rt.release(partials);
  return { sumSquares, nonFinite };
}

/** u32 [1]: 1 if any element of any tensor is NaN or ±inf (the NaN/Inf detector; same pass as gradNormSquared). */
export function nonFiniteFlag(rt: GpuRuntime, tensors: readonly GpuTensor[]): GpuTensor {
  const { sumSquares, nonFinite } = gradNormSquared(rt, tensors);
  rt.release(sumSquares);
  return nonFinite;
}

/** f32 [1] = min(1, maxNorm / (sqrt(sumSquares) + 1e-6)); 0 if sumSquares is not finite. */
export function clipFactor(rt: GpuRuntime, sumSquares: GpuTensor, maxNorm: number): GpuTensor {
  expectF32(sumSquares, 'clipFactor: sumSquares');
  const factor = rt.empty([1]);
  rt.dispatch({ code: CLIP_FACTOR_WGSL, bindings: ['uniform', 'read', 'write'], label: 'clipFactor' }, [{ f32: maxNorm }], [sumSquares.buffer, factor.buffer], [1]);
  return factor;
}

/** x *= scale (a number) and/or factor[0] (an f32 [1] tensor such as clipFactor's), in place. */
export function scaleInPlace(rt: GpuRuntime, x: GpuTensor, scale: number | GpuTensor): GpuTensor {
  expectF32(x, 'scaleInPlace: x');
  const n = numel(x.shape);
  const factor = typeof scale === 'number' ? undefined : scale;
  if (factor) expectF32(factor, 'scaleInPlace: factor');
  if (factor?.buffer === x.buffer) throw new Error('scaleInPlace: factor must not alias x');
  // Without a factor tensor a small pooled placeholder is bound (x itself cannot be: it is bound writable).
  const placeholder = factor ? undefined : rt.empty([1]);
  rt.dispatch(
    { code: SCALE_WGSL, bindings: ['uniform', 'write', 'read'], label: 'scaleInPlace' },
    [{ u32: n }, { f32: typeof scale === 'number' ? scale : 1 }, { u32: factor ? 1 : 0 }],
    [x.buffer, (factor ?? placeholder!).buffer],
    rt.grid1d(Math.ceil(n / WG)),
  );
  rt.release(placeholder);
  return x;
}

// ---------------------------------------------------------------------------------------------
// References (float64).

export interface AdamWState {
  param: Float64Array;
  m: Float64Array;
  v: Float64Array;
}

/** One AdamW step in float64 on copies; `gradScale` multiplies the gradient. Same formula as the kernel. */
export function adamwReference(
  state: { param: ArrayLike<number>; m: ArrayLike<number>; v: ArrayLike<number> },
  grad: ArrayLike<number>,
  options: Omit<AdamWOptions, 'gradScaleTensor' | 'skipIf'>,
): AdamWState {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0.01, step, gradScale = 1 } = options;
  const bc1 = 1 - beta1 ** step;
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  const param = Float64Array.from(state.param);
  const m = Float64Array.from(state.m);
  const v = Float64Array.from(state.v);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]! * gradScale;
    m[i] = beta1 * m[i]! + (1 - beta1) * g;
    v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
    param[i] = param[i]! * (1 - lr * weightDecay) - ((lr / bc1) * m[i]!) / (Math.sqrt(v[i]!) / bc2Sqrt + eps);
  }
  return { param, m, v };
}

export function sumSquaresReference(tensors: readonly ArrayLike<number>[]): number {
  let s = 0;
  for (const t of tensors) for (let i = 0; i < t.length; i++) s += t[i]! * t[i]!;
  return s;
}
