import { describe, expect, it } from 'vitest';
import type { LocalEngine } from '../llm/local';
import { locomoTrainingTask, tupleIdentity } from './locomo-task';
import { TUPLES_VERSION, type AnswerTuple, type TrainingTuples } from './tuples';

// Building a task touches only the tokenizer's chat template (the engine runs when the trainer samples).
const engine = { tokenizer: { applyChatTemplate: () => 'prompt' }, maxTokens: 1, session: () => ({}) } as unknown as LocalEngine;

const tuples = (answer: AnswerTuple[]): TrainingTuples => ({ version: TUPLES_VERSION, identity: tupleIdentity('m', {}), manager: [], answer, linkedTurnsWithoutFacts: 5, recall: { at: 60, mean: null } });

describe('LoCoMo training tasks', () => {
  it('refuse to start without tuples for the agent, saying why and what to change', () => {
    expect(() => locomoTrainingTask('locomo-manager', engine, tuples([]), { turns: 12 })).toThrow(
      'No training data for the memory manager: the base model found no facts in any of the 5 turns that questions point to (within the first 12 turns)',
    );
    expect(() => locomoTrainingTask('locomo-answer', engine, tuples([]), {})).toThrow(/no questions within the turns used/);
  });

  it('build the answer agent task from its tuples', () => {
    const tuple = { sampleId: 'conv-26', qaIndex: 0, question: 'Q?', gold: '7 May 2023', category: 2, groups: [], prompt: [{ role: 'user', content: 'Q?' }], evidence: [] } as AnswerTuple;
    const task = locomoTrainingTask('locomo-answer', engine, tuples([tuple]), {});
    expect(task.name).toBe('locomo-answer');
    expect(tupleIdentity('m', { turns: 3 })).toEqual({ model: 'm', split: 'train', turns: 3, maxNewTokens: null });
  });
});
