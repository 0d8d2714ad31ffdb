import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../../test-runtime';
import { randn, randomArray, rng } from '../../testing';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';
import { rmsNormForward64 } from './rmsnorm';
import { embeddingBackward, embeddingBackwardReference, rmsNormWeightBackward, rmsNormWeightBackwardReference } from './weight-grads';

describe('base-weight gradients (full fine-tuning)', () => {
  const gpu = useGpuRuntime();

  it('references match finite differences of the float64 forwards', () => {
    const random = rng(301);
    const [rows, D] = [3, 5];
    const x = f64(randn(random, rows * D, 2));
    const w = f64(randomArray(random, D, 0.5, 1.5));
    const dy = f64(randn(random, rows * D));
    const want = finiteDifferenceGrad((ww) => dot64(dy, rmsNormForward64(x, ww, 1e-5)), w);
    expect(report('rmsnorm dw FD', relativeError(rmsNormWeightBackwardReference(x, 1e-5, dy, D), want), 1e-5)).toBeLessThanOrEqual(1e-5);
    const [vocab, C] = [6, 4];
    const ids = [2, 0, 2, 5];
    const table = f64(randn(random, vocab * C));
    const de = f64(randn(random, ids.length * C));
    const gather = (e: Float64Array): Float64Array => Float64Array.from(ids.flatMap((id) => Array.from(e.subarray(id * C, id * C + C))));
    const wantE = finiteDifferenceGrad((e) => dot64(de, gather(e)), table);
    expect(report('embedding FD', relativeError(embeddingBackwardReference(ids, de, vocab, C), wantE), 1e-5)).toBeLessThanOrEqual(1e-5);
  });

  it('GPU matches the references on awkward shapes, accumulating into the output', async () => {
    const rt = gpu();
    const random = rng(302);
    for (const [rows, D] of [
      [1, 16],
      [5, 67],
      [70, 131],
    ] as [number, number][]) {
      const xHost = randn(random, rows * D, 3);
      const dyHost = randn(random, rows * D);
      const prev = randn(random, D);
      const dw = rt.upload(prev, [D]);
      const [x, dy] = [rt.upload(xHost, [rows, D]), rt.upload(dyHost, [rows, D])];
      rmsNormWeightBackward(rt, x, 1e-6, dy, dw);
      const want = rmsNormWeightBackwardReference(xHost, 1e-6, dyHost, D).map((v, j) => v + prev[j]!);
      expect(report(`rmsnorm dw [${rows}, ${D}]`, relativeError(await rt.download(dw), want), 1e-5)).toBeLessThanOrEqual(1e-5);
      rt.release(x, dy, dw);
    }
    for (const [T, vocab, C] of [
      [1, 3, 8],
      [9, 5, 67],
      [40, 300, 65],
    ] as [number, number, number][]) {
      // Repeated ids (and an id the table lacks, which is skipped).
      const ids = Array.from({ length: T }, (_, t) => (t === 3 ? vocab + 2 : Math.floor(random() * Math.min(vocab, 4))));
      const dyHost = randn(random, T * C);
      const prev = randn(random, vocab * C);
      const dE = rt.upload(prev, [vocab, C]);
      const [idT, dy] = [rt.upload(Uint32Array.from(ids), [T], 'u32'), rt.upload(dyHost, [T, C])];
      embeddingBackward(rt, idT, dy, dE);
      const want = embeddingBackwardReference(ids, dyHost, vocab, C).map((v, i) => v + prev[i]!);
      expect(report(`embedding [${T}, ${vocab}, ${C}]`, relativeError(await rt.download(dE), want), 1e-6)).toBeLessThanOrEqual(1e-6);
      rt.release(idT, dy, dE);
    }
  });
});
