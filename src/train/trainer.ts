// The RL / SFT trainer of a LoRA adapter on the local GPU engine (TRL's GRPOTrainer is the model): the
// loop, its state (steps, history, optimiser, value head) and the glue to checkpoints and export. The
// parts, one job each:
//
//   config.ts      defaults (which are the paper's, which are ours), options, checks
//   params.ts      what is trained (the LoRA adapter), its gradients, backward and AdamW
//   rollouts.ts    sampling G completions per prompt under the task's cap and JSON Schema, tempered
//                  old / reference log-probs, rewards
//   grpo-step.ts   grpo: group-normalised advantages, the clipped objective with its KL term
//   ppo-step.ts    ppo: the same rollouts, GAE over a value head (value-head.ts), ppoObjective
//   sft-step.ts    sft: token cross-entropy on the task's targets
//
// Validation: before the first step and every validateEvery steps the task's validate() (or a
// validator set on the trainer) scores the policy on held-out data; the best score's step and adapter
// are kept (`best`; step 0 is the start), and the hosts save that state as the checkpoint `best.ckpt`.
//
// Reproducibility: step s draws its prompts and samples from createRng(mix(seed, s)) only, so a run
// resumed from a checkpoint at step s continues with exactly the same samples.

import type { Engine } from '../model/engine';
import type { ModelSource } from '../model/source';
import type { ModelWeights } from '../model/weights';
import { downloadLora, loraDims, LORA_TARGETS, type HostLoraAdapter, type LoraAdapter } from '../model/lora';
import { writePeftAdapter } from '../model/peft';
import { createRng, type Rng } from '../model/rng';
import { loraParams } from './backprop';
import { resolveConfig, type TrainerConfig, type TrainerOptions } from './config';
import { writeHfModel } from './export-hf';
import { hostModelWeights, type FullWeights } from './full-weights';
import { FullParams, LoraParams, type TrainedParams } from './params';
import { grpoStep } from './grpo-step';
import { mean, type StepMetrics } from './metrics';
import { LoraOptimizer, type OptimizerState } from './optimizer';
import { ppoStep } from './ppo-step';
import { completionCap, RolloutSampler } from './rollouts';
import { sftStep } from './sft-step';
import type { StepContext } from './step-context';
import type { TaskExample, TrainingTask, ValidationContext } from './task';
import { ValueHead, type ValueHeadState } from './value-head';

export { DEFAULT_TRAINER, resolveConfig, type Algorithm, type TrainerConfig, type TrainerOptions } from './config';
export type { StepMetrics } from './metrics';
export type { ValueHeadState } from './value-head';

export interface RunOptions {
  /** Run until this many steps are completed in total (default config.totalSteps). */
  steps?: number;
  /** Called after each step; a returned promise is awaited before the next step (e.g. a checkpoint). */
  onProgress?: (metrics: StepMetrics) => void | Promise<void>;
  /** Called when validation finds a new best score (before onProgress), e.g. to save `best.ckpt`. */
  onBest?: (best: BestStep) => void | Promise<void>;
  signal?: AbortSignal;
}

/** The best validation score of a run (step 0: its start; ties keep the earlier step), or null when nothing was validated. */
export function bestValidated(startScore: number | null, history: readonly StepMetrics[]): { step: number; score: number } | null {
  let best = startScore === null ? null : { step: 0, score: startScore };
  for (const m of history) if (m.validation !== undefined && (best === null || m.validation > best.score)) best = { step: m.step, score: m.validation };
  return best;
}

/** The best-validated step so far: its score and its adapter as it was then (absent after a resume: best.ckpt has it). */
export interface BestStep {
  step: number;
  score: number;
  adapter?: HostLoraAdapter;
}

/** A held-out score of the policy (higher is better). */
export type Validator = (context: ValidationContext) => Promise<number>;

