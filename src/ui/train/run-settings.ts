// The Train form as a run had it, from that run's own config (the worker's status, which after a reload
// comes from the latest checkpoint), so what the page shows is what Resume continues.
import type { TrainingStatus } from '../../hosts/trainer-host';
import { TASKS, type Field, type TrainSettings } from './form';

/** `current` with every field the run's config fixes taken from it (the rest, e.g. LoCoMo limits, kept). */
export function settingsOfRun(status: TrainingStatus, current: TrainSettings): TrainSettings {
  const config = status.config;
  if (!config) return current;
  const ppo = config.algorithm === 'ppo';
  const fromConfig: Partial<Record<Field, number>> = {
    steps: config.totalSteps,
    promptsPerStep: config.promptsPerStep,
    ...(config.algorithm === 'sft' ? {} : { groupSize: config.groupSize }),
    ...(config.maxCompletionTokens === null ? {} : { maxCompletionTokens: config.maxCompletionTokens }),
    lr: config.optimizer.lr,
    epsilon: ppo ? config.ppo.epsilon : config.grpo.epsilonLow,
    beta: ppo ? config.ppo.klCoefficient : config.grpo.beta,
    rank: config.lora.rank,
    alpha: config.lora.alpha,
    temperature: config.temperature,
    seed: config.seed,
  };
  const values = { ...current.values };
  for (const [field, value] of Object.entries(fromConfig) as [Field, number][]) values[field] = String(value);
  const task = TASKS.find((t) => t.value === status.task)?.value ?? current.task;
  return { ...current, task, algorithm: config.algorithm, fineTune: config.fineTune ?? 'lora', values };
}

/** A run saved but not under way: after a reload the worker is idle, yet its checkpoint can continue. */
export const isPausedRun = (status: TrainingStatus | null): boolean =>
  !!status && status.canResume && (status.state === 'idle' || status.state === 'paused');
