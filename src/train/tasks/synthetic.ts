// A synthetic task with an exactly computable reward, to prove the trainer learns: given a templated
// memory and a templated new fact, choose the memory operation Memory-R1's manager should emit.
//   no memory yet              → ADD       "Memory: (none)\nFact: likes tea"
//   the same fact              → NONE      "Memory: likes tea\nFact: likes tea"
//   a fuller version of it     → UPDATE    "Memory: likes tea\nFact: likes tea and cake"
//   a contradiction            → DELETE    "Memory: likes tea\nFact: no longer likes tea"
// The answer is one letter (A, N, U, D), so a rollout is one sampled token among four: the reward is
// exact, and a random policy starts near 1/4.
import { createRng, type Rng } from '../../model/rng';
import { promptTokens } from '../rollouts';
import type { TaskExample, TrainingTask, ValidationContext } from '../task';

export const OPERATIONS = ['ADD', 'NONE', 'UPDATE', 'DELETE'] as const;
export type SyntheticOperation = (typeof OPERATIONS)[number];
/** The single-character answers, in OPERATIONS order. */
export const ANSWERS = ['A', 'N', 'U', 'D'] as const;

const VERBS = ['likes', 'owns', 'visits', 'plays', 'cooks', 'reads', 'paints', 'grows'];
const OBJECTS = ['tea', 'chess', 'Paris', 'piano', 'soup', 'poems', 'boats', 'roses', 'jazz', 'maps', 'kites', 'bread'];

export interface SyntheticExample {
  prompt: string;
  answer: (typeof ANSWERS)[number];
  operation: SyntheticOperation;
}

export function syntheticExample(rng: Rng, operation: SyntheticOperation = OPERATIONS[Math.floor(rng() * 4)]!): SyntheticExample {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rng() * items.length)]!;
  const fact = `${pick(VERBS)} ${pick(OBJECTS)}`;
  const [memory, stated] = {
    ADD: ['(none)', fact],
    NONE: [fact, fact],
    UPDATE: [fact, `${fact} and ${pick(OBJECTS)}`],
    DELETE: [fact, `no longer ${fact}`],
  }[operation];
  return {
    prompt: `Memory: ${memory}\nFact: ${stated}\nOperation (A=ADD, N=NONE, U=UPDATE, D=DELETE):`,
    answer: ANSWERS[OPERATIONS.indexOf(operation)]!,
    operation,
  };
}

/** A balanced batch: each operation equally often, shuffled. */
export function syntheticBatch(rng: Rng, size: number): SyntheticExample[] {
  const examples = Array.from({ length: size }, (_, i) => syntheticExample(rng, OPERATIONS[i % 4]));
  for (let i = examples.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [examples[i], examples[j]] = [examples[j]!, examples[i]!];
  }
  return examples;
}

/** 1 for the right operation, 0 otherwise (leading spaces ignored). */
export function syntheticReward(example: SyntheticExample, completion: string): number {
  return completion.trimStart().startsWith(example.answer) ? 1 : 0;
}

/**
 * The task as the trainer takes it: balanced batches, the four letters as the allowed completions
 * (sampling is restricted to them), the right letter as the SFT target, the exact reward, and
 * validation on a held-out set.
 */
export function syntheticTask(): TrainingTask<SyntheticExample & TaskExample> {
  return {
    name: 'synthetic',
    examples: (rng, count) => syntheticBatch(rng, count).map((e) => ({ ...e, choices: ANSWERS, target: e.answer })),
    reward: (example, completion) => syntheticReward(example, completion),
    validate: syntheticValidation,
  };
}

/** Validation examples from a seed of their own, 4 of each operation (the template space is small: some may equal training prompts). */
export function syntheticValidationSet(): SyntheticExample[] {
  return syntheticBatch(createRng(0x5eed), 16);
}

/** The policy's greedy accuracy on the validation set: the most probable of the four letters (one forward per prompt). */
export async function syntheticValidation(context: ValidationContext): Promise<number> {
  const { engine, adapterName } = context;
  const letters = ANSWERS.map((a) => engine.tokenizer.encode(a));
  if (letters.some((ids) => ids.length !== 1)) throw new Error('synthetic validation: each answer letter must be one token of this tokenizer');
  let right = 0;
  const held = syntheticValidationSet();
  for (const example of held) {
    const prompt = promptTokens(engine.tokenizer, example.prompt);
    const session = engine.session({ ...(adapterName !== undefined ? { adapter: adapterName } : {}), maxTokens: prompt.length });
    try {
      await session.append(prompt);
      const logits = await session.logits();
      const scores = letters.map((ids) => logits[ids[0]!]!);
      right += syntheticReward(example, ANSWERS[scores.indexOf(Math.max(...scores))]!);
    } finally {
      session.dispose();
    }
  }
  return right / held.length;
}
