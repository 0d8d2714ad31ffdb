import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../../test-runtime';
import { maxAbsDiff, randn, randomArray, randomInts, rng } from '../../testing';
import { logProbs } from '../sampling';
import { logProbsForward64, logSoftmaxBackward, logSoftmaxBackwardReference } from './cross-entropy';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';

describe('logSoftmaxBackward', () => {
  const gpu = useGpuRuntime();

  it('reference matches finite differences of the float64 forward', () => {
    const random = rng(101);
    for (const temperature of [1, 0.7]) {
      const [R, V] = [3, 7];
      const x = f64(randn(random, R * V, 2));
      const ids = [2, 9, 6]; // row 1 masked (id >= V)
      const g = f64(randomArray(random, R));
      const want = finiteDifferenceGrad((xx) => dot64(g, logProbsForward64(xx, V, ids, temperature)), x);
      expect(report(`FD T=${temperature}`, relativeError(logSoftmaxBackwardReference(x, V, ids, g, temperature), want), 1e-5)).toBeLessThanOrEqual(1e-5);
    }
  });

  // [R, V]: one row, rows fewer than the workgroup, V below and above 256 threads.
  for (const [R, V] of [
    [1, 33],
    [3, 257],
    [7, 600],
  ] as [number, number][]) {
    it(`R=${R} V=${V}: with and without lse, accumulate, in place, temperature`, async () => {
      const rt = gpu();
      const random = rng(R * 1000 + V);
      const temperature = 0.8;
      const xHost = randn(random, R * V, 4);
      const idsHost = randomInts(random, R, V);
      if (R > 1) idsHost[1] = 0xffffffff; // masked row
      const gHost = randn(random, R);
      const want = logSoftmaxBackwardReference(xHost, V, idsHost, gHost, temperature);
      const x = rt.upload(xHost, [R, V]);
      const ids = rt.upload(idsHost, [R], 'u32');
      const g = rt.upload(gHost, [R]);
      // |dx| <= |g|/T; p = exp(x/T - lse) has f32 error ~ (|x/T| + |lse|)·2^-24·few.
      const tol = 2e-6 * Math.log2(V) * 8;
      const plain = logSoftmaxBackward(rt, x, ids, g, { temperature });
      expect(report(`R=${R} V=${V}`, maxAbsDiff(await rt.download(plain), want), tol)).toBeLessThanOrEqual(tol);
      const { lse, logp } = logProbs(rt, x, ids, { temperature });
      const withLse = logSoftmaxBackward(rt, x, ids, g, { temperature, lse });
      expect(maxAbsDiff(await rt.download(withLse), want)).toBeLessThanOrEqual(tol);
      // Accumulate into the previous result: doubles it.
      logSoftmaxBackward(rt, x, ids, g, { temperature, lse, out: withLse, accumulate: true });
      expect(maxAbsDiff(await rt.download(withLse), want.map((v) => 2 * v))).toBeLessThanOrEqual(2 * tol);
      // In place over the logits (without lse: reductions first, then overwrite).
      const inPlace = logSoftmaxBackward(rt, x, ids, g, { temperature, inPlace: true });
      expect(inPlace.buffer).toBe(x.buffer);
      expect(maxAbsDiff(await rt.download(x), want)).toBeLessThanOrEqual(tol);
      rt.release(x, ids, g, plain, lse, logp, withLse);
    });
  }
});
