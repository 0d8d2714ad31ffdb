// Property-based: random operation batches against the real bank in Chromium, compared after every step
// with a deliberately simple in-memory model of what the bank should hold.
import fc from 'fast-check';
import { expect, test } from './fixtures';

type Event = 'ADD' | 'UPDATE' | 'DELETE' | 'NONE';
/** An operation to generate: `target` picks an existing memory by position, or names a bogus id. */
interface OpSpec {
  event: Event | 'BOGUS';
  target: { existing: number } | { bogus: string };
  text: string;
}

const textArb = fc.oneof(
  fc.constantFrom('likes tea', 'lives in Oslo', 'has a dog', 'works nights', '', '   '),
  fc.string({ maxLength: 12 }),
);
const opArb: fc.Arbitrary<OpSpec> = fc.record({
  event: fc.constantFrom<OpSpec['event']>('ADD', 'ADD', 'UPDATE', 'DELETE', 'NONE', 'BOGUS'),
  target: fc.oneof(fc.record({ existing: fc.nat(6) }), fc.record({ bogus: fc.constantFrom('nope', '', '999') })),
  text: textArb,
});
const batchesArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 6 });

/** The model: memory id → text, in insertion order. Returns the expected outcome of each operation. */
function modelApply(model: Map<string, string>, ops: { event: string; id: string; text: string }[]): ('applied' | 'rejected')[] {
  const touched = new Set<string>();
  return ops.map((op) => {
    if (!['ADD', 'UPDATE', 'DELETE', 'NONE'].includes(op.event)) return 'rejected';
    const text = op.text.trim();
    if (op.event === 'ADD') return text ? 'applied' : 'rejected';
    if (!model.has(op.id) || touched.has(op.id)) return 'rejected';
    if (op.event === 'UPDATE' && (!text || text === model.get(op.id))) return 'rejected';
    touched.add(op.id);
    if (op.event === 'UPDATE') model.set(op.id, text);
    if (op.event === 'DELETE') model.delete(op.id);
    return 'applied';
  });
}

test('random batches leave the bank exactly as a simple model predicts', async ({ harnessPage: page }) => {
  let runs = 0;
  let steps = 0;
  await fc.assert(
    fc.asyncProperty(batchesArb, async (batches) => {
      runs++;
      const bank = `b${runs}`;
      const model = new Map<string, string>();
      for (const batch of batches) {
        steps++;
        const ids = [...model.keys()];
        const ops = batch.map((spec) => ({
          event: spec.event === 'BOGUS' ? 'MERGE' : spec.event,
          id: 'existing' in spec.target ? (ids[spec.target.existing % Math.max(ids.length, 1)] ?? 'empty-bank') : spec.target.bogus,
          text: spec.text,
        }));
        const expected = modelApply(model, ops);
        const outcome = await page.evaluate(
          async ({ bank, ops }) => {
            const result = await window.harness.s.apply(bank, ops, { actor: 'manager' });
            const memories = await window.harness.s.list(bank);
            return {
              statuses: result.results.map((r) => r.status),
              added: result.results.flatMap((r) => (r.status === 'applied' && r.event === 'ADD' ? [[r.memoryId, r.after!.text]] : [])),
              memories: memories.map((m) => [m.id, m.text]),
              history: (await window.harness.s.history(bank)).length,
            };
          },
          { bank, ops },
        );
        expect(outcome.statuses).toEqual(expected);
        for (const [id, text] of outcome.added) model.set(id!, text!);
        expect(new Map(outcome.memories as [string, string][])).toEqual(model);
      }
    }),
    { numRuns: 100, seed: 20260521 },
  );
  console.log(`model check: ${runs} runs, ${steps} batches, bank matched the model after every batch`);
});
