import { describe, expect, it } from 'vitest';
import { packF16, roundToF16 } from '../../tensor';
import { useGpuRuntime } from '../../test-runtime';
import { maxAbsDiff, randn, randomArray, rng } from '../../testing';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';
import { rmsNormBackward, rmsNormBackwardReference, rmsNormForward64 } from './rmsnorm';

describe('rmsNormBackward', () => {
  const gpu = useGpuRuntime();

  it('reference matches finite differences of the float64 forward', () => {
    const random = rng(201);
    const [rows, D] = [3, 5];
    const x = f64(randn(random, rows * D, 2));
    const w = f64(randomArray(random, D, 0.5, 1.5));
    const dy = f64(randn(random, rows * D));
    const want = finiteDifferenceGrad((xx) => dot64(dy, rmsNormForward64(xx, w, 1e-5)), x);
    expect(report('FD', relativeError(rmsNormBackwardReference(x, w, 1e-5, dy), want), 1e-5)).toBeLessThanOrEqual(1e-5);
  });

  it('matches the reference for f32 and f16 weights, and accumulates', async () => {
    const rt = gpu();
    const random = rng(202);
    for (const [rows, D] of [
      [1, 16],
      [3, 67],
      [7, 300],
    ] as [number, number][]) {
      const xHost = randn(random, rows * D, 3);
      const dyHost = randn(random, rows * D);
      const wHost = randomArray(random, D, 0.5, 1.5);
      const prevHost = randn(random, rows * D);
      const x = rt.upload(xHost, [rows, D]);
      const dy = rt.upload(dyHost, [rows, D]);
      for (const dtype of ['f32', 'f16'] as const) {
        const w = dtype === 'f32' ? rt.upload(wHost, [D]) : rt.upload(packF16(wHost), [D], 'f16');
        const want = rmsNormBackwardReference(xHost, dtype === 'f32' ? wHost : roundToF16(wHost), 1e-6, dyHost);
        // |dx| = O(|dy|·inv) with inv ~ 1/3 here; f32 reductions over D terms.
        const tol = 1e-5;
        const dx = rmsNormBackward(rt, x, w, 1e-6, dy);
        expect(report(`${dtype} rows=${rows} D=${D}`, maxAbsDiff(await rt.download(dx), want), tol)).toBeLessThanOrEqual(tol);
        const acc = rt.upload(prevHost, [rows, D]);
        rmsNormBackward(rt, x, w, 1e-6, dy, { out: acc, accumulate: true });
        expect(maxAbsDiff(await rt.download(acc), want.map((v, i) => v + prevHost[i]!))).toBeLessThanOrEqual(2 * tol);
        rt.release(w, dx, acc);
      }
      rt.release(x, dy);
    }
  });
});
