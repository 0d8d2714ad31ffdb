// WGSL snippets shared by the kernels: reading f32 / packed-f16 / q4 storage as f32 values, and the
// workgroup-index linearisation that goes with grid1d().

import type { BindingKind } from './runtime';
import { isQ4, type DType, type GpuTensor, type Weight } from './tensor';

/** Declares `var<storage, read> NAME: array<f32|u32>` at `binding` and `fn read_NAME(i) -> f32`. */
export function readerWgsl(name: string, binding: number, dtype: DType): string {
  if (dtype === 'f32') {
    return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<f32>;
fn read_${name}(i: u32) -> f32 { return ${name}[i]; }`;
  }
  if (dtype === 'f16') {
    // Two halves per word; unpack2x16float needs no shader-f16 feature.
    return `@group(0) @binding(${binding}) var<storage, read> ${name}: array<u32>;
fn read_${name}(i: u32) -> f32 { let p = unpack2x16float(${name}[i >> 1u]); return select(p.x, p.y, (i & 1u) == 1u); }`;
  }
  throw new Error(`${name}: cannot read a ${dtype} tensor as floats`);
}

export type WeightFormat = 'f32' | 'f16' | 'q4f32' | 'q4f16';

export function weightFormat(w: Weight): WeightFormat {
  if (isQ4(w)) {
    if (w.qWeight.dtype !== 'u32') throw new Error(`q4 weight: q_weight must be u32, got ${w.qWeight.dtype}`);
    if (w.qScale.dtype === 'u32') throw new Error('q4 weight: q_scale must be f32 or f16');
    return w.qScale.dtype === 'f16' ? 'q4f16' : 'q4f32';
  }
  if (w.dtype === 'u32') throw new Error('weight: u32 tensors are not a float format');
  return w.dtype;
}

export function weightBuffers(w: Weight): GPUBuffer[] {
  return isQ4(w) ? [w.qWeight.buffer, w.qScale.buffer] : [w.buffer];
}

export function weightBindings(format: WeightFormat): BindingKind[] {
  return format === 'q4f32' || format === 'q4f16' ? ['read', 'read'] : ['read'];
}

/** Elements decoded per `w_chunk` call: one f32, one u32 word of two f16s, or one u32 word of 8 nibbles. */
export function chunkSize(format: WeightFormat): number {
  return format === 'f32' ? 1 : format === 'f16' ? 2 : 8;
}

/**
 * Declares the weight bindings (from `binding`) and, for a row-major [N, K] weight:
 *   fn w_at(n, k, K) -> f32                 one element
 *   fn w_chunk(n, c, K) -> array<f32, S>    elements c·S .. c·S+S-1 of row n (S = chunkSize)
 * q4 value = (nibble - 7) · scale[n, k / 32]; q_weight [N, K/8], q_scale [N, K/32].
 */
export function weightWgsl(format: WeightFormat, binding: number): string {
  switch (format) {
    case 'f32':
      return `${readerWgsl('w', binding, 'f32')}
fn w_at(n: u32, k: u32, K: u32) -> f32 { return w[n * K + k]; }
fn w_chunk(n: u32, c: u32, K: u32) -> array<f32, 1> { return array<f32, 1>(w[n * K + c]); }`;
    case 'f16':
      return `${readerWgsl('w', binding, 'f16')}
fn w_at(n: u32, k: u32, K: u32) -> f32 { return read_w(n * K + k); }
fn w_chunk(n: u32, c: u32, K: u32) -> array<f32, 2> { let p = unpack2x16float(w[n * (K / 2u) + c]); return array<f32, 2>(p.x, p.y); }`;
    case 'q4f32':
    case 'q4f16':
      return `@group(0) @binding(${binding}) var<storage, read> q_weight: array<u32>;
${readerWgsl('q_scale', binding + 1, format === 'q4f16' ? 'f16' : 'f32')}
fn w_at(n: u32, k: u32, K: u32) -> f32 {
  let word = q_weight[n * (K / 8u) + (k >> 3u)];
  let nibble = (word >> (4u * (k & 7u))) & 0xfu;
  return (f32(nibble) - 7.0) * read_q_scale(n * (K / 32u) + (k >> 5u));
}
fn w_chunk(n: u32, c: u32, K: u32) -> array<f32, 8> {
  let word = q_weight[n * (K / 8u) + c];
  let s = read_q_scale(n * (K / 32u) + (c >> 2u));
  var out: array<f32, 8>;
  for (var r = 0u; r < 8u; r++) { out[r] = (f32((word >> (4u * r)) & 0xfu) - 7.0) * s; }
  return out;
}`;
  }
}

/** Checks a weight's logical shape [N, K] and the format's divisibility needs; returns [N, K]. */
export function weightShape(w: Weight, what: string): [number, number] {
  const shape = w.shape;
  if (shape.length !== 2) throw new Error(`${what}: weight must be 2-D [N, K], got [${shape.join(', ')}]`);
  const [n, k] = shape as [number, number];
  if (isQ4(w)) {
    if (k % 32 !== 0) throw new Error(`${what}: q4 weight needs K % 32 == 0, got K = ${k}`);
    if (w.qWeight.shape[0] !== n || w.qWeight.shape[1] !== k / 8) {
      throw new Error(`${what}: q_weight is [${w.qWeight.shape.join(', ')}], expected [${n}, ${k / 8}]`);
    }
    if (w.qScale.shape[0] !== n || w.qScale.shape[1] !== k / 32) {
      throw new Error(`${what}: q_scale is [${w.qScale.shape.join(', ')}], expected [${n}, ${k / 32}]`);
    }
  } else if (w.dtype === 'f16' && k % 2 !== 0) {
    throw new Error(`${what}: f16 weight needs an even K, got K = ${k}`);
  }
  return [n, k];
}

/** Linear workgroup index for kernels dispatched with grid1d(). */
export const WG_INDEX = 'fn wg_index(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }';

/**
 * The entry point of a kernel laid out one workgroup of `wg` threads per item (items counted by
 * GpuRuntime.grid1d's 2-D grid): `body` sees the item's index as `index`, its thread as `lid`; items at
 * or past `count` return at once (uniformly, so the body may hold barriers).
 */
export function perWorkgroupMain(wg: number, index: string, count: string, body: string): string {
  return /* wgsl */ `@compute @workgroup_size(${wg})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let ${index} = wg_index(wid, nwg);
  if (${index} >= ${count}) { return; }
${body.replace(/^\n/, '')}}`;
}

/**
 * Declares `var<workgroup> red: array<f32, wg>` and tree reductions over a workgroup of `wg` threads
 * (a power of two), each handing its result to every thread:
 *   fn reduce_sum(lid, v) -> f32      fn reduce_max(lid, v) -> f32
 * They hold barriers, so call them from uniform control flow.
 */
export function workgroupReduceWgsl(wg: number): string {
  const tree = (combine: string) => `red[lid] = v;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { ${combine} }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;`;
  return `var<workgroup> red: array<f32, ${wg}>;
fn reduce_sum(lid: u32, v: f32) -> f32 {
  ${tree('red[lid] += red[lid + s];')}
}
fn reduce_max(lid: u32, v: f32) -> f32 {
  ${tree('red[lid] = max(red[lid], red[lid + s]);')}
}`;
}

/**
 * Two sums in one tree (one set of barriers): declares `var<workgroup> red2: array<vec2f, wg>` and
 *   fn reduce_sum2(lid, v: vec2f) -> vec2f
 * which hands every thread the workgroup's component-wise sum. Call it from uniform control flow.
 */
export function workgroupReducePairWgsl(wg: number): string {
  return `var<workgroup> red2: array<vec2f, ${wg}>;
fn reduce_sum2(lid: u32, v: vec2f) -> vec2f {
  red2[lid] = v;
  workgroupBarrier();
  for (var s = ${wg / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { red2[lid] += red2[lid + s]; }
    workgroupBarrier();
  }
  let r = red2[0];
  workgroupBarrier();
  return r;
}`;
}

/** Asserts a tensor is f32 (the activation type of every kernel). */
export function expectF32(t: GpuTensor, what: string): void {
  if (t.dtype !== 'f32') throw new Error(`${what} must be an f32 tensor, got ${t.dtype}`);
}
