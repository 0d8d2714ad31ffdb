// Backpropagation through the whole model into the LoRA matrices (base weights frozen, in whatever
// precision they were loaded: f32, f16 or q4 — their backward is linearTransposed, no dW), and, for
// full fine-tuning of f32 weights, into every base weight too (FullGrads: dW = dyᵀ·x per linear, the
// qkv bias, the norms' weights, the embedding; a tied lm_head adds into the embedding's gradient).
//
// One training sequence = prompt + completion (T ≤ a few hundred tokens) in ONE forward with the
// adapter on (model/forward.ts with `record`), then ONE backward from per-token upstream gradients
// dL/dlogp[t] of the completion tokens (the objectives in objectives.ts give them). Everything of a pass
// is recorded into one command batch each way. Sequences that differ only in their last token share
// one pass (BranchedSequence): the last row's logits are scored once per branch.
//
// Activations: ALL are cached by the forward (LayerRecord: x, n1, qkv after RoPE, attention output and
// its lse, h, n2, gate_up, act; the final rows and their norm). At these sizes (tiny models, or a
// 0.5B model at T = 256: ~30 MB a layer) that is fine. The only recomputation is the LoRA hidden
// h = x·Aᵀ [T, r] inside loraBackward (one small matmul per adapted module; cheaper than keeping it).
//
// Backward, the forward read bottom-up (see model/forward.ts and gpu/kernels/backward/README.md):
//   logp = logSoftmax(logits)[target]            → dlogits = logSoftmaxBackward (in place over the logits)
//   logits = normed·Wlmᵀ                         → dnormed = dlogits·Wlm (linearTransposed)
//   normed = RMSNorm(rows)                       → drows, scattered into the residual gradient dResid [T, C]
//   per layer, last to first:
//     x' = h + (SiLU(g)⊙u)·Wdownᵀ (+LoRA down)   → dact = dResid·Wdown; LoRA down grads (+ into dact)
//     g|u = n2·Wguᵀ (+LoRA gate|up)              → dgu = siluMulFusedBackward; dn2 = dgu·Wgu; LoRA gate/up on their slices
//     n2 = RMSNorm(h)                            → dResid += rmsNormBackward (the residual passes dResid through)
//     h = x + att·Woᵀ (+LoRA o)                  → datt = dResid·Wo; LoRA o grads (+ into datt)
//     att = attention(RoPE(q), RoPE(k), v)       → dq|dk|dv into one dqkv; RoPE backward on the q and k parts
//     q|k|v = n1·Wqkvᵀ + b (+LoRA q|k|v)         → dn1 = dqkv·Wqkv; LoRA q/k/v on their slices (+ into dn1)
//     n1 = RMSNorm(x)                            → dResid += rmsNormBackward
//   (LoRA: the embedding is frozen and not adapted, so the residual gradient stops there; full
//   fine-tuning scatters it into the embedding rows of the sequence's tokens)

import { addInPlace, addRows, copyRows, fusedQkvAttentionBackward, linearTransposed, logProbs, logSoftmaxBackward, loraBackward, matmulStrided, rmsNormBackward, ropeBackward, scaleInPlace, siluMulFusedBackward, type GpuRuntime, type GpuTensor } from '../gpu';
import { embeddingBackward, rmsNormWeightBackward } from '../gpu/kernels/backward/weight-grads';
import type { ModelConfig } from '../model/config';
import { forward, releaseForwardRecord, type ForwardRecord } from '../model/forward';
import type { GpuModelWeights } from '../model/gpu-weights';
import { KvCache } from '../model/kv-cache';
import { fusedSlice, LORA_TARGETS, type LoraAdapter, type LoraWeights } from '../model/lora';
import type { LoraTarget } from '../model/reference';
import { qkvSplit } from '../model/weights';

