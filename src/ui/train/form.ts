// The Train page's settings: the documented defaults (form.test.ts checks them against the
// trainer's own DEFAULT_TRAINER, which the UI does not import: it would pull the GPU code into the page),
// their help texts (saying which defaults are the paper's and which are ours), and the request they make.
import type { StartTrainingRequest, TrainingTaskName } from '../../hosts/trainer-host';
import type { Algorithm } from '../../train/trainer';

export const FIELDS = [
  'steps',
  'promptsPerStep',
  'gradientAccumulation',
  'groupSize',
  'maxCompletionTokens',
  'lr',
  'criticLr',
  'epsilon',
  'beta',
  'rank',
  'alpha',
  'temperature',
  'samplingRounds',
  'validateEvery',
  'seed',
  'checkpointEvery',
] as const;
export type Field = (typeof FIELDS)[number];

/** Limits on building LoCoMo's training tuples (blank: none). */
export const LOCOMO_FIELDS = ['turns', 'maxNewTokens'] as const;
export type LocomoField = (typeof LOCOMO_FIELDS)[number];

export type FineTune = 'lora' | 'full';

export interface TrainSettings {
  task: TrainingTaskName;
  algorithm: Algorithm;
  fineTune: FineTune;
  /** As typed: parsed and checked when a run starts. */
  values: Record<Field, string>;
  locomo: Record<LocomoField, string>;
}

export const TASKS: { value: TrainingTaskName; label: string; help: string }[] = [
  {
    value: 'synthetic',
    label: 'Synthetic memory operations (ADD / NONE / UPDATE / DELETE)',
    help: 'A memory and a new fact; the model picks the operation the manager should emit (reward 1 when right). Needs no data: good for trying the trainer.',
  },
  {
    value: 'locomo-manager',
    label: 'LoCoMo memory manager (Memory-R1)',
    help: 'Each turn of LoCoMo’s training conversation with the memories before it; the reward is whether the frozen base model then answers the turn’s questions exactly. GRPO or PPO.',
  },
  {
    value: 'locomo-answer',
    label: 'LoCoMo answer agent (Memory-R1)',
    help: 'Each training question with its 60 retrieved memories; the reward is an exact match with the gold answer.',
  },
];

export const LOCOMO_SPECS: Record<LocomoField, { label: string; help: string }> = {
  turns: { label: 'Turns used', help: 'Build the training data from only the first N turns (blank: all); the base model runs over every turn once, then the data is kept.' },
  maxNewTokens: { label: 'Reply cap while building', help: 'Longest reply of the base model while building the data and scoring the manager (blank: the agents’ own).' },
};

export const FINE_TUNES: { value: FineTune; label: string; help: string }[] = [
  { value: 'lora', label: 'LoRA adapter', help: 'Trains a small adapter beside the frozen weights: little memory, fits a laptop GPU. Ours: the paper fine-tunes all weights.' },
  {
    value: 'full',
    label: 'All weights',
    help: 'Trains every weight, as the paper does (its learning rate 1e-6). Needs a float32 model and about five times its size in GPU memory; the result is a Hugging Face model folder.',
  },
];

/** The learning rate the page proposes for full fine-tuning: the paper's actor lr. */
export const FULL_LR = 1e-6;

/** Switches what is trained; a learning rate left at one kind's default becomes the other's. */
export function withFineTune(settings: TrainSettings, fineTune: FineTune): TrainSettings {
  const defaults: Record<FineTune, number> = { lora: DEFAULTS.lr!, full: FULL_LR };
  const lr = Number(settings.values.lr) === defaults[settings.fineTune] ? String(defaults[fineTune]) : settings.values.lr;
  return { ...settings, fineTune, values: { ...settings.values, lr } };
}

