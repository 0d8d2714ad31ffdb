// The kernels composed the way a decoder layer uses them (pre-norm attention with a fused qkv + bias,
// rope inside the fused buffer, KV cache writes, GQA attention, SwiGLU MLP from a fused gate_up),
// recorded into ONE submit with intermediates released mid-batch, then a decode step on the same
// cache. Checks the pieces fit together (layouts, strides, pool reuse under batching), not a model.
import { describe, expect, it } from 'vitest';
import type { GpuRuntime } from '../runtime';
import { dequantizeQ4, packF16, quantizeQ4, reshape, roundToF16, type GpuTensor, type Weight } from '../tensor';
import { useGpuRuntime } from '../test-runtime';
import { maxAbsDiff, randn, randomArray, rng } from '../testing';
import { attention, attentionReference } from './attention';
import { addInPlace, addReference, copyRows, copyRowsReference, siluMulFused, siluMulReference } from './elementwise';
import { linear, linearReference } from './linear';
import { rmsNorm, rmsNormReference } from './rmsnorm';
import { rope, ropeInvFreq, ropeReference } from './rope';

const [C, H, Hkv, hd, I, maxT] = [64, 4, 2, 16, 96, 12];
const QKV = (H + 2 * Hkv) * hd;
const EPS = 1e-6;

interface HostWeights {
  norm1: Float32Array;
  qkv: Float32Array; // f16-rounded [QKV, C]
  qkvBias: Float32Array;
  o: Float32Array; // f32 [C, H·hd]
  norm2: Float32Array;
  gateUp: Float32Array; // dequantised q4f16 [2I, C]
  down: Float32Array; // dequantised q4f32 [C, I]
  invFreq: Float32Array;
}

function makeWeights(rt: GpuRuntime): { host: HostWeights; gpu: Record<keyof HostWeights, Weight> } {
  const random = rng(99);
  const qkvRaw = randomArray(random, QKV * C, -0.2, 0.2);
  const gu = quantizeQ4(randomArray(random, 2 * I * C, -0.2, 0.2), 2 * I, C);
  gu.qScale = roundToF16(gu.qScale);
  const down = quantizeQ4(randomArray(random, C * I, -0.2, 0.2), C, I);
  const host: HostWeights = {
    norm1: randomArray(random, C, 0.5, 1.5),
    qkv: roundToF16(qkvRaw),
    qkvBias: randomArray(random, QKV, -0.1, 0.1),
    o: randomArray(random, C * H * hd, -0.2, 0.2),
    norm2: randomArray(random, C, 0.5, 1.5),
    gateUp: dequantizeQ4(gu, 2 * I, C),
    down: dequantizeQ4(down, C, I),
    invFreq: ropeInvFreq(hd, 10000),
  };
  const gpu = {
    norm1: rt.upload(host.norm1, [C]),
    qkv: rt.upload(packF16(qkvRaw), [QKV, C], 'f16', { exact: true }),
    qkvBias: rt.upload(host.qkvBias, [QKV]),
    o: rt.upload(host.o, [C, H * hd]),
    norm2: rt.upload(host.norm2, [C]),
    gateUp: rt.uploadQ4(gu.qWeight, packF16(gu.qScale), [2 * I, C], 'f16'),
    down: rt.uploadQ4(down.qWeight, down.qScale, [C, I], 'f32'),
    invFreq: rt.upload(host.invFreq, [hd / 2]),
  };
  return { host, gpu };
}

