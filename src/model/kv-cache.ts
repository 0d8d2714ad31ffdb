// The KV cache of one sequence: per layer, K and V [maxTokens, numKvHeads, headDim] f32, filled
// front to back. Positions [0, length) hold the keys/values (already rotated) of the tokens so far.

import type { GpuRuntime, GpuTensor } from '../gpu';
import type { ModelConfig } from './config';

export class KvCache {
  readonly k: GpuTensor[];
  readonly v: GpuTensor[];
  /** Tokens cached so far. */
  length = 0;

  /** `pooled` caches (scoring scratch) come from the buffer pool; session caches are exact allocations. */
  constructor(
    private readonly rt: GpuRuntime,
    c: ModelConfig,
    readonly maxTokens: number,
    pooled = false,
  ) {
    const shape = [maxTokens, c.numKvHeads, c.headDim];
    const make = (i: number, what: string): GpuTensor => rt.empty(shape, 'f32', pooled ? {} : { exact: true, label: `kv.${i}.${what}` });
    this.k = Array.from({ length: c.numLayers }, (_, i) => make(i, 'k'));
    this.v = Array.from({ length: c.numLayers }, (_, i) => make(i, 'v'));
  }

  release(): void {
    this.rt.release(...this.k, ...this.v);
    this.k.length = 0;
    this.v.length = 0;
  }
}
