// `npm run bench -- learn`: the proof-of-learning table (src/eval/learn.ts) on a tiny model, in Node
// (Dawn): BASE → Memory-SFT → Memory-R1-GRPO for the Answer Agent on generated LoCoMo conversations,
// per seed, scored on the held-out conversations; prints the table (mean ± std over seeds) with the SFT
// loss, GRPO reward and conv-30 validation curves and each stage's reading check (EM where the retrieved
// memories hold the evidence vs where they lack it) on stderr, and everything as JSON on stdout.
// BASE is a learner-shaped random model (src/model/tiny.ts) made by format pre-training (full fine-tuning
// by SFT on a separate generated file); SFT and GRPO then train LoRA adapters from it.
// Sizes come from the environment (defaults in brackets), so the same script runs a quick check on a
// CPU driver and a larger table on a GPU:
//   LEARN_SEEDS [0,1,2]  LEARN_CONVERSATIONS [5]  LEARN_DATA_SEED [1]  LEARN_PER_SPEAKER [2]
//   LEARN_PRETRAIN_CONVERSATIONS [80]  LEARN_PRETRAIN_STEPS [360]  LEARN_PRETRAIN_PROMPTS [4]  LEARN_PRETRAIN_LR [2e-3]
//   LEARN_PRETRAIN_TEXT [0] (1: pre-training learns the whole demonstration, not only its answer)
//   LEARN_SFT_STEPS [24]  LEARN_GRPO_STEPS [24]  LEARN_PROMPTS [2]  LEARN_GROUP [4]  LEARN_DYNAMIC [1]  LEARN_SFT_LR [2e-3]
//   LEARN_GRPO_LR [2e-3]  LEARN_RANK [8]  LEARN_VALIDATE_EVERY [8]  LEARN_VALIDATION_QUESTIONS [all]
//   LEARN_TEST_QUESTIONS [all]  LEARN_ANSWER_TOKENS [12]  LEARN_MODEL_SEED [3]
//   LEARN_MANAGER_STEPS [0] (> 0: the Memory Manager's rows too, SFT and GRPO of that many steps)
//   LEARN_MANAGER_TOKENS [192]  LEARN_MANAGER_TURNS [all]
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { learnData, learnerModel, learnMarkdown, learnSeed, learnTable, managerTable, pretrain, pretrainData, type LearnSettings, type SeedResult } from '../../src/eval/learn';
import { Engine } from '../../src/model/engine';
import { MemorySource } from '../../src/model/source';

const env = (name: string, fallback: number): number => {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${value}"`);
  return n;
};
const optional = (name: string): number | undefined => (process.env[name] ? env(name, 0) : undefined);
const seeds = (process.env.LEARN_SEEDS ?? '0,1,2').split(',').map(Number);
const testQuestions = optional('LEARN_TEST_QUESTIONS');
const validationQuestions = optional('LEARN_VALIDATION_QUESTIONS');
const managerSteps = env('LEARN_MANAGER_STEPS', 0);
const managerTurns = optional('LEARN_MANAGER_TURNS');
const settings: LearnSettings = {
  conversations: env('LEARN_CONVERSATIONS', 5),
  dataSeed: env('LEARN_DATA_SEED', 1),
  perSpeaker: env('LEARN_PER_SPEAKER', 2),
  pretrain: { conversations: env('LEARN_PRETRAIN_CONVERSATIONS', 80), steps: env('LEARN_PRETRAIN_STEPS', 360), promptsPerStep: env('LEARN_PRETRAIN_PROMPTS', 4), lr: env('LEARN_PRETRAIN_LR', 2e-3), wholeText: env('LEARN_PRETRAIN_TEXT', 0) === 1 },
  sftSteps: env('LEARN_SFT_STEPS', 24),
  grpoSteps: env('LEARN_GRPO_STEPS', 24),
  promptsPerStep: env('LEARN_PROMPTS', 2),
  groupSize: env('LEARN_GROUP', 4),
  dynamicSampling: env('LEARN_DYNAMIC', 1) === 1,
  sftLr: env('LEARN_SFT_LR', 2e-3),
  grpoLr: env('LEARN_GRPO_LR', 2e-3),
  rank: env('LEARN_RANK', 8),
  alpha: 2 * env('LEARN_RANK', 8),
  validateEvery: env('LEARN_VALIDATE_EVERY', 8),
  ...(validationQuestions ? { validationQuestions } : {}),
  ...(testQuestions ? { testQuestions } : {}),
  answerTokens: env('LEARN_ANSWER_TOKENS', 12),
  ...(managerSteps > 0 ? { manager: { steps: managerSteps, tokens: env('LEARN_MANAGER_TOKENS', 192), ...(managerTurns ? { turns: managerTurns } : {}) } } : {}),
};
const log = (line: string) => console.error(`[learn] ${line}`);

const started = performance.now();
const gpu = await requestNodeGpuContext();
const modelSeed = env('LEARN_MODEL_SEED', 3);
const pretrainTuples = await pretrainData({ ...settings, pretrain: settings.pretrain! });
const engine = await Engine.load(new MemorySource(learnerModel(pretrainTuples, modelSeed)), gpu, { maxTokens: 4096 });
const data = await learnData(settings);
const length = (t: (typeof data.tuples.answer)[number]) => engine.tokenizer.encode(engine.tokenizer.applyChatTemplate(t.prompt, { addGenerationPrompt: true })).length;
log(`${data.tuples.answer.length} answer tuples (evidence recall@${2 * settings.perSpeaker} ${data.tuples.recall.mean}, prompts ${Math.min(...data.tuples.answer.map(length))}-${Math.max(...data.tuples.answer.map(length))} tokens); ${pretrainTuples.answer.length} pre-training demonstrations${settings.manager ? ` and ${pretrainTuples.manager.length} of the manager` : ''}; settings ${JSON.stringify(settings)}`);
const pretraining = await pretrain(engine, pretrainTuples, { ...settings, pretrain: settings.pretrain! }, log);
log(`pre-training loss ${pretraining.loss.filter((_, i) => i % 10 === 9).join(' ')}; ${pretraining.tokensPerSecond} tok/s`);
const results: SeedResult[] = [];
for (const seed of seeds) {
  results.push(await learnSeed(engine, data, settings, seed, log));
  const r = results.at(-1)!;
  for (const [agent, curves] of [['answer', r.curves], ['manager', r.manager?.curves]] as const) {
    if (curves) log(`seed ${seed} ${agent} curves: SFT loss ${curves.sftLoss.join(' ')}; GRPO reward ${curves.grpoReward.join(' ')}; validation ${JSON.stringify(curves.validation)}`);
  }
}
const model = `tiny learner qwen2 (seed ${modelSeed}, ${settings.pretrain!.steps} pre-training steps)`;
console.error(`\n${learnMarkdown(results, model)}\n`);
console.log(JSON.stringify({ model, settings, seeds, pretraining, table: learnTable(results), managerTable: managerTable(results), results, seconds: +((performance.now() - started) / 1000).toFixed(1) }));
engine.dispose();
gpu.device.destroy();
