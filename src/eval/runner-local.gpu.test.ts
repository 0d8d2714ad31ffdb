// A slice of the test-split evaluation on the real path: LoCoMo turns ingested and questions answered by
// our WebGPU engine (a tiny random model), scored as the benchmark scores. The whole split runs in
// `npm run bench -- eval`; the scores of a random model mean nothing, the stages are what is checked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../gpu/device';
import { requestNodeGpuContext } from '../gpu/node-device';
import { LocalChatModel } from '../llm/local';
import { Engine } from '../model/engine';
import { MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import { conversationsOf } from './locomo';
import { readLocomoFile } from './locomo.node.js';
import { MemoryEvalStore, runLocomoEval } from './runner';

describe('LoCoMo evaluation on the local engine', () => {
  let gpu: GpuContext;
  let engine: Engine;
  beforeAll(async () => {
    gpu = await requestNodeGpuContext();
    engine = await Engine.load(new MemorySource(makeTinyModel({ format: 'hf', arch: 'llama', seed: 2 })), gpu, { maxTokens: 4096 });
  });
  afterAll(() => {
    engine?.dispose();
    gpu?.device.destroy();
  });

  it('ingests turns and answers test-split questions with scores', async () => {
    const conversations = conversationsOf(await readLocomoFile('../shared/data/locomo10.json'), 'test');
    const cap = { temperature: 0, max_tokens: 8 };
    const run = await runLocomoEval({
      conversations,
      model: new LocalChatModel(engine),
      store: new MemoryEvalStore(),
      identity: { model: 'tiny-llama' },
      bankKey: 'tiny-llama',
      limits: { conversations: 1, turns: 1, questions: 1 },
      sampling: { extract: cap, manage: cap, answer: cap },
    });
    expect(run).toMatchObject({ answered: 1, skipped: 0, ingestedTurns: 1 });
    for (const result of run.results) {
      expect(result.sampleId).toBe(conversations[0]!.sampleId);
      expect(typeof result.prediction).toBe('string');
      for (const score of [result.em, result.f1, result.bleu1, result.locomo_f1]) expect(score).toBeGreaterThanOrEqual(0);
      expect(result.tokens.completion).toBeGreaterThan(0);
    }
  });
});
