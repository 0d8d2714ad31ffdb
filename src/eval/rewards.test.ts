import { describe, expect, it } from 'vitest';
import { InMemoryBank } from '../memory';
import { ScriptedChatModel } from '../llm/scripted';
import { storeMemories } from './bank-snapshot';
import { answerReward, managerReward } from './rewards';
import type { ManagerTuple } from './tuples';

/** A frozen answerer that reads the bank it is shown: where Caroline lives and what music she likes. */
function bankReader() {
  return new ScriptedChatModel((request) => {
    const prompt = request.messages[1]!.content;
    const question = /^Question: "(.*)"$/m.exec(prompt)![1]!;
    const pattern = question.startsWith('Where') ? /lives in (\w+)/ : /likes (\w+)/;
    return `Memories used: none\n**Answer:** ${pattern.exec(prompt)?.[1] ?? 'unknown'}`;
  });
}

async function tuple(texts: string[]): Promise<ManagerTuple> {
  const bank = new InMemoryBank('conv-x');
  await bank.apply(texts.map((text) => ({ event: 'ADD', text, speaker: 'Caroline' })), { actor: 'system' });
  const memories = await bank.list();
  return {
    sampleId: 'conv-x',
    turn: { id: 'conv-x:D2:1', diaId: 'D2:1', index: 5, speaker: 'Caroline', text: 'I moved to Paris!', sessionDate: '8 May 2023' },
    memories: storeMemories(memories),
    facts: ['Caroline moved to Paris'],
    related: memories.map((m) => m.id),
    prompt: [],
    questions: [
      { qaIndex: 0, question: 'Where does Caroline live?', gold: 'Paris', category: 1 },
      { qaIndex: 1, question: 'What music does Caroline like?', gold: 'jazz', category: 4 },
    ],
  };
}

const ops = (...memory: object[]) => JSON.stringify({ memory });

describe('managerReward', () => {
  it('is the mean exact match of the frozen answerer over the linked questions, on a copy of the bank', async () => {
    const reward = managerReward(bankReader());
    const t = await tuple(['Caroline likes jazz', 'Caroline lives in Boston']);
    // Right: the new fact replaces the outdated one, the unrelated memory stays.
    expect(await reward(ops({ id: '1', text: 'Caroline lives in Paris', event: 'UPDATE', old_memory: 'Caroline lives in Boston' }), t)).toBe(1);
    expect(await reward(ops({ id: '1', text: '', event: 'DELETE' }, { id: '9', text: 'Caroline lives in Paris', event: 'ADD' }), t)).toBe(1);
    // Wrong: nothing changes (each completion starts from the tuple's bank, not from the last one).
    expect(await reward(ops({ id: '1', text: 'Caroline lives in Boston', event: 'NONE' }), t)).toBe(0.5);
    // Wrong: the music memory is lost.
    expect(await reward(ops({ id: '0', text: '', event: 'DELETE' }, { id: '1', text: 'Caroline lives in Paris', event: 'UPDATE' }), t)).toBe(0.5);
    // Unusable output and invented ids score nothing more than the unchanged bank.
    expect(await reward('I think we should add Paris', t)).toBe(0);
    expect(await reward(ops({ id: '7', text: 'Caroline lives in Paris', event: 'UPDATE' }), t)).toBe(0.5);
    expect(await reward(ops({ id: '1', text: 'Caroline lives in Paris', event: 'UPDATE' }), { ...t, questions: [] })).toBe(0);
  });

  it('rewards an ADD of the right fact 1 and a wrong fact 0; an ADD never overwrites a stored memory', async () => {
    const reward = managerReward(bankReader());
    const t = await tuple(['Caroline likes jazz']);
    const paris = { ...t, questions: [t.questions[0]!] };
    expect(await reward(ops({ id: 'new', text: 'Caroline lives in Paris', event: 'ADD' }), paris)).toBe(1);
    expect(await reward(ops({ id: 'new', text: 'Caroline likes cheese', event: 'ADD' }), paris)).toBe(0);
    // conv-x:0 already holds the jazz memory; the restored bank must number new ids elsewhere.
    expect(await reward(ops({ id: 'new', text: 'Caroline lives in Paris', event: 'ADD' }), t)).toBe(1);
  });
});

describe('answerReward', () => {
  it('is the exact match of the answer after **Answer:** with the gold', async () => {
    const gold = { gold: '7 May 2023' };
    expect(await answerReward('Memories used: 0, 3\n**Answer:** 7 May 2023.', gold)).toBe(1);
    expect(await answerReward('**Answer:** the 7 May 2023', gold)).toBe(1); // articles and punctuation ignored
    expect(await answerReward('**Answer:** May 7, 2023', gold)).toBe(0);
    expect(await answerReward('**Answer:** 8 May 2023\n', gold)).toBe(0);
    expect(await answerReward('', gold)).toBe(0);
  });
});
