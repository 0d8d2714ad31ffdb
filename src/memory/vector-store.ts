// Where the vector index keeps its vectors, at three precisions, and the scans over them:
// - 2-bit codes (two sign planes: x ≈ α·s1 + β·s2, the 4-level Lloyd–Max quantiser of a Gaussian), in
//   blocks of 16 vectors, scored against per-query tables of 4-dimension partial sums (`coarse`): the
//   only pass over every vector, 2 bits a dimension;
// - int8 copies (one scale per vector), rescoring the best coarse candidates per group (`dots8`);
// - the unit-length f32 vectors, for the exact dot products that decide the answer (`dots`).
// Each vector carries a u16 tag (the caller's group key, 65535 = empty slot); a query maps tags to groups.
// The scans run in WebAssembly with SIMD (vector-scan.wat) where the engine has it, else in plain typed
// arrays and JS loops; coarse and int8 results are identical in both, exact ones equal up to f32
// summation order.
import { VECTOR_SCAN_WASM } from './vector-scan-wasm';

export const NO_TAG = 0xffff;
/** Lloyd–Max levels of a unit Gaussian at 2 bits (±0.4528, ±1.510) as α ± β, and the split between them. */
const ALPHA = 0.9814;
const BETA = 0.5286;
const SPLIT = 0.9816;
/** The fixed query areas of WASM memory hold up to this many dimensions; beyond, the JS scans run. */
const MAX_WASM_DIM = 3968;
/** Coarse sums must stay within u16 with table entries of at least 1. */
const MAX_DIM = 65_536;
const HISTOGRAM_BINS = 1024;

// Fixed areas (bytes) for the query: coarse tables (32 per code byte), f32 and i16 copies, and the
// tag → group map; then regions sized by capacity, then scratch for one query's lists and results.
const TABLES_AT = 0;
const QUERY_F32_AT = 32_768;
const QUERY_I16_AT = 49_152;
const MAP_AT = 57_344; // 65,536 u16
const REGIONS_AT = 188_416;
const PAGE = 65_536;

interface ScanExports {
  memory: WebAssembly.Memory;
  fastscan(tables: number, codes: number, blocks: number, bytes: number, out: number): void;
  collect(scores: number, tags: number, map: number, n: number, thresholds: number, lowest: number, ends: number): void;
  dots8(query: number, records: number, stride: number, slots: number, n: number, chunks: number, scales: number, out: number): void;
  dots(query: number, records: number, slots: number, n: number, lanes: number, stride: number, out: number): void;
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

const align = (n: number, to: number) => Math.ceil(n / to) * to;

/** Region offsets for a capacity (a multiple of 16 vectors). */
interface Layout {
  tags: number;
  scores: number;
  scales: number;
  codes: number;
  int8: number;
  values: number;
  scratch: number;
}

export class VectorStore {
  /** Coarse code bytes per vector: two planes of ceil(dim / 8). */
  readonly codeBytes: number;
  /** Largest coarse table entry: every coarse sum stays below 65,536. */
  private readonly entryMax: number;
  private readonly shift: number;
  private readonly bins: number;
  /** int8 values per vector (whole 16s) and f32 values per vector (whole 4s); padding stays 0. */
  private readonly width8: number;
  private readonly width: number;
  private capacity = 0;
  private layout: Layout;
  /** One past the highest tag stored: how much of the tag → group map a query writes. */
  private tagCount = 0;
  /** Stored vectors per tag. */
  private readonly perTag: number[] = [];
  private readonly wasm: ScanExports | null;
  private js: { tags: Uint16Array; scores: Uint16Array; scales: Float32Array; codes: Uint8Array; int8: Int8Array; values: Float32Array; tables: Uint8Array; q16: Int16Array; q32: Float32Array };
  private queryScale = 0;
  /** Scratch past the lists `pools` returned (they stay valid while later scans write after them). */
  private freeAt = 0;

