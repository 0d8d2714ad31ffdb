// ModelWeights on the GPU, as stored: f32 as f32, f16 as packed halves, q4 as MLC's q_weight/q_scale
// (the kernels dequantise on the fly). Before anything is allocated the total is estimated and checked
// against the device's limits, and allocation runs inside an out-of-memory error scope, so a model
// too big for the GPU fails with a message instead of a lost device.

import { GpuRuntime, packF16Bits, type GpuTensor, type Weight } from '../gpu';
import { ropeInverseFrequencies, type ModelConfig } from './config';
import { dequantize, numElements, type ModelWeights, type WeightTensor } from './weights';

export interface GpuLayerWeights {
  inputLayernorm: GpuTensor;
  qkv: Weight;
  qkvBias: GpuTensor | null;
  oProj: Weight;
  postAttentionLayernorm: GpuTensor;
  gateUp: Weight;
  downProj: Weight;
}

export interface GpuModelWeights {
  embedTokens: Weight;
  layers: GpuLayerWeights[];
  norm: GpuTensor;
  /** The output projection: lm_head, or embedTokens itself when tied (no second copy). */
  lmHead: Weight;
  /** RoPE inverse frequencies [headDim/2] (Llama-3 scaling applied), f32. */
  invFreq: GpuTensor;
}

/** Bytes a tensor takes on the GPU in its stored form (buffers round up to 4 bytes, at least 16). */
export function storedBytes(t: WeightTensor): number {
  const buf = (b: number): number => Math.max(16, Math.ceil(b / 4) * 4);
  const d = t.data;
  if (d.kind === 'q4') return buf(d.qWeight.byteLength) + buf(d.qScale.byteLength);
  return buf(d.kind === 'f16' ? numElements(t) * 2 : numElements(t) * 4);
}

function allTensors(w: ModelWeights): Array<[string, WeightTensor]> {
  const out: Array<[string, WeightTensor]> = [['embed_tokens', w.embedTokens], ['norm', w.norm]];
  if (w.lmHead) out.push(['lm_head', w.lmHead]);
  w.layers.forEach((l, i) => {
    for (const [key, t] of Object.entries(l) as Array<[string, WeightTensor | null]>) if (t) out.push([`layers.${i}.${key}`, t]);
  });
  return out;
}

/** Bytes of the KV cache for `tokens` positions (K and V, all layers, f32). */
export function kvCacheBytes(c: ModelConfig, tokens: number): number {
  return 2 * c.numLayers * tokens * c.numKvHeads * c.headDim * 4;
}

/** Total weight bytes; throws when a single tensor exceeds what one binding can address. */
export function checkWeightsFit(rt: GpuRuntime, w: ModelWeights): number {
  const limits = rt.device.limits;
  const perBinding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  let total = 0;
  for (const [name, t] of allTensors(w)) {
    const bytes = storedBytes(t);
    const largest = t.data.kind === 'q4' ? Math.max(t.data.qWeight.byteLength, t.data.qScale.byteLength) : bytes;
    if (largest > perBinding) {
      throw new Error(
        `${name}: ${mb(largest)} in one buffer, but this GPU binds at most ${mb(perBinding)} per buffer (maxStorageBufferBindingSize). ` +
          'Use a smaller model or a 4-bit (q4f16_1) build.',
      );
    }
    total += bytes;
  }
  return total;
}

export const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function uploadTensor(rt: GpuRuntime, t: WeightTensor, label: string): Weight {
  const d = t.data;
  switch (d.kind) {
    case 'f32':
      return rt.upload(d.data, t.shape, 'f32', { exact: true, label });
    case 'f16':
      return rt.upload(packF16Bits(d.data), t.shape, 'f16', { exact: true, label });
    case 'q4': {
      if (t.shape.length !== 2) throw new Error(`${label}: a q4 tensor must be 2-D, got [${t.shape.join(', ')}]`);
      const scales = d.scaleDtype === 'f16' ? packF16Bits(d.qScale as Uint16Array) : (d.qScale as Float32Array);
      return rt.uploadQ4(d.qWeight, scales, t.shape as [number, number], d.scaleDtype, label);
    }
  }
}

/** Vectors (norms, biases) must be plain tensors: a quantised one (never seen in practice) is widened. */
function uploadVector(rt: GpuRuntime, t: WeightTensor, label: string): GpuTensor {
  if (t.data.kind === 'q4') return rt.upload(dequantize(t), t.shape, 'f32', { exact: true, label });
  return uploadTensor(rt, t, label) as GpuTensor;
}

/** Uploads every tensor; an out-of-memory error releases what was allocated and throws. */
export async function uploadWeights(rt: GpuRuntime, w: ModelWeights, c: ModelConfig): Promise<GpuModelWeights> {
  const total = checkWeightsFit(rt, w);
  rt.flush(); // error scopes nest: the runtime's open batch holds one, ours must not straddle it
  rt.device.pushErrorScope('out-of-memory');
  const embedTokens = uploadTensor(rt, w.embedTokens, 'embed_tokens');
  const gpu: GpuModelWeights = {
    embedTokens,
    layers: w.layers.map((l, i) => ({
      inputLayernorm: uploadVector(rt, l.inputLayernorm, `layers.${i}.input_layernorm`),
      qkv: uploadTensor(rt, l.qkv, `layers.${i}.qkv`),
      qkvBias: l.qkvBias ? uploadVector(rt, l.qkvBias, `layers.${i}.qkv_bias`) : null,
      oProj: uploadTensor(rt, l.oProj, `layers.${i}.o_proj`),
      postAttentionLayernorm: uploadVector(rt, l.postAttentionLayernorm, `layers.${i}.post_attention_layernorm`),
      gateUp: uploadTensor(rt, l.gateUp, `layers.${i}.gate_up`),
      downProj: uploadTensor(rt, l.downProj, `layers.${i}.down_proj`),
    })),
    norm: uploadVector(rt, w.norm, 'norm'),
    lmHead: w.lmHead ? uploadTensor(rt, w.lmHead, 'lm_head') : embedTokens,
    invFreq: rt.upload(Float32Array.from(ropeInverseFrequencies(c)), [c.headDim / 2], 'f32', { exact: true, label: 'rope_inv_freq' }),
  };
  const error = await rt.device.popErrorScope();
  if (error) {
    releaseWeights(rt, gpu);
    throw new Error(`Not enough GPU memory for the model weights (${mb(total)}): ${error.message}. Close other GPU-heavy tabs or apps, or use a smaller / 4-bit model.`);
  }
  return gpu;
}

export function releaseWeights(rt: GpuRuntime, w: GpuModelWeights): void {
  const tied = w.lmHead === w.embedTokens;
  rt.release(w.embedTokens, w.norm, w.invFreq, tied ? undefined : w.lmHead);
  for (const l of w.layers) rt.release(l.inputLayernorm, l.qkv, l.qkvBias ?? undefined, l.oProj, l.postAttentionLayernorm, l.gateUp, l.downProj);
}
