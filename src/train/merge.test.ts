import { describe, expect, it } from 'vitest';
import { bytesOf, utf8Decode } from '../model/bytes';
import type { ModelConfig, Quantization } from '../model/config';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../model/half';
import { loadModel, type LoadedModel } from '../model/load';
import { loraDims, type HostLoraAdapter } from '../model/lora';
import { parseTensorCache, readTensorCache, type MlcTensor } from '../model/mlc';
import { PEFT_MODULES } from '../model/peft';
import { Q4_GROUP_SIZE, quantizeQ4 } from '../model/q4';
import { ReferenceModel, type LoraTarget } from '../model/reference';
import { createRng } from '../model/rng';
import { MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import { dequantize, hfTensor, hfTensorNames, type ModelWeights, type WeightTensor } from '../model/weights';
import { mergeIntoMlcFolder, mergeLora, writeMergedMlcModel } from './merge';

const TOKENS = [3, 17, 300, 42, 511, 5, 99, 250, 7, 128];
/** Layer 0: every target; layer 1: some (so k, o, gate, up of layer 1 stay untargeted). */
const TARGETS: LoraTarget[][] = [['q', 'k', 'v', 'o', 'gate', 'up', 'down'], ['q', 'v', 'down']];

/**
 * A random adapter whose update is a sizeable fraction of the base weights (std ≈ 0.4/√in against the
 * base's 1/√in), so a wrong merge shows up clearly in the logits.
 */
function randomAdapter(c: ModelConfig, seed: number, rank = 4, alpha = 8): HostLoraAdapter {
  const rng = createRng(seed);
  const uniform = (n: number, std: number): Float32Array => Float32Array.from({ length: n }, () => (rng() * 2 - 1) * std * Math.sqrt(3));
  return {
    rank,
    alpha,
    layers: TARGETS.map((targets) =>
      Object.fromEntries(
        targets.map((t) => {
          const d = loraDims(c, t);
          return [t, { a: uniform(rank * d.in, 1 / Math.sqrt(d.in)), b: uniform(d.out * rank, 0.1) }];
        }),
      ),
    ),
  };
}

const load = (files: Map<string, Uint8Array>): Promise<LoadedModel> => loadModel(new MemorySource(files, 'tiny'));

/** An MLC folder whose tensor cache says f32 is stored as bf16 (the format only: enough for the writer, which then writes bf16). */
function bf16Format(files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const cache = parseTensorCache(JSON.parse(utf8Decode(files.get('tensor-cache.json')!)));
  for (const shard of cache.records) for (const r of shard.records) r.format = 'f32-to-bf16';
  const out = new Map(files);
  out.set('tensor-cache.json', new TextEncoder().encode(JSON.stringify(cache)));
  out.delete('ndarray-cache.json');
  return out;
}

function meanAbsDiff(a: Float64Array[], b: Float64Array[]): number {
  let sum = 0;
  let n = 0;
  a.forEach((row, t) => row.forEach((v, i) => ((sum += Math.abs(v - b[t]![i]!)), n++)));
  return sum / n;
}

function maxAbsDiff(a: Float64Array[], b: Float64Array[]): number {
  let worst = 0;
  a.forEach((row, t) => row.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - b[t]![i]!)))));
  return worst;
}

/** The exact merged value W + scale·B·A of one HF-named matrix, in float64. */
function idealMerged(w: ModelWeights, c: ModelConfig, ad: HostLoraAdapter, layer: number, target: LoraTarget, name: string): Float64Array {
  const base = dequantize(hfTensor(w, c, name));
  const m = ad.layers[layer]![target]!;
  const { in: inDim, out } = loraDims(c, target);
  const scale = ad.alpha / ad.rank;
  const out64 = Float64Array.from(base);
  for (let o = 0; o < out; o++) {
    for (let i = 0; i < inDim; i++) {
      let s = 0;
      for (let k = 0; k < ad.rank; k++) s += m.b[o * ad.rank + k]! * m.a[k * inDim + i]!;
      out64[o * inDim + i] = out64[o * inDim + i]! + scale * s;
    }
  }
  return out64;
}

