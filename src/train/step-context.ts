// What an algorithm's step works with: the engine and its trained adapter, the config, the task, the
// optimiser and the rollout sampler. The trainer builds one and hands it to grpoStep / ppoStep / sftStep.
import type { Engine } from '../model/engine';
import type { LoraAdapter } from '../model/lora';
import type { TrainerConfig } from './config';
import type { LoraOptimizer } from './optimizer';
import type { RolloutSampler } from './rollouts';
import type { TaskExample, TrainingTask } from './task';

export interface StepContext<E extends TaskExample = TaskExample> {
  readonly engine: Engine;
  readonly adapter: LoraAdapter;
  readonly config: TrainerConfig;
  readonly task: TrainingTask<E>;
  readonly optimizer: LoraOptimizer;
  readonly sampler: RolloutSampler<E>;
  /** The learning rate of the next optimiser update (one schedule index per update). */
  learningRate(): number;
}