  constructor(
    readonly dim: number,
    useWasm = true,
  ) {
    if (!Number.isInteger(dim) || dim < 1 || dim > MAX_DIM) throw new Error(`VectorStore: dimension ${dim} is not between 1 and ${MAX_DIM}`);
    this.codeBytes = 2 * Math.ceil(dim / 8);
    // At most 63: the scan adds four entries in a u8 lane before widening.
    this.entryMax = Math.min(63, Math.floor(65_535 / (2 * this.codeBytes)));
    const maxScore = this.codeBytes * 2 * this.entryMax;
    let shift = 0;
    while (maxScore >> shift >= HISTOGRAM_BINS) shift++;
    this.shift = shift;
    this.bins = (maxScore >> shift) + 1;
    this.width8 = align(dim, 16);
    this.width = align(dim, 4);
    this.layout = this.layoutFor(0);
    const module = useWasm && dim <= MAX_WASM_DIM ? scanModule() : null;
    this.wasm = module ? (new WebAssembly.Instance(module).exports as unknown as ScanExports) : null;
    this.js = {
      tags: new Uint16Array(0),
      scores: new Uint16Array(0),
      scales: new Float32Array(0),
      codes: new Uint8Array(0),
      int8: new Int8Array(0),
      values: new Float32Array(0),
      tables: new Uint8Array(32 * this.codeBytes),
      q16: new Int16Array(this.width8),
      q32: new Float32Array(this.width),
    };
  }

  get simd(): boolean {
    return this.wasm !== null;
  }

  /** Bytes held for vectors (WASM memory or typed arrays). */
  get bytes(): number {
    return this.wasm ? this.wasm.memory.buffer.byteLength : this.layout.scratch - REGIONS_AT;
  }

  private layoutFor(capacity: number): Layout {
    const tags = REGIONS_AT;
    const scores = tags + 2 * capacity;
    const scales = scores + 2 * capacity;
    const codes = scales + 4 * capacity;
    const int8 = codes + this.codeBytes * capacity;
    const values = align(int8 + this.width8 * capacity, 16);
    return { tags, scores, scales, codes, int8, values, scratch: values + 4 * this.width * capacity };
  }

  /** Makes room for `slots` vectors, keeping those stored; new slots are empty. */
  ensure(slots: number): void {
    if (slots <= this.capacity) return;
    const capacity = align(slots, 16);
    const next = this.layoutFor(capacity);
    if (this.wasm) {
      const old = this.layout;
      this.ensureBytes(next.scratch);
      // Every region moves up: copy the last one first (copyWithin is an overlapping-safe move).
      const heap = new Uint8Array(this.wasm.memory.buffer);
      const n = this.capacity;
      heap.copyWithin(next.values, old.values, old.values + 4 * this.width * n);
      heap.copyWithin(next.int8, old.int8, old.int8 + this.width8 * n);
      heap.copyWithin(next.codes, old.codes, old.codes + this.codeBytes * n);
      heap.copyWithin(next.scales, old.scales, old.scales + 4 * n);
      heap.copyWithin(next.tags, old.tags, old.tags + 2 * n);
      new Uint16Array(heap.buffer, next.tags, capacity).fill(NO_TAG, n);
    } else {
      const grow = <T extends Uint16Array | Float32Array | Uint8Array | Int8Array>(old: T, next: T): T => (next.set(old), next);
      const { js } = this;
      js.tags = grow(js.tags, new Uint16Array(capacity).fill(NO_TAG));
      js.scores = new Uint16Array(capacity);
      js.scales = grow(js.scales, new Float32Array(capacity));
      js.codes = grow(js.codes, new Uint8Array(capacity * this.codeBytes));
      js.int8 = grow(js.int8, new Int8Array(capacity * this.width8));
      js.values = grow(js.values, new Float32Array(capacity * this.width));
    }
    this.layout = next;
    this.capacity = capacity;
  }

  private ensureBytes(end: number): void {
    const memory = this.wasm!.memory;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
  }

