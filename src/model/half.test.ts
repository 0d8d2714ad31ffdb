import { describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, f32ArrayToF16, f32ToBf16, f32ToF16, roundToBf16Stochastic } from './half';
import { createRng } from './rng';

/** The two values of a 16-bit format either side of x (equal when the format holds x). */
function neighbours(x: number, encode: (v: number) => number, decode: (bits: number) => number): [number, number] {
  const near = decode(encode(x));
  if (near === x) return [x, x];
  const other = decode(Math.abs(x) > Math.abs(near) ? encode(x) + 1 : encode(x) - 1);
  return near < other ? [near, other] : [other, near];
}

const FORMATS = {
  f16: {
    round: (xs: Float32Array, seed: number) => Float32Array.from(f32ArrayToF16(xs, createRng(seed)), f16ToF32),
    encode: f32ToF16,
    decode: f16ToF32,
  },
  bf16: { round: (xs: Float32Array, seed: number) => roundToBf16Stochastic(xs, createRng(seed)), encode: f32ToBf16, decode: bf16ToF32 },
};

describe('stochastic rounding to 16 bits', () => {
  // Ordinary values of both signs, values the format holds exactly, zero, f16 subnormals, and values next to f16's largest.
  const values = Float32Array.from([0.1, -0.1, 0.0123, -3.3e-3, 1, -2, 0, 1e-6, -2.5e-7, 65500, -65490, 3.14159, 1 + 2 ** -12]);
  for (const [name, f] of Object.entries(FORMATS)) {
    it(`${name}: each value goes to one of its two neighbours, exact ones stay, and the mean over draws is the value`, () => {
      const draws = 4000;
      const sums = new Float64Array(values.length);
      for (let d = 0; d < draws; d++) {
        const rounded = f.round(values, d);
        rounded.forEach((r, i) => {
          const [lo, hi] = neighbours(values[i]!, f.encode, f.decode);
          expect([lo, hi], `${values[i]}`).toContain(r);
          sums[i] = sums[i]! + r;
        });
      }
      values.forEach((x, i) => {
        const [lo, hi] = neighbours(x, f.encode, f.decode);
        if (lo === hi) return expect(sums[i]! / draws).toBe(x);
        // Unbiased: the mean lands within 5 standard errors of x (the draws are Bernoulli between lo and hi).
        const p = (x - lo) / (hi - lo);
        const se = (hi - lo) * Math.sqrt((p * (1 - p)) / draws);
        expect(Math.abs(sums[i]! / draws - x), `${name} ${x}`).toBeLessThanOrEqual(5 * se + 1e-12 * Math.abs(x));
      });
    });
  }

  it('a seed fixes the draws; without a generator f16 rounds to nearest even', () => {
    const xs = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) / 7);
    expect(FORMATS.f16.round(xs, 3)).toEqual(FORMATS.f16.round(xs, 3));
    expect(FORMATS.f16.round(xs, 3)).not.toEqual(FORMATS.f16.round(xs, 4));
    expect([...f32ArrayToF16(xs)]).toEqual([...xs].map(f32ToF16));
  });

  it('past f16\'s largest finite value (65504) it stays there rather than going to infinity', () => {
    for (let seed = 0; seed < 50; seed++) expect([...FORMATS.f16.round(Float32Array.from([65519, -65510]), seed)]).toEqual([65504, -65504]);
  });
});
