import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randn, randomArray, rng } from '../testing';
import { add, addInPlace, addReference, copyRows, copyRowsReference, siluMul, siluMulFused, siluMulReference } from './elementwise';

describe('elementwise', () => {
  const gpu = useGpuRuntime();

  it('add and addInPlace match the reference exactly (one f32 rounding)', async () => {
    const rt = gpu();
    const random = rng(1);
    for (const n of [1, 255, 257, 1000]) {
      const aHost = randomArray(random, n);
      const bHost = randomArray(random, n);
      const a = rt.upload(aHost, [n]);
      const b = rt.upload(bHost, [n]);
      const y = add(rt, a, b);
      expect(Array.from(await rt.download(y))).toEqual(Array.from(addReference(aHost, bHost)));
      addInPlace(rt, a, b);
      expect(Array.from(await rt.download(a))).toEqual(Array.from(addReference(aHost, bHost)));
      rt.release(a, b, y);
    }
  });

  it('siluMul from separate and fused gate/up tensors', async () => {
    const rt = gpu();
    const random = rng(2);
    for (const [T, I] of [
      [1, 5],
      [3, 67],
      [17, 130],
    ] as [number, number][]) {
      const gateHost = randn(random, T * I, 4); // wide range: exercises exp overflow for large -g
      const upHost = randn(random, T * I);
      const want = siluMulReference(gateHost, upHost);
      const gate = rt.upload(gateHost, [T, I]);
      const up = rt.upload(upHost, [T, I]);
      const y1 = siluMul(rt, gate, up);
      const fusedHost = new Float32Array(T * 2 * I);
      for (let t = 0; t < T; t++) {
        fusedHost.set(gateHost.subarray(t * I, t * I + I), t * 2 * I);
        fusedHost.set(upHost.subarray(t * I, t * I + I), t * 2 * I + I);
      }
      const fused = rt.upload(fusedHost, [T, 2 * I]);
      const y2 = siluMulFused(rt, fused);
      // A few f32 ulps of values up to ~40.
      expect(maxAbsDiff(await rt.download(y1), want)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(await rt.download(y2), want)).toBeLessThanOrEqual(1e-5);
      expect(y2.shape).toEqual([T, I]);
      rt.release(gate, up, y1, fused, y2);
    }
  });

  it('copyRows writes a strided block (the K part of a fused qkv into a KV cache at `past`)', async () => {
    const rt = gpu();
    const random = rng(3);
    const [T, H, Hkv, D, past, maxT] = [3, 4, 2, 6, 5, 11];
    const width = (H + 2 * Hkv) * D;
    const qkvHost = randomArray(random, T * width);
    const cacheHost = randomArray(random, maxT * Hkv * D);
    const qkv = rt.upload(qkvHost, [T, width]);
    const cache = rt.upload(cacheHost, [maxT, Hkv, D]);
    const layout = { rows: T, width: Hkv * D, srcStride: width, srcOffset: H * D, dstStride: Hkv * D, dstOffset: past * Hkv * D };
    copyRows(rt, qkv, cache, layout);
    expect(Array.from(await rt.download(cache))).toEqual(Array.from(copyRowsReference(qkvHost, cacheHost, layout)));
    rt.release(qkv, cache);
  });
});
