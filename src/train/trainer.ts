// The RL / SFT trainer of a LoRA adapter on the local GPU engine (TRL's GRPOTrainer is the model):
//
//   grpo  per step: P prompts × G completions sampled with the CURRENT policy (adapter on), rewards from
//         the task, group-normalised advantages, old log-probs recorded at sampling time and kept for the
//         `numIterations` optimisation passes of the batch, reference log-probs from the same engine with
//         the adapter off (only when beta > 0), grpoObjective → backward → clipped AdamW.
//   ppo   the same rollouts, plus a value head [hidden → 1] on the final normed hidden state (host-side,
//         its own AdamW); GAE on the per-token KL-penalised reward, whitened advantages, ppoObjective.
//         The value loss's gradient also flows back through the hidden state into the LoRA.
//   sft   token cross-entropy on the task's target completions.
//
// One optimisation pass runs each distinct (prompt, completion) sequence through one forward+backward
// (SequencePass): identical samples — common when G completions of a prompt pick from a few choices —
// share one pass and add their upstream gradients (the loss is linear in them). The objective is
// evaluated one sequence at a time with the batch's aggregation weights (objectives.tokenWeights), so
// its gradients equal those of the whole-batch objective and only one sequence's activations live at
// a time.
//
// Sampling with `choices` (the synthetic task: one of four letters): the rollout draws among the
// choices ∝ p^(1/T) renormalised over them; the objective uses the model's unrestricted token log-probs
// (as TRL does with guided decoding). With group-centred advantages (Σ_g A_g = 0 in each group) the
// policy gradient Σ A_g ∇log p_g then equals the gradient of the restricted policy's log-probs
// exactly, since the two differ by a per-prompt constant; only the KL term sees the unrestricted model.
//
// Reproducibility: step s draws its prompts and samples from createRng(mix(seed, s)) only, so a run
// resumed from a checkpoint at step s continues with exactly the same samples.

import type { Engine } from '../model/engine';
import { generate } from '../model/generate';
import { downloadLora, loraDims, LORA_TARGETS, type HostLoraAdapter, type LoraAdapter } from '../model/lora';
import { writePeftAdapter } from '../model/peft';
import type { LoraTarget } from '../model/reference';
import { createRng, type Rng } from '../model/rng';
import { loraParams, releaseLoraGrads, SequencePass, zeroLoraGrads, type BranchedSequence } from './backprop';
import { DEFAULT_GRPO, DEFAULT_PPO, gae, type Completion, grpoObjective, groupAdvantages, ppoObjective, sftObjective, tokenWeights, type AdvantageScaling, type GrpoConfig, type PpoConfig } from './objectives';
import { DEFAULT_OPTIMIZER, HostAdamW, LoraOptimizer, type OptimizerConfig, type OptimizerState } from './optimizer';
import type { TaskExample, TrainingTask } from './task';

export type Algorithm = 'grpo' | 'ppo' | 'sft';

export interface TrainerConfig {
  algorithm: Algorithm;
  /** Planned number of steps (the LR schedule's length and the ETA); run({steps}) may stop earlier. */
  totalSteps: number;
  /** Prompts per step (P). */
  promptsPerStep: number;
  /** Completions per prompt (G); 8 as in the GRPO paper's small settings. */
  groupSize: number;
  /** Optimisation passes over each sampled batch (TRL's num_iterations / PPO epochs); 1 = on-policy. */
  numIterations: number;
  /** Sampling temperature of the rollouts. */
  temperature: number;
  /** Longest free-form completion (tasks without choices). */
  maxCompletionTokens: number;
  scaleRewards: AdvantageScaling;
  grpo: GrpoConfig;
  ppo: PpoConfig;
  /** Learning rate of the PPO value head (host AdamW). */
  valueLr: number;
  lora: { rank: number; alpha: number; targets: LoraTarget[] };
  optimizer: OptimizerConfig;
  seed: number;
  /** Name of the trained adapter in the engine. */
  adapterName: string;
}

