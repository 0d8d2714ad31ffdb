import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bm25Index, matchRanges, tokenize } from './bm25';
import { MemoryIndex } from './retrieval';
import type { Memory } from './schema';
import { topK } from './top-k';
import { VectorIndex } from './vectors';
import { rng as random } from '../gpu/testing';

const memory = (id: string, text: string, speaker?: string, embedding?: Float32Array, updatedAt = 1): Memory => ({
  id,
  bankId: 'b',
  text,
  createdAt: 1,
  updatedAt,
  version: 1,
  ...(speaker ? { speaker } : {}),
  ...(embedding ? { embedding } : {}),
});

describe('topK', () => {
  it('equals a full stable sort, for any scores and k', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 })), fc.nat(20), (scores, k) => {
        const expected = scores.map((score, i) => ({ item: i, score })).sort((a, b) => b.score - a.score || a.item - b.item).slice(0, k);
        expect(topK(scores.keys(), (i) => scores[i]!, k)).toEqual(expected);
      }),
    );
  });
});

describe('BM25', () => {
  it('tokenizes words and numbers, lower-cased and stemmed, without stopwords', () => {
    expect(tokenize('The Café opened in 2023, and it is GREAT!')).toEqual(['café', 'open', '2023', 'great']);
  });

  it('matches word forms in documents and queries alike', () => {
    const index = new Bm25Index();
    index.set(0, 'Allergic to peanuts');
    index.set(1, 'Went hiking in the Alps');
    index.set(2, 'Likes apples');
    const found = (query: string) => {
      const { slots, count } = index.search(query);
      return Array.from(slots.subarray(0, count)).sort();
    };
    expect(found('peanut')).toEqual([0]);
    expect(found('hiked')).toEqual([1]);
    expect(found('apple allergic')).toEqual([0, 2]);
    expect(found('pea')).toEqual([]);
  });

  it('gives the ranges of the words a query matches, for highlighting', () => {
    const text = 'Peanuts? She is allergic to PEANUT butter and peas.';
    expect(matchRanges(text, 'peanut Allergic').map(([from, to]) => text.slice(from, to))).toEqual(['Peanuts', 'allergic', 'PEANUT']);
    expect(matchRanges(text, 'the')).toEqual([]);
  });

  it('ranks rarer and more frequent terms higher, and forgets removed documents', () => {
    const index = new Bm25Index();
    index.set(0, 'cello lessons on Tuesday');
    index.set(1, 'piano and cello, cello every day');
    index.set(2, 'went hiking on Tuesday');
    const hits = () => {
      const { slots, scores, count } = index.search('cello tuesday');
      const found = Array.from({ length: count }, (_, i) => [slots[i]!, scores[i]!] as const);
      return found.sort((a, b) => b[1] - a[1]).map(([slot]) => slot);
    };
    expect(hits()).toEqual([0, 1, 2]);
    index.remove(0);
    index.set(2, 'went hiking');
    expect(hits()).toEqual([1]);
    expect(index.size).toBe(2);
  });
});

describe('VectorIndex', () => {
  it('the sign-bit prefilter finds most of the exact top 30 in a large clustered set', () => {
    const rand = random(7);
    const dim = 384;
    const gaussian = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const centers = Array.from({ length: 50 }, () => Float32Array.from({ length: dim }, gaussian));
    const index = new VectorIndex();
    const n = 20_000;
    for (let slot = 0; slot < n; slot++) {
      const center = centers[slot % centers.length]!;
      index.set(slot, center.map((c) => c + 0.9 * gaussian()));
    }
    let found = 0;
    let total = 0;
    for (let q = 0; q < 10; q++) {
      const query = centers[q]!.map((c) => c + 0.9 * gaussian());
      const groupOf = Int16Array.from({ length: n }, (_, slot) => slot % 2);
      const fast = index.search(query, groupOf, 2, 30);
      const exact = index.search(query, groupOf, 2, 30, true);
      for (let g = 0; g < 2; g++) {
        const truth = new Set(exact[g]!.map((h) => h.slot));
        found += fast[g]!.filter((h) => truth.has(h.slot)).length;
        total += truth.size;
      }
    }
    // A hard case (every cluster member nearly equidistant); real embeddings have more structure.
    expect(found / total).toBeGreaterThan(0.85);
  });

  it('ignores embeddings of another dimension instead of mixing them', () => {
    const index = new VectorIndex();
    expect(index.set(0, new Float32Array([1, 0, 0]))).toBe(true);
    expect(index.set(1, new Float32Array([1, 0]))).toBe(false);
    expect(index.size).toBe(1);
  });
});

describe('MemoryIndex', () => {
  it('returns the best k per speaker, fusing text and vector ranks', () => {
    const e = (...v: number[]) => new Float32Array(v);
    const index = new MemoryIndex([
      memory('a1', 'Caroline joined a support group', 'Caroline', e(1, 0, 0)),
      memory('a2', 'Caroline paints', 'Caroline', e(0, 1, 0)),
      memory('a3', 'Caroline likes the support of friends', 'Caroline', e(0.9, 0.1, 0)),
      memory('b1', 'Melanie runs marathons', 'Melanie', e(0, 0, 1)),
      memory('b2', 'Melanie volunteers at a support hotline', 'Melanie', e(0.7, 0, 0.7)),
    ]);
    const groups = index.search({ text: 'support group', embedding: e(1, 0, 0) }, { perSpeaker: 2, fillWithRecent: false });
    expect(groups.map((g) => [g.speaker, g.memories.map((r) => `${r.memory.id}:${r.via}`)])).toEqual([
      ['Caroline', ['a1:both', 'a3:both']],
      ['Melanie', ['b2:both', 'b1:vector']],
    ]);
    expect(groups[0]!.memories[0]!.memory.embedding).toBeUndefined(); // the index keeps one copy of vectors
  });

  it('fills a speaker with recent memories when too few match, and honours a speaker filter', () => {
    const index = new MemoryIndex([
      memory('a1', 'likes jazz', 'A', undefined, 5),
      memory('a2', 'owns a bike', 'A', undefined, 9),
      memory('a3', 'owns a boat', 'A', undefined, 7),
      memory('b1', 'likes jazz too', 'B'),
    ]);
    const [a] = index.search({ text: 'jazz' }, { perSpeaker: 3, speakers: ['A'] });
    expect(a!.memories.map((r) => `${r.memory.id}:${r.via}`)).toEqual(['a1:lexical', 'a2:recent', 'a3:recent']);
  });

  it('follows upserts and deletions', () => {
    const index = new MemoryIndex([memory('a', 'tea'), memory('b', 'coffee')]);
    index.apply({ memoryId: 'a', after: null });
    index.apply({ after: memory('b', 'green tea') });
    index.apply({ after: memory('c', 'black tea') });
    const [group] = index.search({ text: 'tea' }, { fillWithRecent: false });
    expect(group!.memories.map((r) => r.memory.id).sort()).toEqual(['b', 'c']);
    expect(index.size).toBe(2);
  });
});
