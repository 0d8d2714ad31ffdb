// Cosine search over memory embeddings. Small banks are scanned exactly. Large ones first rank every
// vector by the Hamming distance of its sign bits to the query's (12 words per 384-dim vector, ~15x less
// work than a float scan), then rescore the best candidates exactly: the answer is exact cosine order
// among those candidates, and the benchmark reports recall against a full exact scan.

/** Below this many vectors an exact scan is cheap enough (a few ms) and used instead of the bit prefilter. */
const EXACT_SCAN_LIMIT = 8192;

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export class VectorIndex {
  private dim = 0;
  private words = 0;
  private values = new Float32Array(0);
  private signs = new Uint32Array(0);
  private present = new Uint8Array(0);
  private count = 0;

  get size(): number {
    return this.count;
  }

  get dimension(): number {
    return this.dim;
  }

  /** Stores a unit-length copy of `embedding` at `slot`. Returns false (storing nothing) on a dimension mismatch. */
  set(slot: number, embedding: Float32Array): boolean {
    if (this.dim === 0) {
      this.dim = embedding.length;
      this.words = Math.ceil(this.dim / 32);
    }
    if (embedding.length !== this.dim || this.dim === 0) return false;
    this.ensureCapacity(slot + 1);
    let norm = 0;
    for (let i = 0; i < this.dim; i++) norm += embedding[i]! * embedding[i]!;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    const offset = slot * this.dim;
    const wordOffset = slot * this.words;
    this.signs.fill(0, wordOffset, wordOffset + this.words);
    for (let i = 0; i < this.dim; i++) {
      const value = embedding[i]! * scale;
      this.values[offset + i] = value;
      if (value > 0) this.signs[wordOffset + (i >> 5)]! |= 1 << (i & 31);
    }
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

  cosine(slot: number, unitQuery: Float32Array): number {
    const offset = slot * this.dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let i = 0;
    for (; i + 3 < this.dim; i += 4) {
      s0 += this.values[offset + i]! * unitQuery[i]!;
      s1 += this.values[offset + i + 1]! * unitQuery[i + 1]!;
      s2 += this.values[offset + i + 2]! * unitQuery[i + 2]!;
      s3 += this.values[offset + i + 3]! * unitQuery[i + 3]!;
    }
    for (; i < this.dim; i++) s0 += this.values[offset + i]! * unitQuery[i]!;
    return s0 + s1 + s2 + s3;
  }

  /**
   * For each group (`groupOf[slot]`, -1 = skip), up to `perGroup` slots ordered by
   * cosine to the query, best first. `exact` forces a full scan (used to measure the prefilter's recall).
   */
  search(query: Float32Array, groupOf: Int16Array, groupCount: number, perGroup: number, exact = false, keep = Math.max(perGroup * 40, 1000)): { slot: number; score: number }[][] {
    const groups: { slot: number; score: number }[][] = Array.from({ length: groupCount }, () => []);
    if (this.count === 0 || query.length !== this.dim) return groups;
    let norm = 0;
    for (let i = 0; i < this.dim; i++) norm += query[i]! * query[i]!;
    const unit = query.map((v) => (norm > 0 ? v / Math.sqrt(norm) : 0));
    const candidates = exact || this.count <= EXACT_SCAN_LIMIT ? this.allSlots(groupOf, groupCount) : this.prefilter(unit, groupOf, groupCount, keep);
    candidates.forEach((slots, group) => {
      const scored = slots.map((slot) => ({ slot, score: this.cosine(slot, unit) }));
      scored.sort((a, b) => b.score - a.score || a.slot - b.slot);
      groups[group] = scored.slice(0, perGroup);
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
    const { words, dim, signs, present } = this; // locals: the loop below is the hot path of retrieval
    const queryBits = new Uint32Array(words);
    for (let i = 0; i < dim; i++) if (unit[i]! > 0) queryBits[i >> 5]! |= 1 << (i & 31);
    const slotCount = present.length;
    const distances = new Uint16Array(slotCount);
    const histogram = new Uint32Array(groupCount * (dim + 1));
    for (let slot = 0, o = 0; slot < slotCount; slot++, o += words) {
      const group = slot < groupOf.length && present[slot] ? groupOf[slot]! : -1;
      if (group < 0) continue;
      let distance = 0;
      for (let w = 0; w < words; w++) distance += popcount(signs[o + w]! ^ queryBits[w]!);
      distances[slot] = distance;
      histogram[group * (dim + 1) + distance]!++;
    }
    // Per group, the largest distance still needed to collect `keep` slots, and how many may sit at it.
    const limit = new Int32Array(groupCount);
    const roomAtLimit = new Int32Array(groupCount);
    for (let group = 0; group < groupCount; group++) {
      let total = 0;
      let d = 0;
      for (; d <= dim; d++) {
        const here = histogram[group * (dim + 1) + d]!;
        if (total + here >= keep) break;
        total += here;
      }
      limit[group] = d;
      roomAtLimit[group] = keep - total;
    }
    const slots: number[][] = Array.from({ length: groupCount }, () => []);
    for (let slot = 0; slot < slotCount; slot++) {
      const group = slot < groupOf.length && present[slot] ? groupOf[slot]! : -1;
      if (group < 0) continue;
      const distance = distances[slot]!;
      if (distance < limit[group]!) slots[group]!.push(slot);
      else if (distance === limit[group]! && roomAtLimit[group]! > 0) {
        roomAtLimit[group]!--;
        slots[group]!.push(slot);
      }
    }
    return slots;
  }

  private ensureCapacity(slots: number): void {
    if (slots <= this.present.length) return;
    const capacity = Math.max(slots, this.present.length * 2, 256);
    const grow = <T extends Float32Array | Uint32Array | Uint8Array>(old: T, size: number, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.values = grow(this.values, capacity * this.dim, (n) => new Float32Array(n));
    this.signs = grow(this.signs, capacity * this.words, (n) => new Uint32Array(n));
    this.present = grow(this.present, capacity, (n) => new Uint8Array(n));
  }
}
