// Rotary position embedding, rotate-half layout (HF Qwen2 / Llama): for each head vector of size D and
// i < D/2, the pair (x[i], x[i + D/2]) is rotated by angle = pos · invFreq[i]:
//   x'[i]       = x[i] cos - x[i + D/2] sin
//   x'[i + D/2] = x[i + D/2] cos + x[i] sin
// In place on x [T, H, D] read with a row stride and element offset, so q and k can be rotated right
// inside a fused qkv [T, (H + 2·Hkv)·D] buffer. Position of row t = posOffset + t (`past` in decode).
// The caller supplies invFreq [D/2] (f32), so Llama-3 style scaling is just a different array
// (ropeInvFreq / llama3InvFreq below build them as HF does).
//
// Accuracy: the angle is the f32 product pos·invFreq exactly as HF forms it; cos/sin come from our own
// range reduction + polynomials (see cos_sin), not WGSL's loosely specified built-ins.
// Reference: float64 cos/sin of the same f32 angle.

import type { GpuRuntime } from '../runtime';
import { numel, type GpuTensor } from '../tensor';
import { expectF32, WG_INDEX } from '../wgsl';

const WG = 256;

// Cody–Waite split of π/2 (Cephes): k·PIO2_1 and k·PIO2_2 are exact for the quadrant counts seen here.
const PIO2_1 = 1.5703125;
const PIO2_2 = 4.837512969970703125e-4;
const PIO2_3 = 7.54978995489188216e-8;

// One kernel for both directions: `sign` = +1 rotates by θ (rope), -1 by -θ (ropeBackward in
// backward/rope.ts, the transpose), by negating sin.
function rotateSource(sign: 1 | -1): string {
  return /* wgsl */ `
struct Params { T: u32, H: u32, D: u32, row_stride: u32, offset: u32, pos_offset: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> inv_freq: array<f32>;
${WG_INDEX}

// cos and sin of an f32 angle to ~1 ulp: quadrant reduction, then Cephes' sinf/cosf polynomials on
// [-π/4, π/4]. WGSL's built-in cos/sin may be off by 2^-11 (SwiftShader is, by ~2e-4) and are only
// specified on [-π, π], which positions in the thousands leave far behind.
fn cos_sin(a: f32) -> vec2f {
  let k = round(a * ${2 / Math.PI});
  let r = ((a - k * ${PIO2_1}) - k * ${PIO2_2}) - k * ${PIO2_3};
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = u32(i32(k) & 3);
  if (q == 0u) { return vec2f(c, s); }
  if (q == 1u) { return vec2f(-s, c); }
  if (q == 2u) { return vec2f(-c, -s); }
  return vec2f(s, -c);
}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let half = params.D / 2u;
  let e = wg_index(wid, nwg) * ${WG}u + lid;
  if (e >= params.T * params.H * half) { return; }
  let i = e % half;
  let h = (e / half) % params.H;
  let t = e / (half * params.H);
  let base = params.offset + t * params.row_stride + h * params.D;
  let cs = cos_sin(f32(params.pos_offset + t) * inv_freq[i]);
  let c = cs.x;
  let s = ${sign === 1 ? 'cs.y' : '-cs.y'};
  let x1 = x[base + i];
  let x2 = x[base + i + half];
  x[base + i] = x1 * c - x2 * s;
  x[base + i + half] = x2 * c + x1 * s;
}`;
}

export interface RopeLayout {
  /** Rows (tokens) and heads to rotate, and the head size D (even). */
  T: number;
  H: number;
  D: number;
  /** Elements between consecutive tokens (default H·D, a contiguous [T, H, D] tensor). */
  rowStride?: number;
  /** Element offset of head 0 of token 0 (e.g. H·D for the k part of a fused qkv). */
  offset?: number;
  /** Position of token 0 (the number of tokens already in the KV cache). */
  posOffset: number;
}

