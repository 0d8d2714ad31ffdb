// IEEE half (f16) and bfloat16 conversions on raw 16-bit patterns. Typed arrays have no Float16Array
// everywhere we run (Node 20), so 16-bit floats travel as Uint16Array and are converted here.
import type { Rng } from './rng';

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** f16 bit pattern → number (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24; // zero or subnormal
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** number → f16 bit pattern, rounding to nearest even (overflow → ±Infinity). */
export function f32ToF16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0); // Inf / NaN
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // too large
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit 1 into the mantissa, then round.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let m = mantissa >>> shift;
    if (rest > half || (rest === half && m & 1)) m += 1;
    return sign | m;
  }
  const rest = mantissa & 0x1fff;
  let m = mantissa >>> 13;
  if (rest > 0x1000 || (rest === 0x1000 && m & 1)) {
    m += 1;
    if (m === 0x400) {
      m = 0;
      e += 1;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

/** bf16 bit pattern → number (exact: bf16 is the top half of an f32). */
export function bf16ToF32(b: number): number {
  u32Scratch[0] = (b & 0xffff) << 16;
  return f32Scratch[0]!;
}

/** number → bf16 bit pattern, rounding to nearest even (NaN stays NaN). */
export function f32ToBf16(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return (x >>> 16) | 0x40;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function f16ArrayToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f16ToF32(src[i]!);
  return out;
}

/**
 * `value` rounded to one of the two 16-bit values either side of it, the farther one with probability
 * its share of the gap: unbiased, so a change under half a step survives in expectation where rounding
 * to nearest drops it (a merge: see train/merge.ts). A value the format holds exactly stays put.
 */
function roundStochastic16(value: number, encode: (v: number) => number, decode: (bits: number) => number, rng: Rng): number {
  const nearest = encode(value);
  const near = decode(nearest);
  if (near === value || !Number.isFinite(near) || Number.isNaN(value)) return nearest;
  // Sign-magnitude bit patterns: one more is one step farther from zero, one less one step nearer.
  const other = Math.abs(value) > Math.abs(near) ? nearest + 1 : nearest - 1;
  const far = decode(other);
  if (!Number.isFinite(far)) return nearest;
  return rng() < Math.abs(value - near) / Math.abs(far - near) ? other : nearest;
}

/** f32 values → f16 bit patterns: to nearest even, or, given `rng`, stochastically. */
export function f32ArrayToF16(src: ArrayLike<number>, rng?: Rng): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = rng ? roundStochastic16(src[i]!, f32ToF16, f16ToF32, rng) : f32ToF16(src[i]!);
  return out;
}

/** f32 values rounded stochastically onto the bf16 grid, kept as f32 (each exactly a bf16 value). */
export function roundToBf16Stochastic(src: ArrayLike<number>, rng: Rng): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = bf16ToF32(roundStochastic16(src[i]!, f32ToBf16, bf16ToF32, rng));
  return out;
}

export function bf16ArrayToF32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return out;
}

export function f32ArrayToBf16(src: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32ToBf16(src[i]!);
  return out;
}
