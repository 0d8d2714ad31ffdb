// A DecodeSession over a plain function of the context, for testing generation without a GPU: the
// function gives the logits after each append, and topK / lse are computed here exactly as the GPU
// kernels define them (value desc, then id asc; lse over the whole row at the temperature).

import type { DecodeSession, TopKResult } from './decode-session';

export type LogitsFn = (context: readonly number[]) => Float32Array;

export class FakeSession implements DecodeSession {
  readonly context: number[] = [];
  private current: Float32Array | null = null;
  /** Calls made, for tests that check how generation used the session. */
  readonly calls = { append: 0, topK: 0, logits: 0 };
  disposed = false;

  constructor(
    private readonly fn: LogitsFn,
    readonly maxTokens = 4096,
  ) {}

  get length(): number {
    return this.context.length;
  }

  async append(ids: number[]): Promise<void> {
    if (this.disposed) throw new Error('FakeSession: disposed');
    if (this.context.length + ids.length > this.maxTokens) throw new Error(`FakeSession: ${this.context.length} + ${ids.length} tokens exceed ${this.maxTokens}`);
    this.calls.append++;
    this.context.push(...ids);
    this.current = this.fn(this.context);
  }

  async topK(k: number, temperature: number): Promise<TopKResult> {
    this.calls.topK++;
    const row = this.row();
    const order = Array.from(row.keys()).sort((a, b) => row[b]! - row[a]! || a - b).slice(0, k);
    const t = temperature === 0 ? 1 : temperature;
    let m = -Infinity;
    for (const v of row) m = Math.max(m, v / t);
    let s = 0;
    for (const v of row) s += Math.exp(v / t - m);
    return { values: Float32Array.from(order, (i) => row[i]!), indices: Uint32Array.from(order), lse: m + Math.log(s) };
  }

  async logits(): Promise<Float32Array> {
    this.calls.logits++;
    return this.row().slice();
  }

  dispose(): void {
    this.disposed = true;
  }

  private row(): Float32Array {
    if (!this.current) throw new Error('FakeSession: nothing appended yet');
    return this.current;
  }
}

/** Logits that put `score` on each listed id (others get -10). */
export function preferring(vocab: number, scores: ReadonlyMap<number, number> | Record<number, number>): Float32Array {
  const row = new Float32Array(vocab).fill(-10);
  const entries = scores instanceof Map ? [...scores] : Object.entries(scores).map(([k, v]) => [Number(k), v] as const);
  for (const [id, v] of entries) row[id] = v;
  return row;
}
