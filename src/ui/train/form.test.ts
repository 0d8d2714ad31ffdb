// The Train page shows the trainer's documented defaults without importing the trainer: they must agree.
import { describe, expect, it } from 'vitest';
import { FULL_FINETUNE_LR } from '../../train/config';
import { DEFAULT_TRAINER } from '../../train/trainer';
import { DEFAULTS, FULL_LR, initialSettings, toRequest, withFineTune } from './form';

describe('Train page settings', () => {
  it('start from the trainer defaults', () => {
    const d = DEFAULT_TRAINER;
    expect(DEFAULTS).toMatchObject({
      steps: d.totalSteps,
      promptsPerStep: d.promptsPerStep,
      gradientAccumulation: d.gradientAccumulation,
      groupSize: d.groupSize,
      maxCompletionTokens: d.maxCompletionTokens,
      lr: d.optimizer.lr,
      criticLr: d.valueLr,
      samplingRounds: d.dynamicSampling ? d.maxSamplingRounds : 0,
      validateEvery: d.validateEvery,
      epsilon: d.grpo.epsilonLow,
      beta: d.grpo.beta,
      rank: d.lora.rank,
      alpha: d.lora.alpha,
      temperature: d.temperature,
      seed: d.seed,
    });
  });

  it('a blank reply length leaves the cap to the task; dynamic sampling rounds turn DAPO sampling on', () => {
    const settings = initialSettings();
    expect(settings.values.maxCompletionTokens).toBe('');
    expect(toRequest(settings)).toMatchObject({ request: { options: { maxCompletionTokens: null, dynamicSampling: false } } });
    settings.values.maxCompletionTokens = '512';
    settings.values.samplingRounds = '3';
    expect(toRequest(settings)).toMatchObject({ request: { options: { maxCompletionTokens: 512, dynamicSampling: true, maxSamplingRounds: 3 } } });
  });

  it('name the field that is wrong', () => {
    const settings = initialSettings();
    settings.values.groupSize = '2.5';
    expect(toRequest(settings)).toEqual({ problem: 'Group size G: enter a whole number.' });
    settings.values.groupSize = '4';
    settings.values.lr = '0';
    expect(toRequest(settings)).toEqual({ problem: 'Learning rate: must be above 0.' });
  });

  it('LoCoMo tasks: optional tuple limits, and no SFT for the manager', () => {
    const settings = { ...initialSettings(), task: 'locomo-answer' as const };
    expect(toRequest(settings)).toMatchObject({ request: { task: 'locomo-answer' }, limits: {} });
    settings.locomo = { turns: '20', maxNewTokens: ' ' };
    expect(toRequest(settings)).toMatchObject({ limits: { turns: 20 } });
    settings.locomo.maxNewTokens = '0';
    expect(toRequest(settings)).toEqual({ problem: 'Reply cap while building: enter a whole number of at least 1, or leave it blank.' });
    expect(toRequest({ ...initialSettings(), task: 'locomo-manager', algorithm: 'sft' })).toEqual({
      problem: 'The LoCoMo manager has no reference operations to imitate: choose GRPO or PPO.',
    });
  });

  it('all weights: the request says so, and a learning rate left at its default follows the kind of run', () => {
    expect(FULL_LR).toBe(FULL_FINETUNE_LR);
    const lora = initialSettings();
    expect(toRequest(lora)).toMatchObject({ request: { options: { fineTune: 'lora', optimizer: { lr: 1e-4 } } } });
    const full = withFineTune(lora, 'full');
    expect(toRequest(full)).toMatchObject({ request: { options: { fineTune: 'full', optimizer: { lr: FULL_FINETUNE_LR } } } });
    expect(withFineTune(full, 'lora').values.lr).toBe(String(DEFAULTS.lr));
    full.values.lr = '0.005'; // typed by the user: kept
    expect(withFineTune(full, 'lora').values.lr).toBe('0.005');
  });
});