  /** Stores a unit-length vector (`dim` values) at `slot` (within capacity) with its tag (0 .. 65534). */
  set(slot: number, unit: Float32Array, tag: number): void {
    this.check(slot + 1);
    if (!Number.isInteger(tag) || tag < 0 || tag >= NO_TAG) throw new Error(`VectorStore: tag ${tag} is not between 0 and ${NO_TAG - 1}`);
    const { dim, codeBytes } = this;
    const half = codeBytes / 2;
    const code = new Uint8Array(codeBytes);
    let squares = 0;
    let largest = 0;
    for (let i = 0; i < dim; i++) {
      squares += unit[i]! * unit[i]!;
      largest = Math.max(largest, Math.abs(unit[i]!));
    }
    const split = SPLIT * Math.sqrt(squares / dim);
    const scale = Math.fround(largest / 127);
    const int8 = new Int8Array(this.width8);
    for (let i = 0; i < dim; i++) {
      const x = unit[i]!;
      if (x > 0) code[i >> 3]! |= 1 << (i & 7);
      if (x > (x > 0 ? split : -split)) code[half + (i >> 3)]! |= 1 << (i & 7);
      int8[i] = scale > 0 ? Math.round(x / scale) : 0;
    }
    this.clear(slot);
    const [tags, scales, codes, int8s, values] = this.views();
    tags[slot] = tag;
    this.perTag[tag] = (this.perTag[tag] ?? 0) + 1;
    scales[slot] = scale;
    // Transposed within the block of 16: byte j of this vector sits at lane slot % 16 of row j.
    const at = (slot >> 4) * 16 * codeBytes + (slot & 15);
    for (let j = 0; j < codeBytes; j++) codes[at + 16 * j] = code[j]!;
    int8s.set(int8, slot * this.width8);
    values.fill(0, slot * this.width, (slot + 1) * this.width);
    values.set(unit.subarray(0, dim), slot * this.width);
    this.tagCount = Math.max(this.tagCount, tag + 1);
  }

  /** Empties `slot`: no scan returns it until it is set again. */
  clear(slot: number): void {
    if (slot >= this.capacity) return;
    const tags = this.views()[0];
    if (tags[slot] !== NO_TAG) this.perTag[tags[slot]!]!--;
    tags[slot] = NO_TAG;
  }

  /** How many stored vectors each group holds. */
  groupSizes(groupOfTag: Int16Array, groupCount: number): Int32Array {
    const sizes = new Int32Array(groupCount);
    this.perTag.forEach((n, tag) => {
      const group = groupOfTag[tag] ?? -1;
      if (group >= 0 && group < groupCount) sizes[group]! += n;
    });
    return sizes;
  }

  private views(): [Uint16Array, Float32Array, Uint8Array, Int8Array, Float32Array] {
    if (!this.wasm) return [this.js.tags, this.js.scales, this.js.codes, this.js.int8, this.js.values];
    const { buffer } = this.wasm.memory;
    const l = this.layout;
    const c = this.capacity;
    return [
      new Uint16Array(buffer, l.tags, c),
      new Float32Array(buffer, l.scales, c),
      new Uint8Array(buffer, l.codes, c * this.codeBytes),
      new Int8Array(buffer, l.int8, c * this.width8),
      new Float32Array(buffer, l.values, c * this.width),
    ];
  }

  /** Sets the query for the scans that follow: coarse tables, an i16 copy and the f32 values. */
  setQuery(unit: Float32Array): void {
    this.freeAt = 0;
    const { dim, codeBytes, entryMax } = this;
    const half = codeBytes / 2;
    // Per code byte, two tables of 16 partial sums: Σ over its 4 dimensions of ±q (bit set: +).
    const sums = new Float32Array(32 * codeBytes);
    let largest = 0;
    for (let j = 0; j < codeBytes; j++) {
      const weight = j < half ? ALPHA : BETA;
      const first = 8 * (j < half ? j : j - half);
      for (let nibble = 0; nibble < 2; nibble++) {
        const base = 32 * j + 16 * nibble;
        for (let n = 0; n < 16; n++) {
          let sum = 0;
          for (let k = 0; k < 4; k++) {
            const i = first + 4 * nibble + k;
            if (i < dim) sum += (n >> k) & 1 ? unit[i]! : -unit[i]!;
          }
          sums[base + n] = weight * sum;
          largest = Math.max(largest, Math.abs(weight * sum));
        }
      }
    }
    const tables = this.wasm ? new Uint8Array(this.wasm.memory.buffer, TABLES_AT, 32 * codeBytes) : this.js.tables;
    for (let e = 0; e < sums.length; e++) tables[e] = largest > 0 ? Math.round(((sums[e]! / largest + 1) * entryMax) / 2) : 0;

    let top = 0;
    for (let i = 0; i < dim; i++) top = Math.max(top, Math.abs(unit[i]!));
    // i16 query values, small enough that a full int8 dot product stays within i32.
    const limit = Math.min(32_767, Math.floor(2_147_483_647 / (127 * this.width8)));
    this.queryScale = top > 0 ? limit / top : 0;
    const q16 = this.wasm ? new Int16Array(this.wasm.memory.buffer, QUERY_I16_AT, this.width8) : this.js.q16;
    const q32 = this.wasm ? new Float32Array(this.wasm.memory.buffer, QUERY_F32_AT, this.width) : this.js.q32;
    q16.fill(0);
    q32.fill(0);
    for (let i = 0; i < dim; i++) q16[i] = Math.round(unit[i]! * this.queryScale);
    q32.set(unit.subarray(0, dim));
  }

