import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../../test-runtime';
import { maxAbsDiff, randn, rng } from '../../testing';
import { rope, ropeInvFreq, type RopeLayout } from '../rope';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';
import { ropeBackward, ropeBackwardReference, ropeForward64 } from './rope';

describe('ropeBackward', () => {
  const gpu = useGpuRuntime();

  it('reference matches finite differences of the float64 forward (strided layout)', () => {
    const random = rng(401);
    const layout: RopeLayout = { T: 3, H: 2, D: 4, rowStride: 11, offset: 2, posOffset: 5 };
    const invFreq = ropeInvFreq(4, 10000);
    const x = f64(randn(random, 2 + 2 * 11 + 8 + 1));
    const w = f64(randn(random, x.length));
    const want = finiteDifferenceGrad((xx) => dot64(w, ropeForward64(xx, invFreq, layout)), x);
    expect(report('FD', relativeError(ropeBackwardReference(w, invFreq, layout), want), 1e-5)).toBeLessThanOrEqual(1e-5);
  });

  it('contiguous and inside a fused dqkv buffer; backward undoes forward', async () => {
    const rt = gpu();
    const random = rng(402);
    const D = 16;
    const invFreq = rt.upload(ropeInvFreq(D, 1e6), [D / 2]);
    const invHost = ropeInvFreq(D, 1e6);
    for (const [T, H, Hkv, posOffset] of [
      [1, 4, 2, 0],
      [5, 4, 2, 3],
      [13, 2, 2, 1000],
    ] as [number, number, number, number][]) {
      const width = (H + 2 * Hkv) * D;
      const host = randn(random, T * width);
      const x = rt.upload(host, [T, width]);
      // Rotate the "dk" part of a fused [T, (H + 2Hkv)·D] gradient; everything else must stay untouched.
      const layout: RopeLayout = { T, H: Hkv, D, rowStride: width, offset: H * D, posOffset };
      ropeBackward(rt, x, invFreq, layout);
      const want = ropeBackwardReference(host, invHost, layout);
      const got = await rt.download(x);
      // Rotations of N(0,1) values: |dx| <~ 4, cos/sin within ~1 ulp.
      expect(report(`T=${T} H=${Hkv} pos=${posOffset}`, maxAbsDiff(got, want), 5e-6)).toBeLessThanOrEqual(5e-6);
      // Round trip: rope(ropeBackward(x)) = x.
      rope(rt, x, invFreq, layout);
      expect(maxAbsDiff(await rt.download(x), host)).toBeLessThanOrEqual(5e-6);
      rt.release(x);
    }
    rt.release(invFreq);
  });
});