/** What backprop needs of the engine: the runtime, the config and the frozen weights. */
export interface GpuModel {
  readonly runtime: GpuRuntime;
  readonly config: ModelConfig;
  readonly weights: GpuModelWeights;
}

/** A training sequence: prompt then completion; the completion tokens are the ones scored. */
export interface TrainingSequence {
  ids: readonly number[];
  /** ≥ 1; ids[promptLength..] is the completion (at least one token). */
  promptLength: number;
}

/** Gradients shaped like an adapter: dA [r, in] and dB [out, r] per layer per target (f32, accumulated). */
export type LoraGrads = Array<Partial<Record<LoraTarget, LoraWeights>>>;

/** The adapter's tensors in a fixed order (layer, then LORA_TARGETS, A before B): optimiser and checkpoints use it. */
export function loraParams(adapter: LoraAdapter | LoraGrads): GpuTensor[] {
  const layers = Array.isArray(adapter) ? adapter : adapter.layers;
  const out: GpuTensor[] = [];
  for (const layer of layers) {
    for (const t of LORA_TARGETS) {
      const m = layer[t];
      if (m) out.push(m.A, m.B);
    }
  }
  return out;
}

/** Zeroed gradient buffers for every matrix of the adapter (pooled; release with releaseLoraGrads). */
export function zeroLoraGrads(rt: GpuRuntime, adapter: LoraAdapter): LoraGrads {
  return adapter.layers.map((layer) => {
    const out: Partial<Record<LoraTarget, LoraWeights>> = {};
    for (const t of LORA_TARGETS) {
      const m = layer[t];
      if (m) out[t] = { A: rt.zeros(m.A.shape), B: rt.zeros(m.B.shape) };
    }
    return out;
  });
}

export function releaseLoraGrads(rt: GpuRuntime, grads: LoraGrads): void {
  rt.release(...loraParams(grads));
}

/** Gradients of every base weight (full fine-tuning), shaped like the weights; lmHead null when tied. */
export interface FullGrads {
  embedTokens: GpuTensor;
  layers: Array<{ inputLayernorm: GpuTensor; qkv: GpuTensor; qkvBias: GpuTensor | null; oProj: GpuTensor; postAttentionLayernorm: GpuTensor; gateUp: GpuTensor; downProj: GpuTensor }>;
  norm: GpuTensor;
  lmHead: GpuTensor | null;
}

/** The trainable base weights in a fixed order (embedding, per layer as stored, final norm, untied lm_head). */
export function fullParams(w: FullGrads | GpuModelWeights, tied: boolean): GpuTensor[] {
  const t = (x: unknown): GpuTensor => x as GpuTensor;
  const out: GpuTensor[] = [t(w.embedTokens)];
  for (const l of w.layers) {
    out.push(t(l.inputLayernorm), t(l.qkv));
    if (l.qkvBias) out.push(l.qkvBias);
    out.push(t(l.oProj), t(l.postAttentionLayernorm), t(l.gateUp), t(l.downProj));
  }
  out.push(t(w.norm));
  if (!tied) out.push(t(w.lmHead));
  return out;
}

/** Zeroed full-model gradient buffers (weights must be plain f32 tensors: see FullParams). */
export function zeroFullGrads(rt: GpuRuntime, w: GpuModelWeights, tied: boolean): FullGrads {
  const z = (x: unknown): GpuTensor => rt.zeros((x as GpuTensor).shape);
  return {
    embedTokens: z(w.embedTokens),
    layers: w.layers.map((l) => ({
      inputLayernorm: z(l.inputLayernorm),
      qkv: z(l.qkv),
      qkvBias: l.qkvBias ? z(l.qkvBias) : null,
      oProj: z(l.oProj),
      postAttentionLayernorm: z(l.postAttentionLayernorm),
      gateUp: z(l.gateUp),
      downProj: z(l.downProj),
    })),
    norm: z(w.norm),
    lmHead: tied ? null : z(w.lmHead),
  };
}

