// Embedding gather: out[t, :] = table[ids[t], :] for a [V, D] table in f32, f16 or MLC q4 (the same
// row-major [N, K] weight layout linear reads, so tied embeddings / lm_head share one tensor).
// One thread per output element. An id >= V yields a zero row rather than reading out of bounds.
// Reference: the dequantised table row, copied.

import type { GpuRuntime } from '../runtime';
import { numel, type GpuTensor, type Weight } from '../tensor';
import { WG_INDEX, weightBindings, weightBuffers, weightFormat, weightShape, weightWgsl, type WeightFormat } from '../wgsl';

const WG = 256;

function source(format: WeightFormat): string {
  return /* wgsl */ `
struct Params { T: u32, D: u32, V: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
${weightWgsl(format, 2)}
@group(0) @binding(${2 + weightBindings(format).length}) var<storage, read_write> out: array<f32>;
${WG_INDEX}

@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = wg_index(wid, nwg) * ${WG}u + lid;
  if (e >= params.T * params.D) { return; }
  let t = e / params.D;
  let d = e % params.D;
  let id = ids[t];
  var v = 0.0;
  if (id < params.V) { v = w_at(id, d, params.D); }
  out[e] = v;
}`;
}

/** Gathers rows of `table` [V, D] for u32 token `ids` [T]; returns f32 [T, D]. */
export function embedding(rt: GpuRuntime, table: Weight, ids: GpuTensor): GpuTensor {
  if (ids.dtype !== 'u32') throw new Error(`embedding: ids must be u32, got ${ids.dtype}`);
  const format = weightFormat(table);
  const [V, D] = weightShape(table, 'embedding');
  const T = numel(ids.shape);
  const out = rt.empty([T, D]);
  rt.dispatch(
    { code: source(format), bindings: ['uniform', 'read', ...weightBindings(format), 'write'], label: `embedding.${format}` },
    [{ u32: T }, { u32: D }, { u32: V }],
    [ids.buffer, ...weightBuffers(table), out.buffer],
    rt.grid1d(Math.ceil((T * D) / WG)),
  );
  return out;
}

/** `table` is the dequantised [V, D] table. */
export function embeddingReference(table: Float32Array, D: number, ids: ArrayLike<number>): Float32Array {
  const V = table.length / D;
  const out = new Float32Array(ids.length * D);
  for (let t = 0; t < ids.length; t++) {
    const id = ids[t]!;
    if (id < V) out.set(table.subarray(id * D, id * D + D), t * D);
  }
  return out;
}
