// What a run trains: the parameters, their gradient buffers, the backward into them and their AdamW.
// LoRA (the default) trains the adapter's A and B; the base weights stay frozen and, with the adapter
// switched off, are the reference policy. Full fine-tuning trains every base weight.
import { copyRows, type GpuRuntime, type GpuTensor } from '../gpu';
import type { GpuModelWeights } from '../model/gpu-weights';
import type { LoraAdapter } from '../model/lora';
import { fullParams, loraParams, releaseLoraGrads, zeroFullGrads, zeroLoraGrads, type FullGrads, type GpuModel, type LoraGrads, type SequencePass } from './backprop';
import { fingerprintWeights, type FullWeights } from './full-weights';
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

/** Copies every element of `src` into `dst` (same shape) on the GPU. */
function copyTensor(rt: GpuRuntime, src: GpuTensor, dst: GpuTensor): void {
  const n = src.shape.reduce((a, b) => a * b, 1);
  copyRows(rt, src, dst, { rows: 1, width: n, srcStride: n, dstStride: n });
}

/** A copy of each weight tensor (the same shapes, on the GPU). */
function copyWeights(rt: GpuRuntime, w: GpuModelWeights): GpuModelWeights {
  const copy = (t: GpuTensor): GpuTensor => {
    const out = rt.empty(t.shape);
    copyTensor(rt, t, out);
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

/** Why these weights cannot be fully fine-tuned (null: they can): only plain f32 tensors take updates. */
export function fullFineTuneProblem(w: GpuModelWeights): string | null {
  const all = [w.embedTokens, w.norm, w.lmHead, ...w.layers.flatMap((l) => [l.inputLayernorm, l.qkv, l.oProj, l.postAttentionLayernorm, l.gateUp, l.downProj, ...(l.qkvBias ? [l.qkvBias] : [])])];
  if (all.every((t) => 'dtype' in t && t.dtype === 'f32')) return null;
  return 'Full fine-tuning needs the weights in float32 (a Hugging Face folder saved as float32, e.g. save_pretrained with torch_dtype=torch.float32); this model is stored as f16 or q4: train a LoRA adapter instead, or load a float32 copy of the model.';
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
    const problem = fullFineTuneProblem(w);
    if (problem) throw new Error(problem);
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

  /** The trained weights as they are now, in fullParams order. */
  async download(): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (const t of fullParams(this.policy.weights, this.tied)) out.push((await this.policy.runtime.download(t)).slice());
    return out;
  }

  /** The trained weights with their shapes and the starting weights' fingerprint (what a checkpoint keeps). */
  async state(): Promise<FullWeights> {
    const shapes = fullParams(this.policy.weights, this.tied).map((t) => [...t.shape]);
    return { tensors: await this.download(), shapes, baseFingerprint: await this.baseFingerprint() };
  }

  private fingerprint: Promise<string> | null = null;

  /** Fingerprint of the starting weights (the frozen reference), computed once. */
  baseFingerprint(): Promise<string> {
    this.fingerprint ??= (async () => {
      const rt = this.policy.runtime;
      const out: Float32Array[] = [];
      for (const t of fullParams(this.reference.model.weights, this.tied)) out.push((await rt.download(t)).slice());
      return fingerprintWeights(out);
    })();
    return this.fingerprint;
  }

  /**
   * Puts a checkpoint's trained weights into the engine. The reference policy is not stored in
   * checkpoints: it is the run's starting weights, which the engine loaded from the base folder again
   * (storing it would add a fourth copy of the model to every checkpoint), so the base must be the
   * same, weight for weight: its fingerprint is checked, and shapes first for a clearer message.
   */
  async restore(saved: FullWeights): Promise<void> {
    const params = fullParams(this.policy.weights, this.tied);
    const shape = (s: readonly number[]): string => `[${s.join(', ')}]`;
    if (saved.tensors.length !== params.length) throw new Error(`the checkpoint holds ${saved.tensors.length} weight tensors, this model has ${params.length}: it was trained on a model of another shape; resume it on the model it was trained from`);
    params.forEach((p, k) => {
      if (shape(p.shape) !== shape(saved.shapes[k]!)) throw new Error(`the checkpoint's weight ${k} is ${shape(saved.shapes[k]!)}, this model's ${shape(p.shape)}: it was trained on a model of another shape; resume it on the model it was trained from`);
    });
    if ((await this.baseFingerprint()) !== saved.baseFingerprint) {
      throw new Error('the checkpoint started from other weights than this model has (its KL reference is the starting model): resume it on the very model folder the run started from, freshly loaded');
    }
    params.forEach((p, k) => this.policy.runtime.write(p, saved.tensors[k]!));
    this.policy.clearPrefixCache?.();
  }

  /** Puts the starting weights back into the engine (a new run on it then starts from the base). */
  resetToBase(): void {
    const rt = this.policy.runtime;
    const ref = fullParams(this.reference.model.weights, this.tied);
    fullParams(this.policy.weights, this.tied).forEach((p, k) => copyTensor(rt, ref[k]!, p));
    this.policy.clearPrefixCache?.();
  }

  /** Frees the reference copy and the optimiser state (the trained weights stay in the engine). */
  release(): void {
    const ref = this.reference.model.weights;
    const rt = this.policy.runtime;
    rt.release(...fullParams(ref, this.tied));
    this.optimizer.release();
  }
}
