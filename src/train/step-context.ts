// What an algorithm's step works with: the engine, the trained parameters (with their backward and
// optimiser), the config, the task and the rollout sampler. The trainer builds one and hands it to
// grpoStep / ppoStep / sftStep.
import type { Engine } from '../model/engine';
import type { TrainerConfig } from './config';
import type { TrainedParams } from './params';
import type { RolloutSampler } from './rollouts';
import type { TaskExample, TrainingTask } from './task';

export interface StepContext<E extends TaskExample = TaskExample> {
  readonly engine: Engine;
  readonly params: TrainedParams;
  readonly config: TrainerConfig;
  readonly task: TrainingTask<E>;
  readonly sampler: RolloutSampler<E>;
  /** Steps completed before this one. */
  stepsDone(): number;
  /** The learning rate of the next optimiser update (one schedule index per update). */
  learningRate(): number;
}
