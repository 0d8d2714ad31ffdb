// Causal grouped-query attention backward over a whole sequence (training: no KV cache, past = 0).
// Forward (attention.ts): s_ij = scale · q_i·k_j (j <= i), P = softmax_j(s), O_i = Σ_j P_ij v_j,
// lse_i = log Σ_j exp(s_ij) (the forward writes it). Head h uses kv head h / (H / Hkv).
// Backward, flash-attention style (P is recomputed from q, k and lse, never stored):
//   Δ_i   = Σ_d dO_i ∘ O_i                         (= Σ_j P_ij dP_ij)
//   dP_ij = dO_i · v_j,   dS_ij = P_ij (dP_ij - Δ_i)
//   dq_i  = scale · Σ_j dS_ij k_j
//   dk_j  = scale · Σ_{h in group, i >= j} dS_ij q_i,   dv_j = Σ_{h in group, i >= j} P_ij dO_i
// WGSL has no float atomics, so each output row has one owner and no cross-workgroup sums are needed:
//   kernel dq:   one workgroup (64 threads) per (i, h); keys in blocks of 64, one per thread for the
//                two dot products, then each thread accumulates its D/64 coordinates. Also writes Δ.
//   kernel dkv:  one workgroup per (j, kv head); queries i >= j of every head in the group in blocks
//                of 64, same pattern; reads Δ from the first kernel (dispatches in one pass are
//                ordered for storage writes).
// q, k, v are read through row strides / offsets (views into a fused qkv [T, (H + 2Hkv)·D]), and dq,
// dk, dv are written the same way, so all three can land in one fused dqkv buffer that
// linearTransposed then multiplies by the qkv weight. dk and dv are one binding when they share a
// buffer (WebGPU rejects a buffer bound writable twice in one dispatch), two otherwise.
// O, dO: contiguous [T, H, D]; lse: [T, H]. D <= 256.
// Cost: ~3 recomputed T²·H·D/2 products per kernel, with no tiling of K/V across queries: fine for the
// short sequences trained here, not a flash-attention-speed kernel on a real GPU.
// Reference: float64.

import type { BindingKind, GpuRuntime } from '../../runtime';
import { numel, type GpuTensor } from '../../tensor';
import { expectF32, perWorkgroupMain, WG_INDEX, workgroupReduceWgsl } from '../../wgsl';
import { resolveRows, type RowLayout } from './layout';

const WG = 64;
const MAX_D = 256;

const COMMON = /* wgsl */ `
struct Params {
  T: u32, H: u32, Hkv: u32, D: u32, scale: f32,
  q_stride: u32, q_offset: u32, k_stride: u32, k_offset: u32, v_stride: u32, v_offset: u32,
  dq_stride: u32, dq_offset: u32, dk_stride: u32, dk_offset: u32, dv_stride: u32, dv_offset: u32,
}
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
${WG_INDEX}
const WG = ${WG}u;
const PER_THREAD = ${MAX_D / WG}u; // coordinates owned per thread: d = lid + WG·c
${workgroupReduceWgsl(WG)}`;

const DQ_WGSL = /* wgsl */ `${COMMON}
@group(0) @binding(4) var<storage, read> o: array<f32>;
@group(0) @binding(5) var<storage, read> d_o: array<f32>;
@group(0) @binding(6) var<storage, read> lse: array<f32>;
@group(0) @binding(7) var<storage, read_write> dq: array<f32>;
@group(0) @binding(8) var<storage, read_write> delta: array<f32>;
var<workgroup> qs: array<f32, ${MAX_D}>;  // scale · q_i
var<workgroup> dos: array<f32, ${MAX_D}>; // dO_i
var<workgroup> ds: array<f32, ${WG}>;

${perWorkgroupMain(WG, 'idx', 'params.T * params.H', /* wgsl */ `
  let D = params.D;
  let i = idx / params.H;
  let h = idx % params.H;
  let kvh = h / (params.H / params.Hkv);
  let q_base = params.q_offset + i * params.q_stride + h * D;
  let o_base = idx * D;
  var part = 0.0;
  for (var d = lid; d < D; d += WG) {
    qs[d] = q[q_base + d] * params.scale;
    let g = d_o[o_base + d];
    dos[d] = g;
    part = fma(g, o[o_base + d], part);
  }
  let delta_i = reduce_sum(lid, part); // its barriers also publish qs and dos
  let lse_i = lse[idx];
  let L = i + 1u; // causal: keys 0 .. i
  var acc: array<f32, PER_THREAD>;
  for (var j0 = 0u; j0 < L; j0 += WG) {
    let j = j0 + lid;
    var dsj = 0.0;
    if (j < L) {
      let kb = params.k_offset + j * params.k_stride + kvh * D;
      let vb = params.v_offset + j * params.v_stride + kvh * D;
      var s = 0.0;
      var dp = 0.0;
      for (var d = 0u; d < D; d++) {
        s = fma(qs[d], k[kb + d], s);
        dp = fma(dos[d], v[vb + d], dp);
      }
      dsj = exp(s - lse_i) * (dp - delta_i);
    }
    ds[lid] = dsj;
    workgroupBarrier();
    let count = min(WG, L - j0);
    for (var c = 0u; c < PER_THREAD; c++) {
      let d = lid + WG * c;
      if (d < D) {
        var a = acc[c];
        for (var jj = 0u; jj < count; jj++) { a = fma(ds[jj], k[params.k_offset + (j0 + jj) * params.k_stride + kvh * D + d], a); }
        acc[c] = a;
      }
    }
    workgroupBarrier(); // ds[] is rewritten by the next block
  }
  let dq_base = params.dq_offset + i * params.dq_stride + h * D;
  for (var c = 0u; c < PER_THREAD; c++) {
    let d = lid + WG * c;
    if (d < D) { dq[dq_base + d] = params.scale * acc[c]; }
  }
  if (lid == 0u) { delta[idx] = delta_i; }
