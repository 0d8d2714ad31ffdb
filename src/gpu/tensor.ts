// Tensors as the kernels see them: a GPU buffer with a shape and an element type, plus the pure-JS
// conversions (f16 packing, MLC q4 quantisation) that both uploads and CPU references need.
//
// Storage types (WGSL never needs the `shader-f16` feature for any of them):
//   f32  one float per 4 bytes.
//   f16  IEEE half floats packed two per u32 (element 2i in the low 16 bits of word i, as
//        `unpack2x16float` reads them). Kernels require the last dimension to be even, so a row never
//        straddles a word.
//   u32  token ids, MLC q_weight words.
// A 4-bit weight is not one tensor but two (see Q4Weight).

export type DType = 'f32' | 'f16' | 'u32';

export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/**
 * MLC's q4f16_1 / q4f32_1 layout for a [N, K] weight (PyTorch Linear / embedding layout):
 * qWeight u32 [N, K/8] (8 nibbles per word, element 8j+r in bits 4r..4r+3),
 * qScale [N, K/32] in f32 (q4f32_1) or f16 (q4f16_1), value = (nibble - 7) * scale.
 */
export interface Q4Weight {
  readonly kind: 'q4';
  readonly qWeight: GpuTensor;
  readonly qScale: GpuTensor;
  /** Logical [N, K]. */
  readonly shape: readonly [number, number];
}

/** A weight matrix in any of the formats the kernels dequantise on the fly. */
export type Weight = GpuTensor | Q4Weight;

export const Q4_GROUP = 32;

export function isQ4(w: Weight): w is Q4Weight {
  return (w as Q4Weight).kind === 'q4';
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Bytes a tensor of this shape and type occupies (rounded up to whole u32 words). */
export function byteSize(shape: readonly number[], dtype: DType): number {
  const n = numel(shape);
  return dtype === 'f16' ? Math.ceil(n / 2) * 4 : n * 4;
}

export function shapeToString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------
// f16 <-> f32 in JS (round to nearest even, like a GPU's f32 -> f16 conversion and numpy's astype).

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

export function f32ToF16Bits(value: number): number {
  f32Scratch[0] = value;
  const x = u32Scratch[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow -> inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the mantissa with its implicit 1, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let m = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && (m & 1))) m++;
    return sign | m;
  }
  let m = mant >>> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (m & 1))) {
    m++;
    if (m === 0x400) {
      m = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | m;
}

export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Rounds every value to the nearest f16 (the values an f16 tensor of `data` would hold). */
export function roundToF16(data: Float32Array): Float32Array {
  return data.map((v) => f16BitsToF32(f32ToF16Bits(v)));
}

/** Packs f32 values as f16 pairs in u32 words (element 2i low, 2i+1 high). */
export function packF16(data: Float32Array): Uint32Array {
  const out = new Uint32Array(Math.ceil(data.length / 2));
  for (let i = 0; i < data.length; i += 2) {
    const lo = f32ToF16Bits(data[i]!);
    const hi = i + 1 < data.length ? f32ToF16Bits(data[i + 1]!) : 0;
    out[i >> 1] = (lo | (hi << 16)) >>> 0;
  }
  return out;
}

/** Packs raw f16 bit patterns (e.g. a safetensors F16 tensor read as Uint16Array) into u32 words. */
export function packF16Bits(bits: Uint16Array): Uint32Array {
  const out = new Uint32Array(Math.ceil(bits.length / 2));
  for (let i = 0; i < bits.length; i += 2) out[i >> 1] = (bits[i]! | ((bits[i + 1] ?? 0) << 16)) >>> 0;
  return out;
}

export function unpackF16(words: Uint32Array, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const w = words[i >> 1]!;
    out[i] = f16BitsToF32(i & 1 ? w >>> 16 : w & 0xffff);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// MLC 4-bit group quantisation in JS (tests, and re-quantising merged weights).

export interface Q4Host {
  qWeight: Uint32Array; // [N, K/8]
  qScale: Float32Array; // [N, K/32] (round with roundToF16 for q4f16_1)
}

/** Symmetric 4-bit quantisation as MLC's group quantizer does it: scale = max|w| / 7 per 32 values. */
export function quantizeQ4(w: Float32Array, n: number, k: number): Q4Host {
  if (k % Q4_GROUP !== 0) throw new Error(`q4: K = ${k} is not a multiple of ${Q4_GROUP}`);
  if (w.length !== n * k) throw new Error(`q4: ${w.length} values given for [${n}, ${k}]`);
  const groups = k / Q4_GROUP;
  const qWeight = new Uint32Array((n * k) / 8);
  const qScale = new Float32Array(n * groups);
  for (let row = 0; row < n; row++) {
    for (let g = 0; g < groups; g++) {
      let maxAbs = 0;
      for (let i = 0; i < Q4_GROUP; i++) maxAbs = Math.max(maxAbs, Math.abs(w[row * k + g * Q4_GROUP + i]!));
      const scale = Math.fround(maxAbs / 7);
      qScale[row * groups + g] = scale;
      for (let i = 0; i < Q4_GROUP; i++) {
        const col = g * Q4_GROUP + i;
        const q = scale === 0 ? 7 : Math.min(15, Math.max(0, Math.round(w[row * k + col]! / scale) + 7));
        const word = (row * k + col) >> 3;
        qWeight[word] = (qWeight[word]! | (q << (4 * (col & 7)))) >>> 0;
      }
    }
  }
  return { qWeight, qScale };
}

/** value = (nibble - 7) * scale, in f32 (what the kernels compute before the dot product). */
export function dequantizeQ4(q: Q4Host, n: number, k: number): Float32Array {
  const groups = k / Q4_GROUP;
  const out = new Float32Array(n * k);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < k; col++) {
      const nibble = (q.qWeight[(row * k + col) >> 3]! >>> (4 * (col & 7))) & 0xf;
      out[row * k + col] = Math.fround((nibble - 7) * q.qScale[row * groups + Math.floor(col / Q4_GROUP)]!);
    }
  }
  return out;
}

/** The same buffer seen with another shape of the same element count (no copy). */
export function reshape(t: GpuTensor, shape: readonly number[]): GpuTensor {
  if (numel(shape) !== numel(t.shape)) throw new Error(`reshape: ${shapeToString(t.shape)} has ${numel(t.shape)} elements, ${shapeToString(shape)} needs ${numel(shape)}`);
  return { buffer: t.buffer, shape: [...shape], dtype: t.dtype };
}