  /** Coarse scores (higher = nearer) of vectors 0 .. count-1 to the query; valid until the next scan. */
  coarse(count: number): Uint16Array {
    this.check(count);
    const blocks = Math.ceil(count / 16);
    if (this.wasm) {
      this.wasm.fastscan(TABLES_AT, this.layout.codes, blocks, this.codeBytes, this.layout.scores);
      return new Uint16Array(this.wasm.memory.buffer, this.layout.scores, count);
    }
    const { codes, tables, scores } = this.js;
    const bytes = this.codeBytes;
    for (let slot = 0; slot < count; slot++) {
      let sum = 0;
      for (let j = 0, at = (slot >> 4) * 16 * bytes + (slot & 15); j < bytes; j++, at += 16) {
        const c = codes[at]!;
        sum += tables[32 * j + (c & 15)]! + tables[32 * j + 16 + (c >> 4)]!;
      }
      scores[slot] = sum;
    }
    return scores.subarray(0, count);
  }

  /**
   * After `coarse(count)`: per group (`groupOfTag[tag]`, -1 = none), about `keep` slots with the best
   * coarse scores, in increasing slot order: those at or above a threshold read off every 8th slot's
   * score (so a pool may hold somewhat more or fewer than `keep`). Views valid until the next call.
   */
  pools(count: number, groupOfTag: Int16Array, groupCount: number, keep: number): Int32Array[] {
    const map = this.wasm ? new Uint16Array(this.wasm.memory.buffer, MAP_AT, NO_TAG) : new Uint16Array(this.tagCount);
    for (let tag = 0; tag < this.tagCount; tag++) map[tag] = (groupOfTag[tag] ?? -1) >= 0 ? groupOfTag[tag]! : NO_TAG;
    const tags = this.wasm ? new Uint16Array(this.wasm.memory.buffer, this.layout.tags, this.capacity) : this.js.tags;
    const scores = this.wasm ? new Uint16Array(this.wasm.memory.buffer, this.layout.scores, this.capacity) : this.js.scores;
    // Per group, a histogram of the sampled scores; the threshold is where the best keep / 8 of them end.
    const step = 8;
    const histogram = new Uint32Array(groupCount * this.bins);
    const sizes = this.groupSizes(groupOfTag, groupCount);
    // One slot of every 8, at a scrambled offset: a fixed stride could line up with how slots were filled.
    for (let block = 0; block * step < count; block++) {
      const i = block * step + (Math.imul(block, 0x9e3779b1) >>> 29);
      if (i >= count) break;
      const tag = tags[i]!;
      const group = tag === NO_TAG ? NO_TAG : map[tag]!;
      if (group !== NO_TAG) histogram[group * this.bins + (scores[i]! >> this.shift)]!++;
    }
    const thresholds = new Uint16Array(groupCount);
    const wanted = Math.ceil(keep / step);
    for (let group = 0; group < groupCount; group++) {
      let taken = 0;
      let bin = this.bins - 1;
      for (; bin > 0 && taken + histogram[group * this.bins + bin]! < wanted; bin--) taken += histogram[group * this.bins + bin]!;
      thresholds[group] = keep >= sizes[group]! ? 0 : bin << this.shift;
    }
    // Each group's list gets room for the whole group, so none can overflow.
    const starts = new Int32Array(groupCount);
    let end = 0;
    for (let group = 0; group < groupCount; group++) {
      starts[group] = end;
      end += sizes[group]!;
    }
    const lowest = groupCount > 0 ? Math.min(...thresholds) : 0;
    let lists: Int32Array;
    let ends: Int32Array;
    if (this.wasm) {
      const thresholdsAt = this.layout.scratch;
      const endsAt = thresholdsAt + align(2 * groupCount, 16);
      const listsAt = endsAt + align(4 * groupCount, 16);
      // Lists, then room for one dots8 and one dots call after them: growing later would detach the lists.
      this.ensureBytes(listsAt + 16 * count + PAGE);
      const { buffer } = this.wasm.memory;
      new Uint16Array(buffer, thresholdsAt, groupCount).set(thresholds);
      ends = new Int32Array(buffer, endsAt, groupCount);
      for (let group = 0; group < groupCount; group++) ends[group] = listsAt + 4 * starts[group]!;
      this.wasm.collect(this.layout.scores, this.layout.tags, MAP_AT, count, thresholdsAt, lowest, endsAt);
      lists = new Int32Array(buffer, listsAt, end);
      this.freeAt = listsAt + 4 * end;
      return Array.from({ length: groupCount }, (_, group) => lists.subarray(starts[group]!, (ends[group]! - listsAt) >> 2));
    }
    lists = new Int32Array(end);
    ends = starts.slice();
    for (let i = 0; i < count; i++) {
      if (scores[i]! < lowest) continue;
      const tag = tags[i]!;
      const group = tag === NO_TAG ? NO_TAG : map[tag]!;
      if (group !== NO_TAG && scores[i]! >= thresholds[group]!) lists[ends[group]!++] = i;
    }
    return Array.from({ length: groupCount }, (_, group) => lists.subarray(starts[group]!, ends[group]!));
  }

