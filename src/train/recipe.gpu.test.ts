// The training recipe on tiny models (random weights, fixed seeds):
//   - log-probs at the sampling temperature: SequencePass's logp = log softmax(logits / T) of the
//     engine's own logits, and its backward matches float64 finite differences of that quantity;
//   - completion caps and the JSON-Schema constraint: a rollout of a ten-operation reply parses under
//     the task's 1,024-token cap, and is cut at the old 64;
//   - PPO's critic never moves the policy (critic warm-up leaves the LoRA bytes unchanged; the value
//     loss's weight does not change the policy update);
//   - validation keeps the best step's checkpoint;
//   - dynamic sampling drops zero-variance groups; gradient accumulation equals one large batch.
import { describe, expect, it } from 'vitest';
import { report, sampledGradCheck } from '../gpu/kernels/backward/gradcheck';
import { useGpuRuntime } from '../gpu/test-runtime';
import { rng } from '../gpu/testing';
import { Engine } from '../model/engine';
import type { GpuRuntime } from '../gpu';
import { loadModel, type LoadedModel } from '../model/load';
import type { HostLoraAdapter } from '../model/lora';
import { ReferenceModel } from '../model/reference';
import type { Rng } from '../model/rng';
import { MemorySource } from '../model/source';
import { randomLoraAdapter } from '../model/testing';
import { makeTinyModel } from '../model/tiny';
import { loraParams, SequencePass, zeroLoraGrads } from './backprop';
import { BEST_CHECKPOINT, decodeCheckpoint, MemoryCheckpointStorage, resumeTrainer, saveCheckpoint } from './checkpoint';
import { resolveConfig } from './config';
import { DEFAULT_OPTIMIZER, LoraOptimizer } from './optimizer';
import { LoraParams } from './params';
import { completionCap, RolloutSampler } from './rollouts';
import type { TaskExample, TrainingTask } from './task';
import { syntheticTask } from './tasks/synthetic';
import { Trainer, type StepMetrics, type TrainerOptions } from './trainer';

async function tinyModel(seed = 1): Promise<LoadedModel> {
  return loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed }), 'tiny-qwen2'));
}

async function tinyEngine(gpu: () => GpuRuntime, seed = 1): Promise<Engine> {
  return Engine.create(await tinyModel(seed), gpu());
}

const logSoftmaxAt = (row: ArrayLike<number>, token: number, T: number): number => {
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) max = Math.max(max, row[j]! / T);
  let sum = 0;
  for (let j = 0; j < row.length; j++) sum += Math.exp(row[j]! / T - max);
  return row[token]! / T - max - Math.log(sum);
};

const flatAdapter = (a: HostLoraAdapter): number[] => a.layers.flatMap((l) => Object.values(l).flatMap((m) => [...Array.from(m!.a), ...Array.from(m!.b)]));