const MODULE_NAME = PEFT_MODULES;
/** Calls `check` with each adapted weight's name, its ideal merge W + scale·B·A (float64) and the merged tensor. */
function forEachMergedWeight(
  base: ModelWeights,
  c: ModelConfig,
  ad: HostLoraAdapter,
  merged: ModelWeights,
  check: (name: string, ideal: Float64Array, got: ReturnType<typeof hfTensor>) => void,
): void {
  for (const [l, targets] of TARGETS.entries()) {
    for (const t of targets) {
      const name = `model.layers.${l}.${MODULE_NAME[t]}.weight`;
      check(name, idealMerged(base, c, ad, l, t, name), hfTensor(merged, c, name));
    }
  }
}
const targetedNames = (): Set<string> => new Set(TARGETS.flatMap((ts, l) => ts.map((t) => `model.layers.${l}.${MODULE_NAME[t]}.weight`)));

function tensorBytes(t: WeightTensor): Uint8Array[] {
  return t.data.kind === 'q4' ? [bytesOf(t.data.qWeight), bytesOf(t.data.qScale)] : [bytesOf(t.data.data)];
}
const sameBytes = (a: WeightTensor, b: WeightTensor): boolean =>
  a.data.kind === b.data.kind && tensorBytes(a).every((part, i) => Buffer.compare(part, tensorBytes(b)[i]!) === 0);

