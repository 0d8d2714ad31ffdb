import { describe, expect, it } from 'vitest';
import { ropeInverseFrequencies } from './config';
import { ReferenceModel, logSoftmaxAt, type LoraAdapters, type LoraTarget } from './reference';
import { randomTinyWeights, tinyConfig } from './tiny';
import { hfTensor, type ModelWeights } from './weights';

const ids = { '<|endoftext|>': 509, '<|im_start|>': 510, '<|im_end|>': 511, '<|begin_of_text|>': 507, '<|end_of_text|>': 508, '<|eot_id|>': 511 };
const tokens = [72, 101, 108, 260, 300, 32, 500, 12];

function model(arch: 'qwen2' | 'llama', seed = 1): { ref: ReferenceModel; weights: ModelWeights } {
  const config = tinyConfig(arch, ids);
  const weights = randomTinyWeights(config, seed);
  return { ref: new ReferenceModel(config, weights), weights };
}

/** Deterministic pseudo-random LoRA matrices for every target of every layer. */
function lora(ref: ReferenceModel, rank: number, zeroB: boolean): LoraAdapters {
  const c = ref.config;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const dims: Record<LoraTarget, [number, number]> = {
    q: [c.hiddenSize, q],
    k: [c.hiddenSize, kv],
    v: [c.hiddenSize, kv],
    o: [q, c.hiddenSize],
    gate: [c.hiddenSize, c.intermediateSize],
    up: [c.hiddenSize, c.intermediateSize],
    down: [c.intermediateSize, c.hiddenSize],
  };
  let s = 1;
  const rand = (): number => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 0.2;
  const layers = Array.from({ length: c.numLayers }, () => {
    const layer: Partial<Record<LoraTarget, { a: Float64Array; b: Float64Array }>> = {};
    for (const [target, [inDim, outDim]] of Object.entries(dims) as [LoraTarget, [number, number]][]) {
      layer[target] = { a: Float64Array.from({ length: rank * inDim }, rand), b: Float64Array.from({ length: outDim * rank }, () => (zeroB ? 0 : rand())) };
    }
    return layer;
  });
  return { rank, alpha: 2 * rank, layers };
}

const maxDiff = (a: Float64Array, b: Float64Array): number => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('reference forward pass', () => {
  for (const arch of ['qwen2', 'llama'] as const) {
    it(`${arch}: logits per position, finite, moderate, causal`, () => {
      const { ref } = model(arch);
      const logits = ref.forward(tokens);
      expect(logits.length).toBe(tokens.length);
      for (const row of logits) {
        expect(row.length).toBe(512);
        expect(row.every(Number.isFinite)).toBe(true);
      }
      const spread = Math.max(...logits[3]!) - Math.min(...logits[3]!);
      expect(spread).toBeGreaterThan(1);
      expect(spread).toBeLessThan(100);

      // Changing token 5 changes logits from position 5 on, never before.
      const changed = ref.forward(tokens.map((t, i) => (i === 5 ? 99 : t)));
      for (let t = 0; t < 5; t++) expect(maxDiff(changed[t]!, logits[t]!)).toBe(0);
      expect(maxDiff(changed[5]!, logits[5]!)).toBeGreaterThan(1e-6);
      expect(maxDiff(changed[7]!, logits[7]!)).toBeGreaterThan(1e-6);

      // A prefix gives the same logits as the full sequence at its positions (no look-ahead).
      const prefix = ref.forward(tokens.slice(0, 3));
      for (let t = 0; t < 3; t++) expect(maxDiff(prefix[t]!, logits[t]!)).toBeLessThan(1e-12);
    });

    it(`${arch}: LoRA with B = 0 is a no-op; with B ≠ 0 it changes logits`, () => {
      const { ref } = model(arch);
      const base = ref.forward(tokens);
      const noop = ref.forward(tokens, lora(ref, 4, true));
      for (let t = 0; t < tokens.length; t++) expect(maxDiff(noop[t]!, base[t]!)).toBe(0);
      const adapted = ref.forward(tokens, lora(ref, 4, false));
      expect(maxDiff(adapted[0]!, base[0]!)).toBeGreaterThan(1e-4);
    });
  }

  it('a LoRA on q equals merging scale·B·A into W_q', () => {
    const { ref, weights } = model('qwen2');
    const adapters = lora(ref, 2, false);
    for (const layer of adapters.layers) for (const key of Object.keys(layer)) if (key !== 'q') delete layer[key as LoraTarget];
    const c = ref.config;
    const merged = structuredClone(weights);
    const scale = adapters.alpha / adapters.rank;
    for (let l = 0; l < c.numLayers; l++) {
      const wq = hfTensor(merged, c, `model.layers.${l}.self_attn.q_proj.weight`).data as { data: Float32Array };
      const { a, b } = adapters.layers[l]!.q!;
      for (let r = 0; r < c.numHeads * c.headDim; r++) {
        for (let col = 0; col < c.hiddenSize; col++) {
          let delta = 0;
          for (let i = 0; i < adapters.rank; i++) delta += b[r * adapters.rank + i]! * a[i * c.hiddenSize + col]!;
          wq.data[r * c.hiddenSize + col] = wq.data[r * c.hiddenSize + col]! + scale * delta;
        }
      }
    }
    const viaLora = ref.forward(tokens, adapters);
    const viaMerge = new ReferenceModel(c, merged).forward(tokens);
    // The merge is rounded to f32 storage, hence the tolerance.
    for (let t = 0; t < tokens.length; t++) expect(maxDiff(viaLora[t]!, viaMerge[t]!)).toBeLessThan(1e-4);
  });

  it('logProbs are log-softmax of the previous position at each completion token', () => {
    const { ref } = model('llama');
    const lp = ref.logProbs(tokens, 5);
    expect(lp.length).toBe(3);
    const logits = ref.forward(tokens);
    lp.forEach((v, i) => {
      expect(v).toBeLessThan(0);
      expect(v).toBeCloseTo(logSoftmaxAt(logits[4 + i]!, tokens[5 + i]!), 12);
    });
    const total = logits[2]!.reduce((sum, _, id) => sum + Math.exp(logSoftmaxAt(logits[2]!, id)), 0);
    expect(total).toBeCloseTo(1, 12);
    expect(() => ref.logProbs(tokens, 0)).toThrow(/promptLength/);
    expect(() => ref.forward([512])).toThrow(/outside the vocabulary/);
  });

  it('position 0 is unaffected by RoPE scaling; later positions are', () => {
    const config = tinyConfig('llama', ids);
    const weights = randomTinyWeights(config, 1);
    const scaled = new ReferenceModel(config, weights).forward(tokens);
    const unscaled = new ReferenceModel({ ...config, ropeScaling: null }, weights).forward(tokens);
    expect(maxDiff(scaled[0]!, unscaled[0]!)).toBe(0);
    expect(maxDiff(scaled[7]!, unscaled[7]!)).toBeGreaterThan(0);
    expect(ropeInverseFrequencies(config)).not.toEqual(ropeInverseFrequencies({ ...config, ropeScaling: null }));
  });
});
