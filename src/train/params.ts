// What a run trains: the parameters, their gradient buffers, the backward into them and their AdamW.
// LoRA (the default) trains the adapter's A and B; the base weights stay frozen and, with the adapter
// switched off, are the reference policy. Full fine-tuning trains every base weight.
import { copyRows, type GpuRuntime, type GpuTensor } from '../gpu';
import type { GpuModelWeights } from '../model/gpu-weights';
import type { LoraAdapter } from '../model/lora';
import { fullParams, loraParams, releaseLoraGrads, zeroFullGrads, zeroLoraGrads, type FullGrads, type GpuModel, type LoraGrads, type SequencePass } from './backprop';
import { LoraOptimizer, type OptimizerConfig, type OptimizerStep } from './optimizer';

/** Gradient buffers of one optimiser update (opaque to the steps). */
export interface Gradients {
  readonly tensors: readonly GpuTensor[];
}

export interface TrainedParams {
  /** The model the policy's training forward runs on, and the adapter it runs with (null: none). */
  readonly policy: GpuModel;
  readonly adapter: LoraAdapter | null;
  /** The frozen reference policy: its model and adapter (null: none). */
  readonly reference: { model: GpuModel; adapter: LoraAdapter | null };
  readonly optimizer: LoraOptimizer;
  /** Zeroed gradient buffers. */
  zeroGrads(): Gradients;
  /** The pass's backward from dL/dlogp (and optionally dL/dhidden) into `grads`; frees the pass. */
  backward(pass: SequencePass, dLogp: ReadonlyArray<ArrayLike<number>>, grads: Gradients, dHidden?: Float32Array): void;
  /** One clipped AdamW update from `grads`, then frees them. */
  update(grads: Gradients, lr: number): Promise<OptimizerStep>;
  /** Frees `grads` without an update (the parameters do not move). */
  discard(grads: Gradients, lr: number): Promise<OptimizerStep>;
}

interface LoraGradients extends Gradients {
  readonly lora: LoraGrads;
}

/** LoRA: the adapter's matrices; the reference is the same engine with the adapter off. */
export class LoraParams implements TrainedParams {
  readonly reference: { model: GpuModel; adapter: null };

  constructor(
    readonly policy: GpuModel,
    readonly adapter: LoraAdapter,
    readonly optimizer: LoraOptimizer,
  ) {
    this.reference = { model: policy, adapter: null };
  }

  zeroGrads(): LoraGradients {
    const lora = zeroLoraGrads(this.policy.runtime, this.adapter);
    return { lora, tensors: loraParams(lora) };
  }

  backward(pass: SequencePass, dLogp: ReadonlyArray<ArrayLike<number>>, grads: Gradients, dHidden?: Float32Array): void {
    pass.backward(dLogp, (grads as LoraGradients).lora, dHidden);
  }

  async update(grads: Gradients, lr: number): Promise<OptimizerStep> {
    try {
      return await this.optimizer.update(grads.tensors, lr);
    } finally {
      releaseLoraGrads(this.policy.runtime, (grads as LoraGradients).lora);
    }
  }

  async discard(grads: Gradients, lr: number): Promise<OptimizerStep> {
    releaseLoraGrads(this.policy.runtime, (grads as LoraGradients).lora);
    return { gradNorm: 0, skipped: false, lr };
  }
}

interface FullGradients extends Gradients {
  readonly full: FullGrads;
}

/** A copy of each weight tensor (the same shapes, on the GPU). */
function copyWeights(rt: GpuRuntime, w: GpuModelWeights): GpuModelWeights {
  const copy = (t: GpuTensor): GpuTensor => {
    const out = rt.empty(t.shape);
    const n = t.shape.reduce((a, b) => a * b, 1);
    copyRows(rt, t, out, { rows: 1, width: n, srcStride: n, dstStride: n });
    return out;
  };
  const embedTokens = copy(w.embedTokens as GpuTensor);
  return {
    embedTokens,
    layers: w.layers.map((l) => ({
      inputLayernorm: copy(l.inputLayernorm),
      qkv: copy(l.qkv as GpuTensor),
      qkvBias: l.qkvBias ? copy(l.qkvBias) : null,
      oProj: copy(l.oProj as GpuTensor),
      postAttentionLayernorm: copy(l.postAttentionLayernorm),
      gateUp: copy(l.gateUp as GpuTensor),
      downProj: copy(l.downProj as GpuTensor),
    })),
    norm: copy(w.norm),
    lmHead: w.lmHead === w.embedTokens ? embedTokens : copy(w.lmHead as GpuTensor),
    invFreq: w.invFreq,
  };
}

/**
 * Full fine-tuning: every base weight is trained in place on the engine (so sampling sees the policy
 * with no adapter), with AdamW moments for each; the reference policy is a frozen copy of the weights
 * as they were. Memory: weights × 5 (weights, reference, gradients, two moments), so for small models.
 * Needs plain f32 weights (a Hugging Face folder in float32; f16 / q4 storage cannot take updates).
 */
export class FullParams implements TrainedParams {
  readonly adapter = null;
  readonly reference: { model: GpuModel; adapter: null };
  readonly optimizer: LoraOptimizer;
  private readonly tied: boolean;

  constructor(
    readonly policy: GpuModel & { clearPrefixCache?(): void },
    optimizerConfig: OptimizerConfig,
  ) {
    const w = policy.weights;
    const all = [w.embedTokens, w.norm, w.lmHead, ...w.layers.flatMap((l) => [l.inputLayernorm, l.qkv, l.oProj, l.postAttentionLayernorm, l.gateUp, l.downProj, ...(l.qkvBias ? [l.qkvBias] : [])])];
    if (all.some((t) => !('dtype' in t) || t.dtype !== 'f32')) {
      throw new Error('full fine-tuning needs the weights in float32 (a Hugging Face folder saved as float32); this model is stored as f16 or q4: train a LoRA adapter instead.');
    }
    this.tied = w.lmHead === w.embedTokens;
    this.optimizer = new LoraOptimizer(policy.runtime, fullParams(w, this.tied), optimizerConfig);
    this.reference = { model: { runtime: policy.runtime, config: policy.config, weights: copyWeights(policy.runtime, w) }, adapter: null };
  }

  zeroGrads(): FullGradients {
    const full = zeroFullGrads(this.policy.runtime, this.policy.weights, this.tied);
    return { full, tensors: fullParams(full, this.tied) };
  }

  backward(pass: SequencePass, dLogp: ReadonlyArray<ArrayLike<number>>, grads: Gradients, dHidden?: Float32Array): void {
    pass.backward(dLogp, [], dHidden, (grads as FullGradients).full);
  }

  async update(grads: Gradients, lr: number): Promise<OptimizerStep> {
    try {
      return await this.optimizer.update(grads.tensors, lr);
    } finally {
      this.policy.runtime.release(...grads.tensors);
      this.policy.clearPrefixCache?.(); // cached K/V were computed with the old weights
    }
  }

  async discard(grads: Gradients, lr: number): Promise<OptimizerStep> {
    this.policy.runtime.release(...grads.tensors);
    return { gradNorm: 0, skipped: false, lr };
  }

  /** Frees the reference copy and the optimiser state (the trained weights stay in the engine). */
  release(): void {
    const ref = this.reference.model.weights;
    const rt = this.policy.runtime;
    rt.release(...fullParams(ref, this.tied));
    this.optimizer.release();
  }
}
