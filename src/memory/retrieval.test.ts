import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Bm25Index, matchRanges, tokenize } from './bm25';
import { MemoryIndex } from './retrieval';
import type { Memory } from './schema';
import { topK } from './top-k';
import { VectorIndex, type VectorHit } from './vectors';
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

/** 384-dim vectors around `clusters` centres (noise 1.2 per dimension, like the benchmark's), seeded. */
function clustered(seed: number, clusters: number, dim = 384) {
  const rand = random(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dim }, gaussian));
  return { rand, around: (cluster: number) => centres[cluster % clusters]!.map((c) => c + 1.2 * gaussian()) };
}

/** Share of the exact top k per group that `got` holds, and whether each list is ordered best first. */
function recall(got: VectorHit[][], exact: VectorHit[][]) {
  let found = 0;
  let total = 0;
  for (let g = 0; g < exact.length; g++) {
    const truth = new Set(exact[g]!.map((h) => h.slot));
    found += got[g]!.filter((h) => truth.has(h.slot)).length;
    total += truth.size;
    const list = got[g]!;
    for (let i = 1; i < list.length; i++) expect(list[i - 1]!.score > list[i]!.score || (list[i - 1]!.score === list[i]!.score && list[i - 1]!.slot < list[i]!.slot)).toBe(true);
  }
  return { found, total };
}

