// linear: y[M, N] = alpha · x[M, K] · W[N, K]^T (+ bias[N]) (+ y if accumulating), the PyTorch Linear
// layout. W may be f32, f16 (packed pairs) or MLC q4 (dequantised inside the kernel); x and y are f32,
// accumulation is f32. The same kernels, reading W transposed, give matmul (y = a · b, two
// activations) and linearTransposed (y = x · W, the input gradient of linear, any weight format).
//
// Two kernels:
//  - prefill (M > 4): 64x64 output tile per workgroup of 16x16 threads, 4x4 outputs per thread, K
//    walked in slices of 16 staged through workgroup memory (tiled-matmul.ts, shared with matmulStrided).
//  - decode (M <= 4): 8 output columns per workgroup of 256 threads, 32 lanes per column striding
//    over K one chunk at a time (1 f32, 2 packed f16, or one q4 word = 8 nibbles), weights read once
//    for all M rows, then a tree reduction in workgroup memory. This is the memory-bound path of token
//    generation, where W dominates the traffic.
//
// `accumulate` + `alpha` make LoRA's y += scale · (x A^T) B^T a second call into the same y.

import type { BindingKind, GpuRuntime } from '../runtime';
import { numel, shapeToString, type GpuTensor, type Weight } from '../tensor';
import { TILE, tiledMatmulWgsl } from './tiled-matmul';
import { chunkSize, expectF32, readerWgsl, WG_INDEX, weightBindings, weightBuffers, weightFormat, weightShape, weightWgsl, type WeightFormat } from '../wgsl';

export interface LinearOptions {
  bias?: GpuTensor;
  /** Multiplies x·W^T before the bias is added (default 1). */
  alpha?: number;
  /** Write into this tensor instead of a new one. */
  out?: GpuTensor;
  /** y += result instead of y = result (needs `out`). */
  accumulate?: boolean;
  /** Force a kernel (tests); by default decode for M <= 4, tiled otherwise. */
  kernel?: 'tiled' | 'decode';
}

const DECODE_MAX_M = 4;
const DECODE_COLS = 8; // output columns per workgroup
const LANES = 32; // threads per column


// Bias and accumulation are runtime flags (not shader variants): each variant costs a pipeline
// compile, which is what dominates small dispatches. Without a bias, x is bound in its place.
// A weight is read either as stored, W [N, K] (y = x W^T), or transposed (y = x W with W stored
// [K, N]: matmul of two activations, and the input gradient dx = dy · W of a linear, with W in any
// format). The kernels only call w_val / w_val_chunk; transposed reads take one element per chunk.
interface WeightRead {
  format: WeightFormat;
  transposed: boolean;
}

function weightSource({ format, transposed }: WeightRead): string {
  const S = transposed ? 1 : chunkSize(format);
  return `${weightWgsl(format, 2)}
fn w_val(n: u32, k: u32, K: u32) -> f32 { return ${transposed ? 'w_at(k, n, params.N)' : 'w_at(n, k, K)'}; }
fn w_val_chunk(n: u32, c: u32, K: u32) -> array<f32, ${S}> { return ${transposed ? 'array<f32, 1>(w_at(c, n, params.N))' : 'w_chunk(n, c, K)'}; }`;
}

function header(read: WeightRead, biasDtype: 'f32' | 'f16'): string {
  return `struct Params { M: u32, N: u32, K: u32, alpha: f32, has_bias: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
${weightSource(read)}
@group(0) @binding(${weightBindings(read.format).length + 2}) var<storage, read_write> y: array<f32>;
${readerWgsl('bias', weightBindings(read.format).length + 3, biasDtype)}
fn store(m: u32, n: u32, acc: f32) {
  var v = params.alpha * acc;
  if (params.has_bias != 0u) { v += read_bias(n); }
  let i = m * params.N + n;
  if (params.accumulate != 0u) { v += y[i]; }
  y[i] = v;
}`;
}

