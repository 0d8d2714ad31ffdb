// The reference forward pass: Qwen2 / Llama in float64, written for clarity, not speed (tiny models only).
// It is the oracle the GPU engine is tested against, so every step is spelled out, following
// transformers' modeling_qwen2.py / modeling_llama.py:
//   h = embed[token]
//   per layer: a = RMSNorm(h); q,k,v = a·Wqᵀ(+b), ...; RoPE(q,k); causal GQA softmax(q·kᵀ/√d)·v;
//              h += a'·Woᵀ; m = RMSNorm(h); h += Wdown·(SiLU(Wgate·m) ⊙ Wup·m)
//   logits = RMSNorm(h)·Wlmᵀ   (Wlm = embed when tied)
// LoRA adapters add scale·B·(A·x) to a projection's output, scale = alpha / rank.

import { ropeInverseFrequencies, type ModelConfig } from './config';
import { dequantize, hfTensor, type ModelWeights } from './weights';

export type LoraTarget = 'q' | 'k' | 'v' | 'o' | 'gate' | 'up' | 'down';

export interface LoraMatrix {
  /** [rank, in], row-major */
  a: ArrayLike<number>;
  /** [out, rank], row-major */
  b: ArrayLike<number>;
}

export interface LoraAdapters {
  rank: number;
  alpha: number;
  /** One entry per layer; a missing target has no adapter. */
  layers: Array<Partial<Record<LoraTarget, LoraMatrix>>>;
}

/** A dense float64 matrix [rows, cols], row-major. */
interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

interface RefLayer {
  inputNorm: Float64Array;
  q: Matrix;
  k: Matrix;
  v: Matrix;
  qBias: Float64Array | null;
  kBias: Float64Array | null;
  vBias: Float64Array | null;
  o: Matrix;
  postNorm: Float64Array;
  gate: Matrix;
  up: Matrix;
  down: Matrix;
}

/** y = W·x */
function matVec(w: Matrix, x: Float64Array): Float64Array {
  const y = new Float64Array(w.rows);
  for (let r = 0; r < w.rows; r++) {
    let sum = 0;
    for (let c = 0; c < w.cols; c++) sum += w.data[r * w.cols + c]! * x[c]!;
    y[r] = sum;
  }
  return y;
}

/** y += scale · B·(A·x) */
function addLora(y: Float64Array, x: Float64Array, lora: LoraMatrix | undefined, rank: number, scale: number): void {
  if (!lora) return;
  const ax = new Float64Array(rank);
  for (let i = 0; i < rank; i++) {
    let sum = 0;
    for (let c = 0; c < x.length; c++) sum += lora.a[i * x.length + c]! * x[c]!;
    ax[i] = sum;
  }
  for (let r = 0; r < y.length; r++) {
    let sum = 0;
    for (let i = 0; i < rank; i++) sum += lora.b[r * rank + i]! * ax[i]!;
    y[r] = y[r]! + scale * sum;
  }
}

function rmsNorm(x: Float64Array, weight: Float64Array, eps: number): Float64Array {
  let sumSquares = 0;
  for (const v of x) sumSquares += v * v;
  const inv = 1 / Math.sqrt(sumSquares / x.length + eps);
  return x.map((v, i) => v * inv * weight[i]!);
}

const silu = (x: number): number => x / (1 + Math.exp(-x));

/** Rotate-half RoPE on each head of `x` (length heads·d) at `position`, in place. */
function applyRope(x: Float64Array, heads: number, d: number, position: number, invFreq: Float64Array): void {
  const half = d / 2;
  for (let h = 0; h < heads; h++) {
    const base = h * d;
    for (let i = 0; i < half; i++) {
      const angle = position * invFreq[i]!;
      const cos = Math.cos(angle);
      const sin = Math.sin(angle);
      const a = x[base + i]!;
      const b = x[base + i + half]!;
      x[base + i] = a * cos - b * sin;
      x[base + i + half] = b * cos + a * sin;
    }
  }
}

function addInPlace(y: Float64Array, x: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = y[i]! + x[i]!;
}

/** log softmax(logits)[index], computed stably. */
export function logSoftmaxAt(logits: Float64Array, index: number): number {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  return logits[index]! - max - Math.log(sum);
}

export class ReferenceModel {
  private readonly embed: Matrix;
  private readonly lmHead: Matrix;
  private readonly norm: Float64Array;
  private readonly layers: RefLayer[];
  private readonly invFreq: Float64Array;

