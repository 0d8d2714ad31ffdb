// LoRA adapters on the GPU: per layer, per target module, A [r, in] and B [out, r] as plain f32
// tensors, so the trainer can read and update them in place. An adapter adds scale · B·(A·x) to its
// module's output; q/k/v (gate/up) land in their own column slices of the fused qkv (gate_up) output.

import type { GpuRuntime, GpuTensor } from '../gpu';
import { qkvSplit, gateUpSplit } from './weights';
import type { ModelConfig } from './config';
import type { LoraAdapters, LoraTarget } from './reference';

export const LORA_TARGETS: readonly LoraTarget[] = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'];

export interface LoraWeights {
  /** [rank, in] */
  A: GpuTensor;
  /** [out, rank] */
  B: GpuTensor;
}

export interface LoraAdapter {
  rank: number;
  alpha: number;
  /** Multiplies B·A·x: alpha / rank, or alpha / √rank with rsLoRA. */
  scale: number;
  /** Dropout on the adapter's input; used only in training (the forward pass here ignores it). */
  dropout: number;
  /** One entry per model layer; a missing target has no adapter. */
  layers: Array<Partial<Record<LoraTarget, LoraWeights>>>;
  /** PEFT's base_model_name_or_path, when known (kept for export). */
  baseModel?: string;
}

/** Host form of an adapter (the reference model's LoraAdapters plus the fields PEFT carries). */
export interface HostLoraAdapter extends LoraAdapters {
  /** Defaults to alpha / rank. */
  scale?: number;
  dropout?: number;
  baseModel?: string;
}

/** [in, out] of each target module for this model. */
export function loraDims(c: ModelConfig, target: LoraTarget): { in: number; out: number } {
  const { q, k, v } = qkvSplit(c);
  const { gate, up } = gateUpSplit(c);
  const dims: Record<LoraTarget, { in: number; out: number }> = {
    q: { in: c.hiddenSize, out: q },
    k: { in: c.hiddenSize, out: k },
    v: { in: c.hiddenSize, out: v },
    o: { in: q, out: c.hiddenSize },
    gate: { in: c.hiddenSize, out: gate },
    up: { in: c.hiddenSize, out: up },
    down: { in: c.intermediateSize, out: c.hiddenSize },
  };
  return dims[target];
}

/** Column range of a target inside its fused output (qkv or gate_up); null for o and down. */
export function fusedSlice(c: ModelConfig, target: LoraTarget): { offset: number; width: number; stride: number } | null {
  const { q, k, v } = qkvSplit(c);
  const { gate, up } = gateUpSplit(c);
  const qkv = q + k + v;
  switch (target) {
    case 'q':
      return { offset: 0, width: q, stride: qkv };
    case 'k':
      return { offset: q, width: k, stride: qkv };
    case 'v':
      return { offset: q + k, width: v, stride: qkv };
    case 'gate':
      return { offset: 0, width: gate, stride: gate + up };
    case 'up':
      return { offset: gate, width: up, stride: gate + up };
    default:
      return null;
  }
}

/** Checks a host adapter's shapes against the model; `where` names the source in errors. */
export function checkHostAdapter(c: ModelConfig, host: HostLoraAdapter, where = 'adapter'): void {
  if (!Number.isInteger(host.rank) || host.rank < 1) throw new Error(`${where}: rank must be a positive integer, got ${host.rank}`);
  if (host.layers.length > c.numLayers) throw new Error(`${where}: has ${host.layers.length} layers, the base model ${c.numLayers}: this adapter was trained for another base model`);
  host.layers.forEach((layer, i) => {
    for (const [target, m] of Object.entries(layer) as Array<[LoraTarget, { a: ArrayLike<number>; b: ArrayLike<number> }]>) {
      const d = loraDims(c, target);
      if (m.a.length !== host.rank * d.in || m.b.length !== d.out * host.rank) {
        throw new Error(`${where}: layer ${i} ${target}: A has ${m.a.length} values and B ${m.b.length}, expected [${host.rank}, ${d.in}] and [${d.out}, ${host.rank}]`);
      }
    }
  });
}

/** Checks a GPU adapter's tensor shapes against the model (adapters made by the trainer). */
export function checkGpuAdapter(c: ModelConfig, adapter: LoraAdapter, where = 'adapter'): void {
  if (adapter.layers.length > c.numLayers) throw new Error(`${where}: has ${adapter.layers.length} layers, the base model ${c.numLayers}`);
  adapter.layers.forEach((layer, i) => {
    for (const [target, m] of Object.entries(layer) as Array<[LoraTarget, LoraWeights]>) {
      const d = loraDims(c, target);
      const [r, inDim] = m.A.shape;
      const [outDim, rB] = m.B.shape;
      if (r !== adapter.rank || rB !== adapter.rank || inDim !== d.in || outDim !== d.out) {
        throw new Error(`${where}: layer ${i} ${target}: A [${m.A.shape.join(', ')}] and B [${m.B.shape.join(', ')}], expected [${adapter.rank}, ${d.in}] and [${d.out}, ${adapter.rank}]`);
      }
    }
  });
}

/** Uploads a host adapter (validated against the model). */
export function uploadLora(rt: GpuRuntime, c: ModelConfig, host: HostLoraAdapter, where = 'adapter'): LoraAdapter {
  checkHostAdapter(c, host, where);
  const r = host.rank;
  const layers = Array.from({ length: c.numLayers }, (_, i) => {
    const out: Partial<Record<LoraTarget, LoraWeights>> = {};
    for (const [target, m] of Object.entries(host.layers[i] ?? {}) as Array<[LoraTarget, { a: ArrayLike<number>; b: ArrayLike<number> }]>) {
      const d = loraDims(c, target);
      out[target] = {
        A: rt.upload(Float32Array.from(m.a), [r, d.in], 'f32', { exact: true, label: `lora.${i}.${target}.A` }),
        B: rt.upload(Float32Array.from(m.b), [d.out, r], 'f32', { exact: true, label: `lora.${i}.${target}.B` }),
      };
    }
    return out;
  });
  return {
    rank: r,
    alpha: host.alpha,
    scale: host.scale ?? host.alpha / r,
    dropout: host.dropout ?? 0,
    layers,
    ...(host.baseModel !== undefined ? { baseModel: host.baseModel } : {}),
  };
}

/** Reads an adapter back to the host (for export, checkpoints, tests). */
export async function downloadLora(rt: GpuRuntime, adapter: LoraAdapter): Promise<HostLoraAdapter> {
  const layers: HostLoraAdapter['layers'] = [];
  for (const layer of adapter.layers) {
    const out: HostLoraAdapter['layers'][number] = {};
    for (const [target, m] of Object.entries(layer) as Array<[LoraTarget, LoraWeights]>) {
      out[target] = { a: await rt.download(m.A), b: await rt.download(m.B) };
    }
    layers.push(out);
  }
  return {
    rank: adapter.rank,
    alpha: adapter.alpha,
    scale: adapter.scale,
    dropout: adapter.dropout,
    layers,
    ...(adapter.baseModel !== undefined ? { baseModel: adapter.baseModel } : {}),
  };
}

export function releaseLora(rt: GpuRuntime, adapter: LoraAdapter): void {
  for (const layer of adapter.layers) for (const m of Object.values(layer)) rt.release(m.A, m.B);
}
