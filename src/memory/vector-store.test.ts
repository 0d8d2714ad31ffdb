import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VectorStore } from './vector-store';
import { rng as random } from '../gpu/testing';

const unitVector = (rand: () => number, dim: number): Float32Array => {
  const v = Float32Array.from({ length: dim }, () => rand() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};

describe('VectorStore', () => {
  it('runs the SIMD scans here (Node has WASM SIMD), and falls back past 3,968 dimensions', () => {
    expect(new VectorStore(384).simd).toBe(true);
    expect(new VectorStore(384, false).simd).toBe(false);
    expect(new VectorStore(4000).simd).toBe(false);
  });

  for (const dim of [1, 31, 100, 384, 1024, 3968, 4000]) {
    it(`SIMD and JS scans equal a direct count and dot product, dim ${dim}, across growth`, () => {
      const rand = random(dim);
      const stores = [new VectorStore(dim), new VectorStore(dim, false)];
      const vectors: Float32Array[] = [];
      for (const count of [3, 70, 600]) {
        for (const store of stores) store.ensure(count);
        while (vectors.length < count) {
          const v = unitVector(rand, dim);
          for (const store of stores) store.set(vectors.length, v);
          vectors.push(v);
        }
        const query = unitVector(rand, dim);
        const hamming = vectors.map((v) => v.reduce((d, x, i) => d + Number(x > 0 !== query[i]! > 0), 0));
        // More slots than half the capacity: the WASM path goes in pieces.
        const slots = Array.from({ length: count }, (_, i) => (i * 7) % count).concat([0, count - 1]);
        const dots = slots.map((s) => vectors[s]!.reduce((acc, x, i) => acc + x * query[i]!, 0));
        for (const store of stores) {
          const what = `simd=${store.simd} n=${count}`;
          expect(Array.from(store.distances(query, count)), what).toEqual(hamming);
          const got = store.dots(query, slots);
          expect(Math.max(...Array.from(got, (g, i) => Math.abs(g - dots[i]!))), what).toBeLessThan(1e-5);
        }
      }
    });
  }

  it('keeps stored vectors when it grows past several memory pages', () => {
    const store = new VectorStore(384);
    store.ensure(2);
    const v = unitVector(random(1), 384);
    store.set(1, v);
    store.ensure(50_000);
    expect(store.dots(v, [1])[0]).toBeCloseTo(1, 5);
    expect(store.distances(v, 2)[1]).toBe(0);
  });

  it('the committed module is built from vector-scan.wat', () => {
    expect(() => execFileSync('node', ['scripts/build-wasm.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
