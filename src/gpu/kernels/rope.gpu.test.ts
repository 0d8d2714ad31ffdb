import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randomArray, rng } from '../testing';
import { llama3InvFreq, rope, ropeInvFreq, ropeReference } from './rope';

describe('rope', () => {
  const gpu = useGpuRuntime();

  it('rotates contiguous [T, H, D] at a position offset', async () => {
    const rt = gpu();
    const random = rng(5);
    for (const [T, H, D, posOffset] of [
      [1, 2, 8, 0],
      [5, 3, 64, 17],
      [3, 2, 128, 30000], // large angles: checks the range reduction
    ] as [number, number, number, number][]) {
      const invFreqHost = ropeInvFreq(D, 1e6);
      const xHost = randomArray(random, T * H * D);
      const x = rt.upload(xHost, [T, H, D]);
      const invFreq = rt.upload(invFreqHost, [D / 2]);
      const layout = { T, H, D, posOffset };
      rope(rt, x, invFreq, layout);
      expect(maxAbsDiff(await rt.download(x), ropeReference(xHost, invFreqHost, layout)), `T=${T} D=${D} pos=${posOffset}`).toBeLessThanOrEqual(5e-6);
      rt.release(x, invFreq);
    }
  });

  it('rotates the k heads inside a fused qkv buffer and leaves the rest alone (Llama-3 frequencies)', async () => {
    const rt = gpu();
    const random = rng(6);
    const [T, H, Hkv, D] = [4, 4, 2, 16];
    const width = (H + 2 * Hkv) * D;
    const invFreqHost = llama3InvFreq(ropeInvFreq(D, 500000), { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    const xHost = randomArray(random, T * width);
    const x = rt.upload(xHost, [T, width]);
    const invFreq = rt.upload(invFreqHost, [D / 2]);
    const layout = { T, H: Hkv, D, rowStride: width, offset: H * D, posOffset: 3 };
    rope(rt, x, invFreq, layout);
    expect(maxAbsDiff(await rt.download(x), ropeReference(xHost, invFreqHost, layout))).toBeLessThanOrEqual(5e-6);
    rt.release(x, invFreq);
  });

  it('builds HF default inverse frequencies', () => {
    const f = ropeInvFreq(8, 10000);
    expect(Array.from(f)).toEqual([1, 0.10000000149011612, 0.009999999776482582, 0.0010000000474974513]);
  });
});