/** dW [out, in] += dyᵀ·x for y = x·Wᵀ: dy a row view [T, out] (row stride, offset), x [T, in]. */
function linearWeightGrad(rt: GpuRuntime, dy: GpuTensor, dyLayout: { rowStride: number; offset?: number }, x: GpuTensor, dW: GpuTensor, T: number): void {
  const [out, inDim] = dW.shape as [number, number];
  matmulStrided(rt, { tensor: dy, rowStride: 1, colStride: dyLayout.rowStride, offset: dyLayout.offset ?? 0 }, { tensor: x, rowStride: inDim }, { tensor: dW, rowStride: inDim }, { M: out, N: inDim, K: T }, { accumulate: true });
}

export interface PassOptions {
  /** Also download the final normed hidden rows [count, C] (the value head's input). */
  hidden?: boolean;
  /**
   * Log-probs of the tempered distribution log softmax(logits / T) (default 1): the distribution the
   * rollouts were sampled from, so old, new and reference log-probs all describe it.
   */
  temperature?: number;
}

/**
 * Sequences that differ only in their LAST token share everything a forward computes (the last token is
 * never an input), so they share one pass: the prefix goes forward once and the last row's logits are
 * scored against each branch's last token. G samples of one prompt among single-token choices cost
 * one forward and one backward of the prompt.
 */
export interface BranchedSequence {
  /** Prompt, then every completion token but the last. */
  prefix: readonly number[];
  promptLength: number;
  /** Each branch's last completion token (at least one). */
  lastTokens: readonly number[];
}

/** The shared-prefix form of a plain sequence (one branch). */
export function asBranched(seq: TrainingSequence): BranchedSequence {
  const { ids, promptLength: P } = seq;
  if (P < 1 || P >= ids.length) throw new Error(`SequencePass: promptLength ${P} must be in [1, ${ids.length - 1}] (a non-empty prompt and completion)`);
  return { prefix: ids.slice(0, -1), promptLength: P, lastTokens: [ids[ids.length - 1]!] };
}

/**
 * One (branched) sequence's training forward, kept on the GPU until its backward: `logps[b]` are branch
 * b's completion-token log-probs under the adapter (the new policy), `hidden` the final normed rows
 * that predict them [count, C] (when asked; shared by the branches). Call backward() once, or release().
 */
export class SequencePass {
  private released = false;

  private constructor(
    private readonly model: GpuModel,
    private readonly adapter: LoraAdapter | null,
    private readonly seq: BranchedSequence,
    private readonly record: ForwardRecord,
    /** [R, V] logits of the scored rows: rows P-1..T-2 of the prefix, then its last row once per branch. */
    private readonly logits: GpuTensor,
    private readonly lse: GpuTensor,
    private readonly targets: GpuTensor,
    private readonly temperature: number,
    readonly logps: Float32Array[],
    readonly hidden: Float32Array | null,
  ) {}

  /** Completion tokens per branch. */
  get count(): number {
    return this.seq.prefix.length - this.seq.promptLength + 1;
  }

  /** Branch 0's log-probs (the only branch of a plain sequence). */
  get logp(): Float32Array {
    return this.logps[0]!;
  }

  /** Training tokens of this pass (the prefix goes forward and backward once). */
  get tokens(): number {
    return this.seq.prefix.length;
  }