`)}`;

function dkvSource(shared: boolean): string {
  const outputs = shared
    ? `@group(0) @binding(7) var<storage, read_write> dkv: array<f32>;
fn write_dk(i: u32, x: f32) { dkv[i] = x; }
fn write_dv(i: u32, x: f32) { dkv[i] = x; }`
    : `@group(0) @binding(7) var<storage, read_write> dk: array<f32>;
@group(0) @binding(8) var<storage, read_write> dv: array<f32>;
fn write_dk(i: u32, x: f32) { dk[i] = x; }
fn write_dv(i: u32, x: f32) { dv[i] = x; }`;
  return /* wgsl */ `${COMMON}
@group(0) @binding(4) var<storage, read> d_o: array<f32>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read> delta: array<f32>;
${outputs}
var<workgroup> ks: array<f32, ${MAX_D}>; // k_j
var<workgroup> vs: array<f32, ${MAX_D}>; // v_j
var<workgroup> ps: array<f32, ${WG}>;
var<workgroup> dss: array<f32, ${WG}>;

${perWorkgroupMain(WG, 'idx', 'params.T * params.Hkv', /* wgsl */ `
  let D = params.D;
  let T = params.T;
  let H = params.H;
  let j = idx / params.Hkv;
  let kvh = idx % params.Hkv;
  let group = H / params.Hkv;
  let kb = params.k_offset + j * params.k_stride + kvh * D;
  let vb = params.v_offset + j * params.v_stride + kvh * D;
  for (var d = lid; d < D; d += WG) { ks[d] = k[kb + d]; vs[d] = v[vb + d]; }
  workgroupBarrier();
  var dk_acc: array<f32, PER_THREAD>;
  var dv_acc: array<f32, PER_THREAD>;
  for (var hh = 0u; hh < group; hh++) {
    let h = kvh * group + hh;
    for (var i0 = j; i0 < T; i0 += WG) { // causal: queries j .. T-1 see key j
      let i = i0 + lid;
      var p = 0.0;
      var dsi = 0.0;
      if (i < T) {
        let qb = params.q_offset + i * params.q_stride + h * D;
        let ob = (i * H + h) * D;
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < D; d++) {
          s = fma(q[qb + d], ks[d], s);
          dp = fma(d_o[ob + d], vs[d], dp);
        }
        p = exp(params.scale * s - lse[i * H + h]);
        dsi = p * (dp - delta[i * H + h]);
      }
      ps[lid] = p;
      dss[lid] = dsi;
      workgroupBarrier();
      let count = min(WG, T - i0);
      for (var c = 0u; c < PER_THREAD; c++) {
        let d = lid + WG * c;
        if (d < D) {
          var a = dk_acc[c];
          var b = dv_acc[c];
          for (var ii = 0u; ii < count; ii++) {
            a = fma(dss[ii], q[params.q_offset + (i0 + ii) * params.q_stride + h * D + d], a);
            b = fma(ps[ii], d_o[((i0 + ii) * H + h) * D + d], b);
          }
          dk_acc[c] = a;
          dv_acc[c] = b;
        }
      }
      workgroupBarrier(); // ps[] / dss[] are rewritten by the next block
    }
  }
  let dk_base = params.dk_offset + j * params.dk_stride + kvh * D;
  let dv_base = params.dv_offset + j * params.dv_stride + kvh * D;
  for (var c = 0u; c < PER_THREAD; c++) {
    let d = lid + WG * c;
    if (d < D) {
      write_dk(dk_base + d, params.scale * dk_acc[c]);
      write_dv(dv_base + d, dv_acc[c]);
    }
  }
