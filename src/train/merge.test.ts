import { describe, expect, it } from 'vitest';
import { bytesOf, utf8Decode } from '../model/bytes';
import type { ModelConfig, Quantization } from '../model/config';
import { f16ToF32, f32ToF16 } from '../model/half';
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
import { mergeLora, writeMergedMlcModel } from './merge';

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

  it('q0f16: every merged weight is W + scale·B·A rounded to f32 then to the nearest f16; logits within the f16 rounding the base itself carries', async () => {
    const f32 = await load(makeTinyModel({ format: 'mlc', quant: 'q0f32', seed: 11 }));
    const base = await load(makeTinyModel({ format: 'mlc', quant: 'q0f16', seed: 11 }));
    const c = base.config;
    const ad = randomAdapter(c, 5);
    const merged = mergeLora(base.weights, c, ad);
    forEachMergedWeight(base.weights, c, ad, merged, (name, ideal, got) => {
      if (got.data.kind !== 'f16') throw new Error(`${name} is ${got.data.kind}, expected f16`);
      const bits = got.data.data;
      ideal.forEach((x, i) => {
        expect(bits[i], name).toBe(f32ToF16(Math.fround(x)));
        // Stated bound: half an f16 ulp (relative 2⁻¹¹) plus the f32 step before it.
        expect(Math.abs(f16ToF32(bits[i]!) - x)).toBeLessThanOrEqual(Math.abs(x) * 2 ** -11 * (1 + 2 ** -12) + 2 ** -25);
      });
    });
    const withLora = new ReferenceModel(c, base.weights).forward(TOKENS, ad);
    const fromMerged = new ReferenceModel(c, merged).forward(TOKENS);
    const err = maxAbsDiff(fromMerged, withLora);
    // The same merge in f32 carries one rounding of relative size 2⁻²⁴ per weight; f16's is 2⁻¹¹, 2¹³ times
    // larger, so the f16 logit error should be about 2¹³ times the f32 one (allow a factor 3 for chance).
    const f32Err = maxAbsDiff(new ReferenceModel(c, mergeLora(f32.weights, c, ad)).forward(TOKENS), new ReferenceModel(c, f32.weights).forward(TOKENS, ad));
    const f16Noise = maxAbsDiff(new ReferenceModel(c, base.weights).forward(TOKENS), new ReferenceModel(c, f32.weights).forward(TOKENS));
    console.log(`merge q0f16: merged vs base+LoRA ${err.toExponential(2)}; 2^13 × the f32 merge's ${(f32Err * 2 ** 13).toExponential(2)}; base f16 vs f32 ${f16Noise.toExponential(2)}`);
    expect(err).toBeLessThan(3 * 2 ** 13 * f32Err);
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

  it('q4: changes under half a step survive the merge in expectation (rounding to nearest would return the base); a zero adapter leaves the base bytes; a seed fixes the bytes', async () => {
    const base = await load(makeTinyModel({ format: 'mlc', quant: 'q4f32_1', seed: 11 }));
    const c = base.config;
    const scaled = (ad: HostLoraAdapter, factor: number): HostLoraAdapter => ({
      ...ad,
      layers: ad.layers.map((layer) => Object.fromEntries(Object.entries(layer).map(([t, m]) => [t, { a: m.a, b: Float32Array.from(m.b, (v) => v * factor) }]))),
    });
    // A trained adapter's scale: every change is a small fraction of its group's quantisation step.
    const small = scaled(randomAdapter(c, 5), 0.02);
    const merged = mergeLora(base.weights, c, small, { seed: 1 });
    let along = 0;
    let norm = 0;
    forEachMergedWeight(base.weights, c, small, merged, (name, ideal, got) => {
      const before = dequantize(hfTensor(base.weights, c, name));
      const after = dequantize(got);
      const [rows, cols] = got.shape as [number, number];
      for (let j = 0; j < ideal.length; j++) {
        const group = Math.floor(j / Q4_GROUP_SIZE) * Q4_GROUP_SIZE;
        let maxAbs = 0;
        for (let i = 0; i < Q4_GROUP_SIZE; i++) maxAbs = Math.max(maxAbs, Math.abs(before[group + i]!));
        const change = ideal[j]! - before[j]!;
        expect(Math.abs(change), `${name}: the change is under half a step`).toBeLessThan((0.5 * maxAbs) / 7);
        along += (after[j]! - before[j]!) * change;
        norm += change * change;
      }
      // Rounding to nearest gives the base back, bit for bit.
      const nearest = quantizeQ4(Float32Array.from(ideal), rows, cols, 'f32');
      const own = hfTensor(base.weights, c, name).data;
      expect(own.kind === 'q4' && nearest.qWeight.every((w, i) => w === own.qWeight[i])).toBe(true);
    });
    // The merged change projected on the intended one: 1 in expectation (0 when rounded to nearest).
    console.log(`merge q4, changes of ~2% of a step: merged change along the intended one ${(along / norm).toFixed(3)}`);
    expect(along / norm).toBeGreaterThan(0.85);
    expect(along / norm).toBeLessThan(1.15);

    const bytes = (w: ModelWeights) => hfTensorNames(c).flatMap((n) => tensorBytes(hfTensor(w, c, n)));
    const same = (a: Uint8Array[], b: Uint8Array[]) => a.length === b.length && a.every((x, i) => x.length === b[i]!.length && x.every((v, j) => v === b[i]![j]));
    expect(same(bytes(mergeLora(base.weights, c, scaled(small, 0))), bytes(base.weights)), 'a zero adapter leaves every byte').toBe(true);
    expect(same(bytes(mergeLora(base.weights, c, small, { seed: 1 })), bytes(merged)), 'the same seed, the same bytes').toBe(true);
    expect(same(bytes(mergeLora(base.weights, c, small, { seed: 2 })), bytes(merged)), 'another seed rounds otherwise').toBe(false);
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
    const cache = parseTensorCache(JSON.parse(utf8Decode(baseFiles.get('tensor-cache.json')!)));
    const bf16 = new Map(baseFiles);
    bf16.set('mlc-chat-config.json', new TextEncoder().encode(JSON.stringify(chat)));
    for (const shard of cache.records) for (const r of shard.records) r.format = 'f32-to-bf16'; // the format only, enough for the writer
    bf16.set('tensor-cache.json', new TextEncoder().encode(JSON.stringify(cache)));
    bf16.delete('ndarray-cache.json');
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
