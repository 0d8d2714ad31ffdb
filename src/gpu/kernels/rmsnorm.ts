// rmsNorm: y[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) · weight, as HF Qwen2RMSNorm / LlamaRMSNorm
// (statistics in f32). One workgroup of 256 threads per row: strided sum of squares, tree reduction.
// On CPU adapters, where a barrier costs more than a row's arithmetic, one invocation per row instead.
// Weight may be f32 or f16. Reference: float64 throughout, rounded once to f32.

import { isFallbackDevice } from '../device';
import type { GpuRuntime } from '../runtime';
import { numel, shapeToString, type GpuTensor } from '../tensor';
import { expectF32, readerWgsl, WG_INDEX, workgroupReduceWgsl } from '../wgsl';

const WG = 256;
const ROWS_WG = 64; // rows per workgroup, one per invocation (CPU adapters)

function source(weightDtype: 'f32' | 'f16', perRow: boolean): string {
  const wg = perRow ? ROWS_WG : WG;
  return /* wgsl */ `
struct Params { rows: u32, D: u32, eps: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
${readerWgsl('weight', 2, weightDtype)}
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
${WG_INDEX}
${perRow ? '' : workgroupReduceWgsl(WG)}

@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = ${perRow ? `wg_index(wid, nwg) * ${wg}u + lid` : 'wg_index(wid, nwg)'};
  if (row >= params.rows) { return; } // uniform per workgroup unless per row
  let D = params.D;
  let base = row * D;
  let first = ${perRow ? '0u' : 'lid'};
  let step = ${perRow ? '1u' : `${wg}u`};
  var ss = 0.0;
  for (var i = first; i < D; i += step) { let v = x[base + i]; ss = fma(v, v, ss); }
  let inv = inverseSqrt(${perRow ? 'ss' : 'reduce_sum(lid, ss)'} / f32(D) + params.eps);
  for (var i = first; i < D; i += step) { y[base + i] = x[base + i] * inv * read_weight(i); }
}`;
}

/** RMS-normalises each row of x [..., D] and scales by weight [D]; returns a new [..., D] tensor. */
export function rmsNorm(rt: GpuRuntime, x: GpuTensor, weight: GpuTensor, eps: number, out?: GpuTensor, perRow = isFallbackDevice(rt.device)): GpuTensor {
  expectF32(x, 'rmsNorm: x');
  const D = x.shape[x.shape.length - 1] ?? 0;
  if (numel(weight.shape) !== D) throw new Error(`rmsNorm: weight ${shapeToString(weight.shape)} does not match D = ${D}`);
  if (weight.dtype === 'u32') throw new Error('rmsNorm: weight must be f32 or f16');
  const rows = D === 0 ? 0 : numel(x.shape) / D;
  const y = out ?? rt.empty(x.shape);
  if (y.buffer === x.buffer) throw new Error('rmsNorm: out must not alias x');
  rt.dispatch(
    { code: source(weight.dtype, perRow), bindings: ['uniform', 'read', 'read', 'write'], label: `rmsNorm.${weight.dtype}${perRow ? '.perRow' : ''}` },
    [{ u32: rows }, { u32: D }, { f32: eps }],
    [x.buffer, weight.buffer, y.buffer],
    rt.grid1d(perRow ? Math.ceil(rows / ROWS_WG) : rows),
  );
  return y;
}

export function rmsNormReference(x: Float32Array, weight: Float32Array, eps: number): Float32Array {
  return Float32Array.from(rmsNorm64(x, weight, eps));
}

/** The reference in float64, unrounded (also backward/rmsnorm.ts's rmsNormForward64). */
export function rmsNorm64(x: ArrayLike<number>, weight: ArrayLike<number>, eps: number): Float64Array {
  const D = weight.length;
  const y = new Float64Array(x.length);
  for (let base = 0; base < x.length; base += D) {
    let ss = 0;
    for (let i = 0; i < D; i++) ss += x[base + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / D + eps);
    for (let i = 0; i < D; i++) y[base + i] = x[base + i]! * inv * weight[i]!;
  }
  return y;
}
