import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildManagerMessages, viewMemories } from '../agents';
import { conversationsOf, type LocomoConversation } from './locomo';
import { readLocomoFile } from './locomo.node.js';
import { echoAgents } from './test-helpers';
import { buildTrainingTuples, loadOrBuildTuples } from './tuples';
import { FileTupleCache } from './tuples.node.js';
import { loadMemories } from './bank-snapshot';
import { generateLocomoText } from './generate';
import { generatedBankModel } from './generated-oracle';
import { parseLocomo } from './locomo';
import { ScriptedChatModel } from '../llm/scripted';
import { agentOf } from './script-model';

let train: LocomoConversation[];
beforeAll(async () => {
  train = conversationsOf(await readLocomoFile('../shared/data/locomo10.json'), 'train');
});

const TURNS = 40;

describe('buildTrainingTuples (conv-26, first 40 turns)', () => {
  it('gives each linked turn the bank of the turns before it and the questions that cite it', async () => {
    const { model } = echoAgents(() => 'x');
    const tuples = await buildTrainingTuples({ conversations: train, model, identity: { model: 'echo' }, limits: { turns: TURNS } });
    expect(train[0]!.sampleId).toBe('conv-26');
    expect(tuples.manager.length).toBeGreaterThan(5);
    expect(tuples.linkedTurnsWithoutFacts).toBe(0);
    const turnIndex = new Map<string, number>();
    train[0]!.sessions.flatMap((s) => s.turns).forEach((t, i) => turnIndex.set(`conv-26:${t.diaId}`, i));
    for (const tuple of tuples.manager) {
      expect(tuple.turn.index).toBeLessThan(TURNS);
      // The echo extractor/manager store every turn once: the bank is exactly the earlier turns.
      expect(tuple.memories).toHaveLength(tuple.turn.index);
      for (const memory of tuple.memories) expect(turnIndex.get(memory.source!.turnId!)).toBeLessThan(tuple.turn.index);
      expect(tuple.questions.length).toBeGreaterThan(0);
      for (const q of tuple.questions) expect(train[0]!.qa[q.qaIndex]!.evidence).toContain(tuple.turn.diaId);
      // The prompt is the manager's, over the memories it was shown.
      const byId = new Map(loadMemories(tuple.memories, 't').map((m) => [m.id, m]));
      const related = tuple.related.map((id) => byId.get(id)!);
      expect(related.every(Boolean)).toBe(true);
      expect(tuple.prompt).toEqual(
        buildManagerMessages({ facts: tuple.facts, memories: viewMemories(related).shown, speaker: tuple.turn.speaker, sessionDate: tuple.turn.sessionDate! }),
      );
    }
    // Every question citing a turn within the first 40 is linked to it.
    const cited = train[0]!.qa.filter((qa) => qa.category !== 5 && qa.evidence.some((id) => (turnIndex.get(`conv-26:${id}`) ?? TURNS) < TURNS));
    const linked = new Set(tuples.manager.flatMap((t) => t.questions.map((q) => q.qaIndex)));
    expect(linked.size).toBe(cited.length);

    expect(tuples.answer).toHaveLength(152);
    const first = tuples.answer[0]!;
    expect(first).toMatchObject({ sampleId: 'conv-26', qaIndex: 0, question: train[0]!.qa[0]!.question, gold: '7 May 2023' });
    expect(first.groups.map((g) => g.speaker).sort()).toEqual(['Caroline', 'Melanie']);
    expect(first.groups.flatMap((g) => g.memories)).toHaveLength(TURNS); // all 40 fit under 30 per speaker
    expect(first.prompt[1]!.content).toContain('Question: "When did Caroline go to the LGBTQ support group?"');
  });

  it('is cached as JSON and reused for the same identity', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tuples-'));
    try {
      const path = join(dir, 'out', 'tuples.json'); // its folder does not exist yet
      const agents = echoAgents(() => 'x');
      const build = () => buildTrainingTuples({ conversations: train, model: agents.model, identity: { model: 'echo', turns: 10 }, limits: { turns: 10, questions: 4 } });
      const cache = new FileTupleCache(path);
      const first = await loadOrBuildTuples(cache, { model: 'echo', turns: 10 }, build);
      const calls = agents.calls.extract;
      const second = await loadOrBuildTuples(cache, { model: 'echo', turns: 10 }, build);
      expect([first.cached, second.cached]).toEqual([false, true]);
      expect(agents.calls.extract).toBe(calls);
      expect(second.tuples).toEqual(JSON.parse(JSON.stringify(first.tuples)));
      const other = await loadOrBuildTuples(cache, { model: 'other', turns: 10 }, build);
      expect(other.cached).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('measures evidence recall@60, and builds the answer tuples over the banks of the chosen manager', async () => {
    const generated = conversationsOf(parseLocomo(generateLocomoText({ conversations: 1, seed: 3 })), 'train');
    const oracle = generatedBankModel();
    const tuples = await buildTrainingTuples({ conversations: generated, model: oracle, identity: { model: 'oracle' } });
    expect(tuples.manager.length).toBeGreaterThan(10);
    expect(tuples.answer).toHaveLength(generated[0]!.qa.length);
    // The scripted bank builder stores every fact and merges changes into the memory they change: every
    // evidence turn is behind a retrieved memory (a small bank fits in 30 per speaker).
    for (const t of tuples.answer) expect(t.evidenceRecall, t.question).toBe(1);
    expect(tuples.recall).toEqual({ at: 60, mean: 1 });
    // A manager that keeps nothing: the manager tuples still come from the bank builder, the answer
    // tuples from the empty banks it kept.
    const keepsNothing = new ScriptedChatModel((request) => (agentOf(request) === 'manage' ? '{"memory": []}' : oracle.chat(request).then((r) => r.text)));
    const algorithm2 = await buildTrainingTuples({ conversations: generated, model: oracle, answerBankModel: keepsNothing, identity: { model: 'oracle' } });
    const gist = (t: (typeof tuples.manager)[number]) => [t.turn.id, t.facts, t.memories.map((m) => m.text)];
    expect(algorithm2.manager.map(gist)).toEqual(tuples.manager.map(gist));
    expect(algorithm2.answer.every((t) => t.groups.every((g) => g.memories.length === 0) && t.evidenceRecall === 0)).toBe(true);
    expect(algorithm2.recall.mean).toBe(0);
  });
});