`)}`;
}

export interface AttentionBackwardArgs {
  /** Forward inputs: q [T, H, D], k and v [T, Hkv, D], each possibly a strided view (see layouts). */
  q: GpuTensor;
  k: GpuTensor;
  v: GpuTensor;
  /** The forward's output, contiguous [T, H, D], and its log-sum-exp [T, H] (attention's `lse`). */
  o: GpuTensor;
  lse: GpuTensor;
  /** Upstream gradient, contiguous [T, H, D]. */
  dO: GpuTensor;
  T: number;
  H: number;
  Hkv: number;
  D: number;
  /** Score scale, default 1/sqrt(D) (must match the forward). */
  scale?: number;
  qLayout?: RowLayout;
  kLayout?: RowLayout;
  vLayout?: RowLayout;
  /** Outputs (overwritten, not accumulated); new contiguous tensors when omitted. May share one buffer. */
  dq?: GpuTensor;
  dk?: GpuTensor;
  dv?: GpuTensor;
  dqLayout?: RowLayout;
  dkLayout?: RowLayout;
  dvLayout?: RowLayout;
}

/** Returns dq [T, H, D], dk and dv [T, Hkv, D] (the given output tensors, or new contiguous ones). */
export function attentionBackward(rt: GpuRuntime, args: AttentionBackwardArgs): { dq: GpuTensor; dk: GpuTensor; dv: GpuTensor } {
  const { q, k, v, o, lse, dO, T, H, Hkv, D, scale = 1 / Math.sqrt(D) } = args;
  for (const [t, what] of [
    [q, 'q'],
    [k, 'k'],
    [v, 'v'],
    [o, 'o'],
    [lse, 'lse'],
    [dO, 'dO'],
  ] as const) expectF32(t, `attentionBackward: ${what}`);
  if (Hkv <= 0 || H % Hkv !== 0) throw new Error(`attentionBackward: H = ${H} is not a multiple of Hkv = ${Hkv}`);
  if (D > MAX_D) throw new Error(`attentionBackward: head size ${D} exceeds ${MAX_D}`);
  if (numel(o.shape) < T * H * D || numel(dO.shape) < T * H * D) throw new Error(`attentionBackward: o and dO must hold [${T}, ${H}, ${D}]`);
  if (numel(lse.shape) < T * H) throw new Error(`attentionBackward: lse must hold [${T}, ${H}]`);
  const qv = resolveRows(q, args.qLayout, T, H * D, 'attentionBackward: q');
  const kv = resolveRows(k, args.kLayout, T, Hkv * D, 'attentionBackward: k');
  const vv = resolveRows(v, args.vLayout, T, Hkv * D, 'attentionBackward: v');
  const dq = args.dq ?? rt.empty([T, H, D]);
  const dk = args.dk ?? rt.empty([T, Hkv, D]);
  const dv = args.dv ?? rt.empty([T, Hkv, D]);
  const dqv = resolveRows(dq, args.dqLayout, T, H * D, 'attentionBackward: dq');
  const dkv = resolveRows(dk, args.dkLayout, T, Hkv * D, 'attentionBackward: dk');
  const dvv = resolveRows(dv, args.dvLayout, T, Hkv * D, 'attentionBackward: dv');
  const inputs = [q, k, v, o, lse, dO].map((t) => t.buffer);
  for (const out of [dq, dk, dv]) if (inputs.includes(out.buffer)) throw new Error('attentionBackward: an output aliases an input');
  if (T === 0) return { dq, dk, dv };
  const params = [
    { u32: T },
    { u32: H },
    { u32: Hkv },
    { u32: D },
    { f32: scale },
    ...[qv, kv, vv, dqv, dkv, dvv].flatMap(([stride, offset]) => [{ u32: stride }, { u32: offset }]),
  ];
  const delta = rt.empty([T, H]);
  rt.dispatch(
    { code: DQ_WGSL, bindings: ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'write', 'write'], label: 'attentionBackward.dq' },
    params,
    [q.buffer, k.buffer, v.buffer, o.buffer, dO.buffer, lse.buffer, dq.buffer, delta.buffer],
    rt.grid1d(T * H),
  );
  const shared = dk.buffer === dv.buffer;
  const bindings: BindingKind[] = ['uniform', 'read', 'read', 'read', 'read', 'read', 'read', 'write'];
  const buffers = [q.buffer, k.buffer, v.buffer, dO.buffer, lse.buffer, delta.buffer, dk.buffer];
  if (!shared) {
    bindings.push('write');
    buffers.push(dv.buffer);
  }
  rt.dispatch({ code: dkvSource(shared), bindings, label: `attentionBackward.dkv${shared ? '.shared' : ''}` }, params, buffers, rt.grid1d(T * Hkv));
  rt.release(delta);
  return { dq, dk, dv };
}

