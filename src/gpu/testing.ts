// Helpers for kernel tests (and benchmarks): a seeded PRNG, random arrays, and error measures.
// Plain TypeScript, no test framework, so scripts can use it too.

/** mulberry32: small, fast, good enough for test data; same seed, same numbers everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform values in [lo, hi). */
export function randomArray(random: () => number, length: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from({ length }, () => lo + (hi - lo) * random());
}

/** Standard normal values (Box–Muller) times `std`. */
export function randn(random: () => number, length: number, std = 1): Float32Array {
  return Float32Array.from({ length }, () => std * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

export function randomInts(random: () => number, length: number, max: number): Uint32Array {
  return Uint32Array.from({ length }, () => Math.floor(random() * max));
}

/** Largest |a[i] - b[i]|; Infinity if lengths differ or a NaN appears on one side only. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
    if (!Number.isNaN(x)) max = Math.max(max, Math.abs(x - y));
  }
  return max;
}
