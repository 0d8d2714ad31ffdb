import { describe, expect, it } from 'vitest';
import { createRng, seedToUint32 } from './rng';

describe('createRng', () => {
  it('repeats a seed and separates nearby seeds', () => {
    const draw = (seed: number) => Array.from({ length: 8 }, createRng(seed));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(0)[0]).not.toBe(draw(1)[0]);
  });

  it('draws uniformly in [0, 1)', () => {
    const rng = createRng(42);
    const bins = new Array<number>(10).fill(0);
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const u = rng();
      if (!(u >= 0 && u < 1)) throw new Error(`out of range: ${u}`);
      bins[Math.floor(u * 10)]!++;
    }
    for (const b of bins) expect(Math.abs(b / n - 0.1)).toBeLessThan(0.005);
  });

  it('accepts any number as a seed', () => {
    expect(seedToUint32(-1)).toBe(0xffffffff);
    expect(seedToUint32(2 ** 32 + 5)).toBe(5);
    expect(seedToUint32(0.5)).toBe(seedToUint32(0.5));
    expect(seedToUint32(0.5)).not.toBe(seedToUint32(0.25));
    expect(createRng(Number.NaN)()).toBe(createRng(Number.NaN)());
  });
});
