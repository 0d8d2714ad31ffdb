import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { VectorStore } from './vector-store';
import { rng as random } from '../gpu/testing';

const unitVector = (rand: () => number, dim: number): Float32Array => {
  const v = Float32Array.from({ length: dim }, () => rand() * 2 - 1);
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
};
const dot = (a: Float32Array, b: Float32Array) => a.reduce((acc, x, i) => acc + x * b[i]!, 0);
const correlation = (a: number[], b: number[]) => {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const [ma, mb] = [mean(a), mean(b)];
  let ab = 0, aa = 0, bb = 0; // prettier-ignore
  a.forEach((x, i) => ((ab += (x - ma) * (b[i]! - mb)), (aa += (x - ma) ** 2), (bb += (b[i]! - mb) ** 2)));
  return ab / Math.sqrt(aa * bb);
};

describe('VectorStore', () => {
  it('runs the SIMD scans here (Node has WASM SIMD), falls back to JS when asked or past 3,968 dimensions', () => {
    expect(new VectorStore(384).simd).toBe(true);
    expect(new VectorStore(3968).simd).toBe(true);
    expect(new VectorStore(384, false).simd).toBe(false);
    expect(new VectorStore(4096).simd).toBe(false);
    expect(() => new VectorStore(0)).toThrow(/dimension 0 is not between 1 and 65536/);
  });

  for (const dim of [1, 7, 31, 100, 384, 1000, 3968]) {
    it(`SIMD and JS scans agree (coarse and int8 exactly), dim ${dim}, across growth and awkward counts`, () => {
      const rand = random(dim);
      const stores = [new VectorStore(dim), new VectorStore(dim, false)];
      const vectors: Float32Array[] = [];
      for (const count of dim > 1000 ? [3, 40] : [3, 70, 601]) {
        for (const store of stores) store.ensure(count);
        while (vectors.length < count) {
          const v = unitVector(rand, dim);
          for (const store of stores) store.set(vectors.length, v, vectors.length % 3);
          vectors.push(v);
        }
        const query = unitVector(rand, dim);
        const exact = vectors.map((v) => dot(v, query));
        const slots = Int32Array.from({ length: count }, (_, i) => (i * 7) % count);
        const results = stores.map((store) => {
          store.setQuery(query);
          const coarse = Array.from(store.coarse(count));
          const pools = store.pools(count, Int16Array.from([0, -1, 1]), 2, 20).map((pool) => Array.from(pool));
          return { coarse, pools, int8: Array.from(store.dots8(slots)), f32: Array.from(store.dots(slots)) };
        });
        const [simd, js] = results as [(typeof results)[0], (typeof results)[0]];
        expect(simd.coarse).toEqual(js.coarse);
        expect(simd.pools).toEqual(js.pools);
        expect(simd.int8).toEqual(js.int8);
        for (const { f32, int8 } of results) {
          const want = Array.from(slots, (s) => exact[s]!);
          expect(Math.max(...f32.map((g, i) => Math.abs(g - want[i]!)))).toBeLessThan(1e-5);
          expect(Math.max(...int8.map((g, i) => Math.abs(g - want[i]!)))).toBeLessThan(0.02);
        }
        // The coarse score follows the exact one (a 2-bit estimate: loosely for few dimensions).
        if (dim >= 100 && count > 100) expect(correlation(simd.coarse, exact)).toBeGreaterThan(0.85);
        // Pools: groups by tag (tag 1 asked for by no group), increasing slots, and a top set of the
        // coarse scores: nothing left out of a pool scores above anything in it.
        simd.pools.forEach((pool, group) => {
          const tag = group === 0 ? 0 : 2;
          const members = vectors.map((_, i) => i).filter((i) => i % 3 === tag);
          expect(pool.every((slot) => slot % 3 === tag)).toBe(true);
          expect(pool).toEqual([...pool].sort((a, b) => a - b));
          const inPool = new Set(pool);
          const lowestIn = Math.min(...pool.map((s) => simd.coarse[s]!));
          expect(members.filter((s) => !inPool.has(s)).every((s) => simd.coarse[s]! <= lowestIn)).toBe(true);
          if (members.length <= 20) expect(pool.length).toBe(members.length);
        });
      }
    });
  }

  it('leaves cleared slots out of pools and keeps stored vectors when it grows past several memory pages', () => {
    const store = new VectorStore(384);
    store.ensure(40);
    const rand = random(1);
    const vectors = Array.from({ length: 40 }, () => unitVector(rand, 384));
    vectors.forEach((v, slot) => store.set(slot, v, 0));
    for (let slot = 0; slot < 40; slot += 2) store.clear(slot);
    store.ensure(50_000);
    store.setQuery(vectors[1]!);
    store.coarse(40);
    const [pool] = store.pools(40, Int16Array.from([0]), 1, 100);
    expect(Array.from(pool!)).toEqual(vectors.map((_, i) => i).filter((i) => i % 2 === 1));
    expect(store.dots(Int32Array.from([1]))[0]).toBeCloseTo(1, 5);
    expect(store.groupSizes(Int16Array.from([0]), 1)[0]).toBe(20);
  });

  it('the committed module is built from vector-scan.wat', () => {
    expect(() => execFileSync('node', ['scripts/build-wasm.mjs', '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
