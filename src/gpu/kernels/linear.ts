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
//  - decode on CPU adapters (SwiftShader, lavapipe; chosen automatically for M <= 4 there): one output
//    column per invocation, 64 per workgroup, a straight loop over K with vec4 loads (4 f32, 8 packed
//    f16, or a whole 32-weight q4 scale group per load) and no workgroup memory or barriers. CPU
//    backends run invocations as SIMD lanes, where the 32-lane layout's strided scalar gathers, shared
//    memory and ~5 barriers per column cost far more than the arithmetic. Shapes the vec4 loads do not
//    fit (f32 K % 4 != 0, f16 K % 8 != 0, transposed reads) take the same layout with scalar loads.
//
// `accumulate` + `alpha` make LoRA's y += scale · (x A^T) B^T a second call into the same y.

import type { BindingKind, GpuRuntime } from '../runtime';
import { numel, shapeToString, type GpuTensor, type Weight } from '../tensor';
import { TILE, tiledMatmulWgsl } from './tiled-matmul';
import { isFallbackDevice } from '../device';
import { chunkSize, expectF32, readerWgsl, WG_INDEX, weightBindings, weightBuffers, weightFormat, weightShape, weightWgsl, type WeightFormat } from '../wgsl';

export interface LinearOptions {
  bias?: GpuTensor;
  /** Multiplies x·W^T before the bias is added (default 1). */
  alpha?: number;
  /** Write into this tensor instead of a new one. */
  out?: GpuTensor;
  /** y += result instead of y = result (needs `out`). */
  accumulate?: boolean;
  /**
   * Force a kernel (tests, benchmarks). By default on GPUs: 'decode-lanes' for M <= 4, 'tiled'
   * otherwise; on CPU fallback adapters 'decode-columns' for any M (in blocks of 4 rows).
   */
  kernel?: 'tiled' | 'decode' | 'decode-lanes' | 'decode-columns';
}

const DECODE_MAX_M = 4;
const DECODE_COLS = 8; // output columns per workgroup
const LANES = 32; // threads per column
const COLUMNS_WG = 64; // decode-columns: output columns (= invocations) per workgroup



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
  return `@group(0) @binding(1) var<storage, read> x: array<f32>;
${weightSource(read)}
${outputWgsl(read.format, biasDtype)}`;
}

