import { describe, expect, it } from 'vitest';
import { packF16, roundToF16 } from '../tensor';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randn, randomArray, rng } from '../testing';
import { rmsNorm, rmsNormReference } from './rmsnorm';

describe('rmsNorm', () => {
  const gpu = useGpuRuntime();

  for (const perRow of [false, true])
  it(`${perRow ? 'one invocation per row' : 'a workgroup per row'}: matches the reference for f32 and f16 weights`, async () => {
    const rt = gpu();
    const random = rng(4);
    for (const [rows, D] of [
      [1, 8],
      [3, 67],
      [17, 300],
      [2, 1000],
      [130, 64], // several per-row workgroups, a ragged last one
    ] as [number, number][]) {
      const xHost = randn(random, rows * D, 3);
      const wHost = randomArray(random, D, 0.5, 1.5);
      const x = rt.upload(xHost, [rows, D]);
      for (const dtype of ['f32', 'f16'] as const) {
        const w = dtype === 'f32' ? rt.upload(wHost, [D]) : rt.upload(packF16(wHost), [D], 'f16');
        const want = rmsNormReference(xHost, dtype === 'f32' ? wHost : roundToF16(wHost), 1e-6);
        const y = rmsNorm(rt, x, w, 1e-6, undefined, perRow);
        // Outputs are O(1..5); f32 reduction and rsqrt give ~1e-6 relative error.
        expect(maxAbsDiff(await rt.download(y), want), `${dtype} rows=${rows} D=${D}`).toBeLessThanOrEqual(1e-5);
        rt.release(w, y);
      }
      rt.release(x);
    }
  });
});