/** Defaults: G = 8, ε = 0.2, β = 0.04, LoRA r 16 / α 32 on all seven targets, lr 1e-4 (real models). */
export const DEFAULT_TRAINER: TrainerConfig = {
  algorithm: 'grpo',
  totalSteps: 100,
  promptsPerStep: 4,
  groupSize: 8,
  numIterations: 1,
  temperature: 1,
  maxCompletionTokens: 64,
  scaleRewards: 'group',
  grpo: DEFAULT_GRPO,
  ppo: DEFAULT_PPO,
  valueLr: 1e-3,
  lora: { rank: 16, alpha: 32, targets: [...LORA_TARGETS] },
  optimizer: DEFAULT_OPTIMIZER,
  seed: 0,
  adapterName: 'train',
};

/** A partial config: top-level fields, and the nested groups field by field. */
export type TrainerOptions = Partial<Omit<TrainerConfig, 'grpo' | 'ppo' | 'lora' | 'optimizer'>> & {
  grpo?: Partial<GrpoConfig>;
  ppo?: Partial<PpoConfig>;
  lora?: Partial<TrainerConfig['lora']>;
  optimizer?: Partial<OptimizerConfig>;
};

export function resolveConfig(options: TrainerOptions = {}): TrainerConfig {
  const d = DEFAULT_TRAINER;
  const c: TrainerConfig = {
    ...d,
    ...options,
    grpo: { ...d.grpo, ...options.grpo },
    ppo: { ...d.ppo, ...options.ppo },
    lora: { ...d.lora, ...options.lora },
    optimizer: { ...d.optimizer, ...options.optimizer },
  };
  const positive = (v: number, name: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`trainer config: ${name} must be a positive integer, got ${v}`);
  };
  positive(c.totalSteps, 'totalSteps');
  positive(c.promptsPerStep, 'promptsPerStep');
  positive(c.groupSize, 'groupSize');
  positive(c.numIterations, 'numIterations');
  positive(c.lora.rank, 'lora.rank');
  positive(c.maxCompletionTokens, 'maxCompletionTokens');
  if (!(c.temperature > 0)) throw new Error(`trainer config: temperature must be > 0, got ${c.temperature}`);
  if (!(c.optimizer.lr > 0)) throw new Error(`trainer config: lr must be > 0, got ${c.optimizer.lr}`);
  if (c.algorithm === 'grpo' && c.groupSize < 2) throw new Error('trainer config: GRPO needs groupSize ≥ 2 (advantages are relative to the group)');
  if (c.lora.targets.length === 0) throw new Error('trainer config: no LoRA targets');
  return c;
}

export interface StepMetrics {
  /** Steps completed, this one included (1-based). */
  step: number;
  /** Mean and (population) standard deviation of the rollouts' rewards; null for SFT. */
  rewardMean: number | null;
  rewardStd: number | null;
  /** Mean per-token k3 KL to the reference policy (GRPO), or mean log(p_old / p_ref) (PPO); 0 for SFT. */
  kl: number;
  loss: number;
  /** Fraction of tokens whose ratio was clipped (last optimisation pass). */
  clipFraction: number;
  /** Global LoRA gradient norm before clipping (last pass). */
  gradNorm: number;
  /** Optimiser updates skipped so far for NaN / Inf gradients. */
  skippedSteps: number;
  lr: number;
  /** Training tokens (forward + backward over whole sequences) of this step, and per second of the step. */
  tokens: number;
  tokensPerSecond: number;
  seconds: number;
  /** Seconds left to `totalSteps` (or run's `steps`) at the mean step time of this run so far. */
  etaSeconds: number;
  /** Algorithm-specific extras (value_loss, ratio_mean, perplexity, ...). */
  extra: Record<string, number>;
}

/** What an algorithm's step reports; step() adds the counters and timings. */
type PartialMetrics = Omit<StepMetrics, 'step' | 'skippedSteps' | 'tokensPerSecond' | 'seconds' | 'etaSeconds'>;

interface GrpoAccumulator {
  loss: number;
  kl: number;
  clipped: number;
  ratio: number;
  tokens: number;
}

export interface RunOptions {
  /** Run until this many steps are completed in total (default config.totalSteps). */
  steps?: number;
  /** Called after each step; a returned promise is awaited before the next step (e.g. a checkpoint). */
  onProgress?: (metrics: StepMetrics) => void | Promise<void>;
  signal?: AbortSignal;
}

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

/** Host value head v = w·h + b (PPO), trained with its own AdamW. params = [w (C), b]. */
export interface ValueHeadState {
  params: number[];
  m: number[];
  v: number[];
  step: number;
}