describe('VectorIndex', () => {
  it('keeps ≥ 99% of the exact top 60 on clustered data, also in a group without the query\'s cluster', () => {
    // Slot parity is the group and the cluster's parity too: one group holds the query's cluster, the
    // other only unrelated vectors whose exact top 60 barely stands out (the hard case for a prefilter).
    const { rand, around } = clustered(7, 40);
    const index = new VectorIndex();
    const n = 24_000;
    for (let slot = 0; slot < n; slot++) index.set(slot, around(slot), slot % 2);
    const groups = Int16Array.from([0, 1]);
    let found = 0;
    let total = 0;
    for (let q = 0; q < 8; q++) {
      const query = around(Math.floor(rand() * 40));
      const exact = index.search(query, groups, 2, 60, { exact: true });
      const got = index.search(query, groups, 2, 60);
      const r = recall(got, exact);
      found += r.found;
      total += r.total;
      // Whatever is found carries its exact score.
      const exactScore = new Map(exact.flat().map((h) => [h.slot, h.score]));
      for (const hit of got.flat()) if (exactScore.has(hit.slot)) expect(hit.score).toBe(exactScore.get(hit.slot));
    }
    expect(found / total).toBeGreaterThanOrEqual(0.99);
  });

  it('keeps ≥ 99% of the exact top 30 on unclustered random vectors, with deletes and updates, SIMD or not', () => {
    const rand = random(11);
    const gaussian = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    const vector = (dim: number) => Float32Array.from({ length: dim }, gaussian);
    const dim = 100; // not a multiple of 8 or 16
    const indexes = [new VectorIndex(), new VectorIndex(false)];
    const n = 9_001; // not a multiple of 16
    for (let slot = 0; slot < n; slot++) {
      const v = vector(dim);
      for (const index of indexes) index.set(slot, v, slot % 3);
    }
    // Delete a third, move a third to another group with a new vector.
    for (let slot = 0; slot < n; slot += 3) for (const index of indexes) index.remove(slot);
    for (let slot = 1; slot < n; slot += 3) {
      const v = vector(dim);
      for (const index of indexes) index.set(slot, v, 2);
    }
    expect(indexes[0]!.size).toBe(n - Math.ceil(n / 3));
    expect(indexes.map((index) => index.simd)).toEqual([true, false]);
    const groups = Int16Array.from([0, 1, 2]);
    let found = 0;
    let total = 0;
    for (let q = 0; q < 6; q++) {
      const query = vector(dim);
      const [simd, js] = indexes.map((index) => index.search(query, groups, 3, 30)) as [VectorHit[][], VectorHit[][]];
      const exact = indexes[0]!.search(query, groups, 3, 30, { exact: true });
      expect(exact[0]).toEqual([]); // every slot of tag 0 was deleted or moved
      expect(simd.flat().every((h) => h.slot % 3 !== 0 && indexes[0]!.has(h.slot))).toBe(true);
      // Coarse and int8 passes are bit-identical in JS, so both keep the same candidates.
      expect(js.map((g) => g.map((h) => h.slot).sort())).toEqual(simd.map((g) => g.map((h) => h.slot).sort()));
      const r = recall(simd, exact);
      found += r.found;
      total += r.total;
    }
    expect(found / total).toBeGreaterThanOrEqual(0.99);
  });

  it('breaks ties by the lower slot, as the exact scan does, at every size', () => {
    for (const n of [200, 5_003]) {
      const index = new VectorIndex();
      // Five distinct directions, each repeated: every score is a tie with n / 5 others.
      const directions = Array.from({ length: 5 }, (_, d) => Float32Array.from({ length: 48 }, (_, i) => (i === d ? 1 : 0.1)));
      for (let slot = 0; slot < n; slot++) index.set(slot, directions[slot % 5]!, 0);
      const groups = Int16Array.from([0]);
      const got = index.search(directions[2]!, groups, 1, 25);
      expect(got).toEqual(index.search(directions[2]!, groups, 1, 25, { exact: true }));
      expect(got[0]!.map((h) => h.slot)).toEqual(Array.from({ length: 25 }, (_, i) => 2 + 5 * i));
    }
  });

  it('ignores embeddings of another dimension, empty or not finite, instead of mixing them', () => {
    const index = new VectorIndex();
    expect(index.set(0, new Float32Array([1, 0, 0]))).toBe(true);
    expect(index.set(1, new Float32Array([1, 0]))).toBe(false);
    expect(index.set(2, new Float32Array([1, Number.NaN, 0]))).toBe(false);
    expect(index.set(3, new Float32Array(0))).toBe(false);
    expect(index.size).toBe(1);
    expect(index.search(new Float32Array([Number.POSITIVE_INFINITY, 0, 0]), Int16Array.from([0]), 1, 5)).toEqual([[]]);
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

  it('the 60 it returns agree with the same fusion over an exact vector scan, after updates and deletes', () => {
    const { rand, around } = clustered(3, 30);
    const words = Array.from({ length: 300 }, (_, i) => `word${i}`);
    const text = (cluster: number) => [0, 1, 2].map((k) => words[(cluster * 7 + k) % 300]).concat(Array.from({ length: 5 }, () => words[Math.floor(rand() * 300)]!)).join(' ');
    const n = 6_000;
    const index = new MemoryIndex(Array.from({ length: n }, (_, i) => memory(`m${i}`, text(i), i % 2 ? 'A' : 'B', around(i), i)));
    for (let i = 0; i < n; i += 5) index.apply({ memoryId: `m${i}`, after: null });
    for (let i = 1; i < n; i += 5) index.apply({ after: memory(`m${i}`, text(i + 1), i % 3 ? 'A' : 'B', around(i + 1), n + i) });
    let agree = 0;
    let total = 0;
    for (let q = 0; q < 10; q++) {
      const cluster = Math.floor(rand() * 30);
      const query = { text: text(cluster), embedding: around(cluster) };
      const got = index.search(query);
      const exact = index.search(query, { exactVectors: true });
      got.forEach((group, g) => {
        const want = new Set(exact[g]!.memories.map((r) => r.memory.id));
        agree += group.memories.filter((r) => want.has(r.memory.id)).length;
        total += want.size;
        expect(group.memories.every((r) => Number(r.memory.id.slice(1)) % 5 !== 0)).toBe(true);
      });
    }
    expect(total).toBe(10 * 60);
    expect(agree / total).toBeGreaterThanOrEqual(0.99);
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
