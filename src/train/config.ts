// The trainer's configuration: defaults, partial options merged group by group, and validation.
//
// Where the defaults come from. Memory-R1 (arXiv 2508.19828) trains with full fine-tuning in verl:
// actor lr 1e-6, critic lr 1e-5, batch 128, prompts up to 4,096 and responses up to 2,048 tokens. It
// states no group size, clip range, KL weight or LoRA shape; ours are G = 8, ε = 0.2, β = 0.04 (the
// GRPO paper's and TRL's usual values) and LoRA r 16 / α 32 with lr 1e-4, a LoRA learning rate for a
// laptop run. The critic lr is the paper's; the actor lr is the paper's only with full fine-tuning.
import { LORA_TARGETS } from '../model/lora';
import type { LoraTarget } from '../model/reference';
import { DEFAULT_GRPO, DEFAULT_PPO, type AdvantageScaling, type GrpoConfig, type PpoConfig } from './objectives';
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from './optimizer';

export type Algorithm = 'grpo' | 'ppo' | 'sft';

export interface TrainerConfig {
  algorithm: Algorithm;
  /**
   * What is trained: a LoRA adapter (default), or every weight of the model (`full`, as the paper
   * does; f32 weights of a small model only; the actor lr then defaults to the paper's 1e-6).
   */
  fineTune: 'lora' | 'full';
  /** Planned number of steps (the LR schedule's length and the ETA); run({steps}) may stop earlier. */
  totalSteps: number;
  /** Prompts per step (P). */
  promptsPerStep: number;
  /** Completions per prompt (G); 8 is ours (the paper states none). */
  groupSize: number;
  /**
   * Micro-batches per optimiser update: a step samples promptsPerStep prompts this many times and
   * takes ONE update over all of them (the paper's batch of 128 = e.g. 16 prompts × 8).
   */
  gradientAccumulation: number;
  /**
   * DAPO's dynamic sampling: groups whose G rewards are all equal (zero advantage: they teach nothing)
   * are dropped, and more prompts are drawn, up to maxSamplingRounds batches, to fill the step.
   */
  dynamicSampling: boolean;
  maxSamplingRounds: number;
  /** Optimisation passes over each sampled batch (TRL's num_iterations / PPO epochs); 1 = on-policy. */
  numIterations: number;
  /** Sampling temperature of the rollouts. */
  temperature: number;
  /**
   * Longest free-form completion; null = the task's own cap (its agent's inference budget: manager
   * 1,024, answer agent 256). Dr. GRPO's constant is this cap.
   */
  maxCompletionTokens: number | null;
  scaleRewards: AdvantageScaling;
  grpo: GrpoConfig;
  ppo: PpoConfig;
  /** Learning rate of the PPO critic (value head, host AdamW): 1e-5, the paper's critic lr. */
  valueLr: number;
  /** PPO: the first N steps train the critic only (verl's critic warm-up); the policy does not move. */
  criticWarmupSteps: number;
  /** Run the task's validation every N steps (0 = never); the best-scoring step's adapter is kept. */
  validateEvery: number;
  lora: { rank: number; alpha: number; targets: LoraTarget[] };
  optimizer: OptimizerConfig;
  seed: number;
  /** Name of the trained adapter in the engine. */
  adapterName: string;
}

/** Defaults (ours unless marked): G = 8, ε = 0.2, β = 0.04, LoRA r 16 / α 32 on all seven targets, lr 1e-4; critic lr 1e-5 (the paper's). */
export const DEFAULT_TRAINER: TrainerConfig = {
  algorithm: 'grpo',
  fineTune: 'lora',
  totalSteps: 100,
  promptsPerStep: 4,
  groupSize: 8,
  gradientAccumulation: 1,
  dynamicSampling: false,
  maxSamplingRounds: 3,
  numIterations: 1,
  temperature: 1,
  maxCompletionTokens: null,
  scaleRewards: 'group',
  grpo: DEFAULT_GRPO,
  ppo: DEFAULT_PPO,
  valueLr: 1e-5,
  criticWarmupSteps: 0,
  validateEvery: 0,
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

/** The paper's actor learning rate (full fine-tuning in verl). */
export const FULL_FINETUNE_LR = 1e-6;

/**
 * The full config from options. β is one setting: grpo.beta also weighs PPO's per-token KL penalty
 * unless ppo.klCoefficient is given.
 */
export function resolveConfig(options: TrainerOptions = {}): TrainerConfig {
  const d = DEFAULT_TRAINER;
  const beta = options.grpo?.beta;
  const c: TrainerConfig = {
    ...d,
    ...options,
    grpo: { ...d.grpo, ...options.grpo },
    ppo: { ...d.ppo, ...(beta !== undefined ? { klCoefficient: beta } : {}), ...options.ppo },
    lora: { ...d.lora, ...options.lora },
    // Full fine-tuning's actor lr is the paper's unless given; LoRA's is ours.
    optimizer: { ...d.optimizer, ...(options.fineTune === 'full' ? { lr: FULL_FINETUNE_LR } : {}), ...options.optimizer },
  };
  const positive = (v: number, name: string): void => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`trainer config: ${name} must be a positive integer, got ${v}`);
  };
  positive(c.totalSteps, 'totalSteps');
  positive(c.promptsPerStep, 'promptsPerStep');
  positive(c.groupSize, 'groupSize');
  positive(c.numIterations, 'numIterations');
  positive(c.lora.rank, 'lora.rank');
  positive(c.gradientAccumulation, 'gradientAccumulation');
  positive(c.maxSamplingRounds, 'maxSamplingRounds');
  if (c.maxCompletionTokens !== null) positive(c.maxCompletionTokens, 'maxCompletionTokens');
  if (!Number.isInteger(c.criticWarmupSteps) || c.criticWarmupSteps < 0) throw new Error(`trainer config: criticWarmupSteps must be a whole number ≥ 0, got ${c.criticWarmupSteps}`);
  if (!Number.isInteger(c.validateEvery) || c.validateEvery < 0) throw new Error(`trainer config: validateEvery must be a whole number ≥ 0, got ${c.validateEvery}`);
  if (!(c.valueLr > 0)) throw new Error(`trainer config: valueLr must be > 0, got ${c.valueLr}`);
  if (!(c.temperature > 0)) throw new Error(`trainer config: temperature must be > 0, got ${c.temperature}`);
  if (!(c.optimizer.lr > 0)) throw new Error(`trainer config: lr must be > 0, got ${c.optimizer.lr}`);
  if (c.algorithm === 'grpo' && c.groupSize < 2) throw new Error('trainer config: GRPO needs groupSize ≥ 2 (advantages are relative to the group)');
  if (c.lora.targets.length === 0) throw new Error('trainer config: no LoRA targets');
  if (c.fineTune !== 'lora' && c.fineTune !== 'full') throw new Error(`trainer config: fineTune must be "lora" or "full", got ${String(c.fineTune)}`);
  return c;
}
