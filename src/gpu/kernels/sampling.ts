// Row-wise kernels over logits [R, V] for decoding and scoring, one workgroup of 256 threads per row:
//   argmax        -> u32 [R]   greedy decoding; ties go to the lowest index, NaNs are skipped.
//   logProbs      -> f32 [R]   log p(ids[r]) at a temperature (scoring, GRPO's per-token log-probs),
//                              and the row's log-sum-exp.
//   softmax       -> f32 [R, V] probabilities (or log-probabilities) at a temperature.
//   topK          -> values f32 [R, k] (raw logits), indices u32 [R, k], sorted by value desc, index asc.
//
// The top-p split: the GPU finds the k best logits and the row's log-sum-exp (logProbs' lse), so JS
// downloads ~2k+1 numbers instead of V. sampleTopP() then forms the exact probabilities
// p_i = exp(v_i / T - lse) of those candidates, keeps the smallest prefix whose mass reaches top_p
// (capped at k: that is top-p within top-k, e.g. k = 64), renormalises and draws. topK costs k passes
// over the row (O(k·V) reads), fine for k <= ~100.
//
// Masked logits (constrained decoding) should be a large negative finite number such as -1e30 rather
// than -inf: WGSL lets implementations assume no infinities.
// References compute in float64.

import type { GpuRuntime } from '../runtime';
import { numel, type GpuTensor } from '../tensor';
import { expectF32, perWorkgroupMain, WG_INDEX, workgroupReduceWgsl } from '../wgsl';

const WG = 256;
const NONE = 0xffffffff;

/**
 * A kernel with one workgroup of 256 threads per row of `params.R` rows: the Params struct and bindings
 * in `decls`, shared WGSL functions in `lib`, and a `body` that sees `row` and `lid`.
 */
function rowKernel(decls: string, lib: string, body: string): string {
  return `${decls}${WG_INDEX}
${lib}

${perWorkgroupMain(WG, 'row', 'params.R', body)}`;
}

function rowsOf(x: GpuTensor, what: string): [number, number] {
  expectF32(x, `${what}: logits`);
  const V = x.shape[x.shape.length - 1] ?? 0;
  if (V === 0) throw new Error(`${what}: empty rows`);
  return [numel(x.shape) / V, V];
}

/**
 * Row statistics of x (a binding the kernel declares) scaled by inv_t, for a workgroup of 256 threads
 * per row starting at element `base`: row_max, row_sum_exp (of x·inv_t - m) and row_lse (their
 * log-sum-exp). Shared with logSoftmaxBackward (backward/cross-entropy.ts).
 */
export const ROW_LSE_WGSL = /* wgsl */ `
${workgroupReduceWgsl(WG)}
fn row_max(lid: u32, base: u32, V: u32, inv_t: f32) -> f32 {
  var m = -3.4e38;
  for (var i = lid; i < V; i += ${WG}u) { m = max(m, x[base + i] * inv_t); }
  return reduce_max(lid, m);
}
fn row_sum_exp(lid: u32, base: u32, V: u32, inv_t: f32, m: f32) -> f32 {
  var s = 0.0;
  for (var i = lid; i < V; i += ${WG}u) { s += exp(x[base + i] * inv_t - m); }
  return reduce_sum(lid, s);
}
fn row_lse(lid: u32, base: u32, V: u32, inv_t: f32) -> f32 {
  let m = row_max(lid, base, V, inv_t);
  return m + log(row_sum_exp(lid, base, V, inv_t, m));
}`;

/**
 * Best (value, index) over a workgroup, order value desc then index asc, NONE = no candidate:
 * reduce_best(lid, v, i) leaves the winner of all threads' (v, i) in rv[0], ri[0] for every thread.
 */
const BEST_WGSL = /* wgsl */ `
const NONE = ${NONE}u;
var<workgroup> rv: array<f32, ${WG}>;
var<workgroup> ri: array<u32, ${WG}>;

// Is (v, i) better than (bv, bi)? Larger value wins, equal values go to the lower index.
fn better(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  if (i == NONE) { return false; }
  if (bi == NONE) { return true; }
  return v > bv || (v == bv && i < bi);
}

fn reduce_best(lid: u32, v: f32, i: u32) {
  rv[lid] = v;
  ri[lid] = i;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s && better(rv[lid + s], ri[lid + s], rv[lid], ri[lid])) { rv[lid] = rv[lid + s]; ri[lid] = ri[lid + s]; }
    workgroupBarrier();
  }
}`;

// ---------------------------------------------------------------------------------------------
// argmax

const ARGMAX_WGSL = rowKernel(/* wgsl */ `
struct Params { R: u32, V: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
`, BEST_WGSL, /* wgsl */ `
  let base = row * params.V;
  var bv = 0.0;
  var bi = NONE;
  for (var i = lid; i < params.V; i += ${WG}u) {
    let v = x[base + i];
    if (v == v && better(v, i, bv, bi)) { bv = v; bi = i; } // v == v skips NaN
  }
  reduce_best(lid, bv, bi);
  if (lid == 0u) { out[row] = select(ri[0], 0u, ri[0] == NONE); }
`);

