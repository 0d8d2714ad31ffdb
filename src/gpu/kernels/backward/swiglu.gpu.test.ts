import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../../test-runtime';
import { maxAbsDiff, randn, rng } from '../../testing';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';
import { siluMulBackward, siluMulBackwardReference, siluMulForward64, siluMulFusedBackward } from './swiglu';

describe('siluMulBackward', () => {
  const gpu = useGpuRuntime();

  it('reference matches finite differences of the float64 forward', () => {
    const random = rng(501);
    const g = f64(randn(random, 12, 3));
    const u = f64(randn(random, 12));
    const w = f64(randn(random, 12));
    const got = siluMulBackwardReference(g, u, w);
    expect(report('FD dg', relativeError(got.dGate, finiteDifferenceGrad((x) => dot64(w, siluMulForward64(x, u)), g)), 1e-5)).toBeLessThanOrEqual(1e-5);
    expect(report('FD du', relativeError(got.dUp, finiteDifferenceGrad((x) => dot64(w, siluMulForward64(g, x)), u)), 1e-5)).toBeLessThanOrEqual(1e-5);
  });

  for (const [rows, I] of [
    [1, 33],
    [3, 257],
    [7, 5],
  ] as [number, number][]) {
    it(`rows=${rows} I=${I}: fused [rows, 2I] and separate layouts`, async () => {
      const rt = gpu();
      const random = rng(rows * 1000 + I);
      const guHost = randn(random, rows * 2 * I, 4);
      guHost[0] = -200; // e^-g overflows: gradients must be 0, not NaN
      const dhHost = randn(random, rows * I);
      const gHost = new Float32Array(rows * I);
      const uHost = new Float32Array(rows * I);
      for (let t = 0; t < rows; t++) {
        gHost.set(guHost.subarray(t * 2 * I, t * 2 * I + I), t * I);
        uHost.set(guHost.subarray(t * 2 * I + I, (t + 1) * 2 * I), t * I);
      }
      const want = siluMulBackwardReference(gHost, uHost, dhHost);
      const wantFused = new Float64Array(rows * 2 * I);
      for (let t = 0; t < rows; t++) {
        wantFused.set(want.dGate.subarray(t * I, (t + 1) * I), t * 2 * I);
        wantFused.set(want.dUp.subarray(t * I, (t + 1) * I), t * 2 * I + I);
      }
      const gu = rt.upload(guHost, [rows, 2 * I]);
      const dh = rt.upload(dhHost, [rows, I]);
      // |g| up to ~15, |u|, |dh| ~ 1..4: gradients up to ~100; a few f32 ulps relative to the largest
      // (WGSL's exp is allowed 3 + 2|x| ulps).
      const tol = 1e-6 * Math.max(1, ...wantFused.map(Math.abs));
      const fused = siluMulFusedBackward(rt, gu, dh);
      expect(report(`fused rows=${rows} I=${I}`, maxAbsDiff(await rt.download(fused), wantFused), tol)).toBeLessThanOrEqual(tol);
      const g = rt.upload(gHost, [rows, I]);
      const u = rt.upload(uHost, [rows, I]);
      const { dGate, dUp } = siluMulBackward(rt, g, u, dh);
      expect(maxAbsDiff(await rt.download(dGate), want.dGate)).toBeLessThanOrEqual(tol);
      expect(maxAbsDiff(await rt.download(dUp), want.dUp)).toBeLessThanOrEqual(tol);
      // Strided views of the fused buffer in, separate tensors out.
      const s = siluMulBackward(rt, gu, gu, dh, { gateLayout: { rowStride: 2 * I }, upLayout: { rowStride: 2 * I, offset: I } });
      expect(maxAbsDiff(await rt.download(s.dGate), want.dGate)).toBeLessThanOrEqual(tol);
      expect(maxAbsDiff(await rt.download(s.dUp), want.dUp)).toBeLessThanOrEqual(tol);
      rt.release(gu, dh, fused, g, u, dGate, dUp, s.dGate, s.dUp);
    });
  }
});
