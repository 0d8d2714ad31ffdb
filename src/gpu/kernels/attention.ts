// Causal grouped-query attention against a KV cache.
//   q      [T, H, D]  (read with a row stride / offset, so it can sit inside a fused qkv buffer)
//   kCache [maxT, Hkv, D], vCache [maxT, Hkv, D]; rows 0 .. past+T-1 are filled (this step's keys and
//          values already written, e.g. with copyRows)
//   out    [T, H, D]; query t (absolute position past+t) attends to keys 0 .. past+t;
//          head h reads kv head h / (H / Hkv); scores scaled by 1/sqrt(D) (or `scale`).
//   lse    [T, H] (optional): the log-sum-exp of each score row, what a flash-attention backward needs.
//
// One workgroup of 64 threads per (t, h). Keys are visited in blocks of 64 (one per thread) with the
// online, max-subtracted softmax: running max m, running sum l, and the output accumulator o (each
// thread owns D/64 of its coordinates) are rescaled by exp(m_old - m_new) whenever the max grows, so
// exp never overflows and the cache length is unbounded. D <= 256.
// On CPU adapters (SwiftShader, lavapipe) barriers cost far more than arithmetic, so there each query
// row is one invocation running the same online softmax over all its keys alone, with q and o in
// registers as vec4s (D a multiple of 4): no shared memory, no barriers.
// Reference: float64, the textbook two-pass softmax.

import { isFallbackDevice } from '../device';
import type { GpuRuntime } from '../runtime';
import { numel, type GpuTensor } from '../tensor';
import { expectF32, perWorkgroupMain, WG_INDEX, workgroupReduceWgsl } from '../wgsl';

const WG = 64;
const MAX_D = 256;
const NEG = -1e30; // "minus infinity" that keeps exp() and subtraction finite

/** Both variants' bindings; the per-query one reads the caches as vec4s. */
const bindingsWgsl = (kv: 'f32' | 'vec4f'): string => /* wgsl */ `
struct Params { T: u32, H: u32, Hkv: u32, D: u32, past: u32, q_stride: u32, q_offset: u32, scale: f32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k_cache: array<${kv}>;
@group(0) @binding(3) var<storage, read> v_cache: array<${kv}>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> lse: array<f32>;
${WG_INDEX}`;

const ATTENTION_WGSL = /* wgsl */ `
${bindingsWgsl('f32')}

const WG = ${WG}u;
const PER_THREAD = ${MAX_D / WG}u; // output coordinates owned per thread: d = lid + WG·c
var<workgroup> qs: array<f32, ${MAX_D}>;
var<workgroup> p: array<f32, ${WG}>;
${workgroupReduceWgsl(WG)}

${perWorkgroupMain(WG, 'idx', 'params.T * params.H', /* wgsl */ `
  let D = params.D;
  let t = idx / params.H;
  let h = idx % params.H;
  let kvh = h / (params.H / params.Hkv);
  let kv_stride = params.Hkv * D;
  let kv_base = kvh * D;

  let q_base = params.q_offset + t * params.q_stride + h * D;
  for (var d = lid; d < D; d += WG) { qs[d] = q[q_base + d] * params.scale; }
  workgroupBarrier();

  let L = params.past + t + 1u; // causal: keys 0 .. past + t
  var m = ${NEG};
  var l = 0.0;
  var o: array<f32, PER_THREAD>;
  for (var j0 = 0u; j0 < L; j0 += WG) {
    // Score of key j0 + lid.
    let j = j0 + lid;
    var s = ${NEG};
    if (j < L) {
      var dot = 0.0;
      let kb = j * kv_stride + kv_base;
      for (var d = 0u; d < D; d++) { dot = fma(qs[d], k_cache[kb + d], dot); }
      s = dot;
    }
    let m_new = max(m, reduce_max(lid, s));
    let pj = select(0.0, exp(s - m_new), j < L);
    p[lid] = pj;
    let corr = exp(m - m_new);
    l = l * corr + reduce_sum(lid, pj); // reduce_sum's barriers also publish p[]
    let count = min(WG, L - j0);
    for (var c = 0u; c < PER_THREAD; c++) {
      let d = lid + WG * c;
      if (d < D) {
        var acc = o[c] * corr;
        for (var jj = 0u; jj < count; jj++) { acc = fma(p[jj], v_cache[(j0 + jj) * kv_stride + kv_base + d], acc); }
        o[c] = acc;
      }
    }
    m = m_new;
    workgroupBarrier(); // p[] is rewritten by the next block
  }
  let out_base = (t * params.H + h) * D;
  for (var c = 0u; c < PER_THREAD; c++) {
    let d = lid + WG * c;
    if (d < D) { out[out_base + d] = o[c] / l; }
  }
  if (lid == 0u) { lse[idx] = m + log(l); }
`)}`;

