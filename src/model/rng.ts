// A small seeded PRNG for sampling: the same seed gives the same draws on every platform (Math.random
// cannot be seeded). sfc32 (Chris Doty-Humphrey's small fast counting generator) seeded through
// splitmix32, so nearby seeds (0, 1, 2...) still give unrelated streams.

/** A uniform random number in [0, 1). */
export type Rng = () => number;

/** Any number → a uint32 seed: integers keep their low 32 bits; other values are hashed from their text. */
export function seedToUint32(seed: number): number {
  if (Number.isSafeInteger(seed)) return Number(BigInt.asUintN(32, BigInt(seed)));
  let h = 0x811c9dc5; // FNV-1a over the number's text: NaN, Infinity and fractions still give a fixed seed
  for (const c of String(seed)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A seeded generator; without a seed, one drawn from Math.random (not reproducible). */
export function createRng(seed?: number): Rng {
  const init = splitmix32(seed === undefined ? Math.floor(Math.random() * 2 ** 32) : seedToUint32(seed));
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const next = (): number => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t;
  };
  for (let i = 0; i < 12; i++) next(); // sfc32's recommended warm-up
  return () => next() / 2 ** 32;
}
