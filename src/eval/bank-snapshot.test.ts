import { describe, expect, it } from 'vitest';
import { InMemoryBank } from '../memory';
import { loadMemories, restoreBank, storeMemories } from './bank-snapshot';

describe('bank snapshots', () => {
  it('round-trips memories with embeddings through JSON', async () => {
    const embedder = { embed: async (texts: string[]) => texts.map((t) => new Float32Array([t.length, 0.5, -1])) };
    const bank = new InMemoryBank('b', [], embedder);
    await bank.apply([{ event: 'ADD', text: 'Caroline likes jazz', speaker: 'Caroline' }], { actor: 'system', turnId: 't1' });
    const memories = await bank.list();
    const json = JSON.parse(JSON.stringify(storeMemories(memories)));
    expect(typeof json[0].embedding).toBe('string');
    expect(loadMemories(json, 'test')).toEqual(memories);
    expect(() => loadMemories([{ id: 'x' }], 'cache.json')).toThrow(/cache.json: memories are malformed/);
  });

  it('restores into a new generation, so new ids never collide with stored ones', async () => {
    const bank = new InMemoryBank('conv-1');
    await bank.apply([{ event: 'ADD', text: 'a' }], { actor: 'system' });
    const restored = restoreBank('conv-1', await bank.list());
    expect(restored.bankId).toBe('conv-1#1');
    await restored.apply([{ event: 'ADD', text: 'b' }], { actor: 'system' });
    expect((await restored.list()).map((m) => `${m.id} ${m.text}`)).toEqual(['conv-1:0 a', 'conv-1#1:0 b']);
    expect(restoreBank('conv-1#1', await restored.list()).bankId).toBe('conv-1#2');
  });
});