  /** int8 estimates of the dot product of the query with each of `slots`' vectors (in that order). */
  dots8(slots: Int32Array): Float32Array {
    if (slots.length === 0) return new Float32Array(0);
    const scale = this.queryScale > 0 ? 1 / this.queryScale : 0;
    if (this.wasm) {
      const [list, out] = this.stage(slots);
      this.wasm.dots8(QUERY_I16_AT, this.layout.int8, this.width8, list, slots.length, this.width8 / 16, this.layout.scales, out);
      return new Float32Array(this.wasm.memory.buffer, out, slots.length).map((s) => s * scale);
    }
    const { int8, scales, q16 } = this.js;
    const width = this.width8;
    return Float32Array.from(slots, (slot) => {
      let sum = 0;
      for (let i = 0, o = slot * width; i < width; i++) sum += int8[o + i]! * q16[i]!;
      return Math.fround(Math.fround(sum) * scales[slot]!) * scale;
    });
  }

  /** Exact (f32) dot products of the query with each of `slots`' vectors (in that order). */
  dots(slots: Int32Array): Float32Array {
    if (slots.length === 0) return new Float32Array(0);
    if (this.wasm) {
      const [list, out] = this.stage(slots);
      this.wasm.dots(QUERY_F32_AT, this.layout.values, list, slots.length, this.width / 4, this.width * 4, out);
      return new Float32Array(this.wasm.memory.buffer, out, slots.length).slice();
    }
    const { values, q32 } = this.js;
    const { width, dim } = this;
    return Float32Array.from(slots, (slot) => {
      const o = slot * width;
      let s0 = 0;
      let s1 = 0;
      let i = 0;
      for (; i + 1 < dim; i += 2) {
        s0 += values[o + i]! * q32[i]!;
        s1 += values[o + i + 1]! * q32[i + 1]!;
      }
      if (i < dim) s0 += values[o + i]! * q32[i]!;
      return s0 + s1;
    });
  }

  /** The slot list's address in WASM memory (copied past the pools unless it lives there) and room for results. */
  private stage(slots: Int32Array): [number, number] {
    const memory = this.wasm!.memory;
    const free = Math.max(this.freeAt, this.layout.scratch);
    if (slots.buffer === memory.buffer) {
      const out = align(free, 16);
      this.ensureBytes(out + 4 * slots.length);
      return [slots.byteOffset, out];
    }
    const list = align(free, 16);
    const out = list + align(4 * slots.length, 16);
    this.ensureBytes(out + 4 * slots.length);
    new Int32Array(memory.buffer, list, slots.length).set(slots);
    return [list, out];
  }

  private check(count: number): void {
    if (count > this.capacity) throw new Error(`VectorStore: ${count} vectors asked for, room for ${this.capacity}`);
  }
}