interface Rollout {
  exampleIndex: number;
  promptIds: number[];
  completionIds: number[];
  text: string;
  /** Sampling-time log-probs (the "old" policy), per completion token. */
  oldLogp: Float32Array;
  refLogp?: Float32Array;
  reward: number;
}

/** The batch's rollouts grouped into shared passes: same prompt and completion up to the last token. */
interface PassGroup {
  seq: BranchedSequence;
  /** (rollout index, branch index) of every rollout in the group. */
  members: Array<{ rollout: number; branch: number }>;
}

function passGroups(rollouts: readonly Rollout[]): PassGroup[] {
  const byKey = new Map<string, PassGroup>();
  rollouts.forEach((r, i) => {
    const prefix = [...r.promptIds, ...r.completionIds.slice(0, -1)];
    const last = r.completionIds[r.completionIds.length - 1]!;
    const key = `${r.promptIds.length}|${prefix.join(',')}`;
    let group = byKey.get(key);
    if (!group) byKey.set(key, (group = { seq: { prefix, promptLength: r.promptIds.length, lastTokens: [] }, members: [] }));
    const lastTokens = group.seq.lastTokens as number[];
    let branch = lastTokens.indexOf(last);
    if (branch < 0) branch = lastTokens.push(last) - 1;
    group.members.push({ rollout: i, branch });
  });
  return [...byKey.values()];
}

/** A GRPO step's metrics from its rewards and accumulated per-token sums (means over tokens). */
function grpoMetrics(rewards: readonly number[], acc: GrpoAccumulator, gradNorm: number, lr: number, tokens: number, extra: Record<string, number>): PartialMetrics {
  return {
    rewardMean: mean(rewards),
    rewardStd: std(rewards),
    kl: acc.tokens ? acc.kl / acc.tokens : 0,
    loss: acc.loss,
    clipFraction: acc.tokens ? acc.clipped / acc.tokens : 0,
    gradNorm,
    lr,
    tokens,
    extra: { ratio_mean: acc.tokens ? acc.ratio / acc.tokens : 1, ...extra },
  };
}

const mean = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
const std = (xs: readonly number[]): number => {
  const m = mean(xs);
  return Math.sqrt(mean(xs.map((x) => (x - m) ** 2)));
};

function abortError(): DOMException {
  return new DOMException('Training was aborted.', 'AbortError');
}