/** The step's own random stream: a function of (seed, step) only. */
export function stepRng(seed: number, step: number): Rng {
  return createRng((Math.imul((seed >>> 0) ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(step, 0x85ebca6b)) >>> 0);
}

/** PEFT's default init: A ~ U(±1/√in) (kaiming_uniform with a = √5), B = 0, so the adapter starts as a no-op. */
export function initialAdapter(engine: Engine, config: TrainerConfig): HostLoraAdapter {
  const c = engine.config;
  const rng = createRng(config.seed);
  const { rank, alpha, targets } = config.lora;
  const layers = Array.from({ length: c.numLayers }, () => {
    const layer: HostLoraAdapter['layers'][number] = {};
    for (const t of LORA_TARGETS) {
      if (!targets.includes(t)) continue;
      const d = loraDims(c, t);
      const bound = 1 / Math.sqrt(d.in);
      layer[t] = { a: Float32Array.from({ length: rank * d.in }, () => bound * (2 * rng() - 1)), b: new Float32Array(d.out * rank) };
    }
    return layer;
  });
  return { rank, alpha, layers };
}

function abortError(): DOMException {
  return new DOMException('Training was aborted.', 'AbortError');
}

export class Trainer<E extends TaskExample = TaskExample> {
  readonly config: TrainerConfig;
  /** The trained adapter (null with full fine-tuning: the engine's own weights are trained). */
  readonly adapter: LoraAdapter | null;
  private readonly optimizer: LoraOptimizer;
  private readonly params: TrainedParams;
  private readonly valueHead: ValueHead | null = null;
  private readonly context: StepContext<E>;
  /** Steps completed. */
  stepsDone = 0;
  readonly history: StepMetrics[] = [];
  private runSeconds: number[] = [];
  /** Scores the policy every config.validateEvery steps (default: the task's validate). */
  validator: Validator | null;
  /** The best-validated step of this run (null before any validation); step 0 is the starting policy. */
  best: BestStep | null = null;
  /** The starting policy's validation score (null until validateStart ran, or without validation). */
  startScore: number | null = null;

  /**
   * Adds a fresh adapter (PEFT init; or `initial`, e.g. from a checkpoint) to the engine under
   * config.adapterName; the engine owns it (it stays there after dispose(), for scoring and export).
   */
  constructor(
    readonly engine: Engine,
    options: TrainerOptions,
    readonly task: TrainingTask<E>,
    initial?: HostLoraAdapter,
  ) {
    this.config = resolveConfig(options);
    const cfg = this.config;
    if (cfg.fineTune === 'full') {
      if (initial) throw new Error('trainer: full fine-tuning trains the model itself; it takes no initial adapter');
      const full = new FullParams(engine, cfg.optimizer);
      this.adapter = null;
      this.optimizer = full.optimizer;
      this.params = full;
    } else {
      engine.addAdapter(cfg.adapterName, initial ?? initialAdapter(engine, cfg));
      const adapter = engine.getAdapter(cfg.adapterName);
      this.adapter = adapter;
      this.optimizer = new LoraOptimizer(engine.runtime, loraParams(adapter), cfg.optimizer);
      this.params = new LoraParams(engine, adapter, this.optimizer);
    }
    if (cfg.algorithm === 'ppo') this.valueHead = new ValueHead(engine.config.hiddenSize, cfg.optimizer);
    const params = this.params;
    this.validator = task.validate ? (context) => task.validate!(context) : null;
    this.context = {
      engine,
      params,
      config: cfg,
      task,
      sampler: new RolloutSampler(engine, params, cfg, task, completionCap(cfg, task)),
      stepsDone: () => this.stepsDone,
      // One schedule index per optimiser update (numIterations updates per step).
      learningRate: () => this.optimizer.learningRate(this.stepsDone * cfg.numIterations, cfg.totalSteps * cfg.numIterations),
    };
  }

  /** One training step (one sampled batch and its numIterations updates); returns its metrics. */
  async step(): Promise<StepMetrics> {
    const started = performance.now();
    const rng = stepRng(this.config.seed, this.stepsDone);
    const algorithm = this.config.algorithm;
    const partial = algorithm === 'sft' ? await sftStep(this.context, rng) : algorithm === 'grpo' ? await grpoStep(this.context, rng) : await ppoStep(this.context, this.valueHead!, rng);
    const seconds = (performance.now() - started) / 1000;
    this.stepsDone++;
    this.runSeconds.push(seconds);
    const metrics: StepMetrics = {
      step: this.stepsDone,
      ...partial,
      skippedSteps: this.optimizer.skipped,
      tokensPerSecond: partial.tokens / seconds,
      seconds,
      etaSeconds: Math.max(0, this.config.totalSteps - this.stepsDone) * mean(this.runSeconds),
    };
    await this.validateIfDue(metrics);
    this.history.push(metrics);
    return metrics;
  }

  /** Whether the last step found a new best validation score. */
  get bestIsNew(): boolean {
    return this.best !== null && this.best.step === this.stepsDone && this.history.at(-1)?.validation !== undefined;
  }

  /**
   * Scores the starting policy before the first step (when validation is on), so a run whose steps all
   * validate worse keeps its start (step 0) rather than its least bad step. Returns whether it ran; the
   * caller saves `best.ckpt` then, as after a step whose bestIsNew.
   */
  async validateStart(): Promise<boolean> {
    if (this.stepsDone !== 0 || this.best !== null || !this.validationOn) return false;
    this.startScore = await this.validateNow();
    return true;
  }

  private get validationOn(): boolean {
    return this.validator !== null && this.config.validateEvery > 0;
  }

  /** Validation after a due step (and after the last planned one): the score in the metrics, a new best kept. */
  private async validateIfDue(metrics: StepMetrics): Promise<void> {
    if (!this.validationOn) return;
    if (this.stepsDone % this.config.validateEvery !== 0 && this.stepsDone !== this.config.totalSteps) return;
    metrics.validation = await this.validateNow();
  }

  /** The policy's validation score now; kept as best (with its adapter) when it beats the best so far. */
  private async validateNow(): Promise<number> {
    const score = await this.validator!({ engine: this.engine, adapterName: this.adapter ? this.config.adapterName : undefined, step: this.stepsDone });
    if (!Number.isFinite(score)) throw new Error(`validation of task "${this.task.name}" returned ${score}; it must return a finite score`);
    if (this.best === null || score > this.best.score) this.best = { step: this.stepsDone, score, ...(this.adapter ? { adapter: await this.downloadAdapter() } : {}) };
    return score;
  }

  /** Steps until `steps` are completed in total (default config.totalSteps); stops between steps on abort. */
  async run(options: RunOptions = {}): Promise<StepMetrics[]> {
    const target = options.steps ?? this.config.totalSteps;
    const out: StepMetrics[] = [];
    if (await this.validateStart()) await options.onBest?.(this.best!);
    while (this.stepsDone < target) {
      if (options.signal?.aborted) throw abortError();
      const m = await this.step();
      m.etaSeconds = Math.max(0, target - this.stepsDone) * mean(this.runSeconds);
      out.push(m);
      if (this.bestIsNew) await options.onBest?.(this.best!);
      await options.onProgress?.(m);
    }
    return out;
  }

  /** The adapter as host arrays. */
  async downloadAdapter(): Promise<HostLoraAdapter> {
    if (!this.adapter) throw new Error('this run fine-tunes the whole model, so there is no adapter: use downloadWeights() or exportHf()');
    return downloadLora(this.engine.runtime, this.adapter);
  }

  /** Full fine-tuning's parameters (throws for a LoRA run). */
  private full(): FullParams {
    if (!(this.params instanceof FullParams)) throw new Error('this run trains a LoRA adapter, not the model\'s own weights');
    return this.params;
  }

  /** A full run's weights as they are now (f32 host tensors in the loader's fused layout). */
  async downloadWeights(): Promise<ModelWeights> {
    return hostModelWeights(this.engine.weights, await this.full().download());
  }

  /** A full run's trained weights and the fingerprint of its starting weights (what a checkpoint keeps). */
  fullWeights(): Promise<FullWeights> {
    return this.full().state();
  }

  /** Puts a full run's checkpointed weights into the engine (checks that the engine holds the same base). */
  restoreWeights(saved: FullWeights): Promise<void> {
    return this.full().restore(saved);
  }

  /** A full run: puts the starting weights back into the engine (a LoRA run: nothing to do). */
  resetWeights(): void {
    if (this.params instanceof FullParams) this.params.resetToBase();
  }

  /**
   * The fully fine-tuned model as a Hugging Face folder's files: config.json and tokenizer files from
   * `base` (the folder the model was loaded from), model.safetensors with the trained weights (F32).
   */
  async exportHf(base: ModelSource): Promise<Map<string, Uint8Array>> {
    if (this.adapter) throw new Error('this run trains a LoRA adapter: export it with exportPeft()');
    return writeHfModel(await this.downloadWeights(), this.engine.config, base);
  }

  /** The adapter as a PEFT folder's two files (adapter_config.json, adapter_model.safetensors). */
  async exportPeft(baseModel?: string): Promise<Map<string, Uint8Array>> {
    return writePeftAdapter(await this.downloadAdapter(), this.engine.config, baseModel !== undefined ? { baseModel } : {});
  }

  async optimizerState(): Promise<OptimizerState> {
    return this.optimizer.state();
  }

  valueHeadState(): ValueHeadState | null {
    return this.valueHead?.state() ?? null;
  }

  /** Restores the optimiser, value head, step count, history and the start's validation score (the adapter comes in the constructor). */
  restoreState(state: { step: number; optimizer: OptimizerState; valueHead: ValueHeadState | null; history: StepMetrics[]; startScore: number | null }): void {
    this.optimizer.load(state.optimizer);
    if (state.valueHead && this.valueHead) this.valueHead.load(state.valueHead);
    this.stepsDone = state.step;
    this.history.length = 0;
    this.history.push(...state.history);
    this.startScore = state.startScore;
    // The best score so far (the start's included) comes back, so a resumed run only replaces a better-scored best.ckpt.
    this.best = bestValidated(state.startScore, state.history);
  }

  /** Frees the optimiser state (and full fine-tuning's reference copy); the adapter or trained weights stay in the engine. */
  dispose(): void {
    if (this.params instanceof FullParams) this.params.release();
    else this.optimizer.release();
  }
}
