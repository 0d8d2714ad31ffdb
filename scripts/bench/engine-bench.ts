// Engine benchmark, shared by Node (engine-node.ts) and Chromium (engine.html): matmul GFLOP/s of our
// `linear` kernel beside TensorFlow.js's WebGPU matMul on the same device in the same run, and prefill /
// decode tokens per second of whole models loaded through the real loaders.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-webgpu';
import { GpuRuntime, linear, packF16, quantizeQ4, type GpuContext } from '../../src/gpu';
import { Engine } from '../../src/model/engine';
import type { ModelSource } from '../../src/model/source';

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export interface MatmulRow {
  shape: string;
  ours_f32_gflops: number;
  ours_f16_weights_gflops: number;
  ours_q4_weights_gflops: number;
  tfjs_f32_gflops: number;
  ratio_ours_f32_to_tfjs: number;
}

/** y[M,N] = x[M,K]·W[N,K]ᵀ, timed to completion (a read-back) for each implementation, median of `runs`. */
export async function benchMatmul(gpu: GpuContext, shapes: [number, number, number][], runs = 5): Promise<MatmulRow[]> {
  const rt = new GpuRuntime(gpu);
  const rows: MatmulRow[] = [];
  for (const [M, K, N] of shapes) {
    const xData = randomArray(M * K, 1);
    const wData = randomArray(N * K, 2).map((v) => v * 0.05);
    const x = rt.upload(xData, [M, K]);
    const weights = {
      f32: rt.upload(wData, [N, K], 'f32', { exact: true }),
      f16: rt.upload(packF16(wData), [N, K], 'f16', { exact: true }),
      q4: (() => {
        const q = quantizeQ4(wData, N, K);
        return rt.uploadQ4(q.qWeight, q.qScale as Float32Array, [N, K], 'f32');
      })(),
    };
    const flops = 2 * M * N * K;
    const time = async (run: () => Promise<unknown>) => {
      await run(); // warm-up: shader compile, first allocation
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await run();
        times.push(performance.now() - started);
      }
      return flops / (median(times) / 1000) / 1e9;
    };
    const ours = (w: Parameters<typeof linear>[2]) => async () => {
      const y = linear(rt, x, w);
      await rt.download(y);
      rt.release(y);
    };
    const f32 = await time(ours(weights.f32));
    const f16 = await time(ours(weights.f16));
    const q4 = await time(ours(weights.q4));
    const a = tf.tensor2d(xData, [M, K]);
    const b = tf.tensor2d(wData, [N, K]);
    const tfjs = await time(async () => {
      const c = tf.matMul(a, b, false, true);
      await c.data();
      c.dispose();
    });
    a.dispose();
    b.dispose();
    rt.release(x, weights.f32, weights.f16, weights.q4.qWeight, weights.q4.qScale);
    const round = (v: number) => +v.toFixed(3);
    rows.push({ shape: `${M}x${K}x${N}`, ours_f32_gflops: round(f32), ours_f16_weights_gflops: round(f16), ours_q4_weights_gflops: round(q4), tfjs_f32_gflops: round(tfjs), ratio_ours_f32_to_tfjs: round(f32 / tfjs) });
  }
  return rows;
}

export async function useTfjsWebGpu(): Promise<string> {
  await tf.setBackend('webgpu');
  await tf.ready();
  return tf.getBackend();
}

export interface ModelRow {
  model: string;
  parameters: number;
  load_s: number;
  prefill_tokens: number;
  prefill_tokens_per_s: number;
  decode_tokens: number;
  decode_tokens_per_s: number;
}

/** Loads a model through the real loader, then times a prefill of `prefill` tokens and `decode` single-token steps. */
export async function benchModel(name: string, source: ModelSource, gpu: GpuContext, prefill: number, decode: number): Promise<ModelRow> {
  const started = performance.now();
  const engine = await Engine.load(source, gpu, { maxTokens: prefill + decode + 8 });
  const loadS = (performance.now() - started) / 1000;
  const c = engine.config;
  const perLayer = c.hiddenSize * (c.numHeads + 2 * c.numKvHeads) * c.headDim + c.numHeads * c.headDim * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize;
  const parameters = c.numLayers * perLayer + c.vocabSize * c.hiddenSize * (c.tieWordEmbeddings ? 1 : 2);
  const ids = Array.from({ length: prefill }, (_, i) => (i * 7 + 3) % Math.min(c.vocabSize, engine.tokenizer.size));

  // Warm-up on a separate session compiles every shader of both paths.
  const warm = engine.session({ maxTokens: 4 });
  await warm.append(ids.slice(0, 2));
  await warm.append([ids[0]!]);
  await warm.topK(1, 1);
  warm.dispose();

  const session = engine.session({ maxTokens: prefill + decode + 1 });
  let t = performance.now();
  await session.append(ids);
  let { indices } = await session.topK(1, 1);
  const prefillS = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = 0; i < decode; i++) {
    await session.append([indices[0]!]);
    ({ indices } = await session.topK(1, 1));
  }
  const decodeS = (performance.now() - t) / 1000;
  session.dispose();
  engine.dispose();
  const round = (v: number) => +v.toFixed(3);
  return { model: name, parameters, load_s: round(loadS), prefill_tokens: prefill, prefill_tokens_per_s: round(prefill / prefillS), decode_tokens: decode, decode_tokens_per_s: round(decode / decodeS) };
}

export const MATMUL_SHAPES: [number, number, number][] = [
  [1, 896, 4864], // one decode step through a Qwen2.5-0.5B MLP projection
  [64, 896, 896], // a short prefill through an attention projection
  [128, 896, 4864], // a longer prefill through an MLP projection
  [256, 256, 256],
];
