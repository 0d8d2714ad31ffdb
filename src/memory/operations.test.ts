import { describe, expect, it } from 'vitest';
import { historyRecord, planBatch, referencedIds, textsToEmbed, undoneBy } from './operations';
import { HistoryEntrySchema, type Memory } from './schema';

const memory = (id: string, text: string, bankId = 'b'): Memory => ({ id, bankId, text, createdAt: 1, updatedAt: 1, version: 1 });
let counter = 0;
const context = { bankId: 'b', now: 100, newId: () => `new-${counter++}`, turnId: 't9', sessionDate: '8 May 2023', speaker: 'Ana' };
const outcome = (plan: ReturnType<typeof planBatch>) => plan.map((p) => (p.kind === 'change' ? p.event : p.reason));

describe('planBatch', () => {
  const bank = new Map([
    ['m1', memory('m1', 'likes tea')],
    ['m2', memory('m2', 'lives in Oslo')],
    ['x1', memory('x1', 'other bank', 'other')],
  ]);

  it('accepts valid operations and describes the change each makes', () => {
    const plan = planBatch(
      [
        { event: 'ADD', text: '  has a dog ' },
        { event: 'UPDATE', id: 'm1', text: 'likes green tea' },
        { event: 'DELETE', id: 'm2' },
      ],
      bank,
      context,
    );
    expect(outcome(plan)).toEqual(['ADD', 'UPDATE', 'DELETE']);
    const [add, update, remove] = plan;
    expect(add).toMatchObject({ after: { text: 'has a dog', bankId: 'b', speaker: 'Ana', version: 1, source: { turnId: 't9', sessionDate: '8 May 2023' } } });
    expect(update).toMatchObject({ before: { text: 'likes tea', version: 1 }, after: { id: 'm1', text: 'likes green tea', version: 2, updatedAt: 100 } });
    expect(remove).toMatchObject({ before: { id: 'm2' }, after: null });
  });

  it('rejects what would corrupt the bank, with a reason naming the problem', () => {
    const plan = planBatch(
      [
        { event: 'UPDATE', id: 'ghost', text: 'x' },
        { event: 'DELETE', id: 'x1' },
        { event: 'UPDATE', id: 'm1', text: '' },
        { event: 'UPDATE', id: 'm2', text: 'lives in Oslo' },
        { event: 'NONE', id: 'm1' },
        { event: 'DELETE', id: 'm1' },
        { event: 'DELETE' },
        { event: 'ADD', text: '' },
        { event: 'FORGET', id: 'm1' },
        'not an object',
        { event: 'ADD', text: 'ok', extra: true },
      ],
      bank,
      context,
    );
    expect(outcome(plan)).toEqual([
      'no memory with id "ghost" in this bank',
      'no memory with id "x1" in this bank',
      'UPDATE needs a non-empty text',
      'UPDATE leaves memory "m2" unchanged; use NONE',
      'NONE',
      'memory "m1" is already changed by operation #4 of this batch',
      'DELETE needs the id of an existing memory',
      'ADD needs a non-empty text',
      expect.stringMatching(/^not a valid operation \(event: /),
      'not a valid operation (Invalid input: expected object, received string)',
      expect.stringMatching(/^not a valid operation .*extra/),
    ]);
  });

  it('allows DELETE and ADD in one turn (a contradicted fact replaced by the new one)', () => {
    expect(outcome(planBatch([{ event: 'DELETE', id: 'm2' }, { event: 'ADD', text: 'lives in Bergen' }], bank, context))).toEqual(['DELETE', 'ADD']);
  });

  it('lists the ids to fetch and the texts to embed', () => {
    const ops = [{ event: 'ADD', id: 'ignored', text: 'a' }, { event: 'UPDATE', id: 'm1', text: 'b ' }, { event: 'DELETE', id: 'm2', text: 'c' }, { bad: 1 }];
    expect(referencedIds(ops)).toEqual(['m1', 'm2']);
    expect(textsToEmbed(ops)).toEqual(['a', 'b']);
  });

  it('stores the embedding computed for the new text, and drops a stale one on UPDATE', () => {
    const withEmbedding = new Map([['m1', { ...memory('m1', 'likes tea'), embedding: new Float32Array([1, 0]) }]]);
    const fresh = new Float32Array([0, 1]);
    const [update] = planBatch([{ event: 'UPDATE', id: 'm1', text: 'likes coffee' }], withEmbedding, { ...context, embeddings: new Map([['likes coffee', fresh]]) });
    expect(update).toMatchObject({ after: { embedding: fresh } });
    const [noEmbedder] = planBatch([{ event: 'UPDATE', id: 'm1', text: 'likes coffee' }], withEmbedding, context);
    expect(noEmbedder!.kind === 'change' && noEmbedder!.after?.embedding).toBeFalsy();
  });
});

describe('one rule for every bank', () => {
  const bank = new Map([['m1', memory('m1', 'likes tea')]]);

  it('an id with surrounding spaces names the same memory when fetching (store) and planning (every bank)', () => {
    const operations = [{ event: 'UPDATE', id: '  m1 ', text: 'likes green tea' }];
    expect(referencedIds(operations)).toEqual(['m1']);
    // The store plans against only the memories referencedIds fetched: it must find the memory too.
    const fetched = new Map(referencedIds(operations).flatMap((id) => (bank.has(id) ? [[id, bank.get(id)!] as const] : [])));
    expect(outcome(planBatch(operations, fetched, context))).toEqual(['UPDATE']);
    expect(outcome(planBatch(operations, bank, context))).toEqual(['UPDATE']);
  });

  it('UPDATE sets the speaker (and event date) it names, and a change of speaker alone is a change', () => {
    const [update] = planBatch([{ event: 'UPDATE', id: 'm1', text: 'likes green tea', speaker: 'Ben', eventDate: '2024' }], bank, context);
    expect(update).toMatchObject({ kind: 'change', after: { text: 'likes green tea', speaker: 'Ben', eventDate: '2024', version: 2 } });
    const [speakerOnly] = planBatch([{ event: 'UPDATE', id: 'm1', text: 'likes tea', speaker: 'Ben' }], bank, context);
    expect(speakerOnly).toMatchObject({ kind: 'change', after: { text: 'likes tea', speaker: 'Ben' } });
    expect(outcome(planBatch([{ event: 'UPDATE', id: 'm1', text: 'likes tea' }], bank, context))).toEqual(['UPDATE leaves memory "m1" unchanged; use NONE']);
  });
});

describe('history records', () => {
  it('keep a rejected operation within the limits a backup is checked against', () => {
    const rejected = (operation: unknown) => historyRecord('b', { kind: 'rejected', index: 0, operation, reason: 'r'.repeat(5000) }, { actor: 'manager' }, 1);
    const small = { event: 'MERGE', id: 'x' };
    expect(rejected(small)).toMatchObject({ operation: small, reason: `${'r'.repeat(999)}…` });
    expect(rejected({ text: 'z'.repeat(20_000) }).operation).toMatch(/^\(not kept: larger than 16000 characters\) \{"text":"zzz/);
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(rejected(deep).operation).toBe('(not kept: nested deeper than 16 levels)');
    expect(HistoryEntrySchema.safeParse({ ...rejected(deep), seq: 1 }).success).toBe(true);
    // A model's prototype-polluting key is kept as text, so the bank's own backup never trips the import's key check.
    const polluting = JSON.parse('{"event": "ADD", "__proto__": {"x": 1}}');
    expect(rejected(polluting).operation).toBe('{"event":"ADD","__proto__":{"x":1}}');
  });

  it('undo flags follow the undo links: after undo, redo and an undo of the redo the original reads undone', () => {
    expect([...undoneBy([{ seq: 1 }, { seq: 2, undoes: 1 }])]).toEqual([[1, 2]]);
    expect([...undoneBy([{ seq: 1 }, { seq: 2, undoes: 1 }, { seq: 3, undoes: 2 }])]).toEqual([[2, 3]]);
    expect(new Map(undoneBy([{ seq: 1 }, { seq: 2, undoes: 1 }, { seq: 3, undoes: 2 }, { seq: 4, undoes: 3 }]))).toEqual(new Map([[3, 4], [1, 2]]));
    // Undone again after a redo: the later undo is the one in effect.
    expect(new Map(undoneBy([{ seq: 1 }, { seq: 2, undoes: 1 }, { seq: 3, undoes: 2 }, { seq: 5, undoes: 1 }]))).toEqual(new Map([[2, 3], [1, 5]]));
  });
});