/** One layer on the GPU for T new tokens after `past` cached ones; x is updated in place. */
function layerGpu(rt: GpuRuntime, w: Record<keyof HostWeights, Weight>, x: GpuTensor, kCache: GpuTensor, vCache: GpuTensor, T: number, past: number): void {
  const t = (name: keyof HostWeights) => w[name] as GpuTensor;
  const h = rmsNorm(rt, x, t('norm1'), EPS);
  const qkv = linear(rt, h, w.qkv, { bias: t('qkvBias') });
  rt.release(h);
  rope(rt, qkv, t('invFreq'), { T, H, D: hd, rowStride: QKV, offset: 0, posOffset: past });
  rope(rt, qkv, t('invFreq'), { T, H: Hkv, D: hd, rowStride: QKV, offset: H * hd, posOffset: past });
  for (const [cache, offset] of [
    [kCache, H * hd],
    [vCache, (H + Hkv) * hd],
  ] as const) {
    copyRows(rt, qkv, cache, { rows: T, width: Hkv * hd, srcStride: QKV, srcOffset: offset, dstStride: Hkv * hd, dstOffset: past * Hkv * hd });
  }
  const att = attention(rt, { q: qkv, qRowStride: QKV, kCache, vCache, T, H, Hkv, D: hd, past });
  rt.release(qkv);
  const o = linear(rt, reshape(att, [T, H * hd]), w.o);
  rt.release(att);
  addInPlace(rt, x, o);
  rt.release(o);
  const h2 = rmsNorm(rt, x, t('norm2'), EPS);
  const gu = linear(rt, h2, w.gateUp);
  const act = siluMulFused(rt, gu);
  const down = linear(rt, act, w.down);
  addInPlace(rt, x, down);
  rt.release(h2, gu, act, down);
}

function layerReference(w: HostWeights, x: Float32Array, kCache: Float32Array, vCache: Float32Array, T: number, past: number): { x: Float32Array; kCache: Float32Array; vCache: Float32Array } {
  const h = rmsNormReference(x, w.norm1, EPS);
  let qkv = linearReference(h, w.qkv, T, QKV, C, { bias: w.qkvBias });
  qkv = ropeReference(qkv, w.invFreq, { T, H, D: hd, rowStride: QKV, offset: 0, posOffset: past });
  qkv = ropeReference(qkv, w.invFreq, { T, H: Hkv, D: hd, rowStride: QKV, offset: H * hd, posOffset: past });
  const layout = (offset: number) => ({ rows: T, width: Hkv * hd, srcStride: QKV, srcOffset: offset, dstStride: Hkv * hd, dstOffset: past * Hkv * hd });
  kCache = copyRowsReference(qkv, kCache, layout(H * hd));
  vCache = copyRowsReference(qkv, vCache, layout((H + Hkv) * hd));
  const q = new Float32Array(T * H * hd);
  for (let i = 0; i < T; i++) q.set(qkv.subarray(i * QKV, i * QKV + H * hd), i * H * hd);
  const att = attentionReference(q, kCache, vCache, { T, H, Hkv, D: hd, past }).out;
  const x1 = addReference(x, linearReference(att, w.o, T, C, H * hd));
  const gu = linearReference(rmsNormReference(x1, w.norm2, EPS), w.gateUp, T, 2 * I, C);
  const gate = new Float32Array(T * I);
  const up = new Float32Array(T * I);
  for (let i = 0; i < T; i++) {
    gate.set(gu.subarray(i * 2 * I, i * 2 * I + I), i * I);
    up.set(gu.subarray(i * 2 * I + I, (i + 1) * 2 * I), i * I);
  }
  const down = linearReference(siluMulReference(gate, up), w.down, T, C, I);
  return { x: addReference(x1, down), kCache, vCache };
}

describe('kernel composition: a decoder layer', () => {
  const gpu = useGpuRuntime();

  it('prefill then decode, each step one submit, matches the composed references', async () => {
    const rt = gpu();
    const { host, gpu: weights } = makeWeights(rt);
    const random = rng(5);
    let kHost: Float32Array = new Float32Array(maxT * Hkv * hd);
    let vHost: Float32Array = new Float32Array(maxT * Hkv * hd);
    const kCache = rt.zeros([maxT, Hkv, hd]);
    const vCache = rt.zeros([maxT, Hkv, hd]);
    let past = 0;
    for (const T of [5, 1, 1]) {
      const xHost = randn(random, T * C);
      const x = rt.upload(xHost, [T, C]);
      rt.flush();
      const submits = rt.submits;
      layerGpu(rt, weights, x, kCache, vCache, T, past);
      const got = await rt.download(x); // the layer and the read-back copy go out together
      expect(rt.submits).toBe(submits + 1);
      const want = layerReference(host, xHost, kHost, vHost, T, past);
      kHost = want.kCache;
      vHost = want.vCache;
      // Outputs O(1); a chain of f32 matmuls, norms and softmax.
      expect(maxAbsDiff(got, want.x), `T=${T} past=${past}`).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(await rt.download(kCache), kHost)).toBeLessThanOrEqual(1e-4);
      rt.release(x);
      past += T;
    }
  });
});
