import { describe, expect, it } from 'vitest';
import { wordDiff } from './diff';

describe('wordDiff', () => {
  it('marks removed and added words around what stayed', () => {
    expect(wordDiff('Likes green tea', 'Likes green tea and oolong')).toEqual([
      { kind: 'same', text: 'Likes green tea' },
      { kind: 'added', text: ' and oolong' },
    ]);
    expect(wordDiff('Lives in Oslo', 'Lives in Bergen')).toEqual([
      { kind: 'same', text: 'Lives in ' },
      { kind: 'removed', text: 'Oslo' },
      { kind: 'added', text: 'Bergen' },
    ]);
  });

  it('rebuilds both texts from its parts', () => {
    const before = 'Has a cat named Miso and a dog';
    const after = 'Has two cats named Miso and Tofu';
    const parts = wordDiff(before, after);
    expect(parts.filter((p) => p.kind !== 'added').map((p) => p.text).join('')).toBe(before);
    expect(parts.filter((p) => p.kind !== 'removed').map((p) => p.text).join('')).toBe(after);
  });
});
