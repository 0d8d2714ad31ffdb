// Proof that the trainer learns, on a tiny random model (fixed seed) and the synthetic memory-operation
// task (one of four letters; a random policy scores ~0.25):
//   - GRPO raises the mean sampled reward clearly above where it started;
//   - SFT lowers its cross-entropy; PPO runs end to end with finite metrics;
//   - the exported PEFT adapter re-imports to identical scores;
//   - a run resumed from a checkpoint continues with the same metrics as an uninterrupted one.
// GRPO settings for the tiny model: LoRA r 8 / α 16 on all seven targets, lr 3e-3 (1e-4 is for real
// models; a random 2-layer model needs larger steps, and 5e-3 collapses the policy onto one letter per
// class before it has found the right ones), β = 0 (no reference pass: half the forwards), P = 8
// prompts × G = 16 samples (G costs nothing extra here: the G samples of a prompt share one forward
// and one backward), 30 steps. Observed (seed 0): mean reward 0.28 over steps 1-3, 0.55 over 26-30.
import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../gpu/test-runtime';
import { Engine } from '../model/engine';
import { loadModel, type LoadedModel } from '../model/load';
import { PEFT_CONFIG, PEFT_WEIGHTS } from '../model/peft';
import { MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import { decodeCheckpoint, latestCheckpoint, MemoryCheckpointStorage, resumeTrainer, saveCheckpoint } from './checkpoint';
import { syntheticTask } from './tasks/synthetic';
import { Trainer, type StepMetrics, type TrainerOptions } from './trainer';

const GRPO: TrainerOptions = {
  algorithm: 'grpo',
  totalSteps: 30,
  promptsPerStep: 8,
  groupSize: 16,
  lora: { rank: 8, alpha: 16 },
  optimizer: { lr: 3e-3 },
  grpo: { beta: 0 },
};

async function tiny(seed = 1): Promise<LoadedModel> {
  return loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed }), 'tiny-qwen2'));
}

const meanOf = (ms: readonly StepMetrics[]): number => ms.reduce((s, m) => s + (m.rewardMean ?? 0), 0) / ms.length;