/** Index of the largest logit per row (u32 [R]); ties -> lowest index; an all-NaN row gives 0. */
export function argmax(rt: GpuRuntime, logits: GpuTensor): GpuTensor {
  const [R, V] = rowsOf(logits, 'argmax');
  const out = rt.empty([R], 'u32');
  rt.dispatch({ code: ARGMAX_WGSL, bindings: ['uniform', 'read', 'write'], label: 'argmax' }, [{ u32: R }, { u32: V }], [logits.buffer, out.buffer], rt.grid1d(R));
  return out;
}

export function argmaxReference(logits: Float32Array, V: number): Uint32Array {
  const R = logits.length / V;
  const out = new Uint32Array(R);
  for (let r = 0; r < R; r++) {
    let best = -Infinity;
    let bi = -1;
    for (let i = 0; i < V; i++) {
      const v = logits[r * V + i]!;
      if (!Number.isNaN(v) && (bi < 0 || v > best)) {
        best = v;
        bi = i;
      }
    }
    out[r] = Math.max(0, bi);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// logProbs: logp[r] = x[r, ids[r]] / T - lse[r],  lse[r] = log Σ_i exp(x[r, i] / T)

const LOG_PROBS_WGSL = rowKernel(/* wgsl */ `
struct Params { R: u32, V: u32, inv_t: f32, has_ids: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> logp: array<f32>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
`, ROW_LSE_WGSL, /* wgsl */ `
  let base = row * params.V;
  let total = row_lse(lid, base, params.V, params.inv_t);
  if (lid == 0u) {
    lse[row] = total;
    if (params.has_ids != 0u) {
      let id = ids[row];
      logp[row] = select(-3.4e38, x[base + id] * params.inv_t - total, id < params.V);
    }
  }
`);

/**
 * Log-probability of token ids[r] in row r at `temperature` (default 1), and each row's log-sum-exp.
 * Without ids only lse is computed (logp is then meaningless). An id >= V gives -3.4e38.
 */
export function logProbs(rt: GpuRuntime, logits: GpuTensor, ids: GpuTensor | undefined, options: { temperature?: number } = {}): { logp: GpuTensor; lse: GpuTensor } {
  const [R, V] = rowsOf(logits, 'logProbs');
  if (ids && (ids.dtype !== 'u32' || numel(ids.shape) !== R)) throw new Error(`logProbs: ids must be u32 [${R}]`);
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`logProbs: temperature must be > 0, got ${temperature}`);
  const logp = rt.empty([R]);
  const lse = rt.empty([R]);
  rt.dispatch(
    { code: LOG_PROBS_WGSL, bindings: ['uniform', 'read', 'read', 'write', 'write'], label: 'logProbs' },
    [{ u32: R }, { u32: V }, { f32: 1 / temperature }, { u32: ids ? 1 : 0 }],
    [logits.buffer, (ids ?? logits).buffer, logp.buffer, lse.buffer],
    rt.grid1d(R),
  );
  return { logp, lse };
}

export function logSumExpReference(logits: Float32Array, V: number, temperature = 1): Float64Array {
  return Float64Array.from({ length: logits.length / V }, (_, r) => rowLogSumExp64(logits, V, r, temperature));
}

/** log Σ_i exp(logits[r, i] / T) of row r in float64, max-subtracted (also backward/cross-entropy.ts's references). */
export function rowLogSumExp64(logits: ArrayLike<number>, V: number, r: number, temperature: number): number {
  let m = -Infinity;
  for (let i = 0; i < V; i++) m = Math.max(m, logits[r * V + i]! / temperature);
  let s = 0;
  for (let i = 0; i < V; i++) s += Math.exp(logits[r * V + i]! / temperature - m);
  return m + Math.log(s);
}

export function logProbsReference(logits: Float32Array, V: number, ids: ArrayLike<number>, temperature = 1): Float64Array {
  const lse = logSumExpReference(logits, V, temperature);
  return lse.map((l, r) => logits[r * V + ids[r]!]! / temperature - l);
}

// ---------------------------------------------------------------------------------------------
// softmax / log-softmax over rows

const SOFTMAX_WGSL = rowKernel(/* wgsl */ `
struct Params { R: u32, V: u32, inv_t: f32, log_out: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
`, ROW_LSE_WGSL, /* wgsl */ `
  let base = row * params.V;
  let m = row_max(lid, base, params.V, params.inv_t);
  let s = row_sum_exp(lid, base, params.V, params.inv_t, m);
  let log_s = log(s);
  for (var i = lid; i < params.V; i += ${WG}u) {
    let z = x[base + i] * params.inv_t - m;
    y[base + i] = select(exp(z) / s, z - log_s, params.log_out != 0u);
  }
`);

/** softmax(x / T) per row (or log-softmax with `log: true`); returns a new tensor of x's shape. */
export function softmax(rt: GpuRuntime, x: GpuTensor, options: { temperature?: number; log?: boolean; out?: GpuTensor } = {}): GpuTensor {
  const [R, V] = rowsOf(x, 'softmax');
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`softmax: temperature must be > 0, got ${temperature}`);
  const y = options.out ?? rt.empty(x.shape);
  if (y.buffer === x.buffer) throw new Error('softmax: out must not alias x');
  rt.dispatch(
    { code: SOFTMAX_WGSL, bindings: ['uniform', 'read', 'write'], label: 'softmax' },
    [{ u32: R }, { u32: V }, { f32: 1 / temperature }, { u32: options.log ? 1 : 0 }],
    [x.buffer, y.buffer],
    rt.grid1d(R),
  );
  return y;
}