/** Rotates x in place; invFreq is an f32 tensor of D/2 inverse frequencies. */
export function rope(rt: GpuRuntime, x: GpuTensor, invFreq: GpuTensor, layout: RopeLayout): GpuTensor {
  return rotatePairs(rt, x, invFreq, layout, 1, { fn: 'rope', x: 'x' });
}

/**
 * rope (sign +1) and ropeBackward (sign -1, backward/rope.ts): checks the layout and rotates each pair
 * of x in place by sign·θ. `names` only words the errors and the dispatch label.
 */
export function rotatePairs(rt: GpuRuntime, x: GpuTensor, invFreq: GpuTensor, layout: RopeLayout, sign: 1 | -1, names: { fn: string; x: string }): GpuTensor {
  const what = names.fn;
  expectF32(x, `${what}: ${names.x}`);
  expectF32(invFreq, `${what}: invFreq`);
  const { T, H, D, rowStride = H * D, offset = 0, posOffset } = layout;
  if (D % 2 !== 0) throw new Error(`${what}: head size D = ${D} must be even`);
  if (numel(invFreq.shape) !== D / 2) throw new Error(`${what}: invFreq has ${numel(invFreq.shape)} values, expected D/2 = ${D / 2}`);
  if (T > 0 && offset + (T - 1) * rowStride + H * D > numel(x.shape)) throw new Error(`${what}: layout reaches past the end of ${names.x}`);
  const n = (T * H * D) / 2;
  rt.dispatch(
    { code: rotateSource(sign), bindings: ['uniform', 'write', 'read'], label: what },
    [{ u32: T }, { u32: H }, { u32: D }, { u32: rowStride }, { u32: offset }, { u32: posOffset }],
    [x.buffer, invFreq.buffer],
    rt.grid1d(Math.ceil(n / WG)),
  );
  return x;
}

/** HF's default inverse frequencies in f32: 1 / theta^(2i/D). */
export function ropeInvFreq(D: number, theta: number): Float32Array {
  return Float32Array.from({ length: D / 2 }, (_, i) => Math.fround(1 / Math.fround(theta ** Math.fround((2 * i) / D))));
}

/** Llama-3.x rope scaling (HF `_compute_llama3_parameters`) applied to default inverse frequencies. */
export function llama3InvFreq(
  invFreq: Float32Array,
  scaling: { factor: number; lowFreqFactor: number; highFreqFactor: number; originalMaxPositionEmbeddings: number },
): Float32Array {
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: oldLen } = scaling;
  const lowFreqWavelen = oldLen / lowFreqFactor;
  const highFreqWavelen = oldLen / highFreqFactor;
  return invFreq.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) return f;
    if (wavelen > lowFreqWavelen) return f / factor;
    const smooth = (oldLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}

/** Reference on a copy of x (same layout arguments). */
export function ropeReference(x: Float32Array, invFreq: Float32Array, layout: RopeLayout): Float32Array {
  return Float32Array.from(rotatePairs64(x, invFreq, layout, 1));
}

/** float64 rotation by sign·θ on a copy of x (cos/sin of the same f32 angle as the kernel); backward/rope.ts uses -1. */
export function rotatePairs64(x: ArrayLike<number>, invFreq: ArrayLike<number>, layout: RopeLayout, sign: 1 | -1): Float64Array {
  const { T, H, D, rowStride = H * D, offset = 0, posOffset } = layout;
  const out = Float64Array.from(x);
  const half = D / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      const base = offset + t * rowStride + h * D;
      for (let i = 0; i < half; i++) {
        const angle = Math.fround((posOffset + t) * invFreq[i]!);
        const c = Math.cos(angle);
        const s = sign * Math.sin(angle);
        const x1 = x[base + i]!;
        const x2 = x[base + i + half]!;
        out[base + i] = x1 * c - x2 * s;
        out[base + i + half] = x2 * c + x1 * s;
      }
    }
  }
  return out;
}
