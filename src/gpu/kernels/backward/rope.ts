// RoPE backward: the forward (rope.ts) rotates each pair (x[i], x[i + D/2]) by θ = pos · invFreq[i], an
// orthogonal map, so its gradient is the transpose — the rotation by -θ:
//   dx[i]       =  dy[i] cos + dy[i + D/2] sin
//   dx[i + D/2] =  dy[i + D/2] cos - dy[i] sin
// In place, with the forward's layout options (row stride / offset: dq and dk inside a fused dqkv
// gradient). It is rope.ts's kernel with sin negated (rotatePairs, sign -1): the same range reduction
// + polynomials, so forward then backward returns x to within a few ulps.
// Reference: float64 cos/sin of the same f32 angle.

import type { GpuRuntime } from '../../runtime';
import type { GpuTensor } from '../../tensor';
import { rotatePairs, rotatePairs64, type RopeLayout } from '../rope';

/** Rotates the gradient dy in place by -θ (the transpose of rope with the same invFreq and layout). */
export function ropeBackward(rt: GpuRuntime, dy: GpuTensor, invFreq: GpuTensor, layout: RopeLayout): GpuTensor {
  return rotatePairs(rt, dy, invFreq, layout, -1, { fn: 'ropeBackward', x: 'dy' });
}

// ---------------------------------------------------------------------------------------------
// References (float64; on a copy with the same layout).

export function ropeForward64(x: ArrayLike<number>, invFreq: ArrayLike<number>, layout: RopeLayout): Float64Array {
  return rotatePairs64(x, invFreq, layout, 1);
}

export function ropeBackwardReference(dy: ArrayLike<number>, invFreq: ArrayLike<number>, layout: RopeLayout): Float64Array {
  return rotatePairs64(dy, invFreq, layout, -1);
}
