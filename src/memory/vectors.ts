// Cosine search over memory embeddings. Small banks are scanned exactly. Large ones first rank every
// vector by the Hamming distance of its sign bits to the query's (12 words per 384-dim vector), then
// rescore the best candidates exactly: the answer is exact cosine order among those candidates, and the
// benchmark reports recall against a full exact scan. Both scans run with WASM SIMD (vector-store.ts).
import { topK } from './top-k';
import { VectorStore } from './vector-store';

/** Below this many vectors an exact scan is cheap enough (a few ms) and used instead of the bit prefilter. */
const EXACT_SCAN_LIMIT = 8192;

export class VectorIndex {
  private store = new VectorStore(0);
  private present = new Uint8Array(0);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get dimension(): number {
    return this.store.dim;
  }

  /** Stores a unit-length copy of `embedding` at `slot`. Returns false (storing nothing) on a dimension mismatch. */
  set(slot: number, embedding: Float32Array): boolean {
    if (this.store.dim === 0 && embedding.length > 0) this.store = new VectorStore(embedding.length);
    if (embedding.length !== this.store.dim || this.store.dim === 0) return false;
    this.ensureCapacity(slot + 1);
    this.store.set(slot, unitOf(embedding));
    if (!this.present[slot]) this.count++;
    this.present[slot] = 1;
    return true;
  }

  remove(slot: number): void {
    if (slot < this.present.length && this.present[slot]) {
      this.present[slot] = 0;
      this.count--;
    }
  }

  has(slot: number): boolean {
    return slot < this.present.length && this.present[slot] === 1;
  }

  /**
   * For each group (`groupOf[slot]`, -1 = skip), up to `perGroup` slots ordered by
   * cosine to the query, best first. `exact` forces a full scan (used to measure the prefilter's recall).
   */
  search(query: Float32Array, groupOf: Int16Array, groupCount: number, perGroup: number, exact = false, keep = Math.max(perGroup * 40, 1000)): { slot: number; score: number }[][] {
    const groups: { slot: number; score: number }[][] = Array.from({ length: groupCount }, () => []);
    if (this.count === 0 || query.length !== this.store.dim) return groups;
    const unit = unitOf(query);
    const candidates = exact || this.count <= EXACT_SCAN_LIMIT ? this.allSlots(groupOf, groupCount) : this.prefilter(unit, groupOf, groupCount, keep);
    candidates.forEach((slots, group) => {
      const scores = this.store.dots(unit, slots);
      // Slots are in increasing order, so ties go to the lower slot.
      groups[group] = topK(slots.keys(), (i) => scores[i]!, perGroup).map(({ item: i, score }) => ({ slot: slots[i]!, score }));
    });
    return groups;
  }

  private allSlots(groupOf: Int16Array, groupCount: number): number[][] {
    const slots: number[][] = Array.from({ length: groupCount }, () => []);
    for (let slot = 0; slot < this.present.length; slot++) {
      if (!this.present[slot]) continue;
      const group = groupOf[slot] ?? -1;
      if (group >= 0) slots[group]!.push(slot);
    }
    return slots;
  }

  /** Per group, the `keep` slots whose sign bits are nearest the query's (a counting pass, no sort). */
  private prefilter(unit: Float32Array, groupOf: Int16Array, groupCount: number, keep: number): number[][] {
    const { present } = this; // locals: the loops below are the hot path of retrieval
    const dim = this.store.dim;
    const slotCount = present.length;
    const distances = this.store.distances(unit, slotCount);
    // One pass: each slot's histogram bin (group × (dim + 1) + distance), -1 when skipped.
    const bins = new Int32Array(slotCount);
    const histogram = new Uint32Array(groupCount * (dim + 1));
    for (let slot = 0; slot < slotCount; slot++) {
      const group = present[slot] && slot < groupOf.length ? groupOf[slot]! : -1;
      const bin = group < 0 ? -1 : group * (dim + 1) + distances[slot]!;
      bins[slot] = bin;
      if (bin >= 0) histogram[bin]!++;
    }
    // Per group, the first bin past the `keep` nearest slots, and how many of that bin still fit.
    const limit = new Int32Array(groupCount);
    const roomAtLimit = new Int32Array(groupCount);
    for (let group = 0; group < groupCount; group++) {
      let total = 0;
      let bin = group * (dim + 1);
      const end = bin + dim + 1;
      for (; bin < end; bin++) {
        if (total + histogram[bin]! >= keep) break;
        total += histogram[bin]!;
      }
      limit[group] = bin;
      roomAtLimit[group] = keep - total;
    }
    const slots: number[][] = Array.from({ length: groupCount }, () => []);
    for (let slot = 0; slot < slotCount; slot++) {
      const bin = bins[slot]!;
      if (bin < 0) continue;
      const group = (bin / (dim + 1)) | 0;
      if (bin < limit[group]!) slots[group]!.push(slot);
      else if (bin === limit[group]! && roomAtLimit[group]! > 0) {
        roomAtLimit[group]!--;
        slots[group]!.push(slot);
      }
    }
    return slots;
  }

  private ensureCapacity(slots: number): void {
    if (slots <= this.present.length) return;
    const capacity = Math.max(slots, this.present.length * 2, 256);
    this.store.ensure(capacity);
    const present = new Uint8Array(capacity);
    present.set(this.present);
    this.present = present;
  }
}

/** `v` scaled to unit length (zeros stay zeros). */
function unitOf(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  return v.map((x) => x * scale);
}