// ---------------------------------------------------------------------------------------------
// References (float64, contiguous q [T, H, D], k and v [T, Hkv, D]).

export interface AttentionDims {
  T: number;
  H: number;
  Hkv: number;
  D: number;
  scale?: number;
}

/** Causal GQA forward in float64: out [T, H, D] and lse [T, H]. */
export function attentionForward64(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, dims: AttentionDims): { out: Float64Array; lse: Float64Array } {
  const { T, H, Hkv, D, scale = 1 / Math.sqrt(D) } = dims;
  const group = H / Hkv;
  const out = new Float64Array(T * H * D);
  const lse = new Float64Array(T * H);
  for (let i = 0; i < T; i++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const s = scores64(q, k, i, h, kvh, dims, scale);
      const m = Math.max(...s);
      let sum = 0;
      for (const x of s) sum += Math.exp(x - m);
      const l = m + Math.log(sum);
      lse[i * H + h] = l;
      for (let j = 0; j <= i; j++) {
        const p = Math.exp(s[j]! - l);
        for (let d = 0; d < D; d++) out[(i * H + h) * D + d]! += p * v[(j * Hkv + kvh) * D + d]!;
      }
    }
  }
  return { out, lse };
}

function scores64(q: ArrayLike<number>, k: ArrayLike<number>, i: number, h: number, kvh: number, dims: AttentionDims, scale: number): Float64Array {
  const { H, Hkv, D } = dims;
  const s = new Float64Array(i + 1);
  for (let j = 0; j <= i; j++) {
    let dot = 0;
    for (let d = 0; d < D; d++) dot += q[(i * H + h) * D + d]! * k[(j * Hkv + kvh) * D + d]!;
    s[j] = dot * scale;
  }
  return s;
}

/**
 * attentionBackward over the fused layout the model uses: q, k and v side by side in each row of one
 * qkv tensor [T, (H + 2·Hkv)·D], and dq, dk, dv written the same way into one dqkv tensor.
 */
export function fusedQkvAttentionBackward(
  rt: GpuRuntime,
  args: { qkv: GpuTensor; o: GpuTensor; lse: GpuTensor; dO: GpuTensor; dqkv: GpuTensor; T: number; H: number; Hkv: number; D: number },
): void {
  const { qkv, dqkv, H, Hkv, D } = args;
  const row = { rowStride: (H + 2 * Hkv) * D };
  const k = { ...row, offset: H * D };
  const v = { ...row, offset: (H + Hkv) * D };
  attentionBackward(rt, { ...args, q: qkv, k: qkv, v: qkv, qLayout: row, kLayout: k, vLayout: v, dq: dqkv, dk: dqkv, dv: dqkv, dqLayout: row, dkLayout: k, dvLayout: v });
}

/** dq, dk, dv in float64 by the textbook softmax backward (P recomputed exactly, no Δ shortcut). */
export function attentionBackwardReference(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dO: ArrayLike<number>,
  dims: AttentionDims,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const { T, H, Hkv, D, scale = 1 / Math.sqrt(D) } = dims;
  const group = H / Hkv;
  const dq = new Float64Array(T * H * D);
  const dk = new Float64Array(T * Hkv * D);
  const dv = new Float64Array(T * Hkv * D);
  for (let i = 0; i < T; i++) {
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / group);
      const s = scores64(q, k, i, h, kvh, dims, scale);
      const m = Math.max(...s);
      let sum = 0;
      for (const x of s) sum += Math.exp(x - m);
      const p = s.map((x) => Math.exp(x - m) / sum);
      const dp = new Float64Array(i + 1);
      for (let j = 0; j <= i; j++) {
        for (let d = 0; d < D; d++) {
          dp[j]! += dO[(i * H + h) * D + d]! * v[(j * Hkv + kvh) * D + d]!;
          dv[(j * Hkv + kvh) * D + d]! += p[j]! * dO[(i * H + h) * D + d]!;
        }
      }
      let pdp = 0;
      for (let j = 0; j <= i; j++) pdp += p[j]! * dp[j]!;
      for (let j = 0; j <= i; j++) {
        const dsj = p[j]! * (dp[j]! - pdp);
        for (let d = 0; d < D; d++) {
          dq[(i * H + h) * D + d]! += scale * dsj * k[(j * Hkv + kvh) * D + d]!;
          dk[(j * Hkv + kvh) * D + d]! += scale * dsj * q[(i * H + h) * D + d]!;
        }
      }
    }
  }
  return { dq, dk, dv };
}