describe('mergeLora', () => {
  for (const arch of ['qwen2', 'llama'] as const) {
    it(`${arch} q0f32: merged logits equal base + LoRA to float32 rounding; each weight is one f32 rounding of W + scale·B·A`, async () => {
      const base = await load(makeTinyModel({ format: 'mlc', arch, quant: 'q0f32', seed: 11 }));
      const c = base.config;
      const ad = randomAdapter(c, 5);
      const merged = mergeLora(base.weights, c, ad);
      const withLora = new ReferenceModel(c, base.weights).forward(TOKENS, ad);
      const plain = new ReferenceModel(c, base.weights).forward(TOKENS);
      const fromMerged = new ReferenceModel(c, merged).forward(TOKENS);
      const effect = maxAbsDiff(withLora, plain);
      const err = maxAbsDiff(fromMerged, withLora);
      console.log(`merge ${arch} q0f32: LoRA moves logits by ${effect.toExponential(2)}; merged vs base+LoRA ${err.toExponential(2)}`);
      expect(effect).toBeGreaterThan(0.5);
      // Each merged weight carries one f32 rounding (relative 2⁻²⁴ ≈ 6e-8); logits are O(1-10).
      expect(err).toBeLessThan(1e-5);
      for (const [l, targets] of TARGETS.entries()) {
        for (const t of targets) {
          const name = `model.layers.${l}.${MODULE_NAME[t]}.weight`;
          const ideal = idealMerged(base.weights, c, ad, l, t, name);
          const got = dequantize(hfTensor(merged, c, name));
          ideal.forEach((x, i) => expect(got[i], name).toBe(Math.fround(x)));
        }
      }
    });
  }

  it('q0f16: every merged weight is W + scale·B·A (rounded to f32) rounded stochastically to one of its two f16 neighbours; logits within the f16 rounding the base itself carries', async () => {
    const f32 = await load(makeTinyModel({ format: 'mlc', quant: 'q0f32', seed: 11 }));
    const base = await load(makeTinyModel({ format: 'mlc', quant: 'q0f16', seed: 11 }));
    const c = base.config;
    const ad = randomAdapter(c, 5);
    const merged = mergeLora(base.weights, c, ad);
    let roundedUp = 0;
    let inexact = 0;
    forEachMergedWeight(base.weights, c, ad, merged, (name, ideal, got) => {
      if (got.data.kind !== 'f16') throw new Error(`${name} is ${got.data.kind}, expected f16`);
      const bits = got.data.data;
      ideal.forEach((x, i) => {
        const nearest = f32ToF16(Math.fround(x));
        if (f16ToF32(nearest) === Math.fround(x)) return expect(bits[i], name).toBe(nearest);
        inexact++;
        const other = Math.abs(Math.fround(x)) > Math.abs(f16ToF32(nearest)) ? nearest + 1 : nearest - 1;
        expect([nearest, other], name).toContain(bits[i]);
        if (bits[i] === other) roundedUp++;
      });
    });
    // The farther neighbour is taken with probability its share of the gap, under ½ each time: about ¼ overall.
    console.log(`merge q0f16: ${((100 * roundedUp) / inexact).toFixed(1)}% of inexact weights went to the farther neighbour`);
    expect(roundedUp / inexact).toBeGreaterThan(0.2);
    expect(roundedUp / inexact).toBeLessThan(0.3);
    const withLora = new ReferenceModel(c, base.weights).forward(TOKENS, ad);
    const fromMerged = new ReferenceModel(c, merged).forward(TOKENS);
    const err = maxAbsDiff(fromMerged, withLora);
    // The same merge in f32 carries one rounding of relative size 2⁻²⁴ per weight; f16's is 2⁻¹¹ (to nearest;
    // at most twice that stochastically), 2¹³ times larger, so the f16 logit error should be about 2¹³ times
    // the f32 one (allow a factor 4 for chance and the stochastic rounding's larger spread).
    const f32Err = maxAbsDiff(new ReferenceModel(c, mergeLora(f32.weights, c, ad)).forward(TOKENS), new ReferenceModel(c, f32.weights).forward(TOKENS, ad));
    const f16Noise = maxAbsDiff(new ReferenceModel(c, base.weights).forward(TOKENS), new ReferenceModel(c, f32.weights).forward(TOKENS));
    console.log(`merge q0f16: merged vs base+LoRA ${err.toExponential(2)}; 2^13 × the f32 merge's ${(f32Err * 2 ** 13).toExponential(2)}; base f16 vs f32 ${f16Noise.toExponential(2)}`);
    expect(err).toBeLessThan(4 * 2 ** 13 * f32Err);
    expect(err).toBeLessThan(2e-2);
  });

  for (const quant of ['q4f16_1', 'q4f32_1'] as const) {
    it(`${quant}: merged rows are MLC's group quantisation of W + scale·B·A, rounded stochastically; logits within the base's own quantisation error`, async () => {
      const f32 = await load(makeTinyModel({ format: 'mlc', quant: 'q0f32', seed: 11 }));
      const base = await load(makeTinyModel({ format: 'mlc', quant, seed: 11 }));
      const c = base.config;
      const ad = randomAdapter(c, 5);
      const merged = mergeLora(base.weights, c, ad);
      forEachMergedWeight(base.weights, c, ad, merged, (name, ideal, got) => {
        expect(got.data.kind).toBe('q4');
        const values = dequantize(got);
        const cols = got.shape[1]!;
        // Stated bound: one quantisation step of the element's group (the scale is max|w|/7; stochastic
        // rounding goes to either neighbour), plus the scale's own rounding to the model dtype.
        for (let r = 0; r < got.shape[0]!; r++) {
          for (let g = 0; g < cols / Q4_GROUP_SIZE; g++) {
            let maxAbs = 0;
            for (let i = 0; i < Q4_GROUP_SIZE; i++) maxAbs = Math.max(maxAbs, Math.abs(ideal[r * cols + g * Q4_GROUP_SIZE + i]!));
            const bound = (maxAbs / 7) * (1 + 7 * 2 ** -10) + 1e-7;
            for (let i = 0; i < Q4_GROUP_SIZE; i++) {
              const j = r * cols + g * Q4_GROUP_SIZE + i;
              expect(Math.abs(values[j]! - ideal[j]!), name).toBeLessThanOrEqual(bound);
            }
          }
        }
      });
      const withLora = new ReferenceModel(c, base.weights).forward(TOKENS, ad);
      const fromMerged = new ReferenceModel(c, merged).forward(TOKENS);
      // The same on the dequantised merged weights as plain f32 tensors: the reference sees the same values.
      const asF32: ModelWeights = {
        ...merged,
        layers: merged.layers.map((layer) => ({ ...layer, qkv: { shape: layer.qkv.shape, data: { kind: 'f32', data: dequantize(layer.qkv) } } })),
      };
      expect(maxAbsDiff(new ReferenceModel(c, asF32).forward(TOKENS), fromMerged)).toBe(0);
      const plainBase = new ReferenceModel(c, base.weights).forward(TOKENS);
      const plainF32 = new ReferenceModel(c, f32.weights).forward(TOKENS);
      const [err, q4Noise, effect] = [[fromMerged, withLora], [plainBase, plainF32], [withLora, plainBase]].map(([x, y]) => ({ max: maxAbsDiff(x!, y!), mean: meanAbsDiff(x!, y!) }));
      const show = (e: { max: number; mean: number }): string => `max ${e.max.toExponential(2)} mean ${e.mean.toExponential(2)}`;
      console.log(`merge ${quant}: merged vs base+LoRA ${show(err!)}; base q4 vs f32 ${show(q4Noise!)}; LoRA effect ${show(effect!)}`);
      // Only the adapted rows are re-quantised, once, stochastically: its error variance is twice that of
      // rounding to nearest (a sixth of a step squared against a twelfth), so about 1.4 times the error the
      // quantised base already carries (all of its matrices rounded once), and well below the adapter's effect.
      expect(err!.mean).toBeLessThan(2 * q4Noise!.mean);
      expect(err!.max).toBeLessThan(2 * q4Noise!.max);
      expect(err!.mean).toBeLessThan(effect!.mean / 2);
    });
  }

  /** `ad` with every B scaled by `factor` (a trained adapter's small changes, or none). */
  const scaled = (ad: HostLoraAdapter, factor: number): HostLoraAdapter => ({
    ...ad,
    layers: ad.layers.map((layer) => Object.fromEntries(Object.entries(layer).map(([t, m]) => [t, { a: m.a, b: Float32Array.from(m.b, (v) => v * factor) }]))),
  });
  const allBytes = (w: ModelWeights, c: ModelConfig) => hfTensorNames(c).flatMap((n) => tensorBytes(hfTensor(w, c, n)));
  const same = (a: Uint8Array[], b: Uint8Array[]) => a.length === b.length && a.every((x, i) => Buffer.compare(x, b[i]!) === 0);

  /**
   * The merge of small changes (each under half a step of the base's grid: `halfStep` gives the bound of a
   * weight) against the intended ones: rounding to nearest (`nearestIsBase`) gives the base back, while the
   * merged change projected on the intended one is 1 in expectation. A zero adapter leaves every byte;
   * the same seed gives the same bytes, another seed others.
   */
  /** Half the gap from a 16-bit value to its neighbour away from zero. */
  const halfStep16 = (w: number, encode: (v: number) => number, decode: (bits: number) => number) => Math.abs(decode(encode(w) + 1) - w) / 2;

  /** The merged change projected on the intended one (1: kept in full; 0: lost), and the share of changes under half a step. */
  function changeAlong(base: ModelWeights, c: ModelConfig, ad: HostLoraAdapter, merged: ModelWeights, halfStep: (name: string, j: number, before: Float32Array) => number): { along: number; under: number } {
    let along = 0;
    let norm = 0;
    let under = 0;
    let count = 0;
    forEachMergedWeight(base, c, ad, merged, (name, ideal) => {
      const before = dequantize(hfTensor(base, c, name));
      const after = dequantize(hfTensor(merged, c, name));
      for (let j = 0; j < ideal.length; j++) {
        const change = ideal[j]! - before[j]!;
        if (Math.abs(change) < halfStep(name, j, before)) under++;
        count++;
        along += (after[j]! - before[j]!) * change;
        norm += change * change;
      }
    });
    return { along: along / norm, under: under / count };
  }

  async function expectSmallChangesKept(
    label: string,
    base: ModelWeights,
    c: ModelConfig,
    small: HostLoraAdapter,
    merge: (ad: HostLoraAdapter, seed: number) => ModelWeights | Promise<ModelWeights>,
    halfStep: (name: string, j: number, before: Float32Array) => number,
  ): Promise<void> {
    const merged = await merge(small, 1);
    const { along, under } = changeAlong(base, c, small, merged, halfStep);
    console.log(`merge ${label}: ${(100 * under).toFixed(1)}% of changes under half a step; merged change along the intended one ${along.toFixed(3)}`);
    expect(under, 'nearly every change is under half a step').toBeGreaterThan(0.95);
    expect(along).toBeGreaterThan(0.85);
    expect(along).toBeLessThan(1.15);
    expect(same(allBytes(await merge(scaled(small, 0), 1), c), allBytes(base, c)), 'a zero adapter leaves every byte').toBe(true);
    expect(same(allBytes(await merge(small, 1), c), allBytes(merged, c)), 'the same seed, the same bytes').toBe(true);
    expect(same(allBytes(await merge(small, 2), c), allBytes(merged, c)), 'another seed rounds otherwise').toBe(false);
  }

  it('q4: changes under half a step survive the merge in expectation (rounding to nearest would return the base); a zero adapter leaves the base bytes; a seed fixes the bytes', async () => {
    const base = await load(makeTinyModel({ format: 'mlc', quant: 'q4f32_1', seed: 11 }));
    const c = base.config;
    // A trained adapter's scale: every change is a small fraction of its group's quantisation step.
    const small = scaled(randomAdapter(c, 5), 0.02);
    forEachMergedWeight(base.weights, c, small, base.weights, (name, ideal, own) => {
      // Rounding to nearest gives the base back, bit for bit.
      const [rows, cols] = own.shape as [number, number];
      const nearest = quantizeQ4(Float32Array.from(ideal), rows, cols, 'f32');
      const data = own.data;
      expect(data.kind === 'q4' && nearest.qWeight.every((w, i) => w === data.qWeight[i]), name).toBe(true);
    });
    const groupHalfStep = (_: string, j: number, before: Float32Array) => {
      const group = Math.floor(j / Q4_GROUP_SIZE) * Q4_GROUP_SIZE;
      let maxAbs = 0;
      for (let i = 0; i < Q4_GROUP_SIZE; i++) maxAbs = Math.max(maxAbs, Math.abs(before[group + i]!));
      return (0.5 * maxAbs) / 7;
    };
    await expectSmallChangesKept('q4, changes of ~2% of a step', base.weights, c, small, (ad, seed) => mergeLora(base.weights, c, ad, { seed }), groupHalfStep);
  });

  it('f16, and f32 stored as bf16: changes under half a step survive the merge in expectation; mergeIntoMlcFolder puts f32 weights on bf16\'s grid when the base stores them so', async () => {
    const f16 = await load(makeTinyModel({ format: 'mlc', quant: 'q0f16', seed: 11 }));
    const small16 = scaled(randomAdapter(f16.config, 5), 5e-5);
    const f16HalfStep = (_: string, j: number, before: Float32Array) => halfStep16(before[j]!, f32ToF16, f16ToF32);
    await expectSmallChangesKept('f16', f16.weights, f16.config, small16, (ad, seed) => mergeLora(f16.weights, f16.config, ad, { seed }), f16HalfStep);

    // A q0f32 folder stored as bf16, as mlc_llm writes one: its weights already lie on bf16's grid.
    const f32Files = makeTinyModel({ format: 'mlc', quant: 'q0f32', seed: 11 });
    const f32 = await load(f32Files);
    const bf16Folder = await writeMergedMlcModel(new MemorySource(bf16Format(f32Files)), f32.weights, 'bf16-base');
    const bf16 = await load(bf16Folder);
    const c = bf16.config;
    const small = scaled(randomAdapter(c, 5), 4e-4);
    const bf16HalfStep = (_: string, j: number, before: Float32Array) => halfStep16(before[j]!, f32ToBf16, bf16ToF32);
    const viaFolder = async (ad: HostLoraAdapter, seed: number) => (await load(await mergeIntoMlcFolder(new MemorySource(bf16Folder), ad, 'merged', { seed }))).weights;
    await expectSmallChangesKept('f32 stored as bf16', bf16.weights, c, small, viaFolder, bf16HalfStep);
    // Without f32AsBf16 the merged f32 weights would be rounded to nearest by the writer, and the change lost.
    const lost = await load(await writeMergedMlcModel(new MemorySource(bf16Folder), mergeLora(bf16.weights, c, small), 'nearest'));
    const nearest = changeAlong(bf16.weights, c, small, lost.weights, bf16HalfStep).along;
    console.log(`merge f32 stored as bf16, rounded to nearest instead: merged change along the intended one ${nearest.toFixed(3)}`);
    expect(nearest).toBeLessThan(0.5);
  });

  it('leaves untargeted tensors as the very same objects and does not modify the base', async () => {
    const base = await load(makeTinyModel({ format: 'mlc', quant: 'q4f16_1', seed: 2 }));
    const c = base.config;
    const before = hfTensorNames(c).map((n) => tensorBytes(hfTensor(base.weights, c, n)).map((b) => b.slice()));
    const merged = mergeLora(base.weights, c, randomAdapter(c, 9));
    expect(merged.embedTokens).toBe(base.weights.embedTokens);
    expect(merged.layers[1]!.qkvBias).toBe(base.weights.layers[1]!.qkvBias);
    // k_proj rows of layer 1 share the fused qkv with re-quantised q and v rows: bit-identical anyway.
    expect(sameBytes(hfTensor(merged, c, 'model.layers.1.self_attn.k_proj.weight'), hfTensor(base.weights, c, 'model.layers.1.self_attn.k_proj.weight'))).toBe(true);
    expect(sameBytes(hfTensor(merged, c, 'model.layers.1.mlp.up_proj.weight'), hfTensor(base.weights, c, 'model.layers.1.mlp.up_proj.weight'))).toBe(true);
    expect(merged.layers[1]!.oProj).toBe(base.weights.layers[1]!.oProj);
    hfTensorNames(c).forEach((n, i) => tensorBytes(hfTensor(base.weights, c, n)).forEach((b, j) => expect(Buffer.compare(b, before[i]![j]!), n).toBe(0)));
  });

  it('rejects an adapter made for another model, and honours an explicit scale', async () => {
    const base = await load(makeTinyModel({ format: 'mlc', quant: 'q0f32', seed: 2 }));
    const c = base.config;
    const ad = randomAdapter(c, 1);
    const wrong: HostLoraAdapter = { ...ad, layers: [{ q: { a: new Float32Array(3), b: new Float32Array(3) } }] };
    expect(() => mergeLora(base.weights, c, wrong)).toThrow(/layer 0 q: A has 3 values/);
    // scale 0 (e.g. an untrained adapter's effect) must leave every value unchanged.
    const zero = mergeLora(base.weights, c, { ...ad, scale: 0 });
    for (const n of hfTensorNames(c)) expect(sameBytes(hfTensor(zero, c, n), hfTensor(base.weights, c, n)), n).toBe(true);
  });
});

