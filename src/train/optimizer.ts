// AdamW over the LoRA tensors on the GPU (PyTorch's AdamW: bias-corrected moments, decoupled weight
// decay), with global-norm gradient clipping and a NaN/Inf guard, all without reading the gradients
// back: one pass gives Σg² and a non-finite flag, the clip factor stays on the GPU, and every adamw
// dispatch is skipped by the flag. Two scalars are read back afterwards for the metrics; a skipped
// step does not advance the step count (so the bias corrections stay right) and is counted.
// Also a host AdamW for small host-side parameters (the PPO value head).

import { adamw, clipFactor, gradNormSquared, type GpuRuntime, type GpuTensor } from '../gpu';
import { learningRate, type ScheduleConfig } from './schedule';

export interface OptimizerConfig {
  /** Peak learning rate. */
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Decoupled weight decay (multiplies lr·param), 0 as in transformers' TrainingArguments. */
  weightDecay: number;
  /** Clip the global gradient norm to this (transformers' default 1); 0 or Infinity: no clipping. */
  maxGradNorm: number;
  /** Warm-up and decay of the learning rate (schedule.ts). */
  warmupSteps: number;
  decay: ScheduleConfig['decay'];
  minRatio: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1, warmupSteps: 0, decay: 'constant', minRatio: 0 };

export interface OptimizerStep {
  /** Global gradient norm before clipping (NaN / Infinity when the gradient was not finite). */
  gradNorm: number;
  /** The update was skipped: a NaN or Inf in the gradient. */
  skipped: boolean;
  lr: number;
}

/** What a checkpoint keeps of the optimiser: moments in loraParams order, and the step counts. */
export interface OptimizerState {
  /** Updates applied (the bias-correction step t). */
  step: number;
  /** Updates skipped for non-finite gradients. */
  skipped: number;
  m: Float32Array[];
  v: Float32Array[];
}

export class LoraOptimizer {
  private readonly m: GpuTensor[];
  private readonly v: GpuTensor[];
  step = 0;
  skipped = 0;

  constructor(
    private readonly rt: GpuRuntime,
    private readonly params: readonly GpuTensor[],
    readonly config: OptimizerConfig,
  ) {
    const zeros = (p: GpuTensor): GpuTensor => rt.upload(new Float32Array(p.shape.reduce((a, b) => a * b, 1)), p.shape, 'f32', { exact: true, label: 'adamw.moment' });
    this.m = params.map(zeros);
    this.v = params.map(zeros);
  }

  /** The learning rate of update number `index` (0-based) over `totalSteps`. */
  learningRate(index: number, totalSteps: number): number {
    const c = this.config;
    return learningRate(index, { lr: c.lr, warmupSteps: c.warmupSteps, totalSteps, decay: c.decay, minRatio: c.minRatio });
  }

  /** One clipped AdamW update of every parameter from `grads` (same order as the params). */
  async update(grads: readonly GpuTensor[], lr: number): Promise<OptimizerStep> {
    const rt = this.rt;
    if (grads.length !== this.params.length) throw new Error(`optimizer: ${grads.length} gradients for ${this.params.length} parameters`);
    const { sumSquares, nonFinite } = gradNormSquared(rt, grads);
    const clip = this.config.maxGradNorm > 0 && Number.isFinite(this.config.maxGradNorm);
    const factor = clip ? clipFactor(rt, sumSquares, this.config.maxGradNorm) : undefined;
    const { beta1, beta2, eps, weightDecay } = this.config;
    this.params.forEach((p, i) => {
      adamw(rt, p, grads[i]!, this.m[i]!, this.v[i]!, { lr, beta1, beta2, eps, weightDecay, step: this.step + 1, ...(factor ? { gradScaleTensor: factor } : {}), skipIf: nonFinite });
    });
    rt.release(factor);
    const flag = (await rt.downloadU32(nonFinite))[0]!;
    const norm = Math.sqrt((await rt.download(sumSquares))[0]!);
    rt.release(sumSquares, nonFinite);
    const skipped = flag !== 0;
    if (skipped) this.skipped++;
    else this.step++;
    return { gradNorm: skipped && Number.isFinite(norm) ? Infinity : norm, skipped, lr };
  }

  async state(): Promise<OptimizerState> {
    const down = async (ts: GpuTensor[]): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for (const t of ts) out.push((await this.rt.download(t)).slice());
      return out;
    };
    return { step: this.step, skipped: this.skipped, m: await down(this.m), v: await down(this.v) };
  }

  load(state: OptimizerState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) throw new Error(`optimizer state: ${state.m.length} moments for ${this.m.length} parameters`);
    state.m.forEach((a, i) => this.rt.write(this.m[i]!, a));
    state.v.forEach((a, i) => this.rt.write(this.v[i]!, a));
    this.step = state.step;
    this.skipped = state.skipped;
  }

  release(): void {
    this.rt.release(...this.m, ...this.v);
  }
}

/** AdamW on the host (float64) for a few parameters, e.g. the PPO value head. Same update as the GPU kernel. */
export class HostAdamW {
  readonly m: Float64Array;
  readonly v: Float64Array;
  step = 0;

  constructor(
    readonly params: Float64Array,
    readonly config: Pick<OptimizerConfig, 'beta1' | 'beta2' | 'eps' | 'weightDecay' | 'maxGradNorm'>,
  ) {
    this.m = new Float64Array(params.length);
    this.v = new Float64Array(params.length);
  }

  /** Returns the gradient norm; a non-finite gradient skips the update. */
  update(grad: ArrayLike<number>, lr: number): number {
    let sum = 0;
    for (let i = 0; i < grad.length; i++) sum += grad[i]! ** 2;
    const norm = Math.sqrt(sum);
    if (!Number.isFinite(norm)) return norm;
    const { beta1, beta2, eps, weightDecay, maxGradNorm } = this.config;
    const clip = maxGradNorm > 0 && Number.isFinite(maxGradNorm) ? Math.min(1, maxGradNorm / (norm + 1e-6)) : 1;
    this.step++;
    const bc1 = 1 - beta1 ** this.step;
    const bc2 = 1 - beta2 ** this.step;
    for (let i = 0; i < this.params.length; i++) {
      const g = grad[i]! * clip;
      this.params[i] = this.params[i]! * (1 - lr * weightDecay);
      this.m[i] = beta1 * this.m[i]! + (1 - beta1) * g;
      this.v[i] = beta2 * this.v[i]! + (1 - beta2) * g * g;
      this.params[i] = this.params[i]! - (lr * this.m[i]!) / bc1 / (Math.sqrt(this.v[i]! / bc2) + eps);
    }
    return norm;
  }
}
