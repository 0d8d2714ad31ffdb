import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestNodeGpuContext } from '../node-device';
import { GpuRuntime } from '../runtime';
import { dequantizeQ4, packF16, quantizeQ4, roundToF16, type Weight } from '../tensor';
import { maxAbsDiff, randomArray, rng } from '../testing';
import { linear, linearReference, linearTransposed, matmul, matmulReference } from './linear';

type Format = 'f32' | 'f16' | 'q4f32' | 'q4f16';

describe('linear', () => {
  let rt: GpuRuntime;
  beforeAll(async () => {
    rt = new GpuRuntime(await requestNodeGpuContext());
  });
  afterAll(() => rt?.device.destroy());

  /** Uploads a random [N, K] weight in `format`; returns it and its exact dequantised f32 values. */
  function makeWeight(random: () => number, format: Format, N: number, K: number): { w: Weight; dense: Float32Array } {
    const raw = randomArray(random, N * K);
    if (format === 'f32') return { w: rt.upload(raw, [N, K]), dense: raw };
    if (format === 'f16') return { w: rt.upload(packF16(raw), [N, K], 'f16'), dense: roundToF16(raw) };
    const q = quantizeQ4(raw, N, K);
    if (format === 'q4f16') q.qScale = roundToF16(q.qScale);
    const w = format === 'q4f16' ? rt.uploadQ4(q.qWeight, packF16(q.qScale), [N, K], 'f16') : rt.uploadQ4(q.qWeight, q.qScale, [N, K], 'f32');
    return { w, dense: dequantizeQ4(q, N, K) };
  }

  // Shapes off the 64x64 tile and the 8-column decode block; K a multiple of 32 for q4.
  const shapes: [number, number, number][] = [
    [1, 67, 64],
    [3, 130, 96],
    [4, 5, 32],
    [17, 67, 96],
    [65, 130, 192],
    [5, 1, 160],
  ];
  const formats: Format[] = ['f32', 'f16', 'q4f32', 'q4f16'];

  for (const format of formats) {
    it(`${format}: matches the reference on dequantised weights (default, tiled and columns kernels)`, async () => {
      const random = rng(42);
      for (const kernel of [undefined, 'tiled', 'decode-columns'] as const)
      for (const [M, N, K] of shapes) {
        const { w, dense } = makeWeight(random, format, N, K);
        const xHost = randomArray(random, M * K);
        const bias = randomArray(random, N);
        const x = rt.upload(xHost, [M, K]);
        const b = rt.upload(bias, [N]);
        const y = linear(rt, x, w, { bias: b, ...(kernel ? { kernel } : {}) });
        const got = await rt.download(y);
        const want = linearReference(xHost, dense, M, N, K, { bias });
        // f32 accumulation of K products of values below ~1 in magnitude.
        expect(maxAbsDiff(got, want), `${kernel ?? 'default'} ${format} M=${M} N=${N} K=${K}`).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
        rt.release(x, b, y, w);
      }
    });
  }

  it('decode and tiled kernels agree for M <= 4, and f32 works with odd K', async () => {
    const random = rng(7);
    for (const [M, N, K] of [
      [1, 67, 37],
      [2, 9, 200],
      [4, 130, 8],
    ] as [number, number, number][]) {
      const wHost = randomArray(random, N * K);
      const xHost = randomArray(random, M * K);
      const w = rt.upload(wHost, [N, K]);
      const x = rt.upload(xHost, [M, K]);
      const want = linearReference(xHost, wHost, M, N, K);
      for (const kernel of ['decode', 'tiled'] as const) {
        const y = linear(rt, x, w, { kernel });
        expect(maxAbsDiff(await rt.download(y), want), `${kernel} M=${M} N=${N} K=${K}`).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
        rt.release(y);
      }
      rt.release(w, x);
    }
  });

  // The CPU-adapter variant (picked automatically on fallback adapters) and the GPU decode one, forced,
  // on every weight format and M = 1..4 (columns also in blocks of 4 rows: M = 5, 9). K covers the vec4 loads (f32 K % 4, f16 K % 8, q4 always) and
  // the scalar fallbacks (f32 K = 37 / 42, f16 K = 42); N straddles the 64-column workgroup.
  for (const kernel of ['decode-columns', 'decode-lanes'] as const) {
    const rows = kernel === 'decode-columns' ? [1, 2, 3, 4, 5, 9] : [1, 2, 3, 4];
    it(`${kernel}: every format, M = ${rows.join(', ')}, with bias, alpha and accumulate`, async () => {
      const random = rng(kernel === 'decode-columns' ? 21 : 22);
      const cases: [Format, number, number][] = [
        ['f32', 67, 64], ['f32', 130, 37], ['f32', 1, 42], ['f32', 65, 4],
        ['f16', 67, 96], ['f16', 129, 42], ['f16', 3, 8],
        ['q4f32', 67, 96], ['q4f32', 1, 32], ['q4f16', 130, 64], ['q4f16', 65, 160],
      ];
      for (const [format, N, K] of cases) {
        for (const M of rows) {
          const { w, dense } = makeWeight(random, format, N, K);
          const xHost = randomArray(random, M * K);
          const bias = randomArray(random, N);
          const yHost = randomArray(random, M * N);
          const x = rt.upload(xHost, [M, K]);
          const b = rt.upload(bias, [N]);
          const bHalf = rt.upload(packF16(bias), [N], 'f16');
          const what = `${kernel} ${format} M=${M} N=${N} K=${K}`;
          const tol = 1e-5 * Math.sqrt(K);
          const plain = linear(rt, x, w, { kernel });
          expect(maxAbsDiff(await rt.download(plain), linearReference(xHost, dense, M, N, K)), what).toBeLessThanOrEqual(tol);
          const biased = linear(rt, x, w, { kernel, bias: b, alpha: -1.5 });
          const wantBiased = linearReference(xHost, dense, M, N, K, { bias, alpha: -1.5 });
          expect(maxAbsDiff(await rt.download(biased), wantBiased), `${what} bias`).toBeLessThanOrEqual(tol);
          const halfBiased = linear(rt, x, w, { kernel, bias: bHalf });
          const wantHalf = linearReference(xHost, dense, M, N, K, { bias: roundToF16(bias) });
          expect(maxAbsDiff(await rt.download(halfBiased), wantHalf), `${what} f16 bias`).toBeLessThanOrEqual(tol);
          const y = rt.upload(yHost, [M, N]);
          linear(rt, x, w, { kernel, out: y, accumulate: true, alpha: 0.5, bias: b });
          const wantAcc = linearReference(xHost, dense, M, N, K, { alpha: 0.5, bias, accumulateInto: yHost });
          expect(maxAbsDiff(await rt.download(y), wantAcc), `${what} accumulate`).toBeLessThanOrEqual(tol);
          rt.release(w, x, b, bHalf, plain, biased, halfBiased, y);
        }
      }
    });

    it(`${kernel}: transposed reads (linearTransposed, matmul) for M = ${rows.join(', ')}`, async () => {
      const random = rng(kernel === 'decode-columns' ? 23 : 24);
      for (const [format, R, C] of [
        ['f32', 67, 37],
        ['f16', 33, 70],
        ['q4f32', 5, 96],
        ['q4f16', 66, 64],
      ] as [Format, number, number][]) {
        for (const M of rows) {
          const { w, dense } = makeWeight(random, format, R, C);
          const xHost = randomArray(random, M * R);
          const x = rt.upload(xHost, [M, R]);
          const y = linearTransposed(rt, x, w, { kernel });
          const tol = 1e-5 * Math.sqrt(R);
          expect(maxAbsDiff(await rt.download(y), matmulReference(xHost, dense, M, R, C)), `${kernel} ${format} M=${M}`).toBeLessThanOrEqual(tol);
          rt.release(w, y);
          if (format === 'f32') {
            const b = rt.upload(dense, [R, C]);
            const z = matmul(rt, x, b, { kernel });
            expect(maxAbsDiff(await rt.download(z), matmulReference(xHost, dense, M, R, C)), `${kernel} matmul M=${M}`).toBeLessThanOrEqual(tol);
            rt.release(b, z);
          }
          rt.release(x);
        }
      }
    });
  }

  it('decode picks decode-columns on fallback adapters and decode-lanes otherwise (same results)', async () => {
    const random = rng(25);
    const [M, N, K] = [2, 70, 64];
    const wHost = randomArray(random, N * K);
    const xHost = randomArray(random, M * K);
    const w = rt.upload(wHost, [N, K]);
    const x = rt.upload(xHost, [M, K]);
    const want = linearReference(xHost, wHost, M, N, K);
    for (const kernel of [undefined, 'decode', 'decode-lanes', 'decode-columns'] as const) {
      const y = linear(rt, x, w, kernel ? { kernel } : {});
      expect(maxAbsDiff(await rt.download(y), want), String(kernel)).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
      rt.release(y);
    }
    rt.release(w, x);
  });

  it('decode-lanes rejects M > 4', () => {
    const x = rt.upload(new Float32Array(5 * 4), [5, 4]);
    const w = rt.upload(new Float32Array(8), [2, 4]);
    expect(() => linear(rt, x, w, { kernel: 'decode-lanes' })).toThrow(/at most 4 rows, got M = 5/);
    rt.release(x, w);
  });

  it('accumulates alpha · x W^T into an existing output (both kernels)', async () => {
    const random = rng(9);
    for (const [M, N, K] of [
      [3, 67, 64],
      [17, 5, 32],
    ] as [number, number, number][]) {
      const { w, dense } = makeWeight(random, 'f16', N, K);
      const xHost = randomArray(random, M * K);
      const yHost = randomArray(random, M * N);
      const x = rt.upload(xHost, [M, K]);
      const y = rt.upload(yHost, [M, N]);
      linear(rt, x, w, { out: y, accumulate: true, alpha: 0.5 });
      const want = linearReference(xHost, dense, M, N, K, { alpha: 0.5, accumulateInto: yHost });
      expect(maxAbsDiff(await rt.download(y), want)).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
      rt.release(w, x, y);
    }
  });

  it('linearTransposed: y = x · W for f32, f16 and q4 weights (the input gradient of linear)', async () => {
    const random = rng(11);
    for (const [format, M, R, C] of [
      ['f32', 3, 67, 37],
      ['f16', 17, 67, 64],
      ['q4f16', 2, 5, 96],
      ['q4f32', 65, 130, 64],
    ] as [Format, number, number, number][]) {
      const { w, dense } = makeWeight(random, format, R, C); // stored [R, C]
      const xHost = randomArray(random, M * R);
      const x = rt.upload(xHost, [M, R]);
      const y = linearTransposed(rt, x, w);
      expect(y.shape).toEqual([M, C]);
      expect(maxAbsDiff(await rt.download(y), matmulReference(xHost, dense, M, R, C)), `${format} M=${M}`).toBeLessThanOrEqual(1e-5 * Math.sqrt(R));
      rt.release(w, x, y);
    }
  });

  it('rejects mismatched shapes with a message', () => {
    const x = rt.upload(new Float32Array(6), [2, 3]);
    const w = rt.upload(new Float32Array(8), [2, 4]);
    expect(() => linear(rt, x, w)).toThrow(/last dimension 3, weight expects K = 4/);
    rt.release(x, w);
  });
});

describe('matmul (two activations, b not transposed)', () => {
  let rt: GpuRuntime;
  beforeAll(async () => {
    rt = new GpuRuntime(await requestNodeGpuContext());
  });
  afterAll(() => rt?.device.destroy());

  it('matches the reference for decode- and tile-sized M', async () => {
    const random = rng(13);
    for (const [M, K, N] of [
      [2, 37, 67],
      [65, 50, 5],
    ] as [number, number, number][]) {
      const aHost = randomArray(random, M * K);
      const bHost = randomArray(random, K * N);
      const a = rt.upload(aHost, [M, K]);
      const b = rt.upload(bHost, [K, N]);
      const y = matmul(rt, a, b);
      expect(maxAbsDiff(await rt.download(y), matmulReference(aHost, bHost, M, K, N))).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
      rt.release(a, b, y);
    }
  });
});
