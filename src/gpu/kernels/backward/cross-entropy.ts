// Backward of per-token log-probabilities over the vocabulary (cross-entropy, policy-gradient terms):
//   forward   logp[r] = x[r, id_r]/T - lse_r,   lse_r = log Σ_i exp(x[r, i]/T)     (logProbs, sampling.ts)
//   backward  dx[r, i] = g[r]/T · (1[i == id_r] - softmax(x[r]/T)_i)
// where g[r] = dLoss/dlogp[r] comes from the loss (e.g. -1/N for mean NLL, or GRPO's per-token
// advantage weights). Rows with id >= V (masked, forward gives -3.4e38) get a zero gradient, so prompt
// tokens can be masked by id or by g = 0.
//
// One workgroup of 256 threads per row. If the forward's lse is passed in, one pass over the row
// (p_i = exp(x_i/T - lse)); otherwise max and sum-of-exp are reduced first, as the forward does.
// `inPlace` overwrites the logits with their gradient: at Qwen's V = 151 936 a [T, V] f32 logits
// buffer is 600 KB per token, so not allocating a second one matters. Each element is read before it
// is written by the same thread, and the reductions finish (barriers) before any write.
// Reference: float64.

import type { BindingKind, GpuRuntime } from '../../runtime';
import { numel, type GpuTensor } from '../../tensor';
import { expectF32, perWorkgroupMain, WG_INDEX } from '../../wgsl';
import { ROW_LSE_WGSL, rowLogSumExp64 } from '../sampling';

const WG = 256; // ROW_LSE_WGSL (sampling.ts) is written for 256 threads too

function source(inPlace: boolean): string {
  const xAccess = inPlace ? 'read_write' : 'read';
  return /* wgsl */ `
struct Params { R: u32, V: u32, inv_t: f32, has_lse: u32, accumulate: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, ${xAccess}> x: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> lse_in: array<f32>;
${inPlace ? '' : '@group(0) @binding(5) var<storage, read_write> out: array<f32>;'}
${WG_INDEX}
${ROW_LSE_WGSL}

${perWorkgroupMain(WG, 'row', 'params.R', /* wgsl */ `
  let V = params.V;
  let base = row * V;
  let inv_t = params.inv_t;
  var total = 0.0;
  if (params.has_lse != 0u) {
    total = lse_in[row];
  } else {
    total = row_lse(lid, base, V, inv_t);
  }
  let id = ids[row];
  // Masked row (id >= V): zero gradient.
  let gr = select(0.0, g[row] * inv_t, id < V);
  for (var i = lid; i < V; i += ${WG}u) {
    let p = exp(x[base + i] * inv_t - total);
    var d = gr * (select(0.0, 1.0, i == id) - p);
    ${inPlace ? 'x[base + i] = d;' : 'if (params.accumulate != 0u) { d += out[base + i]; }\n    out[base + i] = d;'}
  }
`)}`;
}

export interface LogSoftmaxBackwardOptions {
  /** The forward's temperature (default 1). */
  temperature?: number;
  /** The forward's per-row log-sum-exp of x/T (logProbs returns it): saves two passes over each row. */
  lse?: GpuTensor;
  /** Write into this [R, V] tensor instead of a new one. */
  out?: GpuTensor;
  /** out += gradient (needs `out`). */
  accumulate?: boolean;
  /** Overwrite the logits with their gradient (returns the logits tensor; excludes out/accumulate). */
  inPlace?: boolean;
}

/**
 * dlogits[R, V] = g[r]/T · (onehot(ids[r]) - softmax(logits[r]/T)): the gradient of Σ_r g[r]·logp[r]
 * with logp = logProbs(logits, ids, {temperature}).logp. logits f32 [..., V], ids u32 [R], g f32 [R].
 */
export function logSoftmaxBackward(rt: GpuRuntime, logits: GpuTensor, ids: GpuTensor, g: GpuTensor, options: LogSoftmaxBackwardOptions = {}): GpuTensor {
  expectF32(logits, 'logSoftmaxBackward: logits');
  expectF32(g, 'logSoftmaxBackward: g');
  const V = logits.shape[logits.shape.length - 1] ?? 0;
  if (V === 0) throw new Error('logSoftmaxBackward: empty rows');
  const R = numel(logits.shape) / V;
  if (ids.dtype !== 'u32' || numel(ids.shape) !== R) throw new Error(`logSoftmaxBackward: ids must be u32 [${R}]`);
  if (numel(g.shape) !== R) throw new Error(`logSoftmaxBackward: g must have ${R} values, got ${numel(g.shape)}`);
  const { temperature = 1, lse, accumulate = false, inPlace = false } = options;
  if (!(temperature > 0)) throw new Error(`logSoftmaxBackward: temperature must be > 0, got ${temperature}`);
  if (lse && (lse.dtype !== 'f32' || numel(lse.shape) !== R)) throw new Error(`logSoftmaxBackward: lse must be f32 [${R}]`);
  if (inPlace && (options.out || accumulate)) throw new Error('logSoftmaxBackward: inPlace excludes out / accumulate');
  if (accumulate && !options.out) throw new Error('logSoftmaxBackward: accumulate needs `out`');
  const out = inPlace ? logits : (options.out ?? rt.empty(logits.shape));
  if (numel(out.shape) !== R * V) throw new Error(`logSoftmaxBackward: out must have ${R * V} values`);
  if (!inPlace && out.buffer === logits.buffer) throw new Error('logSoftmaxBackward: out aliases logits; use inPlace');
  const bindings: BindingKind[] = ['uniform', inPlace ? 'write' : 'read', 'read', 'read', 'read'];
  const buffers = [logits.buffer, ids.buffer, g.buffer, (lse ?? g).buffer];
  if (!inPlace) {
    bindings.push('write');
    buffers.push(out.buffer);
  }
  rt.dispatch(
    { code: source(inPlace), bindings, label: `logSoftmaxBackward${inPlace ? '.inPlace' : ''}` },
    [{ u32: R }, { u32: V }, { f32: 1 / temperature }, { u32: lse ? 1 : 0 }, { u32: accumulate ? 1 : 0 }],
    buffers,
    rt.grid1d(R),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------
// References (float64).

/** logp[r] = x[r, id]/T - lse_r in float64 (the forward the FD check differentiates); id >= V -> 0 here, no gradient. */
export function logProbsForward64(logits: ArrayLike<number>, V: number, ids: ArrayLike<number>, temperature = 1): Float64Array {
  const R = logits.length / V;
  const out = new Float64Array(R);
  for (let r = 0; r < R; r++) {
    const id = ids[r]!;
    out[r] = id < V ? logits[r * V + id]! / temperature - rowLogSumExp64(logits, V, r, temperature) : 0;
  }
  return out;
}

export function logSoftmaxBackwardReference(logits: ArrayLike<number>, V: number, ids: ArrayLike<number>, g: ArrayLike<number>, temperature = 1): Float64Array {
  const R = logits.length / V;
  const dx = new Float64Array(R * V);
  for (let r = 0; r < R; r++) {
    const id = ids[r]!;
    if (id >= V) continue;
    const lse = rowLogSumExp64(logits, V, r, temperature);
    const gr = g[r]! / temperature;
    for (let i = 0; i < V; i++) dx[r * V + i] = gr * ((i === id ? 1 : 0) - Math.exp(logits[r * V + i]! / temperature - lse));
  }
  return dx;
}