function tiledSource(read: WeightRead, biasDtype: 'f32' | 'f16'): string {
  return `${header(read, biasDtype)}
fn load_a(m: u32, k: u32) -> f32 { return x[m * params.K + k]; }
fn load_b(n: u32, k: u32) -> f32 { return w_val(n, k, params.K); }
${tiledMatmulWgsl()}`;
}

// M (1..4) is compiled in, so the per-row accumulators are a fixed-size register array: with a
// runtime bound the array is indexed dynamically and GPUs spill it to local memory.
function decodeSource(read: WeightRead, biasDtype: 'f32' | 'f16', rows: number): string {
  const S = read.transposed ? 1 : chunkSize(read.format);
  return `${header(read, biasDtype)}
${WG_INDEX}
const LANES = ${LANES}u;
const S = ${S}u;        // weights decoded per chunk
var<workgroup> red: array<f32, ${rows * 256}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  const M = ${rows}u; let N = params.N; let K = params.K;
  let lane = lid % LANES;
  let n = wg_index(wid, nwg) * ${DECODE_COLS}u + lid / LANES;
  var acc: array<f32, ${rows}>;
  if (n < N) {
    for (var c = lane; c < K / S; c += LANES) {
      let wc = w_val_chunk(n, c, K);
      for (var r = 0u; r < S; r++) {
        let k = c * S + r;
        for (var m = 0u; m < M; m++) { acc[m] = fma(x[m * K + k], wc[r], acc[m]); }
      }
    }
  }
  for (var m = 0u; m < M; m++) { red[m * 256u + lid] = acc[m]; }
  workgroupBarrier();
  for (var stride = LANES / 2u; stride > 0u; stride >>= 1u) {
    if (lane < stride) {
      for (var m = 0u; m < M; m++) { red[m * 256u + lid] += red[m * 256u + lid + stride]; }
    }
    workgroupBarrier();
  }
  if (lane == 0u && n < N) {
    for (var m = 0u; m < M; m++) { store(m, n, red[m * 256u + lid]); }
  }
}`;
}

/** y = alpha · x W^T (+ bias) (+ y if accumulating). x is [..., K] f32; returns [..., N] f32. Records into the batch. */
export function linear(rt: GpuRuntime, x: GpuTensor, w: Weight, options: LinearOptions = {}): GpuTensor {
  const [N, K] = weightShape(w, 'linear');
  return linearCore(rt, x, { format: weightFormat(w), transposed: false }, weightBuffers(w), N, K, options, 'linear');
}

/**
 * y = alpha · x · W (+ bias) (+ y) for W stored [R, C] in any format (f32, f16, q4): x is [..., R],
 * y is [..., C]. This is the input gradient of linear (dx = dy · W), e.g. backpropagating through
 * frozen quantised base weights to LoRA parameters.
 */
export function linearTransposed(rt: GpuRuntime, x: GpuTensor, w: Weight, options: LinearOptions = {}): GpuTensor {
  const [R, C] = weightShape(w, 'linearTransposed');
  return linearCore(rt, x, { format: weightFormat(w), transposed: true }, weightBuffers(w), C, R, options, 'linearTransposed');
}

/** y = alpha · a[M, K] · b[K, N] for two f32 activations (b NOT transposed), same options as linear. */
export function matmul(rt: GpuRuntime, a: GpuTensor, b: GpuTensor, options: LinearOptions = {}): GpuTensor {
  expectF32(b, 'matmul: b');
  if (b.shape.length !== 2) throw new Error(`matmul: b must be 2-D [K, N], got ${shapeToString(b.shape)}`);
  const [K, N] = b.shape as [number, number];
  return linearCore(rt, a, { format: 'f32', transposed: true }, [b.buffer], N, K, options, 'matmul');
}