describe('training recipe (tiny models)', () => {
  const gpu = useGpuRuntime();

  it('log-probs at the sampling temperature: log softmax(logits / T), with their gradient', async () => {
    const model = await tinyModel();
    const engine = await Engine.create(model, gpu());
    const c = engine.config;
    const random = rng(31);
    const T = 0.7;
    const ids = Array.from({ length: 8 }, () => Math.floor(random() * c.vocabSize));
    const P = 4;
    const host = randomLoraAdapter(c, 41, { rank: 2, alpha: 4, float64: true });
    engine.addAdapter('tempered', host);
    const adapter = engine.getAdapter('tempered');
    const pass = await SequencePass.forward(engine, adapter, { ids, promptLength: P }, { temperature: T });
    const logits = await engine.logits(ids, { adapter: 'tempered' });
    const V = c.vocabSize;
    pass.logp.forEach((v, t) => {
      const want = logSoftmaxAt(logits.subarray((P - 1 + t) * V, (P + t) * V), ids[P + t]!, T);
      expect(Math.abs(v - want)).toBeLessThan(1e-4);
      expect(Math.abs(v - logSoftmaxAt(logits.subarray((P - 1 + t) * V, (P + t) * V), ids[P + t]!, 1))).toBeGreaterThan(1e-3);
    });
    const g = Array.from({ length: ids.length - P }, () => 2 * random() - 1);
    const grads = zeroLoraGrads(engine.runtime, adapter);
    pass.backward([g], grads);
    const ref = new ReferenceModel(c, model.weights);
    const loss = (): number => {
      const rows = ref.forward(ids, host);
      return g.reduce((s, gt, t) => s + gt * logSoftmaxAt(rows[P - 1 + t]!, ids[P + t]!, T), 0);
    };
    const h = 1e-5;
    for (const [layer, target, which] of [[0, 'q', 'B'], [1, 'down', 'A'], [1, 'v', 'B']] as const) {
      const got = await engine.runtime.download(grads[layer]![target]![which]);
      const values = host.layers[layer]![target]![which === 'A' ? 'a' : 'b'] as Float64Array;
      const picks = Array.from({ length: 4 }, () => Math.floor(random() * values.length));
      const { diff, scale } = sampledGradCheck(loss, values, got, picks, h);
      expect(scale).toBeGreaterThan(1e-4);
      expect(report(`tempered T=${T} layer ${layer} ${target}.${which}`, diff / scale, 1e-4)).toBeLessThanOrEqual(1e-4);
    }
    engine.dispose();
  }, 120_000);

  it('a ten-operation reply decoded under the schema parses within the task cap; the old 64-token cap cuts it', async () => {
    const engine = await tinyEngine(gpu);
    // The manager's reply shape without texts (each token costs a decode step): exactly ten operations.
    const schema = {
      type: 'object',
      properties: {
        memory: {
          type: 'array',
          minItems: 10,
          maxItems: 10,
          items: {
            type: 'object',
            properties: { id: { type: 'string', enum: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] }, event: { type: 'string', enum: ['ADD', 'UPDATE', 'DELETE', 'NONE'] } },
            required: ['id', 'event'],
            additionalProperties: false,
          },
        },
      },
      required: ['memory'],
      additionalProperties: false,
    };
    const completions: string[] = [];
    const task: TrainingTask = {
      name: 'ten-ops',
      maxCompletionTokens: 1024,
      jsonSchema: schema,
      examples: (_rng, count) => Array.from({ length: count }, () => ({ prompt: 'Facts: 1 2 3 4 5 6 7 8 9 10\nOperations:' })),
      reward: (_e, text) => {
        completions.push(text);
        try {
          return (JSON.parse(text) as { memory: unknown[] }).memory.length === 10 ? 1 : 0;
        } catch {
          return 0;
        }
      },
    };
    // The trainer's rollout sampler with its LoRA policy, one rollout per prompt (the costly part is
    // decoding: each token is a step; the training passes over rollouts are the other tests' subject).
    const sampler = (maxCompletionTokens: number | null): RolloutSampler<TaskExample> => {
      const config = resolveConfig({ algorithm: 'ppo', groupSize: 1, maxCompletionTokens, lora: { rank: 2, alpha: 4 }, adapterName: 'cap' });
      const adapter = engine.getAdapter('cap');
      const params = new LoraParams(engine, adapter, new LoraOptimizer(engine.runtime, loraParams(adapter), DEFAULT_OPTIMIZER));
      return new RolloutSampler(engine, params, config, task, completionCap(config, task));
    };
    // A fresh adapter (empty: the base model's distribution), as a run starts.
    engine.addAdapter('cap', { rank: 2, alpha: 4, layers: Array.from({ length: engine.config.numLayers }, () => ({})) });
    const [example] = task.examples(rng(1), 1);
    const long = await sampler(null).rollouts([example!], rng(2), false);
    expect(long.truncated).toBe(0);
    expect(long.rollouts).toHaveLength(1);
    expect(long.rollouts[0]!.reward).toBe(1);
    expect(completions).toHaveLength(1);
    expect(engine.tokenizer.encode(completions[0]!).length).toBeGreaterThan(64);
    expect(long.rollouts[0]!.oldLogp.length).toBe(long.rollouts[0]!.completionIds.length);
    // At 64 tokens not even the shortest ten-operation reply fits: the rollout is cut (and counted).
    const cut = await sampler(64).rollouts([example!], rng(2), false);
    expect(cut.truncated).toBe(1);
    engine.dispose();
  }, 300_000);

  it("PPO's critic never moves the policy", async () => {
    const engine = await tinyEngine(gpu);
    const ppo: TrainerOptions = { algorithm: 'ppo', totalSteps: 2, promptsPerStep: 2, groupSize: 4, lora: { rank: 2, alpha: 4 }, optimizer: { lr: 5e-3 }, valueLr: 1e-2 };
    // Critic warm-up: the value head learns, the LoRA's bytes stay as they were.
    const warm = new Trainer(engine, { ...ppo, adapterName: 'warm', criticWarmupSteps: 1 }, syntheticTask());
    const before = flatAdapter(await warm.downloadAdapter());
    const head = warm.valueHeadState()!.params;
    await warm.step();
    expect(flatAdapter(await warm.downloadAdapter())).toEqual(before);
    expect(warm.valueHeadState()!.params).not.toEqual(head);
    warm.dispose();
    // The value loss's weight changes the critic's update only: the policy's update is the same.
    const runs: number[][] = [];
    for (const [name, valueCoefficient] of [['v0', 0], ['v1', 1]] as const) {
      const t = new Trainer(engine, { ...ppo, adapterName: name, ppo: { valueCoefficient } }, syntheticTask());
      const m = await t.step();
      expect(m.gradNorm).toBeGreaterThan(0);
      runs.push(flatAdapter(await t.downloadAdapter()));
      t.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    engine.dispose();
  }, 120_000);

  it('validation every step keeps the best-scoring step as best.ckpt, and a resumed run remembers its score (the start\'s too)', async () => {
    const engine = await tinyEngine(gpu);
    const options: TrainerOptions = { algorithm: 'grpo', totalSteps: 3, promptsPerStep: 2, groupSize: 4, lora: { rank: 2, alpha: 4 }, optimizer: { lr: 5e-3 }, grpo: { beta: 0 }, validateEvery: 1 };
    const trainer = new Trainer(engine, { ...options, adapterName: 'val' }, syntheticTask());
    // The task's own validation is a real held-out accuracy...
    const real = await trainer.validator!({ engine, adapterName: 'val', step: 0 });
    expect(real).toBeGreaterThanOrEqual(0);
    expect(real).toBeLessThanOrEqual(1);
    // ...replaced here by scripted scores (step 0 is the start), so the best step is known: step 2.
    const scores = [0.1, 0.2, 0.9, 0.4];
    trainer.validator = async ({ step }) => scores[step]!;
    const storage = new MemoryCheckpointStorage();
    const adapters: number[][] = [];
    const history: StepMetrics[] = await trainer.run({
      onBest: () => saveCheckpoint(storage, trainer, BEST_CHECKPOINT).then(() => undefined),
      onProgress: async () => {
        adapters.push(flatAdapter(await trainer.downloadAdapter()));
      },
    });
    expect(trainer.startScore).toBe(0.1);
    expect(history.map((m) => m.validation)).toEqual(scores.slice(1));
    expect(trainer.best?.step).toBe(2);
    const best = decodeCheckpoint(await storage.load(BEST_CHECKPOINT), BEST_CHECKPOINT);
    expect(best.step).toBe(2);
    expect(flatAdapter(best.adapter!)).toEqual(adapters[1]);
    expect(flatAdapter(trainer.best!.adapter!)).toEqual(adapters[1]);
    await saveCheckpoint(storage, trainer);
    trainer.dispose();
    engine.removeAdapter('val');
    const resumed = await resumeTrainer(engine, decodeCheckpoint(await storage.load('step-0000003.ckpt')), syntheticTask(), { totalSteps: 4 });
    expect(resumed.best).toEqual({ step: 2, score: 0.9 });
    expect(resumed.startScore).toBe(0.1);
    resumed.dispose();

    // A run whose every step validates worse than its start keeps the start: step 0, the fresh adapter
    // (PEFT's B = 0, so exactly the base model), saved as best.ckpt before the first step.
    const worse = new Trainer(engine, { ...options, adapterName: 'worse' }, syntheticTask());
    const fresh = flatAdapter(await worse.downloadAdapter());
    worse.validator = async ({ step }) => (step === 0 ? 0.5 : 0.5 - step / 10);
    const worseStorage = new MemoryCheckpointStorage();
    const saved: number[] = [];
    await worse.run({ onBest: (b) => { saved.push(b.step); return saveCheckpoint(worseStorage, worse, BEST_CHECKPOINT).then(() => undefined); } });
    expect(saved).toEqual([0]);
    expect(worse.best?.step).toBe(0);
    expect(flatAdapter(worse.best!.adapter!)).toEqual(fresh);
    const start = decodeCheckpoint(await worseStorage.load(BEST_CHECKPOINT), BEST_CHECKPOINT);
    expect(start.step).toBe(0);
    expect(flatAdapter(start.adapter!)).toEqual(fresh);
    expect(flatAdapter(await worse.downloadAdapter())).not.toEqual(fresh);
    await saveCheckpoint(worseStorage, worse);
    worse.dispose();
    engine.removeAdapter('worse');
    // The start's score is no step's metrics, yet a resumed run still knows it as the best to beat.
    const resumedWorse = await resumeTrainer(engine, decodeCheckpoint(await worseStorage.load('step-0000003.ckpt')), syntheticTask(), { totalSteps: 4 });
    expect(resumedWorse.best).toEqual({ step: 0, score: 0.5 });
    resumedWorse.dispose();
    engine.dispose();
  }, 120_000);

  it('dynamic sampling drops groups whose rewards agree; accumulated micro-batches equal one batch', async () => {
    const engine = await tinyEngine(gpu);
    // Prompts "flat ..." reward every choice alike (zero variance); the others reward only "A".
    let calls = 0;
    const choices = ['A', 'N', 'U', 'D'];
    const mixed: TrainingTask<TaskExample> = {
      name: 'mixed',
      examples: (_rng: Rng, count: number) => Array.from({ length: count }, (_, i) => ({ prompt: `${calls === 0 ? 'flat' : 'pick'} ${calls++} ${i}:`, choices })),
      reward: (e, text) => (e.prompt.startsWith('flat') ? 1 : text === 'A' ? 1 : 0),
    };
    const base: TrainerOptions = { algorithm: 'grpo', totalSteps: 1, promptsPerStep: 2, groupSize: 8, lora: { rank: 2, alpha: 4 }, optimizer: { lr: 5e-3 }, grpo: { beta: 0 } };
    const dyn = new Trainer(engine, { ...base, adapterName: 'dyn', dynamicSampling: true }, mixed);
    const m = await dyn.step();
    expect(m.groupsDropped).toBeGreaterThanOrEqual(1); // the first batch's "flat" prompt(s)
    expect(m.extra.groups).toBe(2);
    expect(m.extra.micro_batches).toBeGreaterThanOrEqual(2);
    dyn.dispose();

    // Fixed prompts (the examples ignore the rng): 4 prompts in one batch vs 2 micro-batches of 2.
    const fixed: TrainingTask<TaskExample> = {
      name: 'fixed',
      examples: (_rng, count) => Array.from({ length: count }, () => ({ prompt: `Fact ${calls++ % 4}:`, choices })),
      reward: (_e, text) => choices.indexOf(text) / 3, // graded: any two different picks differ in reward
    };
    const after: number[][] = [];
    let initial: number[] = [];
    for (const [name, promptsPerStep, gradientAccumulation] of [['one', 4, 1], ['acc', 2, 2]] as const) {
      calls = 0;
      const t = new Trainer(engine, { ...base, adapterName: name, promptsPerStep, gradientAccumulation }, fixed);
      initial = flatAdapter(await t.downloadAdapter());
      const m = await t.step();
      expect(m.gradNorm, name).toBeGreaterThan(0);
      after.push(flatAdapter(await t.downloadAdapter()));
      t.dispose();
    }
    const worst = after[0]!.reduce((w, v, i) => Math.max(w, Math.abs(v - after[1]![i]!)), 0);
    expect(worst).toBeLessThan(1e-5);
    expect(after[1]).not.toEqual(initial); // the update did happen
    engine.dispose();
  }, 120_000);
});
