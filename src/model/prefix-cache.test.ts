import { describe, expect, it } from 'vitest';
import { commonPrefixLength, PrefixCache, type CachedPrefix } from './prefix-cache';

describe('PrefixCache', () => {
  const freed: string[] = [];
  const entry = (name: string, owner: string | null, tokens: number[], capacity = 100): CachedPrefix<string> & { name: string } => ({
    name,
    owner,
    tokens,
    capacity,
    free: () => freed.push(name),
  });

  it('takes the same owner’s cache with room and the longest shared prefix, and removes it', () => {
    const cache = new PrefixCache<string, ReturnType<typeof entry>>(4, 3);
    cache.keep(entry('base-short', null, [1, 2, 9]));
    cache.keep(entry('base-long', null, [1, 2, 3, 4]));
    cache.keep(entry('small', null, [1, 2, 3, 4, 5], 6));
    cache.keep(entry('lora', 'a', [1, 2, 3, 4, 5]));
    const hit = cache.take(null, [1, 2, 3, 4, 5, 6], 10)!;
    expect([hit.entry.name, hit.shared]).toEqual(['base-long', 4]);
    expect(cache.entries.map((e) => e.name)).toEqual(['base-short', 'small', 'lora']);
    expect(cache.take('a', [1, 2, 7], 10)).toBeUndefined(); // 2 < minShared tokens: not worth taking
    expect(cache.take('a', [1, 2], 10)).toMatchObject({ shared: 2 }); // the whole prompt
    expect(cache.take('b', [1], 1)).toBeUndefined();
  });

  it('evicts the least recently kept beyond its size, drops on request, keeps nothing at size 0', () => {
    freed.length = 0;
    const cache = new PrefixCache<string, ReturnType<typeof entry>>(2);
    for (const name of ['x', 'y', 'z']) cache.keep(entry(name, null, [1]));
    expect(freed).toEqual(['x']);
    cache.drop((e) => e.name === 'z');
    expect(freed).toEqual(['x', 'z']);
    expect(cache.entries.map((e) => e.name)).toEqual(['y']);
    cache.drop();
    expect(cache.entries).toEqual([]);
    new PrefixCache<string>(0).keep(entry('off', null, [1]));
    expect(freed).toEqual(['x', 'z', 'y', 'off']);
  });

  it('commonPrefixLength', () => {
    expect(commonPrefixLength([], [1])).toBe(0);
    expect(commonPrefixLength([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(commonPrefixLength([1, 2], [1, 2, 3])).toBe(2);
  });
});
