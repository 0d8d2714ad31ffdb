// addRows: dst[dstOffset + r·dstStride + j] += src[srcOffset + r·srcStride + j] for r < rows, j < width.
// copyRows' accumulating twin. Its job: adding a LoRA output [T, n] into its column slice of a fused
// projection (q/k/v inside qkv [T, (H+2Hkv)·D], gate/up inside gate_up [T, 2I]), where the linear
// kernel's `accumulate` cannot reach because it writes dense [M, N] rows.
// Reference: one f32 add per element (Math.fround), so the GPU must match exactly.

import type { GpuRuntime } from '../runtime';
import { numel, type GpuTensor } from '../tensor';
import { expectF32, WG_INDEX } from '../wgsl';
import type { CopyRowsLayout } from './elementwise';

const WG = 256;

const ADD_ROWS_WGSL = /* wgsl */ `
struct Params { rows: u32, width: u32, src_stride: u32, src_offset: u32, dst_stride: u32, dst_offset: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${WG_INDEX}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = wg_index(wid, nwg) * ${WG}u + lid;
  if (e >= params.rows * params.width) { return; }
  let r = e / params.width;
  let j = e % params.width;
  let d = params.dst_offset + r * params.dst_stride + j;
  dst[d] = dst[d] + src[params.src_offset + r * params.src_stride + j];
}`;

/** Adds a strided block of `src` into a strided block of `dst` (same layout fields as copyRows). */
export function addRows(rt: GpuRuntime, src: GpuTensor, dst: GpuTensor, layout: CopyRowsLayout): void {
  expectF32(src, 'addRows: src');
  expectF32(dst, 'addRows: dst');
  const { rows, width, srcStride, dstStride, srcOffset = 0, dstOffset = 0 } = layout;
  if (rows === 0 || width === 0) return;
  const lastSrc = srcOffset + (rows - 1) * srcStride + width;
  const lastDst = dstOffset + (rows - 1) * dstStride + width;
  if (lastSrc > numel(src.shape)) throw new Error(`addRows: reads up to element ${lastSrc} of a ${numel(src.shape)}-element source`);
  if (lastDst > numel(dst.shape)) throw new Error(`addRows: writes up to element ${lastDst} of a ${numel(dst.shape)}-element destination`);
  if (src.buffer === dst.buffer) throw new Error('addRows: source and destination must be different tensors');
  rt.dispatch(
    { code: ADD_ROWS_WGSL, bindings: ['uniform', 'read', 'write'], label: 'addRows' },
    [{ u32: rows }, { u32: width }, { u32: srcStride }, { u32: srcOffset }, { u32: dstStride }, { u32: dstOffset }],
    [src.buffer, dst.buffer],
    rt.grid1d(Math.ceil((rows * width) / WG)),
  );
}

export function addRowsReference(src: Float32Array, dst: Float32Array, layout: CopyRowsLayout): Float32Array {
  const out = dst.slice();
  const { rows, width, srcStride, dstStride, srcOffset = 0, dstOffset = 0 } = layout;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < width; j++) {
      const d = dstOffset + r * dstStride + j;
      out[d] = Math.fround(out[d]! + src[srcOffset + r * srcStride + j]!);
    }
  }
  return out;
}
