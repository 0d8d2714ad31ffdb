import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randomArray, rng } from '../testing';
import { loraAdd, loraReference } from './lora';

describe('lora', () => {
  const gpu = useGpuRuntime();

  for (const [M, K, N, r] of [
    [1, 64, 67, 8],
    [3, 96, 130, 4],
    [17, 40, 5, 16],
  ] as [number, number, number, number][]) {
    it(`y += scale · (x A^T) B^T for M=${M} K=${K} N=${N} r=${r}`, async () => {
      const rt = gpu();
      const random = rng(M + K + N);
      const xHost = randomArray(random, M * K);
      const aHost = randomArray(random, r * K);
      const bHost = randomArray(random, N * r);
      const yHost = randomArray(random, M * N);
      const x = rt.upload(xHost, [M, K]);
      const a = rt.upload(aHost, [r, K]);
      const b = rt.upload(bHost, [N, r]);
      const y = rt.upload(yHost, [M, N]);
      loraAdd(rt, x, a, b, 2, y);
      const want = loraReference(xHost, aHost, bHost, 2, yHost, { M, K, N, r });
      // Two chained f32 matmuls: error of the first (~1e-5·sqrt(K)) is amplified by |B| row sums (~r/2) and scale.
      expect(maxAbsDiff(await rt.download(y), want)).toBeLessThanOrEqual(1e-5 * Math.sqrt(K) * r);
      rt.release(x, a, b, y);
    });
  }
});