export function softmaxReference(x: Float32Array, V: number, options: { temperature?: number; log?: boolean } = {}): Float32Array {
  const temperature = options.temperature ?? 1;
  const lse = logSumExpReference(x, V, temperature);
  return x.map((v, i) => {
    const z = v / temperature - lse[Math.floor(i / V)]!;
    return options.log ? z : Math.exp(z);
  });
}

// ---------------------------------------------------------------------------------------------
// topK: k rounds; round r finds the best element strictly after the previous pick in the order
// (value desc, index asc), so no element is picked twice and nothing is written to the row.

const TOPK_WGSL = rowKernel(/* wgsl */ `
struct Params { R: u32, V: u32, k: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> indices: array<u32>;
`, BEST_WGSL, /* wgsl */ `
  let base = row * params.V;
  var pv = 0.0;    // previous pick (value, index); once a round finds nothing (pi = NONE),
  var pi = NONE;   // better(pv, NONE, ..) is false and every later round finds nothing too
  var have_prev = false;
  for (var r = 0u; r < params.k; r++) {
    var bv = 0.0;
    var bi = NONE;
    for (var i = lid; i < params.V; i += ${WG}u) {
      let v = x[base + i];
      // eligible: strictly worse than the previous pick
      if (v == v && (!have_prev || better(pv, pi, v, i)) && better(v, i, bv, bi)) { bv = v; bi = i; }
    }
    reduce_best(lid, bv, bi);
    pv = rv[0];
    pi = ri[0];
    have_prev = true;
    if (lid == 0u) {
      values[row * params.k + r] = select(pv, -3.4e38, pi == NONE);
      indices[row * params.k + r] = pi;
    }
    workgroupBarrier();
  }
`);

/** The k largest logits of each row, sorted (value desc, index asc). Rows with fewer than k non-NaN values pad with index 0xffffffff. */
export function topK(rt: GpuRuntime, logits: GpuTensor, k: number): { values: GpuTensor; indices: GpuTensor } {
  const [R, V] = rowsOf(logits, 'topK');
  if (!Number.isInteger(k) || k < 1) throw new Error(`topK: k must be a positive integer, got ${k}`);
  const values = rt.empty([R, k]);
  const indices = rt.empty([R, k], 'u32');
  rt.dispatch(
    { code: TOPK_WGSL, bindings: ['uniform', 'read', 'write', 'write'], label: 'topK' },
    [{ u32: R }, { u32: V }, { u32: k }],
    [logits.buffer, values.buffer, indices.buffer],
    rt.grid1d(R),
  );
  return { values, indices };
}

export function topKReference(logits: Float32Array, V: number, k: number): { values: Float32Array; indices: Uint32Array } {
  const R = logits.length / V;
  const values = new Float32Array(R * k);
  const indices = new Uint32Array(R * k).fill(NONE);
  for (let r = 0; r < R; r++) {
    const order = Array.from({ length: V }, (_, i) => i)
      .filter((i) => !Number.isNaN(logits[r * V + i]!))
      .sort((a, b) => logits[r * V + b]! - logits[r * V + a]! || a - b);
    for (let j = 0; j < k; j++) {
      const i = order[j];
      values[r * k + j] = i === undefined ? -3.4e38 : logits[r * V + i]!;
      if (i !== undefined) indices[r * k + j] = i;
    }
  }
  return { values, indices };
}

// ---------------------------------------------------------------------------------------------
// JS side of top-p: runs on the k candidates of ONE row (downloaded values, indices, lse).

export interface TopPOptions {
  /** Must match the temperature lse was computed with. 0 means greedy (the first candidate). */
  temperature: number;
  topP: number;
  /** Uniform random number in [0, 1). */
  random: number;
}

/** Draws a token id from the top-p nucleus of the given sorted candidates. */
export function sampleTopP(values: ArrayLike<number>, indices: ArrayLike<number>, lse: number, options: TopPOptions): number {
  const first = indices[0];
  if (first === undefined || first === NONE) throw new Error('sampleTopP: no candidates');
  if (options.temperature === 0) return first;
  const probs: number[] = [];
  let mass = 0;
  for (let j = 0; j < values.length && indices[j] !== NONE; j++) {
    const p = Math.exp(values[j]! / options.temperature - lse);
    probs.push(p);
    mass += p;
    if (mass >= options.topP) break; // smallest prefix reaching top_p (HF keeps the token that crosses it)
  }
  let u = options.random * mass;
  for (let j = 0; j < probs.length; j++) {
    u -= probs[j]!;
    if (u < 0) return indices[j]!;
  }
  return indices[probs.length - 1]!;
}