export class Trainer<E extends TaskExample = TaskExample> {
  readonly config: TrainerConfig;
  readonly adapter: LoraAdapter;
  private readonly optimizer: LoraOptimizer;
  private valueHead: HostAdamW | null = null;
  /** Steps completed. */
  stepsDone = 0;
  readonly history: StepMetrics[] = [];
  private runSeconds: number[] = [];

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
    engine.addAdapter(this.config.adapterName, initial ?? initialAdapter(engine, this.config));
    this.adapter = engine.getAdapter(this.config.adapterName);
    this.optimizer = new LoraOptimizer(engine.runtime, loraParams(this.adapter), this.config.optimizer);
    if (this.config.algorithm === 'ppo') {
      this.valueHead = new HostAdamW(new Float64Array(engine.config.hiddenSize + 1), this.config.optimizer);
    }
  }

  // ----- public ---------------------------------------------------------------------------------

  /** One training step (one sampled batch and its numIterations updates); returns its metrics. */
  async step(): Promise<StepMetrics> {
    const started = performance.now();
    const rng = stepRng(this.config.seed, this.stepsDone);
    const partial = this.config.algorithm === 'sft' ? await this.sftStep(rng) : this.config.algorithm === 'grpo' ? await this.grpoStep(rng) : await this.ppoStep(rng);
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
    this.history.push(metrics);
    return metrics;
  }

  /** Steps until `steps` are completed in total (default config.totalSteps); stops between steps on abort. */
  async run(options: RunOptions = {}): Promise<StepMetrics[]> {
    const target = options.steps ?? this.config.totalSteps;
    const out: StepMetrics[] = [];
    while (this.stepsDone < target) {
      if (options.signal?.aborted) throw abortError();
      const m = await this.step();
      m.etaSeconds = Math.max(0, target - this.stepsDone) * mean(this.runSeconds);
      out.push(m);
      await options.onProgress?.(m);
    }
    return out;
  }

  /** The adapter as host arrays. */
  async downloadAdapter(): Promise<HostLoraAdapter> {
    return downloadLora(this.engine.runtime, this.adapter);
  }

  /** The adapter as a PEFT folder's two files (adapter_config.json, adapter_model.safetensors). */
  async exportPeft(baseModel?: string): Promise<Map<string, Uint8Array>> {
    return writePeftAdapter(await this.downloadAdapter(), this.engine.config, baseModel !== undefined ? { baseModel } : {});
  }

  async optimizerState(): Promise<OptimizerState> {
    return this.optimizer.state();
  }

  valueHeadState(): ValueHeadState | null {
    const h = this.valueHead;
    return h ? { params: [...h.params], m: [...h.m], v: [...h.v], step: h.step } : null;
  }

  /** Restores the optimiser, value head, step count and history (the adapter comes in the constructor). */
  restoreState(state: { step: number; optimizer: OptimizerState; valueHead: ValueHeadState | null; history: StepMetrics[] }): void {
    this.optimizer.load(state.optimizer);
    if (state.valueHead && this.valueHead) {
      this.valueHead.params.set(state.valueHead.params);
      this.valueHead.m.set(state.valueHead.m);
      this.valueHead.v.set(state.valueHead.v);
      this.valueHead.step = state.valueHead.step;
    }
    this.stepsDone = state.step;
    this.history.length = 0;
    this.history.push(...state.history);
  }

  /** Frees the optimiser state; the adapter stays in the engine (engine.removeAdapter frees it). */
  dispose(): void {
    this.optimizer.release();
  }

  // ----- rollouts -------------------------------------------------------------------------------

  private promptIds(example: E): number[] {
    const ids = this.engine.tokenizer.encode(example.prompt, { addSpecialTokens: true });
    if (ids.length === 0) throw new Error('trainer: a prompt gives no tokens');
    return ids;
  }

  /**
   * Per-token log-probs of each completion after the prompt (adapter name, or undefined = reference).
   * Single-token completions share one prompt forward: the last position's full log-softmax.
   */
  private async completionLogProbs(promptIds: number[], completions: number[][], adapter: string | undefined): Promise<Float32Array[]> {
    if (completions.every((c) => c.length === 1)) {
      const session = this.engine.session({ ...(adapter !== undefined ? { adapter } : {}), maxTokens: promptIds.length });
      try {
        await session.append(promptIds);
        const logits = await session.logits();
        let max = -Infinity;
        for (const v of logits) max = Math.max(max, v);
        let sum = 0;
        for (const v of logits) sum += Math.exp(v - max);
        const lse = max + Math.log(sum);
        return completions.map((c) => Float32Array.of(logits[c[0]!]! - lse));
      } finally {
        session.dispose();
      }
    }
    const out: Float32Array[] = [];
    for (const c of completions) out.push(c.length ? await this.engine.score(promptIds, c, adapter !== undefined ? { adapter } : {}) : new Float32Array(0));
    return out;
  }

  /** G completions of one prompt from the current policy, with their sampling-time log-probs. */
  private async sample(example: E, exampleIndex: number, promptIds: number[], count: number, rng: Rng): Promise<Omit<Rollout, 'reward'>[]> {
    const tok = this.engine.tokenizer;
    const name = this.config.adapterName;
    if (example.choices && example.choices.length > 0) {
      const choiceIds = example.choices.map((s) => tok.encode(s));
      if (choiceIds.some((c) => c.length === 0)) throw new Error('trainer: a choice gives no tokens');
      const logps = await this.completionLogProbs(promptIds, choiceIds, name);
      const picks = this.drawChoices(
        logps.map((l) => l.reduce((a, b) => a + b, 0)),
        count,
        rng,
      );
      return picks.map((k) => ({ exampleIndex, promptIds, completionIds: choiceIds[k]!, text: example.choices![k]!, oldLogp: logps[k]! }));
    }
    const out: Omit<Rollout, 'reward'>[] = [];
    for (let g = 0; g < count; g++) {
      const session = this.engine.session({ adapter: name, maxTokens: Math.min(this.engine.maxTokens, promptIds.length + this.config.maxCompletionTokens) });
      try {
        const r = await generate(session, tok, { promptIds, maxTokens: this.config.maxCompletionTokens, temperature: this.config.temperature, seed: Math.floor(rng() * 2 ** 32) });
        // The end-of-sequence token is part of the completion (the policy learns when to stop); which of
        // several EOS ids was drawn is not reported, so the first is used.
        const ids = r.finishReason === 'eos' ? [...r.ids, tok.stopIds[0] ?? this.engine.config.eosTokenIds[0]!] : r.ids;
        if (ids.length === 0) continue;
        const [oldLogp] = await this.completionLogProbs(promptIds, [ids], name);
        out.push({ exampleIndex, promptIds, completionIds: ids, text: r.text, oldLogp: oldLogp! });
      } finally {
        session.dispose();
      }
    }
    return out;
  }

  /** `count` draws among choices with sequence log-probs `logps`: ∝ p^(1/T), renormalised over the choices. */
  private drawChoices(logps: readonly number[], count: number, rng: Rng): number[] {
    const scores = logps.map((l) => l / this.config.temperature);
    const top = Math.max(...scores);
    const weights = scores.map((s) => Math.exp(s - top));
    const total = weights.reduce((a, b) => a + b, 0);
    return Array.from({ length: count }, () => {
      let u = rng() * total;
      let k = 0;
      while (k < weights.length - 1 && u >= weights[k]!) u -= weights[k++]!;
      return k;
    });
  }

  /** G rollouts per example with rewards (and reference log-probs when `withRef`). */
  private async rollouts(examples: readonly E[], rng: Rng, withRef: boolean): Promise<Rollout[]> {
    const rollouts: Rollout[] = [];
    for (let i = 0; i < examples.length; i++) {
      const promptIds = this.promptIds(examples[i]!);
      for (const s of await this.sample(examples[i]!, i, promptIds, this.config.groupSize, rng)) {
        rollouts.push({ ...s, reward: await this.task.reward(examples[i]!, s.text) });
      }
    }
    if (withRef) {
      // Reference = the same weights with the adapter off; one call per prompt for its completions.
      for (let i = 0; i < examples.length; i++) {
        const mine = rollouts.filter((r) => r.exampleIndex === i);
        if (mine.length === 0) continue;
        const refs = await this.completionLogProbs(mine[0]!.promptIds, mine.map((r) => r.completionIds), undefined);
        mine.forEach((r, k) => (r.refLogp = refs[k]!));
      }
    }
    return rollouts;
  }

  private learningRate(): number {
    // One schedule index per optimiser update (numIterations updates per step).
    return this.optimizer.learningRate(this.stepsDone * this.config.numIterations, this.config.totalSteps * this.config.numIterations);
  }

  // ----- algorithms ---------------------------------------------------------------------------------

  /**
   * GRPO's per-sequence objective with the batch's aggregation weights, accumulated into a group's
   * branch gradients; returns the summed loss and token statistics.
   */
  private grpoMember(c: Completion, batchWeight: number, into: Float64Array[], branch: number, acc: GrpoAccumulator): void {
    const cfg = this.config.grpo;
    const single = grpoObjective([c], cfg);
    const scale = batchWeight / tokenWeights([c], cfg)[0]!;
    single.gradients[0]!.forEach((g, t) => (into[branch]![t]! += scale * g));
    const n = c.logp.length;
    acc.loss += scale * single.loss;
    acc.kl += single.metrics.kl! * n;
    acc.clipped += single.metrics.clip_fraction! * n;
    acc.ratio += single.metrics.ratio_mean! * n;
    acc.tokens += n;
  }

  /** Whether the whole step can run as one pass per prompt: sampling, objective and backward share it. */
  private fusedRollouts(examples: readonly E[]): number[][] | null {
    const cfg = this.config;
    if (cfg.numIterations !== 1 || cfg.scaleRewards === 'batch') return null;
    const tok = this.engine.tokenizer;
    const ids: number[][] = [];
    for (const e of examples) {
      if (!e.choices || e.choices.length === 0) return null;
      const choiceIds = e.choices.map((s) => tok.encode(s));
      if (choiceIds.some((c) => c.length !== 1)) return null;
      ids.push(choiceIds.map((c) => c[0]!));
    }
    return ids;
  }

  private async grpoStep(rng: Rng): Promise<PartialMetrics> {
    const examples = this.task.examples(rng, this.config.promptsPerStep);
    const fused = this.fusedRollouts(examples);
    return fused ? this.grpoFusedStep(rng, examples, fused) : this.grpoGenericStep(rng, examples);
  }

  /**
   * On-policy GRPO (numIterations 1) over single-token choices: per prompt ONE forward with a branch
   * per choice gives the policy's log-probs of every choice, the G samples are drawn from them, and the
   * same pass takes the backward. The old log-probs are the pass's own (ratio 1, as TRL does with
   * num_iterations = 1), so nothing is computed twice.
   */
  private async grpoFusedStep(rng: Rng, examples: readonly E[], choiceIds: number[][]): Promise<PartialMetrics> {
    const cfg = this.config;
    const G = cfg.groupSize;
    const beta = cfg.grpo.beta;
    const grads = zeroLoraGrads(this.engine.runtime, this.adapter);
    const acc: GrpoAccumulator = { loss: 0, kl: 0, clipped: 0, ratio: 0, tokens: 0 };
    const rewards: number[] = [];
    // Every completion is one token: the batch weights are those of P·G one-token completions.
    const batchWeight = tokenWeights(Array.from({ length: examples.length * G }, () => ({ logp: [0] })), cfg.grpo)[0]!;
    let tokens = 0;
    let distinct = 0;
    for (let i = 0; i < examples.length; i++) {
      const example = examples[i]!;
      const promptIds = this.promptIds(example);
      const choices = choiceIds[i]!;
      const pass = await SequencePass.forward(this.engine, this.adapter, { prefix: promptIds, promptLength: promptIds.length, lastTokens: choices });
      tokens += pass.tokens;
      const picks = this.drawChoices(pass.logps.map((l) => l[0]!), G, rng);
      const mine: number[] = [];
      for (const k of picks) mine.push(await this.task.reward(example, example.choices![k]!));
      rewards.push(...mine);
      const advantages = groupAdvantages(mine, G, cfg.scaleRewards === 'none' ? 'none' : 'group');
      const refs = beta > 0 ? await this.completionLogProbs(promptIds, choices.map((c) => [c]), undefined) : null;
      const dLogp = choices.map(() => new Float64Array(1));
      picks.forEach((k, g) => {
        const logp = pass.logps[k]!;
        this.grpoMember({ logp, oldLogp: logp, refLogp: refs ? refs[k]! : logp, advantage: advantages[g]! }, batchWeight, dLogp, k, acc);
      });
      distinct += new Set(picks).size;
      if (dLogp.some((d) => d[0] !== 0)) pass.backward(dLogp, grads);
      else pass.release();
    }
    const lr = this.learningRate();
    const opt = await this.optimizer.update(loraParams(grads), lr);
    releaseLoraGrads(this.engine.runtime, grads);
    return grpoMetrics(rewards, acc, opt.gradNorm, lr, tokens, { distinct_completions: distinct });
  }

  /** Sampling, reward, then numIterations passes over the batch (each distinct prefix one pass). */
  private async grpoGenericStep(rng: Rng, examples: readonly E[]): Promise<PartialMetrics> {
    const cfg = this.config;
    const rollouts = await this.rollouts(examples, rng, cfg.grpo.beta > 0);
    const rewards = rollouts.map((r) => r.reward);
    const advantages = this.advantagesByExample(rollouts);
    const groups = passGroups(rollouts);
    const batchWeights = tokenWeights(
      rollouts.map((r) => ({ logp: r.oldLogp })),
      cfg.grpo,
    );
    let last = { acc: { loss: 0, kl: 0, clipped: 0, ratio: 0, tokens: 0 }, gradNorm: 0, lr: 0 };
    let tokens = 0;
    for (let iteration = 0; iteration < cfg.numIterations; iteration++) {
      const grads = zeroLoraGrads(this.engine.runtime, this.adapter);
      const acc: GrpoAccumulator = { loss: 0, kl: 0, clipped: 0, ratio: 0, tokens: 0 };
      for (const { seq, members } of groups) {
        const pass = await SequencePass.forward(this.engine, this.adapter, seq);
        tokens += pass.tokens;
        const dLogp = seq.lastTokens.map(() => new Float64Array(pass.count));
        for (const { rollout: i, branch } of members) {
          const r = rollouts[i]!;
          const logp = pass.logps[branch]!;
          this.grpoMember({ logp, oldLogp: r.oldLogp, refLogp: r.refLogp ?? logp, advantage: advantages[i]! }, batchWeights[i]!, dLogp, branch, acc);
        }
        if (dLogp.some((d) => d.some((g) => g !== 0))) pass.backward(dLogp, grads);
        else pass.release();
      }
      const lr = this.learningRate();
      const opt = await this.optimizer.update(loraParams(grads), lr);
      releaseLoraGrads(this.engine.runtime, grads);
      last = { acc, gradNorm: opt.gradNorm, lr };
    }
    return grpoMetrics(rewards, last.acc, last.gradNorm, last.lr, tokens, { distinct_prefixes: groups.length });
  }

  /** groupAdvantages over each example's rollouts (normally exactly G of them). */
  private advantagesByExample(rollouts: readonly Rollout[]): number[] {
    const out = new Array<number>(rollouts.length).fill(0);
    const cfg = this.config;
    if (cfg.scaleRewards === 'batch') {
      // Batch scaling: centre per group, divide by the whole batch's std (as groupAdvantages does).
      const sizes = new Set(rollouts.map((r) => rollouts.filter((s) => s.exampleIndex === r.exampleIndex).length));
      if (sizes.size === 1) {
        const size = [...sizes][0]!;
        const sorted = [...rollouts.keys()].sort((a, b) => rollouts[a]!.exampleIndex - rollouts[b]!.exampleIndex);
        const adv = groupAdvantages(
          sorted.map((i) => rollouts[i]!.reward),
          size,
          'batch',
        );
        sorted.forEach((i, k) => (out[i] = adv[k]!));
        return out;
      }
    }
    const byExample = new Map<number, number[]>();
    rollouts.forEach((r, i) => byExample.set(r.exampleIndex, [...(byExample.get(r.exampleIndex) ?? []), i]));
    for (const members of byExample.values()) {
      const adv = groupAdvantages(
        members.map((i) => rollouts[i]!.reward),
        members.length,
        cfg.scaleRewards === 'none' ? 'none' : 'group',
      );
      members.forEach((i, k) => (out[i] = adv[k]!));
    }
    return out;
  }

  private async sftStep(rng: Rng): Promise<PartialMetrics> {
    const examples = this.task.examples(rng, this.config.promptsPerStep);
    const tok = this.engine.tokenizer;
    const sequences = examples.map((e) => {
      if (e.target === undefined) throw new Error(`trainer: SFT needs a target completion for every example of task "${this.task.name}"`);
      const promptIds = this.promptIds(e);
      const target = tok.encode(e.target);
      if (target.length === 0) throw new Error('trainer: an SFT target gives no tokens');
      return { ids: [...promptIds, ...target], promptLength: promptIds.length };
    });
    const totalTokens = sequences.reduce((n, s) => n + s.ids.length - s.promptLength, 0);
    let tokens = 0;
    let loss = 0;
    let gradNorm = 0;
    let lr = 0;
    for (let iteration = 0; iteration < this.config.numIterations; iteration++) {
      const grads = zeroLoraGrads(this.engine.runtime, this.adapter);
      loss = 0;
      for (const seq of sequences) {
        const pass = await SequencePass.forward(this.engine, this.adapter, seq);
        tokens += pass.tokens;
        const single = sftObjective([{ logp: pass.logp }]);
        const scale = pass.count / totalTokens; // batch weight 1/total vs the single sequence's 1/count
        loss += scale * single.loss;
        pass.backward([single.gradients[0]!.map((g) => scale * g)], grads);
      }
      lr = this.learningRate();
      const opt = await this.optimizer.update(loraParams(grads), lr);
      releaseLoraGrads(this.engine.runtime, grads);
      gradNorm = opt.gradNorm;
    }
    return { rewardMean: null, rewardStd: null, kl: 0, loss, clipFraction: 0, gradNorm, lr, tokens, extra: { perplexity: Math.exp(loss) } };
  }

  /** v_t = w·hidden_t + b for each row of hidden [count, C]. */
  private values(hidden: Float32Array, count: number): Float64Array {
    const p = this.valueHead!.params;
    const C = this.engine.config.hiddenSize;
    const out = new Float64Array(count);
    for (let t = 0; t < count; t++) {
      let s = p[C]!;
      for (let j = 0; j < C; j++) s += p[j]! * hidden[t * C + j]!;
      out[t] = s;
    }
    return out;
  }

  private async ppoStep(rng: Rng): Promise<PartialMetrics> {
    const cfg = this.config;
    const ppo = cfg.ppo;
    const C = this.engine.config.hiddenSize;
    const examples = this.task.examples(rng, cfg.promptsPerStep);
    const rollouts = await this.rollouts(examples, rng, ppo.klCoefficient > 0);
    const rewards = rollouts.map((r) => r.reward);
    const groups = passGroups(rollouts);
    let tokens = 0;

    // Values at sampling time (one forward per shared prefix, no backward).
    const oldValues = new Array<Float64Array>(rollouts.length);
    for (const { seq, members } of groups) {
      const pass = await SequencePass.forward(this.engine, this.adapter, seq, { hidden: true });
      tokens += pass.tokens;
      const v = this.values(pass.hidden!, pass.count);
      pass.release();
      for (const { rollout } of members) oldValues[rollout] = v;
    }
    const estimates = rollouts.map((r, i) => gae(r.reward, oldValues[i]!, r.oldLogp, r.refLogp ?? r.oldLogp, ppo));
    // Whitened advantages over all tokens of the batch (as TRL's PPO does).
    const all = estimates.flatMap((e) => [...e.advantages]);
    const [am, as] = [mean(all), std(all)];
    const advantages = estimates.map((e) => e.advantages.map((a) => (a - am) / (as + 1e-8)));
    const totalTokens = rollouts.reduce((n, r) => n + r.completionIds.length, 0);
    const klMean = mean(rollouts.flatMap((r) => (r.refLogp ? [...r.oldLogp].map((l, t) => l - r.refLogp![t]!) : [0])));

    let last = { loss: 0, clipFraction: 0, gradNorm: 0, lr: 0, valueLoss: 0 };
    for (let iteration = 0; iteration < cfg.numIterations; iteration++) {
      const grads = zeroLoraGrads(this.engine.runtime, this.adapter);
      const valueGrad = new Float64Array(C + 1);
      let loss = 0;
      let valueLoss = 0;
      let clipped = 0;
      for (const { seq, members } of groups) {
        const pass = await SequencePass.forward(this.engine, this.adapter, seq, { hidden: true });
        tokens += pass.tokens;
        const n = pass.count;
        const hidden = pass.hidden!;
        const values = this.values(hidden, n);
        const dLogp = seq.lastTokens.map(() => new Float64Array(n));
        const dValue = new Float64Array(n);
        for (const { rollout: i, branch } of members) {
          const r = rollouts[i]!;
          const single = ppoObjective([{ logp: pass.logps[branch]!, oldLogp: r.oldLogp, values, oldValues: oldValues[i]!, advantages: advantages[i]!, returns: estimates[i]!.returns }], ppo);
          const scale = n / totalTokens; // batch weight 1/total vs the single sequence's 1/n
          single.gradients[0]!.forEach((g, t) => (dLogp[branch]![t]! += scale * g));
          single.valueGradients[0]!.forEach((g, t) => (dValue[t]! += scale * g));
          loss += scale * single.loss;
          valueLoss += scale * single.metrics.value_loss!;
          clipped += single.metrics.clip_fraction! * n;
        }
        // v = w·h + b: dL/dh = dv·w (into the LoRA through the backward), dL/dw = Σ dv·h, dL/db = Σ dv.
        const w = this.valueHead!.params;
        const dHidden = new Float32Array(n * C);
        for (let t = 0; t < n; t++) {
          const dv = dValue[t]!;
          if (dv === 0) continue;
          for (let j = 0; j < C; j++) {
            dHidden[t * C + j] = dv * w[j]!;
            valueGrad[j]! += dv * hidden[t * C + j]!;
          }
          valueGrad[C]! += dv;
        }
        pass.backward(dLogp, grads, dHidden);
      }
      const lr = this.learningRate();
      const opt = await this.optimizer.update(loraParams(grads), lr);
      releaseLoraGrads(this.engine.runtime, grads);
      if (!opt.skipped) this.valueHead!.update(valueGrad, cfg.valueLr * (lr / cfg.optimizer.lr));
      last = { loss, clipFraction: totalTokens ? clipped / totalTokens : 0, gradNorm: opt.gradNorm, lr, valueLoss };
    }
    return {
      rewardMean: mean(rewards),
      rewardStd: std(rewards),
      kl: klMean,
      loss: last.loss,
      clipFraction: last.clipFraction,
      gradNorm: last.gradNorm,
      lr: last.lr,
      tokens,
      extra: { value_loss: last.valueLoss },
    };
  }
}
