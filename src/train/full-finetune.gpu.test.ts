// Full fine-tuning's backward: the GPU's gradients of L = Σ_t g_t·logp_t for EVERY base weight
// (embedding, qkv and its bias, o, gate_up, down, both norms of every layer, the final norm, an untied
// lm_head) against central finite differences of the float64 reference model, on tiny models of both
// architectures (qwen2: qkv bias, tied embeddings, so the lm_head's gradient lands in the embedding;
// llama: untied lm_head). The host weights are f32: each step is the exact difference between the
// perturbed f32 value and the original, so the quotient stays exact to float64 rounding.
import { describe, expect, it } from 'vitest';
import { report } from '../gpu/kernels/backward/gradcheck';
import { useGpuRuntime } from '../gpu/test-runtime';
import { rng } from '../gpu/testing';
import type { Architecture } from '../model/config';
import { Engine } from '../model/engine';
import { loadModel } from '../model/load';
import { ReferenceModel } from '../model/reference';
import { MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import type { WeightTensor } from '../model/weights';
import { SequencePass, zeroFullGrads, type FullGrads } from './backprop';
import { FULL_FINETUNE_LR, resolveConfig } from './config';
import { syntheticTask } from './tasks/synthetic';
import { Trainer } from './trainer';

const BOUND = 1e-3; // f32 GPU vs float64 FD over f32-representable steps (observed well below)

describe('full fine-tuning: base-weight gradients vs float64 finite differences', () => {
  const gpu = useGpuRuntime();

  for (const arch of ['qwen2', 'llama'] as Architecture[]) {
    it(`${arch}: every weight of the model`, async () => {
      const model = await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch, seed: 13 }), `tiny-${arch}`));
      const engine = await Engine.create(model, gpu());
      const c = model.config;
      const random = rng(arch === 'qwen2' ? 51 : 52);
      const [T, P] = [8, 3];
      const ids = Array.from({ length: T }, () => Math.floor(random() * c.vocabSize));
      const g = Array.from({ length: T - P }, () => 2 * random() - 1);
      const tied = c.tieWordEmbeddings;
      const grads = zeroFullGrads(engine.runtime, engine.weights, tied);
      const pass = await SequencePass.forward(engine, null, { ids, promptLength: P });
      pass.backward([g], [], undefined, grads);

      const loss = (): number => new ReferenceModel(c, model.weights).logProbs(ids, P).reduce((s, v, t) => s + g[t]! * v, 0);
      const checks: Array<[string, WeightTensor, keyof FullGrads | [number, string]]> = [['embed_tokens', model.weights.embedTokens, 'embedTokens'], ['norm', model.weights.norm, 'norm']];
      if (!tied) checks.push(['lm_head', model.weights.lmHead!, 'lmHead']);
      model.weights.layers.forEach((l, i) => {
        for (const key of ['inputLayernorm', 'qkv', 'qkvBias', 'oProj', 'postAttentionLayernorm', 'gateUp', 'downProj'] as const) {
          const t = l[key];
          if (t) checks.push([`${i}.${key}`, t, [i, key]]);
        }
      });
      let worst = 0;
      for (const [name, tensor, where] of checks) {
        const gpuGrad = Array.isArray(where) ? (grads.layers[where[0]] as unknown as Record<string, import('../gpu').GpuTensor>)[where[1]]! : (grads[where] as import('../gpu').GpuTensor);
        const got = await engine.runtime.download(gpuGrad);
        if (tensor.data.kind !== 'f32') throw new Error('the tiny model is f32');
        const values = tensor.data.data;
        // The embedding: rows of the sequence's tokens (others have zero gradient unless tied); else random entries.
        const picks = Array.from({ length: 5 }, (_, n) => (name === 'embed_tokens' && n < 3 ? ids[n]! * c.hiddenSize + Math.floor(random() * c.hiddenSize) : Math.floor(random() * values.length)));
        let diff = 0;
        let scale = 0;
        for (const k of picks) {
          const saved = values[k]!;
          values[k] = saved + 1e-3;
          const up = values[k]! - saved;
          const plus = loss();
          values[k] = saved - 1e-3;
          const down = saved - values[k]!;
          const minus = loss();
          values[k] = saved;
          const fd = (plus - minus) / (up + down);
          diff = Math.max(diff, Math.abs(got[k]! - fd));
          scale = Math.max(scale, Math.abs(fd));
        }
        expect(scale, `${name} has a non-zero gradient`).toBeGreaterThan(1e-5);
        const error = report(`${arch} ${name}`, diff / scale, BOUND);
        worst = Math.max(worst, error);
        expect(error, name).toBeLessThanOrEqual(BOUND);
      }
      report(`${arch} worst over all weights`, worst, BOUND);
      engine.dispose();
    }, 180_000);
  }

  it('GRPO over all weights: the policy moves, the reference stays the start, and the HF export loads to the same logits', async () => {
    expect(resolveConfig({ fineTune: 'full' }).optimizer.lr).toBe(FULL_FINETUNE_LR);
    const files = makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1 });
    const engine = await Engine.create(await loadModel(new MemorySource(files, 'tiny-qwen2')), gpu());
    const ids = [5, 17, 99, 42, 7, 300];
    const before = await engine.logits(ids);
    const trainer = new Trainer(engine, { fineTune: 'full', algorithm: 'grpo', totalSteps: 2, promptsPerStep: 4, groupSize: 8, optimizer: { lr: 1e-3 }, grpo: { beta: 0.04 } }, syntheticTask());
    expect(trainer.adapter).toBeNull();
    const history = await trainer.run();
    for (const m of history) expect(Number.isFinite(m.loss) && m.gradNorm > 0, JSON.stringify(m)).toBe(true);
    // Step 1 compares the policy with an exact copy of itself; by step 2 the policy has moved from it.
    expect(history[0]!.kl).toBe(0);
    expect(history[1]!.kl).toBeGreaterThan(0);
    const after = await engine.logits(ids);
    expect(after.some((v, i) => Math.abs(v - before[i]!) > 1e-4)).toBe(true);
    const exported = await trainer.exportHf(new MemorySource(files, 'tiny-qwen2'));
    expect([...exported.keys()].sort()).toEqual(expect.arrayContaining(['config.json', 'model.safetensors', 'tokenizer.json']));
    const reloaded = await Engine.create(await loadModel(new MemorySource(exported, 'exported')), gpu());
    const again = await reloaded.logits(ids);
    let worst = 0;
    after.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - again[i]!))));
    expect(worst).toBeLessThan(1e-4);
    await expect(trainer.downloadAdapter()).rejects.toThrow(/no adapter/);
    trainer.dispose();
    reloaded.dispose();
    engine.dispose();
  }, 180_000);
});
