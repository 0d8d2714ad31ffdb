import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randn, randomInts, rng } from '../testing';
import {
  argmax,
  argmaxReference,
  logProbs,
  logProbsReference,
  logSumExpReference,
  sampleTopP,
  softmax,
  softmaxReference,
  topK,
  topKReference,
} from './sampling';

describe('sampling helpers', () => {
  const gpu = useGpuRuntime();
  const shapes: [number, number][] = [
    [1, 5],
    [3, 257],
    [4, 1000],
  ];

  it('argmax picks the largest logit, ties -> lowest index, NaN skipped', async () => {
    const rt = gpu();
    const random = rng(21);
    for (const [R, V] of shapes) {
      const host = randn(random, R * V);
      const x = rt.upload(host, [R, V]);
      expect(Array.from(await rt.downloadU32(argmax(rt, x)))).toEqual(Array.from(argmaxReference(host, V)));
    }
    const tie = Float32Array.from([1, 7, NaN, 7, 3, 7, -2, 0]);
    const x = rt.upload(tie, [1, 8]);
    expect(Array.from(await rt.downloadU32(argmax(rt, x)))).toEqual([1]);
    // A tie spread over many threads' strides.
    const flat = new Float32Array(600).fill(2);
    expect(Array.from(await rt.downloadU32(argmax(rt, rt.upload(flat, [1, 600]))))).toEqual([0]);
  });

  it('logProbs gathers log p(id) and the row log-sum-exp at a temperature', async () => {
    const rt = gpu();
    const random = rng(22);
    for (const [R, V] of shapes) {
      for (const temperature of [1, 0.7]) {
        const host = randn(random, R * V, 5);
        const idsHost = randomInts(random, R, V);
        const x = rt.upload(host, [R, V]);
        const ids = rt.upload(idsHost, [R], 'u32');
        const { logp, lse } = logProbs(rt, x, ids, { temperature });
        // Log-probs of magnitude <~ 20: f32 sums of up to 1000 exps.
        expect(maxAbsDiff(await rt.download(logp), logProbsReference(host, V, idsHost, temperature))).toBeLessThanOrEqual(2e-5 * Math.log2(V));
        expect(maxAbsDiff(await rt.download(lse), logSumExpReference(host, V, temperature))).toBeLessThanOrEqual(2e-5 * Math.log2(V));
        rt.release(x, ids, logp, lse);
      }
    }
  });

  it('softmax and log-softmax rows', async () => {
    const rt = gpu();
    const random = rng(23);
    for (const [R, V] of shapes) {
      const host = randn(random, R * V, 4);
      const x = rt.upload(host, [R, V]);
      const p = softmax(rt, x, { temperature: 0.8 });
      const lp = softmax(rt, x, { log: true });
      expect(maxAbsDiff(await rt.download(p), softmaxReference(host, V, { temperature: 0.8 }))).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(await rt.download(lp), softmaxReference(host, V, { log: true }))).toBeLessThanOrEqual(2e-5 * Math.log2(V));
      rt.release(x, p, lp);
    }
  });

  it('topK returns sorted candidates (ties by index) and sampleTopP draws from the nucleus', async () => {
    const rt = gpu();
    const random = rng(24);
    for (const [R, V] of shapes) {
      const host = randn(random, R * V);
      host[V - 1] = host[0]!; // a tie
      const k = Math.min(8, V + 2); // k > V pads with NONE for the 5-wide row
      const x = rt.upload(host, [R, V]);
      const { values, indices } = topK(rt, x, k);
      const want = topKReference(host, V, k);
      expect(Array.from(await rt.downloadU32(indices))).toEqual(Array.from(want.indices));
      expect(Array.from(await rt.download(values))).toEqual(Array.from(want.values));
    }
    // Nucleus: probabilities [0.5, 0.3, 0.2] (lse = 0); top_p 0.75 keeps the first two.
    const vals = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const ids = [10, 20, 30];
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(sampleTopP(vals, ids, 0, { temperature: 1, topP: 0.75, random: i / 50 }));
    expect([...seen].sort()).toEqual([10, 20]);
    expect(sampleTopP(vals, ids, 0, { temperature: 0, topP: 1, random: 0.99 })).toBe(10);
  });
});
