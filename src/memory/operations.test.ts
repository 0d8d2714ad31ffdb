import { describe, expect, it } from 'vitest';
import { planBatch, referencedIds, textsToEmbed } from './operations';
import type { Memory } from './schema';

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
