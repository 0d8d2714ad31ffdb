// End to end: one tiny Qwen2-style decoder layer with LoRA on the fused qkv and on down_proj, forward
// with the forward kernels, backward with these kernels, and the gradients of the loss Σ w ∘ y with
// respect to x and the four LoRA matrices compared with central differences of a float64 forward.
// This is the wiring model/ needs (and a check that the layouts, in-place steps and accumulations compose):
//   n1 = rmsNorm(x); qkv = n1 Wqkvᵀ + LoRA; rope(q), rope(k); o = attention(q, k, v); h = x + o Woᵀ
//   n2 = rmsNorm(h); gu = n2 Wguᵀ; m = silu(g)·u; y = h + m Wdᵀ + LoRA
import { describe, expect, it } from 'vitest';
import { reshape, type GpuTensor } from '../../tensor';
import { useGpuRuntime } from '../../test-runtime';
import { randomArray, rng } from '../../testing';
import { attention } from '../attention';
import { addInPlace, copyRows, siluMulFused } from '../elementwise';
import { linear, linearTransposed } from '../linear';
import { loraAdd } from '../lora';
import { rmsNorm } from '../rmsnorm';
import { rope, ropeInvFreq } from '../rope';
import { attentionForward64, fusedQkvAttentionBackward } from './attention';
import { dot64, f64, finiteDifferenceGrad, relativeError, report } from './gradcheck';
import { loraBackward, loraForward64 } from './lora';
import { rmsNormBackward, rmsNormForward64 } from './rmsnorm';
import { ropeBackward, ropeForward64 } from './rope';
import { siluMulForward64, siluMulFusedBackward } from './swiglu';

const [T, H, Hkv, D, I, r] = [5, 4, 2, 4, 24, 2];
const C = H * D;
const W = (H + 2 * Hkv) * D; // fused qkv width
const EPS = 1e-6;
const S = 2; // LoRA scale

function linear64(x: ArrayLike<number>, w: ArrayLike<number>, M: number, N: number, K: number): Float64Array {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) y[m * N + n]! += x[m * K + k]! * w[n * K + k]!;
  return y;
}

function cols(a: ArrayLike<number>, width: number, offset: number, count: number): Float64Array {
  const out = new Float64Array(T * count);
  for (let t = 0; t < T; t++) for (let j = 0; j < count; j++) out[t * count + j] = a[t * width + offset + j]!;
  return out;
}

