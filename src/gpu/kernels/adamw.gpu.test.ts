import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randn, rng } from '../testing';
import { adamw, adamwReference, clipFactor, gradNormSquared, nonFiniteFlag, scaleInPlace, sumSquaresReference, type AdamWState } from './adamw';
import { report } from './backward/gradcheck';

describe('adamw and gradient utilities', () => {
  const gpu = useGpuRuntime();

  it('adamw matches PyTorch AdamW over several steps (odd length, grad scale from a tensor)', async () => {
    const rt = gpu();
    const random = rng(701);
    const n = 1000;
    const opts = { lr: 1e-2, beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1 };
    let state: AdamWState = { param: Float64Array.from(randn(random, n)), m: new Float64Array(n), v: new Float64Array(n) };
    const param = rt.upload(Float32Array.from(state.param), [n]);
    const m = rt.zeros([n]);
    const v = rt.zeros([n]);
    const scale = rt.upload(Float32Array.from([0.5]), [1]);
    for (let step = 1; step <= 3; step++) {
      const gHost = randn(random, n, 0.1);
      const grad = rt.upload(gHost, [n]);
      adamw(rt, param, grad, m, v, { ...opts, step, gradScaleTensor: scale });
      state = adamwReference(state, gHost, { ...opts, step, gradScale: 0.5 });
      rt.release(grad);
    }
    // Parameters move by ~lr per step; f32 update arithmetic is ~1e-7 relative (|p| ~ 3).
    const tol = 2e-6;
    expect(report('adamw param', maxAbsDiff(await rt.download(param), state.param), tol)).toBeLessThanOrEqual(tol);
    expect(maxAbsDiff(await rt.download(m), state.m)).toBeLessThanOrEqual(1e-7);
    expect(maxAbsDiff(await rt.download(v), state.v)).toBeLessThanOrEqual(1e-8);
    rt.release(param, m, v, scale);
  });

  it('adamw leaves everything untouched when skipIf is set', async () => {
    const rt = gpu();
    const pHost = Float32Array.from([1, -2, 3]);
    const param = rt.upload(pHost, [3]);
    const grad = rt.upload(Float32Array.from([NaN, 1, 1]), [3]);
    const m = rt.zeros([3]);
    const v = rt.zeros([3]);
    const flag = nonFiniteFlag(rt, [grad]);
    adamw(rt, param, grad, m, v, { lr: 0.1, step: 1, skipIf: flag });
    expect(Array.from(await rt.downloadU32(flag))).toEqual([1]);
    expect(Array.from(await rt.download(param))).toEqual(Array.from(pHost));
    expect(Array.from(await rt.download(m))).toEqual([0, 0, 0]);
    rt.release(param, grad, m, v, flag);
  });

  it('gradNormSquared sums over several tensors; clipFactor and scaleInPlace clip', async () => {
    const rt = gpu();
    const random = rng(702);
    // Sizes: one element, a partial workgroup, more than 64 workgroups' worth (grid stride).
    const hosts = [randn(random, 1), randn(random, 333), randn(random, 20000)];
    const tensors = hosts.map((h) => rt.upload(h, [h.length]));
    const { sumSquares, nonFinite } = gradNormSquared(rt, tensors);
    const want = sumSquaresReference(hosts);
    const got = (await rt.download(sumSquares))[0]!;
    expect(report('sumSquares (relative)', Math.abs(got - want) / want, 1e-5)).toBeLessThanOrEqual(1e-5);
    expect(Array.from(await rt.downloadU32(nonFinite))).toEqual([0]);
    const maxNorm = 10;
    const factor = clipFactor(rt, sumSquares, maxNorm);
    const f = maxNorm / (Math.sqrt(want) + 1e-6);
    expect(Math.abs((await rt.download(factor))[0]! - f)).toBeLessThanOrEqual(1e-6);
    for (const t of tensors) scaleInPlace(rt, t, factor);
    scaleInPlace(rt, tensors[0]!, 2); // a plain number too
    const after = gradNormSquared(rt, tensors.slice(1));
    expect(Math.sqrt((await rt.download(after.sumSquares))[0]!)).toBeCloseTo(Math.sqrt(sumSquaresReference(hosts.slice(1))) * f, 4);
    expect((await rt.download(tensors[0]!))[0]).toBeCloseTo(hosts[0]![0]! * f * 2, 5);
    // A small gradient is not scaled up.
    const small = rt.upload(Float32Array.from([0.1]), [1]);
    expect(Array.from(await rt.download(clipFactor(rt, small, maxNorm)))).toEqual([1]);
    rt.release(...tensors, sumSquares, nonFinite, factor, after.sumSquares, after.nonFinite, small);
  });

  it('detects NaN, +inf, -inf anywhere, and an overflowing sum', async () => {
    const rt = gpu();
    const clean = rt.upload(new Float32Array(700).fill(0.5), [700]);
    for (const [bad, at] of [
      [NaN, 0],
      [Infinity, 699],
      [-Infinity, 257],
      [3e38, 5], // finite, but its square overflows the f32 sum
    ] as [number, number][]) {
      const host = new Float32Array(700).fill(0.5);
      host[at] = bad;
      const t = rt.upload(host, [700]);
      const flag = nonFiniteFlag(rt, [clean, t]);
      expect(Array.from(await rt.downloadU32(flag)), `${bad} at ${at}`).toEqual([1]);
      rt.release(t, flag);
    }
    const flag = nonFiniteFlag(rt, [clean]);
    expect(Array.from(await rt.downloadU32(flag))).toEqual([0]);
    rt.release(clean, flag);
  });
});