/** The per-query variant for head size D (a multiple of 4; a pipeline per D). */
function perQueryWgsl(D: number): string {
  const D4 = D / 4;
  return /* wgsl */ `
${bindingsWgsl('vec4f')}

const D4 = ${D4}u;

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let idx = wg_index(wid, nwg) * ${WG}u + lid;
  if (idx >= params.T * params.H) { return; }
  let t = idx / params.H;
  let h = idx % params.H;
  let kv_stride = params.Hkv * D4;
  let kv_base = (h / (params.H / params.Hkv)) * D4;
  let q_base = params.q_offset + t * params.q_stride + h * ${D}u;
  var qv: array<vec4f, D4>;
  var o: array<vec4f, D4>;
  for (var c = 0u; c < D4; c++) {
    let b = q_base + 4u * c;
    qv[c] = vec4f(q[b], q[b + 1u], q[b + 2u], q[b + 3u]) * params.scale;
    o[c] = vec4f(0.0);
  }
  var m = ${NEG};
  var l = 0.0;
  let L = params.past + t + 1u;
  for (var j = 0u; j < L; j++) {
    let kb = j * kv_stride + kv_base;
    var acc = vec4f(0.0);
    for (var c = 0u; c < D4; c++) { acc = fma(qv[c], k_cache[kb + c], acc); }
    let s = acc.x + acc.y + acc.z + acc.w;
    if (s > m) { // a new max: rescale what is accumulated so far
      let corr = exp(m - s);
      l *= corr;
      for (var c = 0u; c < D4; c++) { o[c] *= corr; }
      m = s;
    }
    let p = exp(s - m);
    l += p;
    for (var c = 0u; c < D4; c++) { o[c] = fma(vec4f(p), v_cache[kb + c], o[c]); }
  }
  let out_base = (t * params.H + h) * ${D}u;
  for (var c = 0u; c < D4; c++) {
    let r = o[c] / l;
    let b = out_base + 4u * c;
    out[b] = r.x; out[b + 1u] = r.y; out[b + 2u] = r.z; out[b + 3u] = r.w;
  }
  lse[idx] = m + log(l);
}`;
}

export interface AttentionArgs {
  /** Queries: contiguous [T, H, D] unless qRowStride / qOffset say otherwise. */
  q: GpuTensor;
  kCache: GpuTensor;
  vCache: GpuTensor;
  T: number;
  H: number;
  Hkv: number;
  D: number;
  /** Tokens already in the cache before these T queries. */
  past: number;
  qRowStride?: number;
  qOffset?: number;
  /** Score scale, default 1/sqrt(D). */
  scale?: number;
  out?: GpuTensor;
  /** If given, receives log-sum-exp of each (t, h) score row, [T, H]. */
  lse?: GpuTensor;
  /** Force a variant (tests, benchmarks); by default 'per-query' on CPU adapters when D % 4 == 0. */
  kernel?: 'workgroup' | 'per-query';
}

export function attention(rt: GpuRuntime, args: AttentionArgs): GpuTensor {
  const { q, kCache, vCache, T, H, Hkv, D, past, qRowStride = H * D, qOffset = 0, scale = 1 / Math.sqrt(D) } = args;
  for (const [t, what] of [
    [q, 'q'],
    [kCache, 'kCache'],
    [vCache, 'vCache'],
  ] as const) expectF32(t, `attention: ${what}`);
  if (H % Hkv !== 0) throw new Error(`attention: H = ${H} is not a multiple of Hkv = ${Hkv}`);
  if (D > MAX_D) throw new Error(`attention: head size ${D} exceeds ${MAX_D}`);
  const filled = (past + T) * Hkv * D;
  if (numel(kCache.shape) < filled || numel(vCache.shape) < filled) {
    throw new Error(`attention: the KV cache holds fewer than past + T = ${past + T} positions`);
  }
  if (T > 0 && qOffset + (T - 1) * qRowStride + H * D > numel(q.shape)) throw new Error('attention: q layout reaches past the end of q');
  const out = args.out ?? rt.empty([T, H, D]);
  const lse = args.lse ?? rt.empty([T, H]);
  const kernel = args.kernel ?? (D % 4 === 0 && isFallbackDevice(rt.device) ? 'per-query' : 'workgroup');
  if (kernel === 'per-query' && D % 4 !== 0) throw new Error(`attention: the per-query kernel needs a head size divisible by 4, got ${D}`);
  const perQuery = kernel === 'per-query';
  rt.dispatch(
    perQuery
      ? { code: perQueryWgsl(D), bindings: ['uniform', 'read', 'read', 'read', 'write', 'write'], label: `attention-per-query-${D}` }
      : { code: ATTENTION_WGSL, bindings: ['uniform', 'read', 'read', 'read', 'write', 'write'], label: 'attention' },
    [{ u32: T }, { u32: H }, { u32: Hkv }, { u32: D }, { u32: past }, { u32: qRowStride }, { u32: qOffset }, { f32: scale }],
    [q.buffer, kCache.buffer, vCache.buffer, out.buffer, lse.buffer],
    rt.grid1d(perQuery ? Math.ceil((T * H) / WG) : T * H),
  );
  if (!args.lse) rt.release(lse);
  return out;
}

/** q contiguous [T, H, D]; caches [>= past+T, Hkv, D]. Returns out [T, H, D] and lse [T, H]. */
export function attentionReference(
  q: Float32Array,
  kCache: Float32Array,
  vCache: Float32Array,
  dims: { T: number; H: number; Hkv: number; D: number; past: number; scale?: number },
): { out: Float32Array; lse: Float32Array } {
  const { T, H, Hkv, D, past, scale = 1 / Math.sqrt(D) } = dims;
  const out = new Float32Array(T * H * D);
  const lse = new Float32Array(T * H);
  const group = H / Hkv;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const L = past + t + 1;
      const scores = new Float64Array(L);
      for (let j = 0; j < L; j++) {
        let dot = 0;
        for (let d = 0; d < D; d++) dot += q[(t * H + h) * D + d]! * kCache[(j * Hkv + kvh) * D + d]!;
        scores[j] = dot * scale;
      }
      const max = Math.max(...scores);
      let sum = 0;
      for (let j = 0; j < L; j++) sum += Math.exp(scores[j]! - max);
      lse[t * H + h] = max + Math.log(sum);
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j < L; j++) acc += Math.exp(scores[j]! - max) * vCache[(j * Hkv + kvh) * D + d]!;
        out[(t * H + h) * D + d] = acc / sum;
      }
    }
  }
  return { out, lse };
}