describe('writeMergedMlcModel', () => {
  const quants: Quantization[] = ['q0f32', 'q0f16', 'q4f16_1', 'q4f32_1'];
  for (const arch of ['qwen2', 'llama'] as const) {
    for (const quant of quants) {
      it(`${arch} ${quant}: the written folder reloads to the identical merged weights; untargeted tensors keep their bytes`, async () => {
        const baseFiles = makeTinyModel({ format: 'mlc', arch, quant, seed: 4 });
        const base = await load(baseFiles);
        const c = base.config;
        const merged = mergeLora(base.weights, c, randomAdapter(c, 6));
        const files = await writeMergedMlcModel(new MemorySource(baseFiles), merged, 'tiny-merged', { shardCapBytes: 48 * 1024, note: { rank: 4 } });
        const again = await load(files);
        expect(again.quantization).toBe(quant);
        expect(again.config).toEqual(c);
        for (const n of hfTensorNames(c)) expect(sameBytes(hfTensor(again.weights, c, n), hfTensor(merged, c, n)), n).toBe(true);

        // Same tensor names, order, shapes and dtypes as the base; untargeted tensors byte-identical.
        const read = async (f: Map<string, Uint8Array>): Promise<Map<string, MlcTensor>> => {
          const cache = parseTensorCache(JSON.parse(utf8Decode(f.get('tensor-cache.json')!)));
          return readTensorCache(cache, async (p) => f.get(p)!);
        };
        const [baseT, outT] = [await read(baseFiles), await read(files)];
        expect([...outT.keys()]).toEqual([...baseT.keys()]);
        const changed = [...outT.keys()].filter((name) => Buffer.compare(bytesOf(outT.get(name)!.data), bytesOf(baseT.get(name)!.data)) !== 0);
        for (const [name, t] of outT) expect([t.shape, t.dtype], name).toEqual([baseT.get(name)!.shape, baseT.get(name)!.dtype]);
        // Changed: layer 0's four matrices, layer 1's qkv (q, v rows) and down; never norms, biases, embeddings.
        const module = arch === 'qwen2' ? 'c_attn' : 'qkv_proj';
        const expectedChanged = [
          `model.layers.0.self_attn.${module}`, 'model.layers.0.self_attn.o_proj', 'model.layers.0.mlp.gate_up_proj', 'model.layers.0.mlp.down_proj',
          `model.layers.1.self_attn.${module}`, 'model.layers.1.mlp.down_proj',
        ];
        const stem = (name: string): string => name.replace(/\.(weight|q_weight|q_scale)$/, '');
        expect(new Set(changed.map(stem))).toEqual(new Set(expectedChanged));
        if (quant.startsWith('q4')) expect(changed.some((n) => n.endsWith('.q_weight'))).toBe(true);
        expect(Object.keys(JSON.parse(utf8Decode(files.get('tensor-cache.json')!)).records).length).toBeGreaterThan(1);

        const config = JSON.parse(utf8Decode(files.get('mlc-chat-config.json')!)) as Record<string, unknown>;
        const { memory_r1_merge: note, ...rest } = config;
        expect(rest).toEqual(JSON.parse(utf8Decode(baseFiles.get('mlc-chat-config.json')!)));
        expect(note).toEqual({ name: 'tiny-merged', rank: 4 });
        expect(files.get('tokenizer.json')).toBe(baseFiles.get('tokenizer.json'));
        expect(files.get('tokenizer_config.json')).toBe(baseFiles.get('tokenizer_config.json'));
        expect([...files.keys()].filter((f) => !f.startsWith('params_shard_')).sort()).toEqual(['mlc-chat-config.json', 'ndarray-cache.json', 'tensor-cache.json', 'tokenizer.json', 'tokenizer_config.json']);
        expect(files.get('ndarray-cache.json')).toEqual(files.get('tensor-cache.json'));
      });
    }
  }

  it('fills in the penalties WebLLM 0.2.79 needs, and stores f32 as bf16 when the base does', async () => {
    const baseFiles = makeTinyModel({ format: 'mlc', quant: 'q0f32', seed: 4 });
    const chat = JSON.parse(utf8Decode(baseFiles.get('mlc-chat-config.json')!)) as Record<string, unknown>;
    delete chat.repetition_penalty;
    const bf16 = bf16Format(baseFiles);
    bf16.set('mlc-chat-config.json', new TextEncoder().encode(JSON.stringify(chat)));
    const base = await load(baseFiles);
    const files = await writeMergedMlcModel(new MemorySource(bf16), mergeLora(base.weights, base.config, randomAdapter(base.config, 6)), 'bf16');
    expect(JSON.parse(utf8Decode(files.get('mlc-chat-config.json')!))).toMatchObject({ repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0 });
    const written = parseTensorCache(JSON.parse(utf8Decode(files.get('ndarray-cache.json')!)));
    expect(new Set(written.records.flatMap((s) => s.records.map((r) => r.format)))).toEqual(new Set(['f32-to-bf16']));
    const plain = await writeMergedMlcModel(new MemorySource(baseFiles), base.weights, 'raw');
    expect(new Set(parseTensorCache(JSON.parse(utf8Decode(plain.get('tensor-cache.json')!))).records.flatMap((s) => s.records.map((r) => r.format)))).toEqual(new Set(['raw']));
  });

  it('targeted weights in a foreign precision are converted to the base quantisation', async () => {
    const baseFiles = makeTinyModel({ format: 'mlc', quant: 'q4f16_1', seed: 4 });
    const f32 = await load(makeTinyModel({ format: 'mlc', quant: 'q0f32', seed: 4 }));
    // f32 weights written against a q4 base: every matrix is quantised with MLC's scheme.
    const files = await writeMergedMlcModel(new MemorySource(baseFiles), f32.weights, 'requantised');
    const again = await load(files);
    const orig = await load(baseFiles);
    for (const n of hfTensorNames(f32.config)) expect(sameBytes(hfTensor(again.weights, f32.config, n), hfTensor(orig.weights, f32.config, n)), n).toBe(true);
  });

  it('refuses a base that is not a complete MLC folder or has tensors it does not know', async () => {
    const baseFiles = makeTinyModel({ format: 'mlc', quant: 'q0f16', seed: 4 });
    const base = await load(baseFiles);
    const noConfig = new Map(baseFiles);
    noConfig.delete('mlc-chat-config.json');
    await expect(writeMergedMlcModel(new MemorySource(noConfig, 'base'), base.weights, 'x')).rejects.toThrow(/mlc-chat-config\.json: missing from the base model \(base\)/);
    const extra = new Map(baseFiles);
    const cache = JSON.parse(utf8Decode(baseFiles.get('tensor-cache.json')!)) as { records: Array<{ records: Array<{ name: string }> }> };
    cache.records[0]!.records[0]!.name = 'model.vision_tower.weight';
    extra.set('tensor-cache.json', new TextEncoder().encode(JSON.stringify(cache)));
    await expect(writeMergedMlcModel(new MemorySource(extra), base.weights, 'x')).rejects.toThrow(/unexpected: model\.vision_tower\.weight/);
  });
});
