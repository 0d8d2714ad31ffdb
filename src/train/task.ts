// What the trainer trains on: prompts (raw text, tokenized with the model's special tokens, no chat
// template — the caller formats), optionally a closed set of allowed completions, an SFT target, and
// a reward function. train/ knows nothing of memories: a task hands in plain strings and numbers.
import type { Rng } from '../model/rng';

export interface TaskExample {
  prompt: string;
  /**
   * The allowed completions. When given, a rollout samples one of them with probability ∝ p(choice |
   * prompt)^(1/temperature), renormalised over the choices (constrained decoding onto a closed set);
   * otherwise it generates freely up to maxCompletionTokens.
   */
  choices?: readonly string[];
  /** The reference completion (SFT trains on it). */
  target?: string;
}

export interface TrainingTask<E extends TaskExample = TaskExample> {
  name: string;
  /** `count` examples for one step, drawn from `rng` only (so a resumed run draws the same ones). */
  examples(rng: Rng, count: number): E[];
  /** Reward of one completion (exact match, an answer agent's score, ...). */
  reward(example: E, completion: string): number | Promise<number>;
}
