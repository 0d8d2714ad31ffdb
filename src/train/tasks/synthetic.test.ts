import { describe, expect, it } from 'vitest';
import { createRng } from '../../model/rng';
import { syntheticBatch, syntheticExample, syntheticReward } from './synthetic';

describe('synthetic memory-operation task', () => {
  it('builds each case from templates with its exact answer', () => {
    const rng = createRng(1);
    expect(syntheticExample(rng, 'ADD').prompt).toMatch(/^Memory: \(none\)\nFact: \w+ \w+\n/);
    const del = syntheticExample(rng, 'DELETE');
    const [, memory, fact] = /^Memory: (.+)\nFact: (.+)\n/.exec(del.prompt)!;
    expect(fact).toBe(`no longer ${memory}`);
    expect(del.answer).toBe('D');
  });

  it('balances the operations in a batch and grades exactly', () => {
    const batch = syntheticBatch(createRng(7), 8);
    expect(batch.map((e) => e.operation).sort()).toEqual(['ADD', 'ADD', 'DELETE', 'DELETE', 'NONE', 'NONE', 'UPDATE', 'UPDATE']);
    const update = batch.find((e) => e.operation === 'UPDATE')!;
    expect(syntheticReward(update, ' U')).toBe(1);
    expect(syntheticReward(update, 'A')).toBe(0);
    expect(syntheticReward(update, '')).toBe(0);
  });

  it('is reproducible from its seed', () => {
    expect(syntheticBatch(createRng(3), 6)).toEqual(syntheticBatch(createRng(3), 6));
  });
});
