import { describe, expect, it } from 'vitest';
import { InMemoryBank } from './bank';

describe('InMemoryBank', () => {
  it('applies batches with the store rules and retrieves what it holds', async () => {
    const bank = new InMemoryBank('b');
    const first = await bank.apply([{ event: 'ADD', text: 'likes tea', speaker: 'A' }, { event: 'ADD', text: '' }], { actor: 'manager' });
    expect(first.results.map((r) => r.status)).toEqual(['applied', 'rejected']);
    const id = first.results[0]!.status === 'applied' ? first.results[0]!.memoryId : '';
    await bank.apply([{ event: 'UPDATE', id, text: 'likes green tea' }], { actor: 'manager' });
    const [group] = await bank.retrieve('green tea', { fillWithRecent: false });
    expect(group!.memories.map((r) => r.memory.text)).toEqual(['likes green tea']);
    expect(bank.history.map((h) => h.event)).toEqual(['ADD', 'REJECTED', 'UPDATE']);
  });

  it('clones independently, so a rollout can change a copy and leave the original', async () => {
    const bank = new InMemoryBank('b');
    await bank.apply([{ event: 'ADD', text: 'lives in Oslo' }], { actor: 'manager' });
    const copy = bank.clone();
    const [memory] = await copy.list();
    await copy.apply([{ event: 'DELETE', id: memory!.id }, { event: 'ADD', text: 'lives in Bergen' }], { actor: 'manager' });
    expect((await bank.list()).map((m) => m.text)).toEqual(['lives in Oslo']);
    expect((await copy.list()).map((m) => m.text)).toEqual(['lives in Bergen']);
    expect(new Set([...(await bank.list()), ...(await copy.list())].map((m) => m.id)).size).toBe(2);
  });
});

describe('InMemoryBank seeded with memories', () => {
  it('never reuses an id a seeded memory holds', async () => {
    const seeded = { id: 'b:0', bankId: 'b', text: 'likes tea', createdAt: 1, updatedAt: 1, version: 1 };
    const bank = new InMemoryBank('b', [seeded]);
    await bank.apply([{ event: 'ADD', text: 'likes cake' }], { actor: 'manager' });
    expect((await bank.list()).map((m) => [m.id, m.text])).toEqual([['b:0', 'likes tea'], ['b:1', 'likes cake']]);
  });
});
