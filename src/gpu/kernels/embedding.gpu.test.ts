import { describe, expect, it } from 'vitest';
import { dequantizeQ4, packF16, quantizeQ4, roundToF16, type Weight } from '../tensor';
import { useGpuRuntime } from '../test-runtime';
import { randomArray, randomInts, rng } from '../testing';
import { embedding, embeddingReference } from './embedding';

describe('embedding', () => {
  const gpu = useGpuRuntime();

  for (const format of ['f32', 'f16', 'q4f32', 'q4f16'] as const) {
    it(`${format}: gathers rows exactly (out-of-range id -> zeros)`, async () => {
      const rt = gpu();
      const random = rng(11);
      const [V, D] = [67, 96];
      const raw = randomArray(random, V * D);
      let table: Weight;
      let dense: Float32Array;
      if (format === 'f32') {
        table = rt.upload(raw, [V, D]);
        dense = raw;
      } else if (format === 'f16') {
        table = rt.upload(packF16(raw), [V, D], 'f16');
        dense = roundToF16(raw);
      } else {
        const q = quantizeQ4(raw, V, D);
        if (format === 'q4f16') q.qScale = roundToF16(q.qScale);
        table = format === 'q4f16' ? rt.uploadQ4(q.qWeight, packF16(q.qScale), [V, D], 'f16') : rt.uploadQ4(q.qWeight, q.qScale, [V, D], 'f32');
        dense = dequantizeQ4(q, V, D);
      }
      const idsHost = Uint32Array.from([...randomInts(random, 16, V), V - 1, 0, V + 5]);
      const ids = rt.upload(idsHost, [idsHost.length], 'u32');
      const out = embedding(rt, table, ids);
      expect(Array.from(await rt.download(out))).toEqual(Array.from(embeddingReference(dense, D, idsHost)));
      rt.release(table, ids, out);
    });
  }
});