describe('trainer on the synthetic task (tiny model)', () => {
  const gpu = useGpuRuntime();

  it('GRPO raises the mean reward', async () => {
    const engine = await Engine.create(await tiny(), gpu());
    const trainer = new Trainer(engine, { ...GRPO, seed: 0 }, syntheticTask());
    const history = await trainer.run();
    const curve = history.map((m) => m.rewardMean!.toFixed(2)).join(' ');
    console.log(`GRPO reward per step: ${curve}; ${(history.reduce((s, m) => s + m.tokensPerSecond, 0) / history.length).toFixed(0)} training tokens/s`);
    for (const m of history) {
      expect(Number.isFinite(m.loss) && Number.isFinite(m.gradNorm)).toBe(true);
      expect(m.skippedSteps).toBe(0);
    }
    const first = meanOf(history.slice(0, 3));
    const last = meanOf(history.slice(-5));
    expect(last - first, curve).toBeGreaterThanOrEqual(0.2);
    trainer.dispose();
    engine.dispose();
  }, 600_000);

  it('SFT lowers its loss; PPO runs end to end', async () => {
    const engine = await Engine.create(await tiny(), gpu());
    const sft = new Trainer(engine, { algorithm: 'sft', totalSteps: 8, promptsPerStep: 4, lora: { rank: 8, alpha: 16 }, optimizer: { lr: 5e-3 }, adapterName: 'sft' }, syntheticTask());
    const s = await sft.run();
    console.log(`SFT loss per step: ${s.map((m) => m.loss.toFixed(3)).join(' ')}`);
    expect(s.slice(-2).reduce((a, m) => a + m.loss, 0) / 2).toBeLessThan(0.6 * ((s[0]!.loss + s[1]!.loss) / 2));
    sft.dispose();

    const ppo = new Trainer(engine, { algorithm: 'ppo', totalSteps: 3, promptsPerStep: 2, groupSize: 4, lora: { rank: 4, alpha: 8 }, optimizer: { lr: 5e-3 }, adapterName: 'ppo' }, syntheticTask());
    const p = await ppo.run();
    console.log(`PPO: ${p.map((m) => `reward ${m.rewardMean!.toFixed(2)} loss ${m.loss.toFixed(4)} value_loss ${m.extra.value_loss!.toFixed(4)}`).join('; ')}`);
    for (const m of p) for (const v of [m.rewardMean!, m.loss, m.kl, m.gradNorm, m.clipFraction, m.extra.value_loss!]) expect(Number.isFinite(v)).toBe(true);
    expect(ppo.valueHeadState()!.params.some((v) => v !== 0)).toBe(true); // the value head trained
    ppo.dispose();
    engine.dispose();
  }, 600_000);

  it('exports a PEFT adapter that re-imports to identical scores', async () => {
    const engine = await Engine.create(await tiny(), gpu());
    const trainer = new Trainer(engine, { ...GRPO, totalSteps: 2, promptsPerStep: 2, groupSize: 4, optimizer: { lr: 5e-3 } }, syntheticTask());
    await trainer.run();
    const files = await trainer.exportPeft('tiny');
    engine.addAdapter('reimported', { config: files.get(PEFT_CONFIG)!, weights: files.get(PEFT_WEIGHTS)! });
    const prompt = engine.tokenizer.encode('Memory: likes tea\nFact: no longer likes tea\nOperation (A=ADD, N=NONE, U=UPDATE, D=DELETE):', { addSpecialTokens: true });
    const completion = engine.tokenizer.encode('D and more');
    const trained = await engine.score(prompt, completion, { adapter: 'train' });
    const again = await engine.score(prompt, completion, { adapter: 'reimported' });
    const base = await engine.score(prompt, completion);
    trained.forEach((v, i) => expect(Math.abs(v - again[i]!)).toBeLessThanOrEqual(1e-6));
    expect(trained.some((v, i) => Math.abs(v - base[i]!) > 1e-4)).toBe(true); // training changed the policy
    trainer.dispose();
    engine.dispose();
  }, 600_000);

  it('resumes from a checkpoint with the same subsequent metrics', async () => {
    const options: TrainerOptions = { ...GRPO, totalSteps: 4, promptsPerStep: 2, groupSize: 4, grpo: { beta: 0.04 } };
    const storage = new MemoryCheckpointStorage();
    const model = await tiny();
    const engine = await Engine.create(model, gpu());
    const straight = new Trainer(engine, options, syntheticTask());
    const all: StepMetrics[] = [];
    await straight.run({
      onProgress: async (m) => {
        all.push(m);
        if (m.step === 2) await saveCheckpoint(storage, straight);
      },
    });
    straight.dispose();
    engine.dispose();

    // "Restart": a new engine, the trainer rebuilt from the stored bytes only.
    const engine2 = await Engine.create(model, gpu());
    const name = (await latestCheckpoint(storage))!;
    const resumed = await resumeTrainer(engine2, decodeCheckpoint(await storage.load(name), name), syntheticTask());
    expect(resumed.stepsDone).toBe(2);
    const rest = await resumed.run();
    expect(rest.map((m) => m.step)).toEqual([3, 4]);
    expect(resumed.history.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    rest.forEach((m, i) => {
      const want = all[2 + i]!;
      expect(m.rewardMean).toBe(want.rewardMean); // the same samples
      for (const key of ['loss', 'kl', 'gradNorm', 'clipFraction'] as const) expect(Math.abs(m[key] - want[key]), key).toBeLessThanOrEqual(1e-6 * Math.max(1, Math.abs(want[key])));
    });
    resumed.dispose();
    engine2.dispose();
  }, 600_000);
});