  constructor(
    readonly config: ModelConfig,
    weights: ModelWeights,
  ) {
    const vec = (name: string): Float64Array => Float64Array.from(dequantize(hfTensor(weights, config, name)));
    const mat = (name: string): Matrix => {
      const t = hfTensor(weights, config, name);
      return { rows: t.shape[0]!, cols: t.shape[1]!, data: Float64Array.from(dequantize(t)) };
    };
    this.embed = mat('model.embed_tokens.weight');
    this.lmHead = config.tieWordEmbeddings ? this.embed : mat('lm_head.weight');
    this.norm = vec('model.norm.weight');
    this.invFreq = ropeInverseFrequencies(config);
    this.layers = [];
    for (let i = 0; i < config.numLayers; i++) {
      const p = `model.layers.${i}`;
      const bias = (m: string): Float64Array | null => (config.attentionBias ? vec(`${p}.self_attn.${m}.bias`) : null);
      this.layers.push({
        inputNorm: vec(`${p}.input_layernorm.weight`),
        q: mat(`${p}.self_attn.q_proj.weight`),
        k: mat(`${p}.self_attn.k_proj.weight`),
        v: mat(`${p}.self_attn.v_proj.weight`),
        qBias: bias('q_proj'),
        kBias: bias('k_proj'),
        vBias: bias('v_proj'),
        o: mat(`${p}.self_attn.o_proj.weight`),
        postNorm: vec(`${p}.post_attention_layernorm.weight`),
        gate: mat(`${p}.mlp.gate_proj.weight`),
        up: mat(`${p}.mlp.up_proj.weight`),
        down: mat(`${p}.mlp.down_proj.weight`),
      });
    }
  }

  /** Logits [vocab] for every position of `tokens` (position t sees tokens 0..t). */
  forward(tokens: readonly number[], lora?: LoraAdapters): Float64Array[] {
    const c = this.config;
    const d = c.headDim;
    const groupSize = c.numHeads / c.numKvHeads;
    const scale = lora ? lora.alpha / lora.rank : 0;
    const rank = lora?.rank ?? 0;

    let hidden = tokens.map((token) => {
      if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) throw new Error(`token id ${token} is outside the vocabulary [0, ${c.vocabSize})`);
      return this.embed.data.slice(token * c.hiddenSize, (token + 1) * c.hiddenSize);
    });

    this.layers.forEach((layer, li) => {
      const adapters = lora?.layers[li] ?? {};
      const project = (w: Matrix, bias: Float64Array | null, x: Float64Array, target: LoraTarget): Float64Array => {
        const y = matVec(w, x);
        if (bias) addInPlace(y, bias);
        addLora(y, x, adapters[target], rank, scale);
        return y;
      };

      // Attention: project every position, rotate q and k by their position, attend causally.
      const qs: Float64Array[] = [];
      const ks: Float64Array[] = [];
      const vs: Float64Array[] = [];
      hidden.forEach((h, t) => {
        const a = rmsNorm(h, layer.inputNorm, c.rmsNormEps);
        const q = project(layer.q, layer.qBias, a, 'q');
        const k = project(layer.k, layer.kBias, a, 'k');
        applyRope(q, c.numHeads, d, t, this.invFreq);
        applyRope(k, c.numKvHeads, d, t, this.invFreq);
        qs.push(q);
        ks.push(k);
        vs.push(project(layer.v, layer.vBias, a, 'v'));
      });
      hidden = hidden.map((h, t) => {
        const attended = new Float64Array(c.numHeads * d);
        for (let head = 0; head < c.numHeads; head++) {
          const kvHead = Math.floor(head / groupSize); // grouped-query attention
          const scores = new Float64Array(t + 1);
          for (let s = 0; s <= t; s++) {
            let dot = 0;
            for (let i = 0; i < d; i++) dot += qs[t]![head * d + i]! * ks[s]![kvHead * d + i]!;
            scores[s] = dot / Math.sqrt(d);
          }
          const max = Math.max(...scores);
          const weights = scores.map((x) => Math.exp(x - max));
          const total = weights.reduce((x, y) => x + y, 0);
          for (let s = 0; s <= t; s++) {
            const p = weights[s]! / total;
            for (let i = 0; i < d; i++) attended[head * d + i] = attended[head * d + i]! + p * vs[s]![kvHead * d + i]!;
          }
        }
        const out = h.slice();
        addInPlace(out, project(layer.o, null, attended, 'o'));
        return out;
      });

      // MLP: down(SiLU(gate(m)) ⊙ up(m)).
      hidden = hidden.map((h) => {
        const m = rmsNorm(h, layer.postNorm, c.rmsNormEps);
        const gate = project(layer.gate, null, m, 'gate');
        const up = project(layer.up, null, m, 'up');
        const act = gate.map((g, i) => silu(g) * up[i]!);
        const out = h.slice();
        addInPlace(out, project(layer.down, null, act, 'down'));
        return out;
      });
    });

    return hidden.map((h) => matVec(this.lmHead, rmsNorm(h, this.norm, c.rmsNormEps)));
  }

  /**
   * log p(tokens[t] | tokens[0..t-1]) for every completion token t ≥ promptLength (promptLength ≥ 1),
   * the quantity GRPO's ratios and KL are built from.
   */
  logProbs(tokens: readonly number[], promptLength: number, lora?: LoraAdapters): number[] {
    if (promptLength < 1 || promptLength > tokens.length) throw new Error(`promptLength ${promptLength} must be in [1, ${tokens.length}]`);
    const logits = this.forward(tokens, lora);
    const out: number[] = [];
    for (let t = promptLength; t < tokens.length; t++) out.push(logSoftmaxAt(logits[t - 1]!, tokens[t]!));
    return out;
  }
}
