// RoPE backward: the forward (rope.ts) rotates each pair (x[i], x[i + D/2]) by θ = pos · invFreq[i], an
// orthogonal map, so its gradient is the transpose — the rotation by -θ:
//   dx[i]       =  dy[i] cos + dy[i + D/2] sin
//   dx[i + D/2] =  dy[i + D/2] cos - dy[i] sin
// In place, with the forward's layout options (row stride / offset: dq and dk inside a fused dqkv
// gradient). cos/sin come from the same range reduction + polynomials as the forward (copied: rope.ts
// keeps its WGSL private), so forward then backward returns x to within a few ulps.
// Reference: float64 cos/sin of the same f32 angle.

import type { GpuRuntime } from '../../runtime';
import { numel, type GpuTensor } from '../../tensor';
import { expectF32, WG_INDEX } from '../../wgsl';
import type { RopeLayout } from '../rope';

const WG = 256;
const PIO2_1 = 1.5703125;
const PIO2_2 = 4.837512969970703125e-4;
const PIO2_3 = 7.54978995489188216e-8;

const ROPE_BACKWARD_WGSL = /* wgsl */ `
struct Params { T: u32, H: u32, D: u32, row_stride: u32, offset: u32, pos_offset: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> inv_freq: array<f32>;
${WG_INDEX}

// Same as rope.ts: cos and sin of an f32 angle to ~1 ulp (Cody–Waite quadrant reduction, Cephes polynomials).
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
  let s = cs.y;
  let g1 = x[base + i];
  let g2 = x[base + i + half];
  x[base + i] = g1 * c + g2 * s;
  x[base + i + half] = g2 * c - g1 * s;
}`;

/** Rotates the gradient dy in place by -θ (the transpose of rope with the same invFreq and layout). */
export function ropeBackward(rt: GpuRuntime, dy: GpuTensor, invFreq: GpuTensor, layout: RopeLayout): GpuTensor {
  expectF32(dy, 'ropeBackward: dy');
  expectF32(invFreq, 'ropeBackward: invFreq');
  const { T, H, D, rowStride = H * D, offset = 0, posOffset } = layout;
  if (D % 2 !== 0) throw new Error(`ropeBackward: head size D = ${D} must be even`);
  if (numel(invFreq.shape) !== D / 2) throw new Error(`ropeBackward: invFreq has ${numel(invFreq.shape)} values, expected D/2 = ${D / 2}`);
  if (T > 0 && offset + (T - 1) * rowStride + H * D > numel(dy.shape)) throw new Error('ropeBackward: layout reaches past the end of dy');
  const n = (T * H * D) / 2;
  rt.dispatch(
    { code: ROPE_BACKWARD_WGSL, bindings: ['uniform', 'write', 'read'], label: 'ropeBackward' },
    [{ u32: T }, { u32: H }, { u32: D }, { u32: rowStride }, { u32: offset }, { u32: posOffset }],
    [dy.buffer, invFreq.buffer],
    rt.grid1d(Math.ceil(n / WG)),
  );
  return dy;
}

// ---------------------------------------------------------------------------------------------
// References (float64; `sign` = +1 forward, -1 backward, on a copy with the same layout).

function rotate64(x: ArrayLike<number>, invFreq: ArrayLike<number>, layout: RopeLayout, sign: 1 | -1): Float64Array {
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

export function ropeForward64(x: ArrayLike<number>, invFreq: ArrayLike<number>, layout: RopeLayout): Float64Array {
  return rotate64(x, invFreq, layout, 1);
}

export function ropeBackwardReference(dy: ArrayLike<number>, invFreq: ArrayLike<number>, layout: RopeLayout): Float64Array {
  return rotate64(dy, invFreq, layout, -1);
}
