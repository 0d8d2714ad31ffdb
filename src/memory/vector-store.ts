// Where the vector index keeps its unit-length vectors and their sign bits, and its two scans: Hamming
// distances of every vector's sign bits to the query's (the prefilter) and dot products with chosen
// vectors (the exact rescoring). Both run in WebAssembly with SIMD (vector-scan.wat) where the engine
// has it, else in plain typed arrays and JS loops; the results are the same up to f32 summation order.
import { VECTOR_SCAN_WASM } from './vector-scan-wasm';

const QUERY_BITS_AT = 0; // at most 31 blocks of 16 bytes
const QUERY_VALUES_AT = 512; // at most 3,968 f32s
// Then three regions sized by capacity: every vector's sign words (contiguous, for the full scan), every
// vector's values, and scratch (8 bytes per vector) for slot lists and results.
const SIGNS_AT = 16_384;
const PAGE = 65_536;
const MAX_BLOCKS = 31; // the WASM Hamming scan sums popcounts per byte lane: 8 × 31 < 256

interface ScanExports {
  memory: WebAssembly.Memory;
  hamming(query: number, signs: number, n: number, per: number, stride: number, out: number): void;
  dots(query: number, records: number, slots: number, n: number, lanes: number, stride: number, at: number, out: number): void;
}

let compiled: WebAssembly.Module | null | undefined;
/** The SIMD module, or null where WASM SIMD is missing (validation fails on its opcodes). */
function scanModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = Uint8Array.from(atob(VECTOR_SCAN_WASM), (c) => c.charCodeAt(0));
    compiled = typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export class VectorStore {
  /** 32-bit sign words per vector (whole 128-bit blocks; padding bits stay 0). */
  readonly words: number;
  private readonly blocks: number;
  /** f32s per vector (whole f32x4s; padding stays 0). */
  private readonly width: number;
  private capacity = 0;
  private readonly wasm: ScanExports | null;
  private jsSigns = new Uint32Array(0);
  private jsValues = new Float32Array(0);
  private jsDistances = new Uint16Array(0);

  constructor(
    readonly dim: number,
    useWasm = true,
  ) {
    this.blocks = Math.ceil(dim / 128);
    this.words = this.blocks * 4;
    this.width = Math.ceil(dim / 4) * 4;
    const module = useWasm && dim > 0 && this.blocks <= MAX_BLOCKS ? scanModule() : null;
    this.wasm = module ? (new WebAssembly.Instance(module).exports as unknown as ScanExports) : null;
  }

  get simd(): boolean {
    return this.wasm !== null;
  }

  /** Makes room for `slots` vectors, keeping those stored. */
  ensure(slots: number): void {
    if (slots <= this.capacity) return;
    if (this.wasm) {
      const memory = this.wasm.memory;
      const bytes = this.scratchAt(slots) + slots * 8;
      if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
      // The signs region grows in place; the values behind it move up (an overlapping copy).
      const heap = new Uint8Array(memory.buffer);
      heap.copyWithin(this.valuesAt(slots), this.valuesAt(this.capacity), this.valuesAt(this.capacity) + this.capacity * this.width * 4);
    } else {
      const grow = <T extends Uint32Array | Float32Array>(old: T, make: (n: number) => T, per: number): T => {
        const next = make(slots * per);
        next.set(old);
        return next;
      };
      this.jsSigns = grow(this.jsSigns, (n) => new Uint32Array(n), this.words);
      this.jsValues = grow(this.jsValues, (n) => new Float32Array(n), this.width);
      this.jsDistances = new Uint16Array(slots);
    }
    this.capacity = slots;
  }

  /** Stores a unit-length vector (`dim` values) and its sign bits at `slot` (within capacity). */
  set(slot: number, unit: Float32Array): void {
    const signs = new Uint32Array(this.words);
    for (let i = 0; i < this.dim; i++) if (unit[i]! > 0) signs[i >> 5]! |= 1 << (i & 31);
    if (this.wasm) {
      const buffer = this.wasm.memory.buffer;
      new Uint32Array(buffer, SIGNS_AT + slot * this.words * 4, this.words).set(signs);
      const values = new Float32Array(buffer, this.valuesAt(this.capacity) + slot * this.width * 4, this.width);
      values.fill(0);
      values.set(unit.subarray(0, this.dim));
    } else {
      this.jsSigns.set(signs, slot * this.words);
      this.jsValues.set(unit.subarray(0, this.dim), slot * this.width);
    }
  }

  /** Hamming distances of vectors 0 .. count-1 to the query's sign bits; valid until the next scan or growth. */
  distances(unit: Float32Array, count: number): Uint16Array {
    this.check(count);
    const query = new Uint32Array(this.words);
    for (let i = 0; i < this.dim; i++) if (unit[i]! > 0) query[i >> 5]! |= 1 << (i & 31);
    if (this.wasm) {
      const { memory, hamming } = this.wasm;
      new Uint32Array(memory.buffer, QUERY_BITS_AT, this.words).set(query);
      const out = this.scratchAt(this.capacity);
      hamming(QUERY_BITS_AT, SIGNS_AT, count, this.blocks, this.words * 4, out);
      return new Uint16Array(memory.buffer, out, count);
    }
    const { words, jsSigns, jsDistances } = this;
    for (let slot = 0, o = 0; slot < count; slot++, o += words) {
      let distance = 0;
      for (let w = 0; w < words; w++) distance += popcount(jsSigns[o + w]! ^ query[w]!);
      jsDistances[slot] = distance;
    }
    return jsDistances;
  }

  /** The dot product of `unit` with each of `slots`' vectors (in that order). */
  dots(unit: Float32Array, slots: readonly number[]): Float32Array {
    const n = slots.length;
    if (n === 0) return new Float32Array(0);
    if (this.wasm) {
      const { memory, dots } = this.wasm;
      new Float32Array(memory.buffer, QUERY_VALUES_AT, this.width).set(unit.subarray(0, this.dim));
      // Scratch after the records holds 8 bytes per slot of capacity: room for the slot list and the
      // results of up to capacity / 2 slots at once; longer lists go in pieces.
      const piece = Math.max(1, Math.floor(this.capacity / 2));
      const list = this.scratchAt(this.capacity);
      const out = list + piece * 4;
      const scores = new Float32Array(n);
      for (let from = 0; from < n; from += piece) {
        const count = Math.min(piece, n - from);
        new Int32Array(memory.buffer, list, count).set(slots.slice(from, from + count));
        dots(QUERY_VALUES_AT, this.valuesAt(this.capacity), list, count, this.width / 4, this.width * 4, 0, out);
        scores.set(new Float32Array(memory.buffer, out, count), from);
      }
      return scores;
    }
    const { width, jsValues, dim } = this;
    return Float32Array.from(slots, (slot) => {
      const o = slot * width;
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < dim; i += 2) {
        s0 += jsValues[o + i]! * unit[i]!;
        s1 += jsValues[o + i + 1]! * unit[i + 1]!;
      }
      if (i < dim) s0 += jsValues[o + i]! * unit[i]!;
      return s0 + s1;
    });
  }

  private valuesAt(capacity: number): number {
    return SIGNS_AT + capacity * this.words * 4;
  }

  private scratchAt(capacity: number): number {
    return this.valuesAt(capacity) + capacity * this.width * 4;
  }

  private check(count: number): void {
    if (count > this.capacity) throw new Error(`VectorStore: ${count} vectors asked for, room for ${this.capacity}`);
  }
}