/** Params, y, bias and store(): everything but the x and weight bindings. */
function outputWgsl(format: WeightFormat, biasDtype: 'f32' | 'f16'): string {
  return `struct Params { M: u32, N: u32, K: u32, alpha: f32, has_bias: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(${weightBindings(format).length + 2}) var<storage, read_write> y: array<f32>;
${readerWgsl('bias', weightBindings(format).length + 3, biasDtype)}
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

// decode-columns. vec4 loads need whole vec4s per weight row: K % 4 (f32), K % 8 (f16, 8 halves per
// vec4<u32>), always for q4 (K % 32 == 0; one vec4<u32> is one 32-weight scale group). Then x, whose
// rows are K floats, is read as vec4f too. Transposed reads (adjacent invocations already read adjacent
// elements) and the other shapes use scalar loads through w_val / w_val_chunk.
function columnsVec4(read: WeightRead, K: number): boolean {
  if (read.transposed) return false;
  return read.format === 'f32' ? K % 4 === 0 : read.format === 'f16' ? K % 8 === 0 : true;
}

function columnsSource(read: WeightRead, biasDtype: 'f32' | 'f16', rows: number, vec4: boolean): string {
  const S = read.transposed ? 1 : chunkSize(read.format);
  let decls: string;
  let loop: string;
  if (!vec4) {
    decls = header(read, biasDtype);
    loop = read.transposed
      ? `for (var k = 0u; k < K; k++) {
      let wv = w_val(n, k, K);
      for (var m = 0u; m < M; m++) { acc[m] = fma(x[xrow[m] * K + k], wv, acc[m]); }
    }`
      : `for (var c = 0u; c < K / ${S}u; c++) {
      let wc = w_val_chunk(n, c, K);
      for (var r = 0u; r < ${S}u; r++) {
        let k = c * ${S}u + r;
        for (var m = 0u; m < M; m++) { acc[m] = fma(x[xrow[m] * K + k], wc[r], acc[m]); }
      }
    }`;
  } else {
    const out = outputWgsl(read.format, biasDtype);
    const x4 = '@group(0) @binding(1) var<storage, read> x4: array<vec4f>;';
    if (read.format === 'f32') {
      decls = `${x4}
@group(0) @binding(2) var<storage, read> w4: array<vec4f>;
${out}`;
      loop = `let K4 = K / 4u; let row = n * K4;
    for (var c = 0u; c < K4; c++) {
      let wv = w4[row + c];
      for (var m = 0u; m < M; m++) { acc[m] += dot(x4[xrow[m] * K4 + c], wv); }
    }`;
    } else if (read.format === 'f16') {
      decls = `${x4}
@group(0) @binding(2) var<storage, read> w4: array<vec4u>;
${out}`;
      loop = `let K4 = K / 4u; let C = K / 8u; let row = n * C;
    for (var c = 0u; c < C; c++) {
      let p = w4[row + c];
      let lo = vec4f(unpack2x16float(p.x), unpack2x16float(p.y));
      let hi = vec4f(unpack2x16float(p.z), unpack2x16float(p.w));
      for (var m = 0u; m < M; m++) {
        let xi = xrow[m] * K4 + 2u * c;
        acc[m] += dot(x4[xi], lo) + dot(x4[xi + 1u], hi);
      }
    }`;
    } else {
      decls = `${x4}
@group(0) @binding(2) var<storage, read> q4: array<vec4u>;
${readerWgsl('q_scale', 3, read.format === 'q4f16' ? 'f16' : 'f32')}
${out}
// The 8 nibbles of a q4 word, minus the zero point 7, as two vec4s (weights k..k+3, k+4..k+7).
fn nib_lo(w: u32) -> vec4f { return vec4f((vec4u(w) >> vec4u(0u, 4u, 8u, 12u)) & vec4u(0xfu)) - vec4f(7.0); }
fn nib_hi(w: u32) -> vec4f { return vec4f((vec4u(w) >> vec4u(16u, 20u, 24u, 28u)) & vec4u(0xfu)) - vec4f(7.0); }`;
      loop = `let K4 = K / 4u; let G = K / 32u; let row = n * G;
    for (var g = 0u; g < G; g++) {
      let p = q4[row + g];
      let s = read_q_scale(row + g);
      let w0 = nib_lo(p.x); let w1 = nib_hi(p.x); let w2 = nib_lo(p.y); let w3 = nib_hi(p.y);
      let w4 = nib_lo(p.z); let w5 = nib_hi(p.z); let w6 = nib_lo(p.w); let w7 = nib_hi(p.w);
      for (var m = 0u; m < M; m++) {
        let xi = xrow[m] * K4 + 8u * g;
        let t = dot(x4[xi], w0) + dot(x4[xi + 1u], w1) + dot(x4[xi + 2u], w2) + dot(x4[xi + 3u], w3)
              + dot(x4[xi + 4u], w4) + dot(x4[xi + 5u], w5) + dot(x4[xi + 6u], w6) + dot(x4[xi + 7u], w7);
        acc[m] = fma(t, s, acc[m]);
      }
    }`;
    }
  }
  return `${decls}
${WG_INDEX}

@compute @workgroup_size(${COLUMNS_WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  const M = ${rows}u; let N = params.N; let K = params.K;
  let n = wg_index(wid, nwg) * ${COLUMNS_WG}u + lid;
  if (n >= N) { return; }
  let m0 = wid.z * M; // this workgroup's block of M rows; a ragged last block re-reads the last row
  var xrow: array<u32, ${rows}>;
  for (var m = 0u; m < M; m++) { xrow[m] = min(m0 + m, params.M - 1u); }
  var acc: array<f32, ${rows}>;
  ${loop}
  for (var m = 0u; m < M; m++) {
    if (m0 + m < params.M) { store(m0 + m, n, acc[m]); }
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
  // CPU adapters: columns for every M (blocks of DECODE_MAX_M rows; tiles cost barriers there).
  const cpu = isFallbackDevice(rt.device);
  let kernel = options.kernel ?? (cpu ? 'decode-columns' : M <= DECODE_MAX_M ? 'decode' : 'tiled');
  if (kernel === 'decode') kernel = cpu ? 'decode-columns' : 'decode-lanes';
  if (kernel === 'decode-lanes' && M > DECODE_MAX_M) throw new Error(`${what}: the decode-lanes kernel takes at most ${DECODE_MAX_M} rows, got M = ${M}`);
  if (kernel === 'decode-lanes') {
    const spec = { code: decodeSource(read, biasDtype, M), bindings, label: `linear.decode.${variant}.m${M}` };
    rt.dispatch(spec, params, buffers, rt.grid1d(Math.ceil(N / DECODE_COLS)));
  } else if (kernel === 'decode-columns') {
    const vec4 = columnsVec4(read, K);
    const rows = Math.min(M, DECODE_MAX_M);
    const spec = { code: columnsSource(read, biasDtype, rows, vec4), bindings, label: `linear.decodeColumns.${variant}${vec4 ? '.v4' : ''}.m${rows}` };
    rt.dispatch(spec, params, buffers, [...rt.grid1d(Math.ceil(N / COLUMNS_WG)), Math.ceil(M / rows)]);
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
