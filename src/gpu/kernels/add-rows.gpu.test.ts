import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../test-runtime';
import { randomArray, rng } from '../testing';
import { addRows, addRowsReference } from './add-rows';
import type { CopyRowsLayout } from './elementwise';

describe('addRows', () => {
  const gpu = useGpuRuntime();

  it('adds a strided block into a column slice exactly, leaving the rest untouched', async () => {
    const rt = gpu();
    const random = rng(3);
    // A LoRA k output [T, 32] into the k columns of a fused qkv [T, 128]; then a 2-D split grid.
    const cases: Array<{ srcLen: number; dstLen: number; layout: CopyRowsLayout; maxPerDim?: number }> = [
      { srcLen: 5 * 32, dstLen: 5 * 128, layout: { rows: 5, width: 32, srcStride: 32, dstStride: 128, dstOffset: 64 } },
      { srcLen: 3 * 70, dstLen: 4 * 300, layout: { rows: 3, width: 67, srcStride: 70, srcOffset: 2, dstStride: 300, dstOffset: 17 } },
      { srcLen: 9 * 100, dstLen: 9 * 200, layout: { rows: 9, width: 100, srcStride: 100, dstStride: 200, dstOffset: 100 }, maxPerDim: 2 },
    ];
    for (const { srcLen, dstLen, layout, maxPerDim } of cases) {
      rt.maxWorkgroupsPerDim = maxPerDim ?? 65535;
      const srcHost = randomArray(random, srcLen);
      const dstHost = randomArray(random, dstLen);
      const src = rt.upload(srcHost, [srcLen]);
      const dst = rt.upload(dstHost, [dstLen]);
      addRows(rt, src, dst, layout);
      expect(Array.from(await rt.download(dst))).toEqual(Array.from(addRowsReference(srcHost, dstHost, layout)));
      rt.release(src, dst);
    }
    rt.maxWorkgroupsPerDim = 65535;
  });

  it('rejects layouts outside the tensors', () => {
    const rt = gpu();
    const a = rt.upload(new Float32Array(8), [8]);
    const b = rt.upload(new Float32Array(8), [8]);
    expect(() => addRows(rt, a, b, { rows: 2, width: 4, srcStride: 4, dstStride: 4, dstOffset: 1 })).toThrow(/writes up to element 9/);
    rt.release(a, b);
  });
});
