import { describe, expect, it } from 'vitest';
import { InMemoryBank } from '../memory';
import { ScriptedChatModel } from '../llm/scripted';
import { MemoryPipeline, type PipelineEvent } from './pipeline';
import { contents } from './test-helpers';

/** Replies by which agent is asking (told apart by the system prompt), so the script reads like a dialogue. */
function agentScript(replies: { extract: string[]; manage: string[]; answer: string[] }) {
  return new ScriptedChatModel((request) => {
    const system = request.messages[0]!.content;
    const queue = system.startsWith('You pick out') ? replies.extract : system.startsWith('You keep') ? replies.manage : replies.answer;
    const next = queue.shift();
    if (next === undefined) throw new Error(`unexpected call: ${system.slice(0, 30)}`);
    return next;
  });
}

describe('MemoryPipeline', () => {
  it('ingests turns and answers a question, reporting steps, tokens and events', async () => {
    const bank = new InMemoryBank('b');
    const model = agentScript({
      extract: ['{"facts": ["Caroline lives in Boston"]}', '{"facts": ["Caroline moved to Paris on 7 May 2023"]}'],
      manage: [
        '{"memory": [{"id": "0", "text": "Caroline lives in Boston", "event": "ADD"}]}',
        '{"memory": [{"id": "0", "text": "Caroline lives in Boston", "event": "DELETE"}, {"id": "1", "text": "Caroline moved to Paris on 7 May 2023", "event": "ADD"}]}',
      ],
      answer: ['Memories used: 0\n**Answer:** Paris'],
    });
    let clock = 0;
    const pipeline = new MemoryPipeline({ model, bank, now: () => (clock += 5) });
    const events: PipelineEvent[] = [];
    pipeline.on((event) => events.push(event));

    const first = await pipeline.ingest({ id: 't1', speaker: 'Caroline', text: 'I live in Boston.', sessionDate: '1 May 2023' });
    expect(first.applied.map((a) => a.event)).toEqual(['ADD']);
    const second = await pipeline.ingest({ id: 't2', speaker: 'Caroline', text: 'I moved to Paris yesterday!', sessionDate: '8 May 2023' });
    expect(second.related.map((m) => m.text)).toEqual(['Caroline lives in Boston']);
    expect(second.steps.map((s) => s.step)).toEqual(['extract', 'retrieve', 'manage', 'apply']);
    expect(second.steps.every((s) => s.ms === 5)).toBe(true);
    expect(second.steps[0]!.usage.completionTokens).toBeGreaterThan(0);
    expect(second.steps[1]!.usage).toEqual({ promptTokens: 0, completionTokens: 0 });
    expect(await contents(bank)).toEqual(['b:1: Caroline moved to Paris on 7 May 2023']);
    expect((await bank.list())[0]).toMatchObject({ speaker: 'Caroline', source: { turnId: 't2', sessionDate: '8 May 2023' } });

    const asked = await pipeline.ask('Where does Caroline live?');
    expect(asked).toMatchObject({ answer: 'Paris', question: 'Where does Caroline live?' });
    expect(asked.usedMemories.map((m) => m.id)).toEqual(['b:1']);
    expect(asked.steps.map((s) => s.step)).toEqual(['retrieve', 'answer']);

    expect(events.filter((e) => e.type === 'applied').map((e) => e.type === 'applied' && `${e.turnId}:${e.operation.event}`)).toEqual(['t1:ADD', 't2:DELETE', 't2:ADD']);
    expect(events.filter((e) => e.type === 'step-start').length).toBe(events.filter((e) => e.type === 'step-end').length);
    expect(events.at(-1)).toMatchObject({ type: 'answer', answer: 'Paris' });
  });

  it('skips the manager when a turn has no facts', async () => {
    const bank = new InMemoryBank('b');
    const model = agentScript({ extract: ['{"facts": []}'], manage: [], answer: [] });
    const report = await new MemoryPipeline({ model, bank }).ingest({ speaker: 'A', text: 'Hi!' });
    expect(report.steps.map((s) => s.step)).toEqual(['extract']);
    expect(model.requests).toHaveLength(1);
  });

  it('reports a fallback and leaves the bank untouched; a throwing listener breaks nothing', async () => {
    const bank = new InMemoryBank('b');
    const model = agentScript({ extract: ['{"facts": ["x"]}'], manage: ['no', 'still no'], answer: [] });
    const pipeline = new MemoryPipeline({ model, bank });
    pipeline.on(() => {
      throw new Error('UI bug');
    });
    const events: string[] = [];
    pipeline.on((e) => events.push(e.type));
    const report = await pipeline.ingest({ speaker: 'A', text: 'x' });
    expect(report.fellBack).toBe(true);
    expect(events).toContain('fell-back');
    expect(await bank.list()).toEqual([]);
  });

  it('uses a separate answer model when given one', async () => {
    const bank = new InMemoryBank('b');
    const answerModel = new ScriptedChatModel(['**Answer:** 42']);
    const model = new ScriptedChatModel([]);
    const asked = await new MemoryPipeline({ model, bank, answerModel }).ask('q');
    expect(asked.answer).toBe('42');
    expect(model.requests).toHaveLength(0);
  });
});
