import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randn, rng } from '../testing';
import { attention, attentionReference } from './attention';

const KERNELS = ['workgroup', 'per-query'] as const;

describe('attention', () => {
  const gpu = useGpuRuntime();

  // [T, H, Hkv, D, past]: prefill, decode after a long past (> one 64-key block), GQA and MHA.
  const cases: [number, number, number, number, number][] = [
    [1, 1, 1, 8, 0],
    [5, 4, 2, 16, 0],
    [3, 4, 2, 64, 70],
    [1, 4, 4, 32, 130],
    [17, 2, 2, 40, 3],
    [2, 6, 1, 128, 9],
    [70, 2, 1, 12, 5], // several per-query workgroups, a ragged last one
    [1, 4, 2, 16, 600],
  ];

  for (const kernel of KERNELS) for (const [T, H, Hkv, D, past] of cases) {
    it(`${kernel}: T=${T} H=${H} Hkv=${Hkv} D=${D} past=${past}`, async () => {
      const rt = gpu();
      const random = rng(T * 1000 + past);
      const maxT = past + T + 3; // cache larger than needed: unfilled rows must not matter
      const qHost = randn(random, T * H * D);
      const kHost = randn(random, maxT * Hkv * D);
      const vHost = randn(random, maxT * Hkv * D);
      const q = rt.upload(qHost, [T, H, D]);
      const k = rt.upload(kHost, [maxT, Hkv, D]);
      const v = rt.upload(vHost, [maxT, Hkv, D]);
      const lse = rt.empty([T, H]);
      const out = attention(rt, { q, kCache: k, vCache: v, T, H, Hkv, D, past, lse, kernel });
      const want = attentionReference(qHost, kHost, vHost, { T, H, Hkv, D, past });
      // Outputs are convex combinations of N(0,1) values; scores are O(sqrt(D)) / sqrt(D).
      expect(maxAbsDiff(await rt.download(out), want.out)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(await rt.download(lse), want.lse)).toBeLessThanOrEqual(1e-5);
      rt.release(q, k, v, lse, out);
    });
  }

  it('the per-query kernel refuses a head size that is not a multiple of 4', () => {
    const rt = gpu();
    const x = rt.upload(new Float32Array(6), [1, 1, 6]);
    expect(() => attention(rt, { q: x, kCache: x, vCache: x, T: 1, H: 1, Hkv: 1, D: 6, past: 0, kernel: 'per-query' })).toThrow(/divisible by 4, got 6/);
    rt.release(x);
  });

  for (const kernel of KERNELS) it(`${kernel}: reads q from a fused qkv buffer with a row stride`, async () => {
    const rt = gpu();
    const random = rng(77);
    const [T, H, Hkv, D, past] = [3, 4, 2, 8, 2];
    const width = (H + 2 * Hkv) * D;
    const qkvHost = randn(random, T * width);
    const kHost = randn(random, (past + T) * Hkv * D);
    const vHost = randn(random, (past + T) * Hkv * D);
    const qHost = new Float32Array(T * H * D);
    for (let t = 0; t < T; t++) qHost.set(qkvHost.subarray(t * width, t * width + H * D), t * H * D);
    const qkv = rt.upload(qkvHost, [T, width]);
    const k = rt.upload(kHost, [past + T, Hkv, D]);
    const v = rt.upload(vHost, [past + T, Hkv, D]);
    const out = attention(rt, { q: qkv, qRowStride: width, kCache: k, vCache: v, T, H, Hkv, D, past, kernel });
    expect(maxAbsDiff(await rt.download(out), attentionReference(qHost, kHost, vHost, { T, H, Hkv, D, past }).out)).toBeLessThanOrEqual(1e-5);
    rt.release(qkv, k, v, out);
  });

  for (const kernel of KERNELS) it(`${kernel}: stays finite with huge scores (max-subtracted softmax)`, async () => {
    const rt = gpu();
    const [T, H, D] = [2, 1, 4];
    const q = rt.upload(Float32Array.from([100, 100, 100, 100, 100, -100, 100, -100]), [T, H, D]);
    const k = rt.upload(Float32Array.from([100, 100, 100, 100, 100, -100, 100, -100]), [T, H, D]);
    const vHost = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const v = rt.upload(vHost, [T, H, D]);
    const out = await rt.download(attention(rt, { q, kCache: k, vCache: v, T, H, Hkv: 1, D, past: 0, kernel }));
    expect(out.every(Number.isFinite)).toBe(true);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]); // each query matches one key by a huge margin
  });
});