describe('decoder layer backward (composition)', () => {
  const gpu = useGpuRuntime();

  it('GPU gradients of x and the LoRA matrices match finite differences of the float64 layer', async () => {
    const rt = gpu();
    const random = rng(801);
    const wts = {
      w1: randomArray(random, C, 0.5, 1.5),
      wqkv: randomArray(random, W * C, -0.5, 0.5),
      wo: randomArray(random, C * C, -0.5, 0.5),
      w2: randomArray(random, C, 0.5, 1.5),
      wgu: randomArray(random, 2 * I * C, -0.5, 0.5),
      wd: randomArray(random, C * I, -0.5, 0.5),
    };
    const invFreq = ropeInvFreq(D, 10000);
    const xHost = randomArray(random, T * C);
    const aqHost = randomArray(random, r * C, -0.5, 0.5);
    const bqHost = randomArray(random, W * r, -0.5, 0.5);
    const adHost = randomArray(random, r * I, -0.5, 0.5);
    const bdHost = randomArray(random, C * r, -0.5, 0.5);
    const wLoss = randomArray(random, T * C);

    const forward64 = (x: ArrayLike<number>, aq: ArrayLike<number>, bq: ArrayLike<number>, ad: ArrayLike<number>, bd: ArrayLike<number>): Float64Array => {
      const n1 = rmsNormForward64(x, wts.w1, EPS);
      const qkv = linear64(n1, wts.wqkv, T, W, C);
      const lq = loraForward64(n1, aq, bq, S, { M: T, K: C, N: W, r });
      for (let i = 0; i < qkv.length; i++) qkv[i]! += lq[i]!;
      const q = ropeForward64(cols(qkv, W, 0, C), invFreq, { T, H, D, posOffset: 0 });
      const k = ropeForward64(cols(qkv, W, C, Hkv * D), invFreq, { T, H: Hkv, D, posOffset: 0 });
      const v = cols(qkv, W, C + Hkv * D, Hkv * D);
      const o = attentionForward64(q, k, v, { T, H, Hkv, D }).out;
      const h = linear64(o, wts.wo, T, C, C).map((a, i) => a + x[i]!);
      const gu = linear64(rmsNormForward64(h, wts.w2, EPS), wts.wgu, T, 2 * I, C);
      const m = siluMulForward64(cols(gu, 2 * I, 0, I), cols(gu, 2 * I, I, I));
      const ld = loraForward64(m, ad, bd, S, { M: T, K: I, N: C, r });
      return linear64(m, wts.wd, T, C, I).map((a, i) => a + h[i]! + ld[i]!);
    };

    // ----- GPU forward, keeping what the backward needs.
    const up = (a: Float32Array, shape: number[]): GpuTensor => rt.upload(a, shape);
    const w1 = up(wts.w1, [C]);
    const wqkv = up(wts.wqkv, [W, C]);
    const wo = up(wts.wo, [C, C]);
    const w2 = up(wts.w2, [C]);
    const wgu = up(wts.wgu, [2 * I, C]);
    const wd = up(wts.wd, [C, I]);
    const inv = up(invFreq, [D / 2]);
    const x = up(xHost, [T, C]);
    const aq = up(aqHost, [r, C]);
    const bq = up(bqHost, [W, r]);
    const ad = up(adHost, [r, I]);
    const bd = up(bdHost, [C, r]);
    const n1 = rmsNorm(rt, x, w1, EPS);
    const qkv = linear(rt, n1, wqkv);
    const hq = loraAdd(rt, n1, aq, bq, S, qkv, { keepHidden: true })!;
    rope(rt, qkv, inv, { T, H, D, rowStride: W, posOffset: 0 });
    rope(rt, qkv, inv, { T, H: Hkv, D, rowStride: W, offset: C, posOffset: 0 });
    const kCache = rt.empty([T, Hkv, D]);
    const vCache = rt.empty([T, Hkv, D]);
    copyRows(rt, qkv, kCache, { rows: T, width: Hkv * D, srcStride: W, srcOffset: C, dstStride: Hkv * D });
    copyRows(rt, qkv, vCache, { rows: T, width: Hkv * D, srcStride: W, srcOffset: C + Hkv * D, dstStride: Hkv * D });
    const lse = rt.empty([T, H]);
    const o = attention(rt, { q: qkv, qRowStride: W, kCache, vCache, T, H, Hkv, D, past: 0, lse });
    const h = addInPlace(rt, linear(rt, reshape(o, [T, C]), wo), x);
    const n2 = rmsNorm(rt, h, w2, EPS);
    const gu = linear(rt, n2, wgu);
    const m = siluMulFused(rt, gu);

    // ----- GPU backward. dy = wLoss (loss = Σ wLoss ∘ y); the residual passes dy straight to h.
    const dy = up(wLoss, [T, C]);
    const dAq = rt.zeros([r, C]);
    const dBq = rt.zeros([W, r]);
    const dAd = rt.zeros([r, I]);
    const dBd = rt.zeros([C, r]);
    const dm = linearTransposed(rt, dy, wd); // base down_proj: dm = dy · Wd
    loraBackward(rt, { x: m, dy, a: ad, b: bd, scale: S, dA: dAd, dB: dBd, dx: dm }); // hidden recomputed
    const dgu = siluMulFusedBackward(rt, gu, dm);
    const dn2 = linearTransposed(rt, dgu, wgu);
    const dh = up(wLoss, [T, C]); // residual: dh starts as dy
    rmsNormBackward(rt, h, w2, EPS, dn2, { out: dh, accumulate: true });
    const dO = linearTransposed(rt, dh, wo);
    const dqkv = rt.empty([T, W]);
    fusedQkvAttentionBackward(rt, { qkv, o, lse, dO, dqkv, T, H, Hkv, D });
    ropeBackward(rt, dqkv, inv, { T, H, D, rowStride: W, posOffset: 0 });
    ropeBackward(rt, dqkv, inv, { T, H: Hkv, D, rowStride: W, offset: C, posOffset: 0 });
    const dn1 = linearTransposed(rt, dqkv, wqkv);
    loraBackward(rt, { x: n1, dy: dqkv, a: aq, b: bq, scale: S, hidden: hq, dA: dAq, dB: dBq, dx: dn1 });
    // Residual again: x's gradient is dh (skip path) plus the attention branch through the first norm;
    // accumulating into dh makes the residual-stream gradient buffer carry on to the layer below.
    const dx = rmsNormBackward(rt, x, w1, EPS, dn1, { out: dh, accumulate: true });

    // ----- Finite differences of the float64 layer.
    const [x64, aq64, bq64, ad64, bd64] = [xHost, aqHost, bqHost, adHost, bdHost].map(f64) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const loss = (xx = x64, a1 = aq64, b1 = bq64, a2 = ad64, b2 = bd64): number => dot64(wLoss, forward64(xx, a1, b1, a2, b2));
    const checks: [string, Float32Array, Float64Array][] = [
      ['dx', await rt.download(dx), finiteDifferenceGrad((v) => loss(v), x64)],
      ['dA_qkv', await rt.download(dAq), finiteDifferenceGrad((v) => loss(x64, v), aq64)],
      ['dB_qkv', await rt.download(dBq), finiteDifferenceGrad((v) => loss(x64, aq64, v), bq64)],
      ['dA_down', await rt.download(dAd), finiteDifferenceGrad((v) => loss(x64, aq64, bq64, v), ad64)],
      ['dB_down', await rt.download(dBd), finiteDifferenceGrad((v) => loss(x64, aq64, bq64, ad64, v), bd64)],
    ];
    // A dozen chained f32 kernels (observed < 1e-6 relative on SwiftShader); wiring mistakes give O(1).
    const errors = checks.map(([name, got, want]) => [name, report(`layer ${name}`, relativeError(got, want), 2e-5)] as const);
    for (const [name, error] of errors) expect(error, name).toBeLessThanOrEqual(2e-5);
  });
});