/** null: blank (the trainer decides; for the reply length, the task's own budget). */
export const DEFAULTS: Record<Field, number | null> = {
  steps: 100,
  promptsPerStep: 4,
  gradientAccumulation: 1,
  groupSize: 8,
  maxCompletionTokens: null,
  lr: 1e-4,
  criticLr: 1e-5,
  epsilon: 0.2,
  beta: 0.04,
  rank: 16,
  alpha: 32,
  temperature: 1,
  samplingRounds: 0,
  validateEvery: 0,
  seed: 0,
  checkpointEvery: 10,
};

interface FieldSpec {
  label: string;
  help: string;
  integer: boolean;
  min: number;
  /** Which algorithms use it (all when absent). */
  only?: Algorithm[];
  /** May be left blank (the default then applies). */
  optional?: boolean;
  /** Only for LoRA runs (the adapter's shape). */
  lora?: boolean;
}

export const FIELD_SPECS: Record<Field, FieldSpec> = {
  steps: { label: 'Steps', help: 'Optimiser steps in the run; the ETA and the checkpoints count them.', integer: true, min: 1 },
  promptsPerStep: { label: 'Prompts per step', help: 'Different prompts sampled for each micro-batch (P).', integer: true, min: 1 },
  gradientAccumulation: {
    label: 'Micro-batches per update',
    help: 'Micro-batches of P prompts gathered into one optimiser update (1). The paper’s batch of 128 prompts is e.g. 16 × 8.',
    integer: true,
    min: 1,
  },
  groupSize: { label: 'Group size G', help: 'Completions sampled per prompt; GRPO scores each against its group’s mean. 8 is ours: the paper does not state it.', integer: true, min: 2, only: ['grpo', 'ppo'] },
  maxCompletionTokens: {
    label: 'Reply length',
    help: 'Most tokens in a sampled completion. Blank: the agent’s own budget at inference (manager 1,024, answer agent 256; the paper allows 2,048). Rollouts follow the same JSON format as inference; cut ones are counted.',
    integer: true,
    min: 1,
    optional: true,
  },
  lr: { label: 'Learning rate', help: 'Peak AdamW learning rate of the policy. 1e-4 is ours, for LoRA (the paper’s 1e-6 is for full fine-tuning); tiny test models learn at about 5e-3.', integer: false, min: 0 },
  criticLr: { label: 'Critic learning rate', help: 'Learning rate of PPO’s value head (1e-5, the paper’s critic rate).', integer: false, min: 0, only: ['ppo'] },
  epsilon: { label: 'Clip ε', help: 'How far one update may move a token’s probability ratio from 1 (0.2, ours).', integer: false, min: 0, only: ['grpo', 'ppo'] },
  beta: { label: 'KL weight β', help: 'Pull towards the base model, in GRPO’s loss and PPO’s reward (0.04, ours); 0 skips the reference pass and is faster.', integer: false, min: 0, only: ['grpo', 'ppo'] },
  rank: { label: 'LoRA rank r', help: 'Size of the adapter on every projection (16, ours; the paper fine-tunes all weights).', integer: true, min: 1, lora: true },
  alpha: { label: 'LoRA alpha', help: 'Scales the adapter’s update by alpha / r (32, ours).', integer: false, min: 0, lora: true },
  temperature: { label: 'Temperature', help: 'Sampling temperature of the rollouts (1 explores; lower exploits); log-probabilities are taken at the same temperature.', integer: false, min: 0.01, only: ['grpo', 'ppo'] },
  samplingRounds: {
    label: 'Dynamic sampling rounds',
    help: 'DAPO’s dynamic sampling: 0 = off; N drops groups whose rewards all agree (they teach nothing) and draws up to N batches to refill the step.',
    integer: true,
    min: 0,
    only: ['grpo'],
  },
  validateEvery: { label: 'Validate every', help: 'Steps between scores of the policy on the task’s held-out set (LoCoMo: conv-30), and once before the first step (0 = never); the best-scoring step, the start included, is kept as its own checkpoint.', integer: true, min: 0 },
  seed: { label: 'Seed', help: 'Fixes the adapter’s start and the samples, so a resumed run continues exactly.', integer: true, min: 0 },
  checkpointEvery: { label: 'Checkpoint every', help: 'Steps between checkpoints in this browser (also saved on pause and stop).', integer: true, min: 1 },
};

