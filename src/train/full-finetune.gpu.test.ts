// Full fine-tuning's backward: the GPU's gradients of L = Σ_t g_t·logp_t for EVERY base weight
// (embedding, qkv and its bias, o, gate_up, down, both norms of every layer, the final norm, an untied
// lm_head) against central finite differences of the float64 reference model, on tiny models of both
// architectures (qwen2: qkv bias, tied embeddings, so the lm_head's gradient lands in the embedding;
// llama: untied lm_head). The host weights are f32: each step is the exact difference between the
// perturbed f32 value and the original, so the quotient stays exact to float64 rounding.
// Then GRPO over all weights with its HF export, and checkpoints: a run resumed on a freshly loaded
// engine ends bit for bit where the uninterrupted run does, and mismatched resumes are refused.
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
import { checkpointOf, decodeCheckpoint, encodeCheckpoint, MemoryCheckpointStorage, resumeTrainer, saveCheckpoint } from './checkpoint';
import { FULL_FINETUNE_LR, resolveConfig } from './config';
import { syntheticTask } from './tasks/synthetic';
import { Trainer, type StepMetrics, type TrainerOptions } from './trainer';

const BOUND = 1e-3; // f32 GPU vs float64 FD over f32-representable steps (observed well below)

describe('full fine-tuning: base-weight gradients vs float64 finite differences, training, checkpoints', () => {
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

  it('checkpoints and resumes bit for bit: 4 steps straight = 2 + resume on a fresh engine + 2; refuses a mismatched resume', async () => {
    const files = makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1 });
    const load = async (f = files) => Engine.create(await loadModel(new MemorySource(f, 'tiny')), gpu());
    const options: TrainerOptions = { fineTune: 'full', algorithm: 'grpo', totalSteps: 4, promptsPerStep: 2, groupSize: 4, optimizer: { lr: 1e-3 }, grpo: { beta: 0.04 } };
    const storage = new MemoryCheckpointStorage();
    const engine = await load();
    const straight = new Trainer(engine, options, syntheticTask());
    const all: StepMetrics[] = [];
    await straight.run({
      onProgress: async (m) => {
        all.push(m);
        if (m.step === 2) await saveCheckpoint(storage, straight, 'half.ckpt');
      },
    });
    const want = (await straight.fullWeights()).tensors;
    straight.dispose();
    engine.dispose();

    const ck = decodeCheckpoint(await storage.load('half.ckpt'), 'half.ckpt');
    expect(ck.adapter).toBeNull();
    expect(ck.full!.tensors.length).toBe(want.length);
    const engine2 = await load();
    const resumed = await resumeTrainer(engine2, ck, syntheticTask());
    expect(resumed.stepsDone).toBe(2);
    const rest = await resumed.run();
    rest.forEach((m, i) => {
      for (const key of ['rewardMean', 'loss', 'kl', 'gradNorm', 'clipFraction', 'lr'] as const) expect(m[key], `step ${m.step} ${key}`).toBe(all[2 + i]![key]);
    });
    const got = (await resumed.fullWeights()).tensors;
    let differing = 0;
    got.forEach((t, k) => t.forEach((v, j) => (differing += Object.is(v, want[k]![j]) ? 0 : 1)));
    expect(differing, 'weights differing from the uninterrupted run').toBe(0);
    // The trained model's checkpoint is the starting weights' fingerprint, not theirs.
    expect((await resumed.fullWeights()).baseFingerprint).toBe(ck.full!.baseFingerprint);
    resumed.dispose();

    // Refusals: a full checkpoint as LoRA, a LoRA one as full, another base of the same shape, another shape.
    await expect(resumeTrainer(engine2, ck, syntheticTask(), { fineTune: 'lora' })).rejects.toThrow(/full fine-tuning \(every weight\) run; it cannot be resumed as LoRA/);
    const lora = new Trainer(engine2, { algorithm: 'grpo', totalSteps: 1, lora: { rank: 2, alpha: 4 }, adapterName: 'lora' }, syntheticTask());
    const loraCk = decodeCheckpoint(encodeCheckpoint(await checkpointOf(lora)));
    lora.dispose();
    await expect(resumeTrainer(engine2, loraCk, syntheticTask(), { fineTune: 'full' })).rejects.toThrow(/LoRA run; it cannot be resumed as full fine-tuning/);
    engine2.dispose();
    const other = await load(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 2 }));
    await expect(resumeTrainer(other, ck, syntheticTask())).rejects.toThrow(/started from other weights than this model has/);
    other.dispose();
    const llama = await load(makeTinyModel({ format: 'hf', arch: 'llama', seed: 1 }));
    await expect(resumeTrainer(llama, ck, syntheticTask())).rejects.toThrow(/model of another shape/);
    await expect(resumeTrainer(llama, loraCk, syntheticTask())).rejects.toThrow(/the checkpoint's adapter does not fit this model \(.+\): resume it on the model it was trained from/);
    llama.dispose();
    const f16 = await load(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1, quant: 'q0f16' }));
    expect(() => new Trainer(f16, options, syntheticTask())).toThrow(/needs the weights in float32/);
    f16.dispose();
  }, 300_000);
});
