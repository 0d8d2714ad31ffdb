import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../../test-runtime';
import { maxAbsDiff, randn, rng } from '../../testing';
import { attention } from '../attention';
import { attentionBackward, attentionBackwardReference, attentionForward64, fusedQkvAttentionBackward, type AttentionDims } from './attention';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';

describe('attentionBackward', () => {
  const gpu = useGpuRuntime();

  it('reference matches finite differences of the float64 forward (GQA and MHA)', () => {
    const random = rng(301);
    for (const dims of [
      { T: 4, H: 2, Hkv: 1, D: 3 },
      { T: 3, H: 2, Hkv: 2, D: 2, scale: 0.8 },
    ] as AttentionDims[]) {
      const { T, H, Hkv, D } = dims;
      const q = f64(randn(random, T * H * D));
      const k = f64(randn(random, T * Hkv * D));
      const v = f64(randn(random, T * Hkv * D));
      const w = f64(randn(random, T * H * D));
      const got = attentionBackwardReference(q, k, v, w, dims);
      const loss = (qq: Float64Array, kk: Float64Array, vv: Float64Array): number => dot64(w, attentionForward64(qq, kk, vv, dims).out);
      const tag = `FD T=${T} H=${H} Hkv=${Hkv}`;
      expect(report(`${tag} dq`, relativeError(got.dq, finiteDifferenceGrad((x) => loss(x, k, v), q)), 1e-5)).toBeLessThanOrEqual(1e-5);
      expect(report(`${tag} dk`, relativeError(got.dk, finiteDifferenceGrad((x) => loss(q, x, v), k)), 1e-5)).toBeLessThanOrEqual(1e-5);
      expect(report(`${tag} dv`, relativeError(got.dv, finiteDifferenceGrad((x) => loss(q, k, x), v)), 1e-5)).toBeLessThanOrEqual(1e-5);
    }
  });

  // [T, H, Hkv, D]: single token, GQA, MHA, T > one 64-row block, D > 64 (several coordinates per thread).
  const cases: [number, number, number, number][] = [
    [1, 4, 2, 16],
    [5, 4, 2, 16],
    [13, 4, 4, 16],
    [70, 2, 1, 72],
  ];
  for (const [T, H, Hkv, D] of cases) {
    it(`T=${T} H=${H} Hkv=${Hkv} D=${D} (contiguous, forward's lse from the GPU)`, async () => {
      const rt = gpu();
      const random = rng(T * 100 + H * 10 + D);
      const qHost = randn(random, T * H * D);
      const kHost = randn(random, T * Hkv * D);
      const vHost = randn(random, T * Hkv * D);
      const dOHost = randn(random, T * H * D);
      const q = rt.upload(qHost, [T, H, D]);
      const k = rt.upload(kHost, [T, Hkv, D]);
      const v = rt.upload(vHost, [T, Hkv, D]);
      const dO = rt.upload(dOHost, [T, H, D]);
      // The real pipeline: the GPU forward's output and lse feed the backward.
      const lse = rt.empty([T, H]);
      const o = attention(rt, { q, kCache: k, vCache: v, T, H, Hkv, D, past: 0, lse });
      const { dq, dk, dv } = attentionBackward(rt, { q, k, v, o, lse, dO, T, H, Hkv, D });
      const want = attentionBackwardReference(qHost, kHost, vHost, dOHost, { T, H, Hkv, D });
      // N(0,1) inputs: gradients are O(1..sqrt(T)); f32 dot products over D and sums over T keys.
      const tol = 1e-5 * Math.sqrt(T);
      expect(report(`T=${T} H=${H} Hkv=${Hkv} D=${D} dq`, maxAbsDiff(await rt.download(dq), want.dq), tol)).toBeLessThanOrEqual(tol);
      expect(report(`T=${T} H=${H} Hkv=${Hkv} D=${D} dk`, maxAbsDiff(await rt.download(dk), want.dk), tol)).toBeLessThanOrEqual(tol);
      expect(report(`T=${T} H=${H} Hkv=${Hkv} D=${D} dv`, maxAbsDiff(await rt.download(dv), want.dv), tol)).toBeLessThanOrEqual(tol);
      rt.release(q, k, v, dO, lse, o, dq, dk, dv);
    });
  }

  it('reads q/k/v from a fused qkv buffer and writes dq/dk/dv into one fused dqkv buffer', async () => {
    const rt = gpu();
    const random = rng(302);
    const [T, H, Hkv, D] = [7, 4, 2, 16];
    const width = (H + 2 * Hkv) * D;
    const qkvHost = randn(random, T * width);
    const dOHost = randn(random, T * H * D);
    const split = (offset: number, w: number): Float32Array => {
      const out = new Float32Array(T * w);
      for (let t = 0; t < T; t++) out.set(qkvHost.subarray(t * width + offset, t * width + offset + w), t * w);
      return out;
    };
    const [qHost, kHost, vHost] = [split(0, H * D), split(H * D, Hkv * D), split((H + Hkv) * D, Hkv * D)];
    const fwd = attentionForward64(qHost, kHost, vHost, { T, H, Hkv, D });
    const qkv = rt.upload(qkvHost, [T, width]);
    const o = rt.upload(Float32Array.from(fwd.out), [T, H, D]);
    const lse = rt.upload(Float32Array.from(fwd.lse), [T, H]);
    const dO = rt.upload(dOHost, [T, H, D]);
    const dqkv = rt.upload(new Float32Array(T * width).fill(NaN), [T, width]); // every element must be written
    fusedQkvAttentionBackward(rt, { qkv, o, lse, dO, dqkv, T, H, Hkv, D });
    const want = attentionBackwardReference(qHost, kHost, vHost, dOHost, { T, H, Hkv, D });
    const fused = new Float64Array(T * width);
    for (let t = 0; t < T; t++) {
      fused.set(want.dq.subarray(t * H * D, (t + 1) * H * D), t * width);
      fused.set(want.dk.subarray(t * Hkv * D, (t + 1) * Hkv * D), t * width + H * D);
      fused.set(want.dv.subarray(t * Hkv * D, (t + 1) * Hkv * D), t * width + (H + Hkv) * D);
    }
    const tol = 1e-5 * Math.sqrt(T);
    expect(report('fused qkv', maxAbsDiff(await rt.download(dqkv), fused), tol)).toBeLessThanOrEqual(tol);
    rt.release(qkv, o, lse, dO, dqkv);
  });
});
