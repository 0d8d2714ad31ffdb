// Memory-R1's two training tasks for the (memory-agnostic) trainer: the prompts are the agents' own,
// taken from training tuples and rendered with the model's chat template; the rewards are rewards.ts's.
//   locomo-answer:  (question, its 60 retrieved memories) → the answer; reward = exact match with gold.
//   locomo-manager: (turn, the bank before it) → operations; reward = the frozen answer agent's exact
//                   match on the questions linked to the turn, after the operations are applied.
import { ANSWER_SAMPLING } from '../agents/answer';
import { MANAGER_SAMPLING } from '../agents/manager';
import { MANAGER_JSON_SCHEMA } from '../agents/schemas';
import type { ChatMessage } from '../llm/chat-model';
import type { Rng } from '../model/rng';
import type { TaskExample, TrainingTask } from '../train/task';
import { answerReward, type RewardFunction } from './rewards';
import type { AnswerTuple, ManagerTuple } from './tuples';

/** Renders an agent's messages as the model's prompt (its chat template, generation prompt added). */
export type PromptFormatter = (messages: readonly ChatMessage[]) => string;

interface TupleExample<T> extends TaskExample {
  tuple: T;
}

function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  if (items.length === 0) throw new Error('no training tuples: build them on more turns (the linked turns had no facts)');
  return Array.from({ length: count }, () => items[Math.floor(rng() * items.length)]!);
}

export function locomoAnswerTask(tuples: readonly AnswerTuple[], format: PromptFormatter): TrainingTask<TupleExample<AnswerTuple>> {
  return {
    name: 'locomo-answer',
    // Rollouts get the answer agent's own budget (its replies are free text after **Answer:**).
    maxCompletionTokens: ANSWER_SAMPLING.max_tokens,
    examples: (rng, count) => sample(rng, tuples, count).map((tuple) => ({ prompt: format(tuple.prompt), target: `**Answer:** ${tuple.gold}`, tuple })),
    reward: (example, completion) => answerReward(completion, example.tuple),
  };
}

/** The manager has no reference completion (no SFT target): its reward comes from the answers it enables. */
export function locomoManagerTask(tuples: readonly ManagerTuple[], format: PromptFormatter, reward: RewardFunction<ManagerTuple>): TrainingTask<TupleExample<ManagerTuple>> {
  return {
    name: 'locomo-manager',
    // Rollouts get the manager's own budget and JSON Schema: the policy trained is the one inference runs.
    maxCompletionTokens: MANAGER_SAMPLING.max_tokens,
    jsonSchema: MANAGER_JSON_SCHEMA,
    examples: (rng, count) => sample(rng, tuples, count).map((tuple) => ({ prompt: format(tuple.prompt), tuple })),
    reward: (example, completion) => reward(completion, example.tuple),
  };
}
