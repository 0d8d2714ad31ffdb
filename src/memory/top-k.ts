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
