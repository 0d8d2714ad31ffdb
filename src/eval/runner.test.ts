import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { conversationsOf, type LocomoConversation } from './locomo';
import { readLocomoFile } from './locomo.node.js';
import { MemoryEvalStore, runLocomoEval, RunMismatchError, type EvalOptions, type EvalProgress, type QuestionResult } from './runner';
import { FileEvalStore } from './runner-store.node.js';
import { echoAgents } from './test-helpers';
import { evaluatedQuestions } from './turns';

let test: LocomoConversation[];
let gold: Map<string, { answer: string; index: number }>;

beforeAll(async () => {
  test = conversationsOf(await readLocomoFile('../shared/data/locomo10.json'), 'test');
  gold = new Map(test.flatMap((c) => evaluatedQuestions(c).map((qa) => [qa.question, { answer: qa.answer, index: qa.qaIndex }] as const)));
});

/** Right on questions at even positions, "no idea" on the others: known scores. */
const halfRight = (question: string) => {
  const entry = gold.get(question)!;
  return entry.index % 2 === 0 ? entry.answer : 'no idea';
};

const LIMITS = { conversations: 2, questions: 5, turns: 6 };

function options(store: EvalOptions['store'], agents = echoAgents(halfRight), extra: Partial<EvalOptions> = {}): EvalOptions {
  let clock = 0;
  return {
    conversations: test,
    model: agents.model,
    judge: agents.model,
    store,
    identity: { model: 'echo' },
    bankKey: 'echo',
    limits: LIMITS,
    now: () => (clock += 1),
    ...extra,
  };
}

describe('runLocomoEval', () => {
  it('answers and scores the selected questions of the first conversations', async () => {
    const agents = echoAgents(halfRight);
    const progress: EvalProgress[] = [];
    const run = await runLocomoEval({ ...options(new MemoryEvalStore(), agents), onProgress: (p) => progress.push(p) });
    expect(run.results).toHaveLength(10);
    expect(run).toMatchObject({ answered: 10, skipped: 0, ingestedTurns: 12 });
    expect(run.results.map((r) => r.sampleId)).toEqual([...Array(5).fill(test[0]!.sampleId), ...Array(5).fill(test[1]!.sampleId)]);
    expect(agents.calls).toEqual({ extract: 12, manage: 12, answer: 10, judge: 10 });
    for (const r of run.results) {
      const right = r.qaIndex % 2 === 0;
      if (!right) expect(r.prediction).toBe('no idea');
      expect([r.em, r.judge]).toEqual(right ? [1, 1] : [0, 0]);
      expect(r.f1).toBe(right ? 1 : 0);
      expect(r.category).toBeGreaterThanOrEqual(1);
      expect(r.category).toBeLessThanOrEqual(4);
      expect(r.retrieved).toBeGreaterThan(0);
      expect(r.usedMemories).toHaveLength(1);
      expect(r.ms).toBe(1);
      expect(r.tokens.prompt).toBeGreaterThan(0);
    }
    // One bank per conversation with both speakers: the answerer is shown two groups.
    const answerPrompt = agents.model.requests.find((q) => q.messages[1]!.content.includes('Question: '))!.messages[1]!.content;
    expect(answerPrompt).toContain(`Memories of "${test[0]!.speakerA}"`);
    expect(answerPrompt).toContain(`Memories of "${test[0]!.speakerB}"`);
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ phase: 'answer', questionsDone: 10, questionsTotal: 10, etaMs: 0 });
    expect(progress.filter((p) => p.phase === 'ingest')).toHaveLength(12);
  });

  it('resumes after a kill: same final results, no question answered twice, no turn ingested twice', async () => {
    const reference = await runLocomoEval(options(new MemoryEvalStore()));

    const store = new MemoryEvalStore();
    const controller = new AbortController();
    const first = echoAgents(halfRight);
    const killed = runLocomoEval({
      ...options(store, first),
      checkpointEvery: 2,
      signal: controller.signal,
      // Killed after 3 questions; below, killed again part-way through ingesting the second conversation.
      onProgress: (p) => {
        if (p.phase === 'answer' && p.questionsDone === 3) controller.abort();
      },
    });
    await expect(killed).rejects.toThrow();
    expect(store.results).toHaveLength(3);

    const controller2 = new AbortController();
    const second = echoAgents(halfRight);
    await expect(
      runLocomoEval({
        ...options(store, second),
        checkpointEvery: 2,
        signal: controller2.signal,
        onProgress: (p) => {
          if (p.phase === 'ingest' && p.sampleId === test[1]!.sampleId && p.turn === 4) controller2.abort();
        },
      }),
    ).rejects.toThrow();
    expect(second.calls).toMatchObject({ extract: 4, answer: 2 }); // first bank came from the cache

    const third = echoAgents(halfRight);
    const resumed = await runLocomoEval({ ...options(store, third), checkpointEvery: 2 });
    expect(third.calls).toMatchObject({ extract: 2, manage: 2, answer: 5, judge: 5 });
    expect(resumed).toMatchObject({ answered: 5, skipped: 5, ingestedTurns: 2 });
    expect(resumed.results).toEqual(reference.results);
    expect(store.results).toHaveLength(10);

    const again = echoAgents(halfRight);
    const rerun = await runLocomoEval(options(store, again));
    expect(again.calls).toEqual({ extract: 0, manage: 0, answer: 0, judge: 0 });
    expect(rerun.results).toEqual(reference.results);
  });

  it('refuses a store written by another set-up', async () => {
    const store = new MemoryEvalStore();
    await runLocomoEval({ ...options(store), limits: { conversations: 1, questions: 1, turns: 1 } });
    await expect(runLocomoEval({ ...options(store), identity: { model: 'other' } })).rejects.toBeInstanceOf(RunMismatchError);
  });
});

describe('FileEvalStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'eval-store-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resumes from files, dropping a line cut off by a kill', async () => {
    const out = join(dir, 'run.json');
    const reference = await runLocomoEval(options(new MemoryEvalStore()));
    const controller = new AbortController();
    await expect(
      runLocomoEval({
        ...options(new FileEvalStore(out)),
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'answer' && p.questionsDone === 6) controller.abort();
        },
      }),
    ).rejects.toThrow();
    const state = `${out}.state.jsonl`;
    const lines = (await readFile(state, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(7); // identity + 6 results
    await writeFile(state, `${lines.join('\n')}\n{"result": {"sampleId": "conv-`); // a write cut off mid-line

    const agents = echoAgents(halfRight);
    const resumed = await runLocomoEval(options(new FileEvalStore(out), agents));
    expect(agents.calls).toMatchObject({ extract: 0, answer: 4 });
    expect(resumed.results).toEqual(reference.results);
    const stored = (await readFile(state, 'utf8')).trimEnd().split('\n').slice(1).map((line) => (JSON.parse(line) as { result: QuestionResult }).result);
    expect(stored).toHaveLength(10);
    expect(new Set(stored.map((r) => `${r.sampleId}#${r.qaIndex}`)).size).toBe(10);
  });
});
