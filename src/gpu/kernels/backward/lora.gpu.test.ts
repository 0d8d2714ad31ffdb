import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../../test-runtime';
import { maxAbsDiff, randomArray, rng } from '../../testing';
import { loraAdd } from '../lora';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';
import { loraBackward, loraBackwardReference, loraForward64, matmulStrided, type LoraDims } from './lora';

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe('loraBackward', () => {
  const gpu = useGpuRuntime();

  it('reference matches finite differences of the float64 forward', () => {
    const random = rng(601);
    const dims: LoraDims = { M: 3, K: 5, N: 4, r: 2 };
    const { M, K, N, r } = dims;
    const x = f64(randomArray(random, M * K));
    const a = f64(randomArray(random, r * K));
    const b = f64(randomArray(random, N * r));
    const w = f64(randomArray(random, M * N));
    const s = 1.5;
    const got = loraBackwardReference(x, a, b, s, w, dims);
    const loss = (xx: Float64Array, aa: Float64Array, bb: Float64Array): number => dot64(w, loraForward64(xx, aa, bb, s, dims));
    expect(report('FD dA', relativeError(got.dA, finiteDifferenceGrad((v) => loss(x, v, b), a)), 1e-5)).toBeLessThanOrEqual(1e-5);
    expect(report('FD dB', relativeError(got.dB, finiteDifferenceGrad((v) => loss(x, a, v), b)), 1e-5)).toBeLessThanOrEqual(1e-5);
    expect(report('FD dx', relativeError(got.dx, finiteDifferenceGrad((v) => loss(v, a, b), x)), 1e-5)).toBeLessThanOrEqual(1e-5);
  });

  it('matmulStrided handles transposed and offset views', async () => {
    const rt = gpu();
    const random = rng(602);
    const [M, N, K] = [5, 67, 19];
    // A stored transposed [K, M] with an offset of 3; B row-major [K, N]; C a column slice of [M, 80].
    const aHost = randomArray(random, 3 + K * M);
    const bHost = randomArray(random, K * N);
    const cHost = randomArray(random, M * 80);
    const a = rt.upload(aHost, [aHost.length]);
    const b = rt.upload(bHost, [K, N]);
    const c = rt.upload(cHost, [M, 80]);
    matmulStrided(rt, { tensor: a, rowStride: 1, colStride: M, offset: 3 }, { tensor: b, rowStride: N }, { tensor: c, rowStride: 80, offset: 10 }, { M, N, K }, { alpha: 0.5, accumulate: true });
    const want = Float64Array.from(cHost);
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += aHost[3 + k * M + m]! * bHost[k * N + n]!;
        want[m * 80 + 10 + n]! += 0.5 * s;
      }
    }
    expect(report('matmulStrided', maxAbsDiff(await rt.download(c), want), 1e-5 * Math.sqrt(K))).toBeLessThanOrEqual(1e-5 * Math.sqrt(K));
    rt.release(a, b, c);
  });

  // [M, K, N, r]: one row, K/N not multiples of the 64 tile, M > 64 (row tiles, long reductions).
  for (const [M, K, N, r] of [
    [1, 40, 67, 8],
    [3, 96, 130, 4],
    [70, 33, 5, 16],
  ] as [number, number, number, number][]) {
    it(`M=${M} K=${K} N=${N} r=${r}: accumulates dA, dB, dx; with and without the forward's hidden`, async () => {
      const rt = gpu();
      const random = rng(M * 7 + K * 5 + N * 3 + r);
      const s = 2;
      const xHost = randomArray(random, M * K);
      const aHost = randomArray(random, r * K);
      const bHost = randomArray(random, N * r);
      const dyHost = randomArray(random, M * N);
      const dA0 = randomArray(random, r * K);
      const dB0 = randomArray(random, N * r);
      const dx0 = randomArray(random, M * K);
      const want = loraBackwardReference(xHost, aHost, bHost, s, dyHost, { M, K, N, r });
      const x = rt.upload(xHost, [M, K]);
      const a = rt.upload(aHost, [r, K]);
      const b = rt.upload(bHost, [N, r]);
      const dy = rt.upload(dyHost, [M, N]);
      const y = rt.zeros([M, N]);
      const hidden = loraAdd(rt, x, a, b, s, y, { keepHidden: true });
      for (const withHidden of [false, true]) {
        const dA = rt.upload(dA0, [r, K]);
        const dB = rt.upload(dB0, [N, r]);
        const dx = rt.upload(dx0, [M, K]);
        loraBackward(rt, { x, dy, a, b, scale: s, dA, dB, dx, ...(withHidden ? { hidden } : {}) });
        // Chained f32 products (~1e-7 relative each) over sums of up to max(M, N, K) terms.
        for (const [name, got, fresh, init] of [
          ['dA', dA, want.dA, dA0],
          ['dB', dB, want.dB, dB0],
          ['dx', dx, want.dx, dx0],
        ] as const) {
          const tol = 2e-6 * Math.max(1, maxAbs(fresh));
          const err = maxAbsDiff(await rt.download(got), fresh.map((v, i) => v + init[i]!));
          expect(report(`M=${M} K=${K} N=${N} r=${r} ${name}${withHidden ? ' (hidden)' : ''}`, err, tol)).toBeLessThanOrEqual(tol);
        }
        rt.release(dA, dB, dx);
      }
      rt.release(x, a, b, dy, y, hidden);
    });
  }

  it('x, dy and dx as column slices of fused buffers (LoRA on k inside qkv)', async () => {
    const rt = gpu();
    const random = rng(603);
    const [M, K, N, r] = [5, 24, 12, 4];
    const [xWidth, xOff, yWidth, yOff] = [K + 7, 3, 3 * N, N];
    const xFused = randomArray(random, M * xWidth);
    const dyFused = randomArray(random, M * yWidth);
    const dxFused = randomArray(random, M * xWidth);
    const aHost = randomArray(random, r * K);
    const bHost = randomArray(random, N * r);
    const xHost = new Float32Array(M * K);
    const dyHost = new Float32Array(M * N);
    for (let m = 0; m < M; m++) {
      xHost.set(xFused.subarray(m * xWidth + xOff, m * xWidth + xOff + K), m * K);
      dyHost.set(dyFused.subarray(m * yWidth + yOff, m * yWidth + yOff + N), m * N);
    }
    const want = loraBackwardReference(xHost, aHost, bHost, 0.5, dyHost, { M, K, N, r });
    const wantDx = Float64Array.from(dxFused);
    for (let m = 0; m < M; m++) for (let k = 0; k < K; k++) wantDx[m * xWidth + xOff + k]! += want.dx[m * K + k]!;
    const x = rt.upload(xFused, [M, xWidth]);
    const dy = rt.upload(dyFused, [M, yWidth]);
    const dx = rt.upload(dxFused, [M, xWidth]);
    const a = rt.upload(aHost, [r, K]);
    const b = rt.upload(bHost, [N, r]);
    const dA = rt.zeros([r, K]);
    const dB = rt.zeros([N, r]);
    loraBackward(rt, {
      x,
      dy,
      M,
      xLayout: { rowStride: xWidth, offset: xOff },
      dyLayout: { rowStride: yWidth, offset: yOff },
      a,
      b,
      scale: 0.5,
      dA,
      dB,
      dx,
      dxLayout: { rowStride: xWidth, offset: xOff },
    });
    const tol = 1e-5;
    expect(report('fused dA', maxAbsDiff(await rt.download(dA), want.dA), tol)).toBeLessThanOrEqual(tol);
    expect(report('fused dB', maxAbsDiff(await rt.download(dB), want.dB), tol)).toBeLessThanOrEqual(tol);
    expect(report('fused dx', maxAbsDiff(await rt.download(dx), wantDx), tol)).toBeLessThanOrEqual(tol);
    rt.release(x, dy, dx, a, b, dA, dB);
  });
});
