// The trainer's configuration: defaults, partial options merged group by group, and validation.
import { LORA_TARGETS } from '../model/lora';
import type { LoraTarget } from '../model/reference';
import { DEFAULT_GRPO, DEFAULT_PPO, type AdvantageScaling, type GrpoConfig, type PpoConfig } from './objectives';
import { DEFAULT_OPTIMIZER, type OptimizerConfig } from './optimizer';

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
