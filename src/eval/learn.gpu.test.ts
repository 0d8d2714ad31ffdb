// The learning experiment end to end at a size a test can afford (`npm run bench -- learn` is the real
// table): a learner-shaped random model with a vocabulary learned from its demonstrations, format
// pre-training of all its weights, then Memory-SFT and Memory-R1-GRPO from it, each scored on the
// held-out conversation by the evaluation runner, both validated on conv-30 with their best step kept;
// then the same three rows for the Memory Manager (GRPO rewarded by the frozen answer agent).
// What it asserts is what holds at this size: pre-training and SFT lower their losses, every stage is
// scored on the same held-out questions, and each stage keeps its best-validated step (BASE's included). Whether GRPO
// beats SFT is the bench's question, answered with seeds and spread.
import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../gpu/test-runtime';
import { Engine } from '../model/engine';
import { loadModel } from '../model/load';
import { MemorySource } from '../model/source';
import { learnData, learnerModel, learnMarkdown, learnSeed, pretrain, pretrainData, type LearnSettings } from './learn';

const SETTINGS: LearnSettings = {
  conversations: 3,
  dataSeed: 5,
  perSpeaker: 1,
  pretrain: { conversations: 4, steps: 4, promptsPerStep: 2, lr: 3e-3, wholeText: true },
  sftSteps: 6,
  grpoSteps: 2,
  promptsPerStep: 2,
  groupSize: 2,
  dynamicSampling: false,
  sftLr: 1e-2,
  grpoLr: 2e-3,
  rank: 4,
  alpha: 8,
  validateEvery: 1,
  validationQuestions: 2,
  testQuestions: 3,
  answerTokens: 6,
  manager: { steps: 2, tokens: 24, turns: 4 },
};

describe('the learning experiment (tiny size)', () => {
  const gpu = useGpuRuntime();

  it('pre-trains BASE, trains SFT and GRPO from it for both agents, scores each agent\'s rows on the same held-out questions and keeps each stage\'s best-validated step', async () => {
    const pre = await pretrainData({ ...SETTINGS, pretrain: SETTINGS.pretrain! });
    const engine = await Engine.create(await loadModel(new MemorySource(learnerModel(pre, 3), 'learner')), gpu(), { maxTokens: 2048 });
    const data = await learnData(SETTINGS);

    const pretraining = await pretrain(engine, pre, { ...SETTINGS, pretrain: SETTINGS.pretrain! });
    expect(pretraining.loss).toHaveLength(4);
    expect(pretraining.loss.at(-1)!).toBeLessThan(pretraining.loss[0]!);

    const result = await learnSeed(engine, data, SETTINGS, 0);
    const { sftLoss, grpoReward, validation } = result.curves;
    expect(sftLoss).toHaveLength(6);
    console.log(`pre-training loss ${pretraining.loss.join(' ')}; SFT loss ${sftLoss.join(' ')}`);
    // Each step draws other examples: compare the first and last two steps, not single noisy steps.
    expect(sftLoss[4]! + sftLoss[5]!).toBeLessThan(sftLoss[0]! + sftLoss[1]!);
    expect(grpoReward).toHaveLength(2);
    for (const r of grpoReward) expect(r >= 0 && r <= 1).toBe(true);
    // Both stages validate their start (BASE) and each step, and keep the best (the first of equals).
    for (const stage of ['SFT', 'GRPO'] as const) {
      const scores = validation[stage];
      expect(scores.map((v) => v.step)).toEqual(stage === 'SFT' ? [0, 1, 2, 3, 4, 5, 6] : [0, 1, 2]);
      expect(result.bestStep[stage]).toBe(scores.reduce((a, b) => (b.score > a.score ? b : a)).step);
    }

    const counts = (['BASE', 'SFT', 'GRPO'] as const).map((stage) => result.stages[stage].overall.count);
    expect(counts[0]).toBe(3);
    expect(new Set(counts).size).toBe(1);
    // The reading check splits the same questions alike in every stage (the banks are the bank builder's).
    const splits = (['BASE', 'SFT', 'GRPO'] as const).map((stage) => [result.reading[stage].found.count, result.reading[stage].missing.count]);
    expect(splits[0]![0]! + splits[0]![1]!).toBeLessThanOrEqual(3);
    for (const split of splits) expect(split).toEqual(splits[0]);

    // The manager's rows: trained and kept alike, scored on the same questions as the bank builder's own operations.
    const manager = result.manager!;
    expect(manager.curves.sftLoss).toHaveLength(2);
    expect(manager.curves.grpoReward).toHaveLength(2);
    for (const stage of ['SFT', 'GRPO'] as const) {
      const scores = manager.curves.validation[stage];
      expect(scores.map((v) => v.step)).toEqual([0, 1, 2]);
      expect(manager.bestStep[stage]).toBe(scores.reduce((a, b) => (b.score > a.score ? b : a)).step);
    }
    // 2 steps × 2 prompts × 2 rollouts, each at most 24 tokens under the manager's JSON Schema.
    expect(manager.truncated).toBeGreaterThanOrEqual(0);
    expect(manager.truncated).toBeLessThanOrEqual(8);
    for (const stage of ['BASE', 'SFT', 'GRPO'] as const) expect(manager.stages[stage].overall.count).toBe(3);
    expect(manager.reference.overall.count).toBe(3);
    expect(learnMarkdown([result], 'learner').split('\n').filter((line) => line.startsWith('| learner |'))).toHaveLength(7);
    engine.dispose();
  }, 600_000);
});
