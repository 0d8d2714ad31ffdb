// What the trainer trains on: prompts (raw text or an already chat-templated string; either way tokenised
// with exactly one BOS where the model has one, as inference does), optionally a closed set of allowed
// completions, an SFT target, the completion budget and output constraint of the agent being trained,
// a reward function, and optionally a validation score. train/ knows nothing of memories: a task hands
// in plain strings and numbers.
import type { Engine } from '../model/engine';
import type { Rng } from '../model/rng';

export interface TaskExample {
  prompt: string;
  /**
   * The allowed completions. When given, a rollout samples one of them with probability ∝ p(choice |
   * prompt)^(1/temperature), renormalised over the choices (constrained decoding onto a closed set);
   * otherwise it generates freely up to the task's completion cap.
   */
  choices?: readonly string[];
  /** The reference completion (SFT trains on it). */
  target?: string;
}

/** What the validation hook gets: the engine, and its name of the adapter being trained (the policy now; undefined when the whole model is trained: the engine's own weights are the policy). */
export interface ValidationContext {
  engine: Engine;
  adapterName: string | undefined;
  /** Steps completed. */
  step: number;
}

export interface TrainingTask<E extends TaskExample = TaskExample> {
  name: string;
  /** `count` examples for one step, drawn from `rng` only (so a resumed run draws the same ones). */
  examples(rng: Rng, count: number): E[];
  /** Reward of one completion (exact match, an answer agent's score, ...). */
  reward(example: E, completion: string): number | Promise<number>;
  /**
   * Longest completion a rollout may generate: the agent's own inference budget (the manager's 1,024
   * tokens, the answer agent's 256). The trainer's maxCompletionTokens overrides it.
   */
  maxCompletionTokens?: number;
  /** The JSON Schema the agent's replies are decoded under at inference; rollouts use the same one. */
  jsonSchema?: Record<string, unknown>;
  /** A held-out score of the policy (higher is better), run every validateEvery steps; the best step's adapter is kept. */
  validate?(context: ValidationContext): Promise<number>;
}
