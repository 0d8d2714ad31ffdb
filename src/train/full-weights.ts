// Full fine-tuning's weights on the host: every trained tensor in fullParams order (what checkpoints
// store), read back into the loader's ModelWeights layout (what the Hugging Face export writes), and the
// fingerprint of a run's starting weights, which a resumed run checks its reference policy against.
import type { GpuTensor } from '../gpu';
import type { GpuModelWeights } from '../model/gpu-weights';
import type { ModelWeights, WeightTensor } from '../model/weights';

/** A full run's trained weights, in fullParams order, and the fingerprint of the weights it started from. */
export interface FullWeights {
  tensors: Float32Array[];
  shapes: number[][];
  /** SHA-256 (hex) of the starting weights: the frozen reference policy. */
  baseFingerprint: string;
}

/** Host tensors in fullParams order (see backprop.ts) laid out as the GPU weights `layout` are. */
export function hostModelWeights(layout: GpuModelWeights, tensors: readonly Float32Array[]): ModelWeights {
  let next = 0;
  const take = (t: unknown): WeightTensor => {
    const data = tensors[next++];
    if (!data) throw new Error(`full weights: ${tensors.length} tensors are fewer than the model has`);
    return { shape: [...(t as GpuTensor).shape], data: { kind: 'f32', data } };
  };
  const embedTokens = take(layout.embedTokens);
  const layers = layout.layers.map((l) => ({
    inputLayernorm: take(l.inputLayernorm),
    qkv: take(l.qkv),
    qkvBias: l.qkvBias ? take(l.qkvBias) : null,
    oProj: take(l.oProj),
    postAttentionLayernorm: take(l.postAttentionLayernorm),
    gateUp: take(l.gateUp),
    downProj: take(l.downProj),
  }));
  const norm = take(layout.norm);
  const lmHead = layout.lmHead === layout.embedTokens ? null : take(layout.lmHead);
  if (next !== tensors.length) throw new Error(`full weights: ${tensors.length} tensors, the model has ${next}`);
  return { embedTokens, layers, norm, lmHead };
}

/** SHA-256 of the tensors' SHA-256s, in order (Web Crypto: browsers and Node alike; shapes are checked apart). */
export async function fingerprintWeights(tensors: readonly Float32Array[]): Promise<string> {
  const digests: Uint8Array[] = [];
  for (const t of tensors) digests.push(new Uint8Array(await crypto.subtle.digest('SHA-256', t as Float32Array<ArrayBuffer>)));
  const all = new Uint8Array(digests.length * 32);
  digests.forEach((d, i) => all.set(d, i * 32));
  const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
  return Array.from(sum, (b) => b.toString(16).padStart(2, '0')).join('');
}