function linearCore(rt: GpuRuntime, x: GpuTensor, read: WeightRead, weightBufs: GPUBuffer[], N: number, K: number, options: LinearOptions, what: string): GpuTensor {
  expectF32(x, `${what}: x`);
  const lastDim = x.shape[x.shape.length - 1];
  if (lastDim !== K) throw new Error(`${what}: x has last dimension ${lastDim}, weight expects K = ${K}`);
  const M = K === 0 ? 0 : numel(x.shape) / K;
  const { bias, alpha = 1, accumulate = false } = options;
  if (accumulate && !options.out) throw new Error(`${what}: accumulate needs \`out\``);
  if (bias && numel(bias.shape) !== N) throw new Error(`${what}: bias has ${numel(bias.shape)} values, expected ${N}`);
  if (bias && bias.dtype === 'u32') throw new Error(`${what}: bias must be f32 or f16`);
  const y = options.out ?? rt.empty([...x.shape.slice(0, -1), N]);
  if (numel(y.shape) !== M * N) throw new Error(`${what}: out has ${numel(y.shape)} values, expected ${M * N}`);
  if (y.buffer === x.buffer || weightBufs.includes(y.buffer)) throw new Error(`${what}: out must not alias an input`);
  if (M === 0) return y;
  const biasDtype = bias?.dtype === 'f16' ? 'f16' : 'f32';
  const bindings: BindingKind[] = ['uniform', 'read', ...weightBindings(read.format), 'write', 'read'];
  const variant = `${read.format}${read.transposed ? '.T' : ''}`;
  const buffers = [x.buffer, ...weightBufs, y.buffer, (bias ?? x).buffer];
  const params = [{ u32: M }, { u32: N }, { u32: K }, { f32: alpha }, { u32: bias ? 1 : 0 }, { u32: accumulate ? 1 : 0 }];
  const kernel = options.kernel ?? (M <= DECODE_MAX_M ? 'decode' : 'tiled');
  if (kernel === 'decode') {
    if (M > DECODE_MAX_M) throw new Error(`${what}: the decode kernel takes at most ${DECODE_MAX_M} rows, got M = ${M}`);
    const spec = { code: decodeSource(read, biasDtype, M), bindings, label: `linear.decode.${variant}.m${M}` };
    rt.dispatch(spec, params, buffers, rt.grid1d(Math.ceil(N / DECODE_COLS)));
  } else {
    const spec = { code: tiledSource(read, biasDtype), bindings, label: `linear.tiled.${variant}` };
    rt.dispatch(spec, params, buffers, [Math.ceil(N / TILE), Math.ceil(M / TILE)]);
  }
  return y;
}

// ---------------------------------------------------------------------------------------------
// Reference. Sums in float64 and rounds once to f32: the exact answer for the given f32 inputs, which
// the GPU's f32 accumulation approaches within ~K·2^-24·Σ|x·w| (tests use 1e-4·sqrt(K)-scaled bounds).

/** `w` is the dequantised [N, K] weight (dequantizeQ4 / unpackF16 give it for the other formats). */
/** a [M, K] · b [K, N], float64 sums. */
export function matmulReference(a: Float32Array, b: Float32Array, M: number, K: number, N: number): Float32Array {
  const bt = new Float32Array(N * K);
  for (let k = 0; k < K; k++) for (let n = 0; n < N; n++) bt[n * K + k] = b[k * N + n]!;
  return linearReference(a, bt, M, N, K);
}

export function linearReference(
  x: Float32Array,
  w: Float32Array,
  M: number,
  N: number,
  K: number,
  options: { bias?: Float32Array; alpha?: number; accumulateInto?: Float32Array } = {},
): Float32Array {
  const { bias, alpha = 1, accumulateInto } = options;
  const y = new Float32Array(M * N);
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += x[m * K + k]! * w[n * K + k]!;
      let v = alpha * sum + (bias ? bias[n]! : 0);
      if (accumulateInto) v += accumulateInto[m * N + n]!;
      y[m * N + n] = v;
    }
  }
  return y;
}
