// Picking the k best of many scored items without sorting them all: a bounded min-heap, O(n log k).

/** Returns up to k items with the highest scores, best first (ties: earlier items first). */
export function topK<T>(items: Iterable<T>, score: (item: T) => number, k: number): { item: T; score: number }[] {
  if (k <= 0) return [];
  const heap: { item: T; score: number; order: number }[] = [];
  // "worse" = lower score, or equal score and later order; the heap keeps the worst on top.
  const worse = (a: (typeof heap)[number], b: (typeof heap)[number]) => a.score < b.score || (a.score === b.score && a.order > b.order);
  const swap = (i: number, j: number) => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  let order = 0;
  for (const item of items) {
    const value = score(item);
    const position = order++;
    // Most items of a large input cannot beat the worst kept one: reject them before allocating.
    if (heap.length === k && (value < heap[0]!.score || (value === heap[0]!.score && position > heap[0]!.order))) continue;
    const entry = { item, score: value, order: position };
    if (heap.length < k) {
      heap.push(entry);
      for (let i = heap.length - 1; i > 0; ) {
        const p = (i - 1) >> 1;
        if (!worse(heap[i]!, heap[p]!)) break;
        swap(i, p);
        i = p;
      }
    } else {
      heap[0] = entry;
      siftDown(0);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : worse(b, a) ? -1 : 0)).map(({ item, score }) => ({ item, score }));
}

/**
 * The k best (score, slot) pairs offered, for the hot loops of retrieval: typed arrays, no allocation
 * per item. Better = higher score, then lower slot (so ties do not depend on the order of offers).
 */
export class SlotHeap {
  private readonly scores: Float64Array;
  private readonly items: Int32Array;
  private length = 0;

  constructor(readonly k: number) {
    this.scores = new Float64Array(Math.max(0, k));
    this.items = new Int32Array(Math.max(0, k));
  }

  get size(): number {
    return this.length;
  }

  /** Whether (a, slotA) ranks below (b, slotB). */
  private static worse(a: number, slotA: number, b: number, slotB: number): boolean {
    return a < b || (a === b && slotA > slotB);
  }

  offer(score: number, slot: number): void {
    const { scores, items, k } = this;
    if (this.length < k) {
      let i = this.length++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!SlotHeap.worse(score, slot, scores[parent]!, items[parent]!)) break;
        scores[i] = scores[parent]!;
        items[i] = items[parent]!;
        i = parent;
      }
      scores[i] = score;
      items[i] = slot;
      return;
    }
    if (k === 0 || !SlotHeap.worse(scores[0]!, items[0]!, score, slot)) return;
    // Replace the worst (the root) and sift down.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= k) break;
      const r = l + 1;
      const c = r < k && SlotHeap.worse(scores[r]!, items[r]!, scores[l]!, items[l]!) ? r : l;
      if (!SlotHeap.worse(scores[c]!, items[c]!, score, slot)) break;
      scores[i] = scores[c]!;
      items[i] = items[c]!;
      i = c;
    }
    scores[i] = score;
    items[i] = slot;
  }

  /** The kept slots, in no particular order. */
  slots(): Int32Array {
    return this.items.slice(0, this.length);
  }

  /** The kept [slot, score] pairs, best first. */
  sorted(): [number, number][] {
    const pairs = Array.from({ length: this.length }, (_, i): [number, number] => [this.items[i]!, this.scores[i]!]);
    return pairs.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  }

  clear(): void {
    this.length = 0;
  }
}
