// RMSNorm backward (weight frozen, so only dx). Forward (rmsnorm.ts): y = x · inv · w with
// inv = (mean(x²) + eps)^(-1/2). Differentiating, with gw = w ∘ dy:
//   dx_i = inv · gw_i - x_i · inv³ · (Σ_j gw_j x_j) / D
// (the second term is the gradient flowing through inv). One workgroup of 256 threads per row reduces
// Σx² and Σ gw·x together, then writes dx. `accumulate` adds into dx: the norm's input is the
// residual stream, whose gradient already holds the skip path's contribution.
// Reference: float64.

import type { GpuRuntime } from '../../runtime';
import { numel, shapeToString, type GpuTensor } from '../../tensor';
import { expectF32, perWorkgroupMain, readerWgsl, WG_INDEX, workgroupReducePairWgsl } from '../../wgsl';
import { rmsNorm64 } from '../rmsnorm';

const WG = 256;

function source(weightDtype: 'f32' | 'f16'): string {
  return /* wgsl */ `
struct Params { rows: u32, D: u32, eps: f32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
${readerWgsl('weight', 2, weightDtype)}
@group(0) @binding(3) var<storage, read> dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
${WG_INDEX}
${workgroupReducePairWgsl(WG)}

${perWorkgroupMain(WG, 'row', 'params.rows', /* wgsl */ `
  let D = params.D;
  let base = row * D;
  var ss = 0.0;
  var dot = 0.0;
  for (var i = lid; i < D; i += ${WG}u) {
    let v = x[base + i];
    ss = fma(v, v, ss);
    dot = fma(read_weight(i) * dy[base + i], v, dot);
  }
  let sums = reduce_sum2(lid, vec2f(ss, dot)); // Σx², Σ gw·x
  let inv = inverseSqrt(sums.x / f32(D) + params.eps);
  let c = inv * inv * inv * sums.y / f32(D);
  for (var i = lid; i < D; i += ${WG}u) {
    var d = inv * read_weight(i) * dy[base + i] - x[base + i] * c;
    if (params.accumulate != 0u) { d += dx[base + i]; }
    dx[base + i] = d;
  }
`)}`;
}

/** dx [..., D] of y = rmsNorm(x, weight, eps) given dy; `out` + `accumulate` add into an existing gradient. */
export function rmsNormBackward(
  rt: GpuRuntime,
  x: GpuTensor,
  weight: GpuTensor,
  eps: number,
  dy: GpuTensor,
  options: { out?: GpuTensor; accumulate?: boolean } = {},
): GpuTensor {
  expectF32(x, 'rmsNormBackward: x');
  expectF32(dy, 'rmsNormBackward: dy');
  const D = x.shape[x.shape.length - 1] ?? 0;
  if (numel(weight.shape) !== D) throw new Error(`rmsNormBackward: weight ${shapeToString(weight.shape)} does not match D = ${D}`);
  if (weight.dtype === 'u32') throw new Error('rmsNormBackward: weight must be f32 or f16');
  if (numel(dy.shape) !== numel(x.shape)) throw new Error(`rmsNormBackward: dy ${shapeToString(dy.shape)} does not match x ${shapeToString(x.shape)}`);
  const { accumulate = false } = options;
  if (accumulate && !options.out) throw new Error('rmsNormBackward: accumulate needs `out`');
  const rows = D === 0 ? 0 : numel(x.shape) / D;
  const dx = options.out ?? rt.empty(x.shape);
  if (numel(dx.shape) !== numel(x.shape)) throw new Error('rmsNormBackward: out has the wrong size');
  if (dx.buffer === x.buffer || dx.buffer === dy.buffer) throw new Error('rmsNormBackward: out must not alias x or dy');
  rt.dispatch(
    { code: source(weight.dtype), bindings: ['uniform', 'read', 'read', 'read', 'write'], label: `rmsNormBackward.${weight.dtype}` },
    [{ u32: rows }, { u32: D }, { f32: eps }, { u32: accumulate ? 1 : 0 }],
    [x.buffer, weight.buffer, dy.buffer, dx.buffer],
    rt.grid1d(rows),
  );
  return dx;
}

// ---------------------------------------------------------------------------------------------
// References (float64).

export function rmsNormForward64(x: ArrayLike<number>, weight: ArrayLike<number>, eps: number): Float64Array {
  return rmsNorm64(x, weight, eps);
}

export function rmsNormBackwardReference(x: ArrayLike<number>, weight: ArrayLike<number>, eps: number, dy: ArrayLike<number>): Float64Array {
  const D = weight.length;
  const dx = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += D) {
    let ss = 0;
    let dot = 0;
    for (let i = 0; i < D; i++) {
      ss += x[base + i]! ** 2;
      dot += weight[i]! * dy[base + i]! * x[base + i]!;
    }
    const inv = 1 / Math.sqrt(ss / D + eps);
    const c = (inv * inv * inv * dot) / D;
    for (let i = 0; i < D; i++) dx[base + i] = inv * weight[i]! * dy[base + i]! - x[base + i]! * c;
  }
  return dx;
}
