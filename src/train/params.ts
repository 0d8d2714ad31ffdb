// What a run trains: the parameters, their gradient buffers, the backward into them and their AdamW.
// LoRA (the default) trains the adapter's A and B; the base weights stay frozen and, with the adapter
// switched off, are the reference policy.
import type { GpuTensor } from '../gpu';
import type { LoraAdapter } from '../model/lora';
import { loraParams, releaseLoraGrads, zeroLoraGrads, type GpuModel, type LoraGrads, type SequencePass } from './backprop';
import type { LoraOptimizer, OptimizerStep } from './optimizer';

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
