// The GPU engine against the float64 reference (reference.ts) on tiny models of both architectures in
// every stored format; the reference runs on the same dequantised weights, so only f32 rounding differs.
import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../gpu/test-runtime';
import { maxAbsDiff, rng } from '../gpu/testing';
import type { Architecture, Quantization } from './config';
import { Engine } from './engine';
import { loadModel, type LoadedModel } from './load';
import { loraDims, LORA_TARGETS, type HostLoraAdapter } from './lora';
import { peftTensorName, writePeftAdapter } from './peft';
import { ReferenceModel, type LoraTarget } from './reference';
import { randomLoraAdapter } from './testing';
import { writeSafetensors, type SafetensorsInput } from './safetensors';
import { MemorySource } from './source';
import { makeTinyModel } from './tiny';
import { utf8Encode } from './bytes';
import type { ModelConfig } from './config';

const TOL = 1e-3;

async function tinyModel(arch: Architecture, format: 'hf' | 'mlc', quant: Quantization): Promise<LoadedModel> {
  return loadModel(new MemorySource(makeTinyModel({ format, arch, quant, seed: 7 }), `tiny-${arch}-${format}-${quant}`));
}


/** The adapter as PEFT files, written directly with the safetensors writer (independent of peft.ts's writer). */
function peftFiles(c: ModelConfig, a: HostLoraAdapter): { config: Uint8Array; weights: Uint8Array } {
  const tensors: SafetensorsInput[] = [];
  a.layers.forEach((layer, i) => {
    for (const [t, m] of Object.entries(layer) as Array<[LoraTarget, { a: Float32Array; b: Float32Array }]>) {
      const d = loraDims(c, t);
      tensors.push({ name: peftTensorName(i, t, 'A'), dtype: 'F32', shape: [a.rank, d.in], data: m.a });
      tensors.push({ name: peftTensorName(i, t, 'B'), dtype: 'F32', shape: [d.out, a.rank], data: m.b });
    }
  });
  const config = {
    peft_type: 'LORA',
    r: a.rank,
    lora_alpha: a.alpha,
    lora_dropout: 0.05,
    target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    base_model_name_or_path: 'tiny',
    use_rslora: false,
  };
  return { config: utf8Encode(JSON.stringify(config)), weights: writeSafetensors(tensors) };
}

function randomTokens(seed: number, n: number, V: number): number[] {
  const random = rng(seed);
  return Array.from({ length: n }, () => Math.floor(random() * V));
}

