// A buffer pool: freed buffers go back to a free list keyed by (usage, size class) and are handed out
// again instead of allocating. Size classes are 4 per octave (x1, x1.25, x1.5, x1.75 of a power of
// two, at least 256 bytes), so a reused buffer wastes at most ~20% and the number of distinct classes
// stays small. A forward pass that frees its activations as it goes then allocates nothing after the
// first step.

export interface PoolStats {
  created: number;
  reused: number;
  /** Buffers sitting in the free lists now, and their bytes. */
  freeBuffers: number;
  freeBytes: number;
}

export function sizeClass(bytes: number): number {
  const size = Math.max(256, Math.ceil(bytes));
  const octave = 2 ** Math.floor(Math.log2(size));
  for (const step of [1, 1.25, 1.5, 1.75, 2]) {
    const candidate = octave * step;
    if (candidate >= size) return candidate; // multiples of 64 bytes from 256 up
  }
  return octave * 2;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly classOf = new WeakMap<GPUBuffer, string>();
  private readonly inFreeList = new WeakSet<GPUBuffer>();
  private stats = { created: 0, reused: 0 };

  constructor(private readonly device: GPUDevice) {}

  /** A buffer of at least `bytes` bytes with exactly this usage (a fresh one or a freed one). */
  acquire(bytes: number, usage: GPUBufferUsageFlags, label?: string): GPUBuffer {
    const size = sizeClass(bytes);
    const key = `${usage}:${size}`;
    const list = this.free.get(key);
    const reused = list?.pop();
    if (reused) {
      this.inFreeList.delete(reused);
      this.stats.reused++;
      return reused;
    }
    const buffer = this.device.createBuffer({ size, usage, ...(label ? { label } : {}) });
    this.classOf.set(buffer, key);
    this.stats.created++;
    return buffer;
  }

  /** Returns a buffer for reuse. The caller guarantees no queued GPU work still needs its contents. */
  release(buffer: GPUBuffer): void {
    if (this.inFreeList.has(buffer)) throw new Error('BufferPool: buffer released twice');
    const key = this.classOf.get(buffer);
    if (key === undefined) {
      buffer.destroy(); // not ours (e.g. an exact-size weight upload): just free it
      return;
    }
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.inFreeList.add(buffer);
  }

  /** True while the buffer sits in a free list (released and not handed out again). */
  isFree(buffer: GPUBuffer): boolean {
    return this.inFreeList.has(buffer);
  }

  /** Destroys every buffer in the free lists (e.g. after a model is unloaded). */
  trim(): void {
    for (const list of this.free.values()) for (const buffer of list) buffer.destroy();
    this.free.clear();
  }

  getStats(): PoolStats {
    let freeBuffers = 0;
    let freeBytes = 0;
    for (const list of this.free.values()) {
      freeBuffers += list.length;
      for (const buffer of list) freeBytes += buffer.size;
    }
    return { ...this.stats, freeBuffers, freeBytes };
  }
}