export const ALGORITHMS: { value: Algorithm; label: string; help: string }[] = [
  { value: 'grpo', label: 'GRPO', help: 'Group-relative policy optimisation: rewards compared within each group of G samples; no value model.' },
  { value: 'ppo', label: 'PPO', help: 'Proximal policy optimisation with a small value head and GAE.' },
  { value: 'sft', label: 'SFT', help: 'Supervised fine-tuning on the task’s reference answers (no rewards).' },
];

export function initialSettings(): TrainSettings {
  const text = (v: number | null): string => (v === null ? '' : String(v));
  return { task: 'synthetic', algorithm: 'grpo', fineTune: 'lora', values: Object.fromEntries(FIELDS.map((f) => [f, text(DEFAULTS[f])])) as Record<Field, string>, locomo: { turns: '', maxNewTokens: '' } };
}

/**
 * The run request (for LoCoMo tasks without its data, which the page adds, and with the tuple limits
 * apart), or the first problem with the settings (naming the field and what it needs).
 */
export function toRequest(settings: TrainSettings): { request: StartTrainingRequest; limits: Partial<Record<LocomoField, number>> } | { problem: string } {
  const n = {} as Record<Field, number | null>;
  for (const field of FIELDS) {
    const spec = FIELD_SPECS[field];
    const text = (settings.values[field] ?? '').trim();
    if (text === '' && spec.optional) {
      n[field] = null;
      continue;
    }
    const value = Number(text);
    if (text === '' || !Number.isFinite(value)) return { problem: `${spec.label}: enter a number.` };
    if (spec.integer && !Number.isInteger(value)) return { problem: `${spec.label}: enter a whole number.` };
    if (value < spec.min || (field === 'lr' && value === 0)) return { problem: `${spec.label}: must be ${field === 'lr' ? 'above 0' : `at least ${spec.min}`}.` };
    n[field] = value;
  }
  const limits: Partial<Record<LocomoField, number>> = {};
  if (settings.task !== 'synthetic') {
    for (const field of LOCOMO_FIELDS) {
      const text = settings.locomo[field].trim();
      if (text === '') continue;
      const value = Number(text);
      if (!Number.isInteger(value) || value < 1) return { problem: `${LOCOMO_SPECS[field].label}: enter a whole number of at least 1, or leave it blank.` };
      limits[field] = value;
    }
    if (settings.task === 'locomo-manager' && settings.algorithm === 'sft') return { problem: 'The LoCoMo manager has no reference operations to imitate: choose GRPO or PPO.' };
  }
  const v = n as Record<Field, number>; // only maxCompletionTokens may be null
  const rounds = v.samplingRounds;
  return {
    limits,
    request: {
      task: settings.task,
      checkpointEvery: v.checkpointEvery,
      options: {
        algorithm: settings.algorithm,
        fineTune: settings.fineTune,
        totalSteps: v.steps,
        promptsPerStep: v.promptsPerStep,
        gradientAccumulation: v.gradientAccumulation,
        groupSize: settings.algorithm === 'sft' ? 1 : v.groupSize,
        temperature: v.temperature,
        seed: v.seed,
        dynamicSampling: settings.algorithm === 'grpo' && rounds > 0,
        ...(rounds > 0 ? { maxSamplingRounds: rounds } : {}),
        validateEvery: v.validateEvery,
        ...(v.criticLr > 0 ? { valueLr: v.criticLr } : {}),
        grpo: { epsilonLow: v.epsilon, epsilonHigh: v.epsilon, beta: v.beta },
        ppo: { epsilon: v.epsilon, klCoefficient: v.beta },
        lora: { rank: v.rank, alpha: v.alpha },
        optimizer: { lr: v.lr },
        maxCompletionTokens: n.maxCompletionTokens,
      },
    },
  };
}