describe('Engine', () => {
  const gpu = useGpuRuntime();
  const observed: string[] = [];

  const formats: Array<[string, 'hf' | 'mlc', Quantization]> = [
    ['HF f32', 'hf', 'q0f32'],
    ['HF f16', 'hf', 'q0f16'],
    ['MLC q0f32', 'mlc', 'q0f32'],
    ['MLC q0f16', 'mlc', 'q0f16'],
    ['MLC q4f16_1', 'mlc', 'q4f16_1'],
    ['MLC q4f32_1', 'mlc', 'q4f32_1'],
  ];

  for (const arch of ['qwen2', 'llama'] as const) {
    it(`${arch}: score matches the reference in every format, with and without a PEFT adapter`, async () => {
      const rt = gpu();
      for (const [label, format, quant] of formats) {
        const model = await tinyModel(arch, format, quant);
        const c = model.config;
        const engine = await Engine.create(model, rt);
        const ref = new ReferenceModel(c, model.weights);
        const tokens = randomTokens(11, 14, c.vocabSize);
        const P = 5;
        const lora = randomLoraAdapter(c, 3);
        engine.addAdapter('peft', peftFiles(c, lora));

        const base = await engine.score(tokens.slice(0, P), tokens.slice(P));
        const wantBase = ref.logProbs(tokens, P);
        const withLora = await engine.score(tokens.slice(0, P), tokens.slice(P), { adapter: 'peft' });
        const wantLora = ref.logProbs(tokens, P, lora);
        const errBase = maxAbsDiff(base, wantBase);
        const errLora = maxAbsDiff(withLora, wantLora);
        observed.push(`${arch} ${label}: base ${errBase.toExponential(2)}, lora ${errLora.toExponential(2)}`);
        expect(errBase, `${arch} ${label} base`).toBeLessThanOrEqual(TOL);
        expect(errLora, `${arch} ${label} lora`).toBeLessThanOrEqual(TOL);
        expect(maxAbsDiff(wantBase, wantLora), 'the adapter changes the model').toBeGreaterThan(0.05);
        engine.dispose();
      }
    });
  }

  it('prefill then decode (KV cache) gives the logits of one full prefill; chunked scoring agrees', async () => {
    const rt = gpu();
    const model = await tinyModel('llama', 'hf', 'q0f32');
    const c = model.config;
    const engine = await Engine.create(model, rt, { chunkTokens: 5 });
    const lora = randomLoraAdapter(c, 4);
    engine.addAdapter('a', lora);
    const tokens = randomTokens(12, 16, c.vocabSize);
    const V = c.vocabSize;
    for (const adapter of [undefined, 'a']) {
      const opts = adapter ? { adapter } : {};
      const full = await engine.logits(tokens, opts); // chunks of 5 through the cache
      const want = new ReferenceModel(c, model.weights).forward(tokens, adapter ? lora : undefined);
      for (let t = 0; t < tokens.length; t++) expect(maxAbsDiff(full.subarray(t * V, (t + 1) * V), want[t]!)).toBeLessThanOrEqual(TOL);
      const session = engine.session({ ...opts, maxTokens: 32 });
      await session.append(tokens.slice(0, 9)); // 9 > chunk: two prefill forwards
      expect(session.length).toBe(9);
      let worst = maxAbsDiff(await session.logits(), full.subarray(8 * V, 9 * V));
      for (let t = 9; t < tokens.length; t++) {
        await session.append([tokens[t]!]);
        worst = Math.max(worst, maxAbsDiff(await session.logits(), full.subarray(t * V, (t + 1) * V)));
      }
      observed.push(`KV cache decode vs full prefill (${adapter ?? 'base'}): ${worst.toExponential(2)}`);
      expect(worst).toBeLessThanOrEqual(1e-4);
      session.dispose();
    }
    engine.dispose();
  });

  it('topK and greedy decoding: sorted, consistent with the logits, deterministic across runs', async () => {
    const rt = gpu();
    const model = await tinyModel('qwen2', 'mlc', 'q4f16_1');
    const engine = await Engine.create(model, rt);
    const prompt = randomTokens(13, 6, model.config.vocabSize);
    const greedy = async (): Promise<{ ids: number[]; logits: Float32Array[] }> => {
      const s = engine.session({ maxTokens: 16 });
      await s.append(prompt);
      const ids: number[] = [];
      const logits: Float32Array[] = [];
      for (let i = 0; i < 8; i++) {
        const { indices } = await s.topK(1, 0);
        logits.push(await s.logits());
        ids.push(indices[0]!);
        await s.append([indices[0]!]);
      }
      s.dispose();
      return { ids, logits };
    };
    const a = await greedy();
    const b = await greedy();
    expect(b.ids).toEqual(a.ids);
    a.logits.forEach((l, i) => expect(Array.from(b.logits[i]!)).toEqual(Array.from(l)));
    a.logits.forEach((l, i) => expect(a.ids[i]).toBe(l.indexOf(Math.max(...l))));

    const s = engine.session({ maxTokens: 8 });
    await s.append(prompt);
    const logits = await s.logits();
    const T = 0.7;
    const { values, indices, lse } = await s.topK(5, T);
    const sorted = Array.from(logits).map((v, i) => [v, i] as const).sort((x, y) => y[0] - x[0] || x[1] - y[1]);
    expect(Array.from(indices)).toEqual(sorted.slice(0, 5).map((x) => x[1]));
    expect(Array.from(values)).toEqual(sorted.slice(0, 5).map((x) => x[0]));
    const max = Math.max(...logits) / T;
    const wantLse = max + Math.log(Array.from(logits).reduce((sum, v) => sum + Math.exp(v / T - max), 0));
    expect(Math.abs(lse - wantLse)).toBeLessThanOrEqual(1e-4);
    // Bounds and misuse.
    await expect(s.append([0, 1, 2])).rejects.toThrow(/exceed this session's 8/);
    await expect(s.append([model.config.vocabSize])).rejects.toThrow(/outside the vocabulary/);
    s.dispose();
    await expect(engine.session().topK(1, 0)).rejects.toThrow(/append at least one token/);
    await expect(engine.score([], [1])).rejects.toThrow(/at least one token/);
    engine.dispose();
  });

  it('adapters: PEFT errors name file and tensor; in-use adapters cannot be removed; export round-trips', async () => {
    const rt = gpu();
    const model = await tinyModel('qwen2', 'hf', 'q0f32');
    const c = model.config;
    const engine = await Engine.create(model, rt);
    // An adapter for a wider base model (hidden 96): q_proj's A is [4, 96].
    const wide: ModelConfig = { ...c, hiddenSize: 96 };
    const bad = randomLoraAdapter(wide, 5);
    expect(() => engine.addAdapter('bad', peftFiles(wide, bad))).toThrow(
      "adapter_model.safetensors: base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight has shape [4, 96], the base model's q_proj takes 64 inputs: this adapter was trained for another base model",
    );
    expect(engine.adapterNames).toEqual([]);

    const lora = randomLoraAdapter(c, 6);
    const files = writePeftAdapter({ ...lora, dropout: 0.1 }, c, { baseModel: 'tiny' });
    engine.addAdapter('x', { config: files.get('adapter_config.json')!, weights: files.get('adapter_model.safetensors')! });
    const tokens = randomTokens(14, 10, c.vocabSize);
    const got = await engine.score(tokens.slice(0, 4), tokens.slice(4), { adapter: 'x' });
    expect(maxAbsDiff(got, new ReferenceModel(c, model.weights).logProbs(tokens, 4, lora))).toBeLessThanOrEqual(TOL);
    expect(engine.getAdapter('x').dropout).toBeCloseTo(0.1);
    const s = engine.session({ adapter: 'x', maxTokens: 4 });
    expect(() => engine.removeAdapter('x')).toThrow(/used by 1 open session/);
    s.dispose();
    engine.removeAdapter('x');
    await expect(engine.score([1], [2], { adapter: 'x' })).rejects.toThrow(/no adapter named "x"/);
    engine.dispose();
  });

  it('prefix reuse: a session starting from a kept cache gives the logits of a fresh prefill; changeable adapters are never reused', async () => {
    const rt = gpu();
    const model = await tinyModel('qwen2', 'mlc', 'q4f16_1');
    const c = model.config;
    const engine = await Engine.create(model, rt, { chunkTokens: 7, prefixCaches: 2 });
    engine.addAdapter('peft', randomLoraAdapter(c, 8));
    const shared = randomTokens(21, 20, c.vocabSize);
    const [a, b] = [shared.concat(randomTokens(22, 5, c.vocabSize)), shared.concat(randomTokens(23, 6, c.vocabSize))];
    const c1 = randomTokens(24, 18, c.vocabSize);
    const fresh = async (ids: number[], adapter?: string): Promise<Float32Array> => {
      const s = engine.session({ ...(adapter ? { adapter } : {}), maxTokens: 40 });
      await s.append(ids);
      const logits = await s.logits();
      s.dispose();
      return logits;
    };
    for (const adapter of [undefined, 'peft']) {
      const opts = adapter ? { adapter } : {};
      const first = engine.session({ ...opts, maxTokens: 40, reusePrefixOf: a });
      expect(first.length).toBe(0);
      await first.append(a);
      await first.append([3, 4]); // generated tokens are part of what is kept
      first.dispose();
      const other = engine.session({ ...opts, maxTokens: 40, reusePrefixOf: c1 }); // shares nothing: a second cache
      expect(other.length).toBe(0);
      await other.append(c1);
      other.dispose();
      // b shares a's 20-token prefix; b again reuses all but its last token; c1's cache is still kept.
      for (const [prompt, kept] of [[b, 20], [b, b.length - 1], [c1.concat([5]), c1.length]] as const) {
        const s = engine.session({ ...opts, maxTokens: 40, reusePrefixOf: prompt });
        expect(s.length).toBe(kept);
        await s.append(prompt.slice(s.length));
        expect(maxAbsDiff(await s.logits(), await fresh(prompt, adapter))).toBeLessThanOrEqual(1e-5);
        s.dispose();
      }
      // Too long for the kept caches (rounded to 256 positions): a fresh one.
      const long = engine.session({ ...opts, maxTokens: 300, reusePrefixOf: a });
      expect(long.length).toBe(0);
      long.dispose();
    }
    // The trainer's adapters change in place: taking one with getAdapter drops and stops its reuse.
    engine.getAdapter('peft');
    const s = engine.session({ adapter: 'peft', maxTokens: 40, reusePrefixOf: a });
    expect(s.length).toBe(0);
    await s.append(a);
    s.dispose();
    const again = engine.session({ adapter: 'peft', maxTokens: 40, reusePrefixOf: a });
    expect(again.length).toBe(0);
    again.dispose();
    // A failed append leaves nothing to reuse; kept caches do not block removing their adapter.
    const broken = engine.session({ maxTokens: 40, reusePrefixOf: a });
    await expect(broken.append([c.vocabSize])).rejects.toThrow(/outside the vocabulary/);
    broken.dispose();
    engine.removeAdapter('peft');
    engine.dispose();
  });

  it('reports the observed errors', () => {
    console.log(`engine max |Δ logprob| vs reference:\n  ${observed.join('\n  ')}`);
  });
});