  static async forward(model: GpuModel, adapter: LoraAdapter | null, sequence: TrainingSequence | BranchedSequence, options: PassOptions = {}): Promise<SequencePass> {
    const rt = model.runtime;
    const seq = 'lastTokens' in sequence ? sequence : asBranched(sequence);
    const { prefix, promptLength: P, lastTokens } = seq;
    const T = prefix.length;
    const k = lastTokens.length;
    if (P < 1 || P > T) throw new Error(`SequencePass: promptLength ${P} must be in [1, ${T}]`);
    if (k < 1) throw new Error('SequencePass: no branch');
    const temperature = options.temperature ?? 1;
    if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`SequencePass: temperature must be > 0, got ${temperature}`);
    const L = T - P + 1; // scored rows P-1 .. T-1 of the prefix (row t predicts token t+1)
    const V = model.config.vocabSize;
    const idTensor = rt.upload(Uint32Array.from(prefix), [T], 'u32');
    const cache = new KvCache(rt, model.config, T, true);
    const record: ForwardRecord = { layers: [] };
    const rowLogits = forward(rt, model.config, model.weights, { ids: idTensor, T, cache, adapter, logitRows: { start: P - 1, count: L }, record })!;
    cache.release(); // the backward reads k and v from the recorded qkv (the cache holds copies)
    rt.release(idTensor);
    if (temperature !== 1) scaleInPlace(rt, rowLogits, 1 / temperature);
    // One logits row per scored token: the last row repeated for each branch (source stride 0).
    const R = L - 1 + k;
    let logits = rowLogits;
    if (k > 1) {
      logits = rt.empty([R, V]);
      if (L > 1) copyRows(rt, rowLogits, logits, { rows: L - 1, width: V, srcStride: V, dstStride: V });
      copyRows(rt, rowLogits, logits, { rows: k, width: V, srcStride: 0, srcOffset: (L - 1) * V, dstStride: V, dstOffset: (L - 1) * V });
      rt.release(rowLogits);
    }
    const targets = rt.upload(Uint32Array.from([...prefix.slice(P), ...lastTokens]), [R], 'u32');
    const { logp, lse } = logProbs(rt, logits, targets);
    const all = await rt.download(logp);
    rt.release(logp);
    const logps = lastTokens.map((_, b) => {
      const out = new Float32Array(L);
      out.set(all.subarray(0, L - 1));
      out[L - 1] = all[L - 1 + b]!;
      return out;
    });
    const hidden = options.hidden ? (await rt.download(record.normed!)).slice() : null;
    return new SequencePass(model, adapter, seq, record, logits, lse, targets, temperature, logps, hidden);
  }

  /**
   * Accumulates into `grads` the LoRA gradients of L given dL/dlogp per completion token (and
   * optionally dL/dhidden [count, C] from a head on the final normed rows), then frees the pass.
   */
  backward(dLogp: ReadonlyArray<ArrayLike<number>>, grads: LoraGrads, dHidden?: Float32Array, full?: FullGrads): void {
    if (this.released) throw new Error('SequencePass: already backpropagated or released');
    const { runtime: rt, config: c, weights: w } = this.model;
    const { record, adapter } = this;
    const T = this.seq.prefix.length;
    const P = this.seq.promptLength;
    const count = this.count;
    const k = this.seq.lastTokens.length;
    const C = c.hiddenSize;
    const eps = c.rmsNormEps;
    if (dLogp.length !== k || dLogp.some((d) => d.length !== count)) throw new Error(`backward: expected ${k} branch gradient(s) of ${count} values`);
    const { q: qDim, k: kvDim } = qkvSplit(c);
    const qkvDim = qDim + 2 * kvDim;
    const [H, Hkv, D] = [c.numHeads, c.numKvHeads, c.headDim];
    const scale = adapter?.scale ?? 0;

    // Head: log-softmax → lm_head (per scored row; the shared rows' gradients summed over the branches)...
    // With tempered logits z/T, d/dz = (1/T)·d/d(z/T): the log-softmax backward is linear in g.
    const R = count - 1 + k;
    const g = new Float32Array(R);
    const inv = 1 / this.temperature;
    dLogp.forEach((d, b) => {
      for (let j = 0; j < count - 1; j++) g[j]! += inv * d[j]!;
      g[count - 1 + b] = inv * d[count - 1]!;
    });
    const gTensor = rt.upload(g, [R]);
    const dLogits = logSoftmaxBackward(rt, this.logits, this.targets, gTensor, { lse: this.lse, inPlace: true });
    let dNormed = linearTransposed(rt, dLogits, w.lmHead); // [R, C]
    rt.release(gTensor);
    if (full) {
      // dW_lm += dLogitsᵀ·normed, the branches' rows all reading the last normed row (stride 0).
      const V = c.vocabSize;
      const dW = full.lmHead ?? full.embedTokens;
      const normed = record.normed!;
      const aT = (offset: number) => ({ tensor: dLogits, rowStride: 1, colStride: V, offset });
      if (count > 1) matmulStrided(rt, aT(0), { tensor: normed, rowStride: C }, { tensor: dW, rowStride: C }, { M: V, N: C, K: count - 1 }, { accumulate: true });
      matmulStrided(rt, aT((count - 1) * V), { tensor: normed, rowStride: 0, offset: (count - 1) * C }, { tensor: dW, rowStride: C }, { M: V, N: C, K: k }, { accumulate: true });
    }
    if (k > 1) {
      // ...then the branches' copies of the last row folded back into one: [count, C].
      const folded = rt.empty([count, C]);
      copyRows(rt, dNormed, folded, { rows: count, width: C, srcStride: C, dstStride: C });
      for (let b = 1; b < k; b++) addRows(rt, dNormed, folded, { rows: 1, width: C, srcStride: C, srcOffset: (count - 1 + b) * C, dstStride: C, dstOffset: (count - 1) * C });
      rt.release(dNormed);
      dNormed = folded;
    }
    // ...→ final norm, then into the residual-stream gradient at rows P-1...
    if (dHidden) {
      const extra = rt.upload(dHidden, [count, C]);
      addInPlace(rt, dNormed, extra);
      rt.release(extra);
    }
    const dRows = rmsNormBackward(rt, record.rows!, w.norm, eps, dNormed);
    if (full) rmsNormWeightBackward(rt, record.rows!, eps, dNormed, full.norm);
    rt.release(dNormed);
    const dResid = rt.zeros([T, C]);
    addRows(rt, dRows, dResid, { rows: count, width: C, srcStride: C, dstStride: C, dstOffset: (P - 1) * C });
    rt.release(dRows);

    for (let i = w.layers.length - 1; i >= 0; i--) {
      const layer = w.layers[i]!;
      const rec = record.layers[i]!;
      const lora = adapter?.layers[i] ?? {};
      const grad = grads[i] ?? {};
      const fg = full?.layers[i];
      const loraGrad = (t: LoraTarget): { m: LoraWeights; d: LoraWeights } | null => {
        const m = lora[t];
        const d = grad[t];
        if (!m) return null;
        if (!d) throw new Error(`backward: no gradient buffers for layer ${i} ${t}`);
        return { m, d };
      };

      // MLP: x' = h + down(act) (+ LoRA down); dResid is dx' and passes straight to dh.
      const dAct = linearTransposed(rt, dResid, layer.downProj); // [T, I]
      if (fg) linearWeightGrad(rt, dResid, { rowStride: C }, rec.act, fg.downProj, T);
      const down = loraGrad('down');
      if (down) loraBackward(rt, { x: rec.act, dy: dResid, a: down.m.A, b: down.m.B, scale, dA: down.d.A, dB: down.d.B, dx: dAct });
      const dGateUp = siluMulFusedBackward(rt, rec.gateUp, dAct); // [T, 2I]
      rt.release(dAct);
      const dN2 = linearTransposed(rt, dGateUp, layer.gateUp); // [T, C]
      if (fg) linearWeightGrad(rt, dGateUp, { rowStride: fg.gateUp.shape[0]! }, rec.n2, fg.gateUp, T);
      for (const t of ['gate', 'up'] as const) {
        const lg = loraGrad(t);
        if (!lg) continue;
        const s = fusedSlice(c, t)!;
        loraBackward(rt, { x: rec.n2, dy: dGateUp, dyLayout: { rowStride: s.stride, offset: s.offset }, M: T, a: lg.m.A, b: lg.m.B, scale, dA: lg.d.A, dB: lg.d.B, dx: dN2 });
      }
      rt.release(dGateUp);
      rmsNormBackward(rt, rec.h, layer.postAttentionLayernorm, eps, dN2, { out: dResid, accumulate: true }); // dResid = dh now
      if (fg) rmsNormWeightBackward(rt, rec.h, eps, dN2, fg.postAttentionLayernorm);
      rt.release(dN2);

      // Attention: h = x + o_proj(att) (+ LoRA o).
      const dAtt = linearTransposed(rt, dResid, layer.oProj); // [T, qDim]
      if (fg) linearWeightGrad(rt, dResid, { rowStride: C }, rec.att, fg.oProj, T);
      const o = loraGrad('o');
      if (o) loraBackward(rt, { x: rec.att, dy: dResid, a: o.m.A, b: o.m.B, scale, dA: o.d.A, dB: o.d.B, dx: dAtt });
      const dQkv = rt.empty([T, qkvDim]); // fully overwritten by attentionBackward
      fusedQkvAttentionBackward(rt, { qkv: rec.qkv, o: rec.att, lse: rec.lse, dO: dAtt, dqkv: dQkv, T, H, Hkv, D });
      rt.release(dAtt);
      // The recorded q and k are post-RoPE: rotate their gradients back to pre-RoPE q and k.
      ropeBackward(rt, dQkv, w.invFreq, { T, H, D, rowStride: qkvDim, offset: 0, posOffset: 0 });
      ropeBackward(rt, dQkv, w.invFreq, { T, H: Hkv, D, rowStride: qkvDim, offset: qDim, posOffset: 0 });
      const dN1 = linearTransposed(rt, dQkv, layer.qkv); // [T, C]; a frozen bias needs no gradient work
      if (fg) {
        linearWeightGrad(rt, dQkv, { rowStride: qkvDim }, rec.n1, fg.qkv, T);
        if (fg.qkvBias) {
          // db += Σ_t dqkv_t: a ones row times dqkv.
          const ones = rt.upload(new Float32Array(T).fill(1), [1, T]);
          matmulStrided(rt, { tensor: ones, rowStride: T }, { tensor: dQkv, rowStride: qkvDim }, { tensor: fg.qkvBias, rowStride: qkvDim }, { M: 1, N: qkvDim, K: T }, { accumulate: true });
          rt.release(ones);
        }
      }
      for (const t of ['q', 'k', 'v'] as const) {
        const lg = loraGrad(t);
        if (!lg) continue;
        const s = fusedSlice(c, t)!;
        loraBackward(rt, { x: rec.n1, dy: dQkv, dyLayout: { rowStride: s.stride, offset: s.offset }, M: T, a: lg.m.A, b: lg.m.B, scale, dA: lg.d.A, dB: lg.d.B, dx: dN1 });
      }
      rt.release(dQkv);
      rmsNormBackward(rt, rec.x, layer.inputLayernorm, eps, dN1, { out: dResid, accumulate: true }); // dResid = dx now
      if (fg) rmsNormWeightBackward(rt, rec.x, eps, dN1, fg.inputLayernorm);
      rt.release(dN1);
    }
    if (full) {
      // dResid is now the embeddings' gradient: scattered into the rows of the tokens that were looked up.
      const ids = rt.upload(Uint32Array.from(this.seq.prefix), [T], 'u32');
      embeddingBackward(rt, ids, dResid, full.embedTokens);
      rt.release(ids);
    }
    rt.release(dResid);
    this.release();
    rt.flush(); // one submit for the whole backward
  }

  /** Frees the recorded activations without a backward. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const rt = this.model.runtime;
    releaseForwardRecord(rt, this.record);
    rt.release(this.logits, this.lse, this.targets);
  }
}
