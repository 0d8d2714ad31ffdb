// `npm run bench -- learn`: the proof-of-learning table (src/eval/learn.ts) on a tiny model, in Node
// (Dawn): BASE → Memory-SFT → Memory-R1-GRPO for the Answer Agent on generated LoCoMo conversations,
// per seed, scored on the held-out conversations; prints the table (mean ± std over seeds) with the SFT
// loss, GRPO reward and conv-30 validation curves on stderr, and everything as JSON on stdout.
// Sizes come from the environment (defaults in brackets), so the same script runs a quick check on a
// CPU driver and a larger table on a GPU:
//   LEARN_SEEDS [0,1,2]  LEARN_CONVERSATIONS [5]  LEARN_DATA_SEED [1]  LEARN_SFT_STEPS [24]
//   LEARN_GRPO_STEPS [16]  LEARN_PROMPTS [2]  LEARN_GROUP [4]  LEARN_SFT_LR [5e-3]  LEARN_GRPO_LR [2e-3]
//   LEARN_RANK [8]  LEARN_VALIDATE_EVERY [8]  LEARN_VALIDATION_QUESTIONS [8]  LEARN_TEST_QUESTIONS [all]
//   LEARN_ANSWER_TOKENS [12]  LEARN_MODEL_SEED [3]
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { learnData, learnMarkdown, learnSeed, learnTable, type LearnSettings, type SeedResult } from '../../src/eval/learn';
import { Engine } from '../../src/model/engine';
import { MemorySource } from '../../src/model/source';
import { makeTinyModel } from '../../src/model/tiny';

const env = (name: string, fallback: number): number => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${value}"`);
  return n;
};
const seeds = (process.env.LEARN_SEEDS ?? '0,1,2').split(',').map(Number);
const testQuestions = process.env.LEARN_TEST_QUESTIONS ? env('LEARN_TEST_QUESTIONS', 0) : undefined;
const settings: LearnSettings = {
  conversations: env('LEARN_CONVERSATIONS', 5),
  dataSeed: env('LEARN_DATA_SEED', 1),
  sftSteps: env('LEARN_SFT_STEPS', 24),
  grpoSteps: env('LEARN_GRPO_STEPS', 16),
  promptsPerStep: env('LEARN_PROMPTS', 2),
  groupSize: env('LEARN_GROUP', 4),
  sftLr: env('LEARN_SFT_LR', 5e-3),
  grpoLr: env('LEARN_GRPO_LR', 2e-3),
  rank: env('LEARN_RANK', 8),
  alpha: 2 * env('LEARN_RANK', 8),
  validateEvery: env('LEARN_VALIDATE_EVERY', 8),
  validationQuestions: env('LEARN_VALIDATION_QUESTIONS', 8),
  ...(testQuestions ? { testQuestions } : {}),
  answerTokens: env('LEARN_ANSWER_TOKENS', 12),
};
const log = (line: string) => console.error(`[learn] ${line}`);

const started = performance.now();
const gpu = await requestNodeGpuContext();
const modelSeed = env('LEARN_MODEL_SEED', 3);
const engine = await Engine.load(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: modelSeed })), gpu, { maxTokens: 2048 });
const data = await learnData(settings);
const longest = Math.max(...data.tuples.answer.map((t) => engine.tokenizer.encode(engine.tokenizer.applyChatTemplate(t.prompt, { addGenerationPrompt: true })).length));
log(`${data.tuples.answer.length} answer tuples (evidence recall@60 ${data.tuples.recall.mean}, longest prompt ${longest} tokens); settings ${JSON.stringify(settings)}`);
const results: SeedResult[] = [];
for (const seed of seeds) {
  results.push(await learnSeed(engine, data, settings, seed, log));
  log(`seed ${seed} curves: SFT loss ${results.at(-1)!.curves.sftLoss.join(' ')}; GRPO reward ${results.at(-1)!.curves.grpoReward.join(' ')}; validation ${JSON.stringify(results.at(-1)!.curves.validation)}`);
}
const model = `tiny-qwen2 (seed ${modelSeed})`;
console.error(`\n${learnMarkdown(results, model)}\n`);
console.log(JSON.stringify({ model, settings, seeds, table: learnTable(results), results, seconds: +((performance.now() - started) / 1000).toFixed(1) }));
engine.dispose();
gpu.device.destroy();
