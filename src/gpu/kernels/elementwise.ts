// Elementwise kernels: residual add, SwiGLU's silu(gate)·up, and a strided row copy (KV-cache writes,
// splitting a fused qkv). One thread per output element, 256 per workgroup, grid1d for large tensors.
// References compute in f32 (Math.fround after each op, as the GPU does) except silu, which uses
// float64 exp; tests allow a few f32 ulps.

import type { GpuRuntime } from '../runtime';
import { numel, shapeToString, type GpuTensor } from '../tensor';
import { expectF32, WG_INDEX } from '../wgsl';

const WG = 256;

function elementIndex(): string {
  return `${WG_INDEX}
fn element(wid: vec3u, nwg: vec3u, lid: u32) -> u32 { return wg_index(wid, nwg) * ${WG}u + lid; }`;
}

// ---------------------------------------------------------------------------------------------
// add

const ADD_WGSL = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${elementIndex()}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, nwg, lid);
  if (i < params.n) { out[i] = a[i] + b[i]; }
}`;

const ADD_IN_PLACE_WGSL = /* wgsl */ `
struct Params { n: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> acc: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
${elementIndex()}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = element(wid, nwg, lid);
  if (i < params.n) { acc[i] = acc[i] + b[i]; }
}`;

function sameSize(a: GpuTensor, b: GpuTensor, what: string): number {
  const n = numel(a.shape);
  if (numel(b.shape) !== n) throw new Error(`${what}: ${shapeToString(a.shape)} and ${shapeToString(b.shape)} differ in size`);
  return n;
}

/** out = a + b (a new tensor unless `out` is given; `out` must not be a or b — use addInPlace). */
export function add(rt: GpuRuntime, a: GpuTensor, b: GpuTensor, out?: GpuTensor): GpuTensor {
  expectF32(a, 'add: a');
  expectF32(b, 'add: b');
  const n = sameSize(a, b, 'add');
  const y = out ?? rt.empty(a.shape);
  sameSize(a, y, 'add: out');
  if (y.buffer === a.buffer || y.buffer === b.buffer) throw new Error('add: out aliases an input; use addInPlace');
  rt.dispatch({ code: ADD_WGSL, bindings: ['uniform', 'read', 'read', 'write'], label: 'add' }, [{ u32: n }], [a.buffer, b.buffer, y.buffer], rt.grid1d(Math.ceil(n / WG)));
  return y;
}

/** acc += b (the residual stream update). */
export function addInPlace(rt: GpuRuntime, acc: GpuTensor, b: GpuTensor): GpuTensor {
  expectF32(acc, 'addInPlace: acc');
  expectF32(b, 'addInPlace: b');
  const n = sameSize(acc, b, 'addInPlace');
  rt.dispatch({ code: ADD_IN_PLACE_WGSL, bindings: ['uniform', 'write', 'read'], label: 'addInPlace' }, [{ u32: n }], [acc.buffer, b.buffer], rt.grid1d(Math.ceil(n / WG)));
  return acc;
}

export function addReference(a: Float32Array, b: Float32Array): Float32Array {
  return a.map((v, i) => Math.fround(v + b[i]!));
}

// ---------------------------------------------------------------------------------------------
// siluMul: out[t, i] = silu(gate[t, i]) · up[t, i], gate and up read with a row stride and offset so
// the fused [T, 2I] gate_up output (gate first, as MLC and HF's gate_up_proj store it) needs no split.

const SILU_MUL_WGSL = /* wgsl */ `
struct Params { rows: u32, width: u32, g_stride: u32, g_offset: u32, u_stride: u32, u_offset: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> gate: array<f32>;
@group(0) @binding(2) var<storage, read> up: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
${elementIndex()}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid);
  if (e >= params.rows * params.width) { return; }
  let t = e / params.width;
  let i = e % params.width;
  let g = gate[t * params.g_stride + params.g_offset + i];
  let u = up[t * params.u_stride + params.u_offset + i];
  // silu(g) = g·sigmoid(g); for g << 0, exp(-g) overflows to inf and the quotient is -0, as it should be.
  out[e] = g / (1.0 + exp(-g)) * u;
}`;

function siluMulDispatch(rt: GpuRuntime, gate: GpuTensor, up: GpuTensor, rows: number, width: number, g: [number, number], u: [number, number]): GpuTensor {
  const out = rt.empty([rows, width]);
  rt.dispatch(
    { code: SILU_MUL_WGSL, bindings: ['uniform', 'read', 'read', 'write'], label: 'siluMul' },
    [{ u32: rows }, { u32: width }, { u32: g[0] }, { u32: g[1] }, { u32: u[0] }, { u32: u[1] }],
    [gate.buffer, up.buffer, out.buffer],
    rt.grid1d(Math.ceil((rows * width) / WG)),
  );
  return out;
}

/** silu(gate) · up from the fused [..., 2I] gate_up tensor (gate = first I columns); returns [rows, I]. */
export function siluMulFused(rt: GpuRuntime, gateUp: GpuTensor): GpuTensor {
  expectF32(gateUp, 'siluMulFused: gateUp');
  const twoI = gateUp.shape[gateUp.shape.length - 1] ?? 0;
  if (twoI % 2 !== 0) throw new Error(`siluMulFused: last dimension ${twoI} is not even`);
  const width = twoI / 2;
  const rows = numel(gateUp.shape) / twoI;
  return siluMulDispatch(rt, gateUp, gateUp, rows, width, [twoI, 0], [twoI, width]);
}

/** silu(gate) · up from two [..., I] tensors; returns [rows, I]. */
export function siluMul(rt: GpuRuntime, gate: GpuTensor, up: GpuTensor): GpuTensor {
  expectF32(gate, 'siluMul: gate');
  expectF32(up, 'siluMul: up');
  sameSize(gate, up, 'siluMul');
  const width = gate.shape[gate.shape.length - 1] ?? 0;
  const rows = numel(gate.shape) / width;
  return siluMulDispatch(rt, gate, up, rows, width, [width, 0], [width, 0]);
}

export function siluMulReference(gate: Float32Array, up: Float32Array): Float32Array {
  return gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]!);
}

// ---------------------------------------------------------------------------------------------
// copyRows: dst[dstOffset + r·dstStride + j] = src[srcOffset + r·srcStride + j] for r < rows, j < width.
// E.g. writing this step's K into the cache: src = qkv [T, (H+2Hkv)·D] at offset H·D, width Hkv·D,
// dst = kCache at offset past·Hkv·D.

const COPY_ROWS_WGSL = /* wgsl */ `
struct Params { rows: u32, width: u32, src_stride: u32, src_offset: u32, dst_stride: u32, dst_offset: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;
${elementIndex()}
@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = element(wid, nwg, lid);
  if (e >= params.rows * params.width) { return; }
  let r = e / params.width;
  let j = e % params.width;
  dst[params.dst_offset + r * params.dst_stride + j] = src[params.src_offset + r * params.src_stride + j];
}`;

export interface CopyRowsLayout {
  rows: number;
  width: number;
  srcStride: number;
  srcOffset?: number;
  dstStride: number;
  dstOffset?: number;
}

export function copyRows(rt: GpuRuntime, src: GpuTensor, dst: GpuTensor, layout: CopyRowsLayout): void {
  expectF32(src, 'copyRows: src');
  expectF32(dst, 'copyRows: dst');
  const { rows, width, srcStride, dstStride, srcOffset = 0, dstOffset = 0 } = layout;
  if (rows === 0 || width === 0) return;
  const lastSrc = srcOffset + (rows - 1) * srcStride + width;
  const lastDst = dstOffset + (rows - 1) * dstStride + width;
  if (lastSrc > numel(src.shape)) throw new Error(`copyRows: reads up to element ${lastSrc} of a ${numel(src.shape)}-element source`);
  if (lastDst > numel(dst.shape)) throw new Error(`copyRows: writes up to element ${lastDst} of a ${numel(dst.shape)}-element destination`);
  if (src.buffer === dst.buffer) throw new Error('copyRows: source and destination must be different tensors');
  rt.dispatch(
    { code: COPY_ROWS_WGSL, bindings: ['uniform', 'read', 'write'], label: 'copyRows' },
    [{ u32: rows }, { u32: width }, { u32: srcStride }, { u32: srcOffset }, { u32: dstStride }, { u32: dstOffset }],
    [src.buffer, dst.buffer],
    rt.grid1d(Math.ceil((rows * width) / WG)),
  );
}

export function copyRowsReference(src: Float32Array, dst: Float32Array, layout: CopyRowsLayout): Float32Array {
  const out = dst.slice();
  const { rows, width, srcStride, dstStride, srcOffset = 0, dstOffset = 0 } = layout;
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) out[dstOffset + r * dstStride + j] = src[srcOffset + r * srcStride + j]!;
  return out;
}
