// Evidence recall@60: provenance through ADD / UPDATE / NONE / DELETE, the evaluation recording it per
// question (banks built by the scripted bank builder on generated data), and the report showing it.
import { describe, expect, it } from 'vitest';
import type { AppliedOperation } from '../agents';
import { ScriptedChatModel } from '../llm/scripted';
import { generateLocomoText } from './generate';
import { generatedBankModel } from './generated-oracle';
import { conversationsOf, parseLocomo } from './locomo';
import { evidenceRecall, Provenance } from './recall';
import { buildReport, reportMarkdown } from './report';
import { MemoryEvalStore, runLocomoEval } from './runner';
import { agentOf } from './script-model';

const op = (event: AppliedOperation['event'], memoryId: string) => ({ event, memoryId }) as AppliedOperation;

describe('evidence recall@60', () => {
  it('credits a memory to every turn that made or confirmed it', () => {
    const p = new Provenance();
    p.record('t1', [op('ADD', 'm1'), op('ADD', 'm2')]);
    p.record('t2', [op('UPDATE', 'm1'), op('NONE', 'm2')]);
    p.record('t3', [op('DELETE', 'm2')]);
    expect(p.toJSON()).toEqual({ m1: ['t1', 't2'] });
    expect(evidenceRecall(['t2', 't3'], [{ id: 'm1' }], p)).toBe(0.5);
    expect(evidenceRecall(['t1', 't1'], [{ id: 'm1' }], p)).toBe(1); // evidence counted once
    expect(evidenceRecall([], [{ id: 'm1' }], p)).toBeUndefined();
    // A memory from before tracking counts for its source turn; the provenance survives JSON.
    expect(evidenceRecall(['t9'], [{ id: 'old', source: { turnId: 't9' } }], new Provenance(JSON.parse(JSON.stringify(p))))).toBe(1);
  });

  it('is recorded per question by the evaluation and shown in the report, beside a local judge mark', async () => {
    const conversations = conversationsOf(parseLocomo(generateLocomoText({ conversations: 3, seed: 11 })), 'test');
    const oracle = generatedBankModel();
    // A bank builder that forgets every trip: the temporal questions lose their evidence.
    const forgetsTrips = new ScriptedChatModel(async (request) => {
      const reply = (await oracle.chat(request)).text;
      return agentOf(request) === 'extract' ? JSON.stringify({ facts: (JSON.parse(reply).facts as string[]).filter((f) => !f.includes('went to')) }) : reply;
    });
    const answerer = new ScriptedChatModel(() => 'Memories used: 0\n**Answer:** unknown');
    const judge = new ScriptedChatModel(() => '{"label": "WRONG"}');
    const run = await runLocomoEval({ conversations, model: forgetsTrips, answerModel: answerer, judge, store: new MemoryEvalStore(), identity: { m: 'x' }, bankKey: 'x' });
    for (const r of run.results) expect(r.evidenceRecall, r.question).toBe(r.category === 2 ? 0 : 1);
    const report = buildReport(run.results, { method: 'scripted', split: 'test', judge: { name: 'models/judge', local: true } });
    expect(report.ours.byCategory[2]!.recall).toBe(0);
    expect(report.ours.byCategory[1]!.recall).toBe(100);
    const markdown = reportMarkdown(report);
    expect(markdown).toMatch(/\| evidence recall@60 \| 100\.00 \| 0\.00 \| 100\.00 \| 100\.00 \| \d+\.\d\d \|/);
    expect(markdown).toContain("† This run's J is from a local judge (models/judge)");
    expect(markdown).toMatch(/\| \*\*scripted\*\* \| [^\n]*\| 0\.00† \|\n/); // our J cells carry the mark
    expect(markdown).not.toMatch(/Mem0 \|[^\n]*†/); // the published ones do not
  });
});
