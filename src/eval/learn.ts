// The proof-of-learning experiment on generated LoCoMo data (./generate), laid out as the paper's tables:
// BASE (the model as it is) → SFT (Memory-SFT: cross-entropy on the gold answers) → GRPO (from the SFT
// adapter, reward = exact match) for the Answer Agent, each scored on the held-out (test-split)
// conversations by the real evaluation runner: F1 / BLEU-1 / EM per category and overall. GRPO validates
// on conv-30 every few steps and keeps its best step (the trainer's validation hook), as the paper
// selects checkpoints on conv-30.
//
// Everything goes through the LoCoMo path: the generated file is parsed by the LoCoMo loader, tuples are
// built by buildTrainingTuples, rewards are rewards.ts's, evaluation is runLocomoEval. The banks (for
// tuples and evaluation alike) are built by the scripted bank builder (./generated-oracle), standing in
// for the strong model the paper builds them with; only the Answer Agent is the model being trained.
//
// Choices of ours, for a tiny model trained on a CPU: the SFT target ends with the chat template's
// end-of-turn token (so a trained model stops after the answer), and answers are capped at a few tokens.
import type { ChatMessage } from '../llm/chat-model';
import { LocalChatModel } from '../llm/local';
import type { Engine } from '../model/engine';
import type { HostLoraAdapter } from '../model/lora';
import { Trainer, type StepMetrics, type TrainerOptions } from '../train/trainer';
import { generateLocomoText } from './generate';
import { generatedBankModel } from './generated-oracle';
import { conversationsOf, EVALUATED_CATEGORIES, parseLocomo, type LocomoConversation } from './locomo';
import { locomoValidator } from './locomo-validation';
import { summarize, type EvalSummary, type MetricMeans } from './report';
import { MemoryEvalStore, runLocomoEval } from './runner';
import { locomoAnswerTask } from './training-tasks';
import { buildTrainingTuples, type TrainingTuples } from './tuples';

export interface LearnSettings {
  /** The generated file: conversations (≥ 3: train, validation, test) and seed. */
  conversations: number;
  dataSeed: number;
  sftSteps: number;
  grpoSteps: number;
  promptsPerStep: number;
  groupSize: number;
  sftLr: number;
  grpoLr: number;
  rank: number;
  alpha: number;
  /** Validate GRPO on conv-30 every N steps (0 = never; the last step is then the one kept). */
  validateEvery: number;
  /** First N questions of conv-30 for validation (default all). */
  validationQuestions?: number;
  /** First N questions of each test conversation (default all). */
  testQuestions?: number;
  /** Longest answer generated in evaluation and GRPO rollouts (tokens). */
  answerTokens: number;
}

export type Stage = 'BASE' | 'SFT' | 'GRPO';

export interface SeedResult {
  seed: number;
  stages: Record<Stage, EvalSummary>;
  /** SFT loss and GRPO mean reward per step; validation scores (EM 0-1 on conv-30) by step. */
  curves: { sftLoss: number[]; grpoReward: number[]; validation: { step: number; score: number }[] };
  /** The GRPO step whose adapter was kept (best validation), and training tokens per second. */
  bestStep: number | null;
  tokensPerSecond: { sft: number; grpo: number };
}

export interface LearnData {
  conversations: LocomoConversation[];
  tuples: TrainingTuples;
}

/** The generated file, parsed by the LoCoMo loader, and the answer tuples over the bank builder's banks. */
export async function learnData(settings: Pick<LearnSettings, 'conversations' | 'dataSeed'>): Promise<LearnData> {
  if (settings.conversations < 3) throw new Error('the learning experiment needs ≥ 3 conversations (train, validation, test)');
  const conversations = parseLocomo(generateLocomoText({ conversations: settings.conversations, seed: settings.dataSeed }));
  const tuples = await buildTrainingTuples({ conversations: conversationsOf(conversations, 'train'), model: generatedBankModel(), identity: { model: 'generated-oracle' } });
  return { conversations, tuples };
}

/** The evaluation of the answer agent `adapter` (or the base model) over a split's questions. */
async function evaluate(engine: Engine, data: LearnData, split: 'validation' | 'test', settings: LearnSettings, adapter?: string): Promise<EvalSummary> {
  const questions = split === 'validation' ? settings.validationQuestions : settings.testQuestions;
  const run = await runLocomoEval({
    conversations: conversationsOf(data.conversations, split),
    model: generatedBankModel(),
    answerModel: new LocalChatModel(engine, adapter ? { adapter } : {}),
    store: new MemoryEvalStore(),
    identity: { adapter: adapter ?? null },
    bankKey: 'generated-oracle',
    ...(questions ? { limits: { questions } } : {}),
    sampling: { answer: answerSampling(settings) },
  });
  return summarize(run.results);
}

const answerSampling = (settings: LearnSettings) => ({ temperature: 0, top_p: 1, max_tokens: settings.answerTokens });

const END_OF_TURN: Record<string, string> = { qwen2: '<|im_end|>', llama: '<|eot_id|>' };

/** The answer agent's task on the tuples, with the end-of-turn token after the SFT target, and conv-30 validation. */
function answerTask(engine: Engine, data: LearnData, settings: LearnSettings) {
  const format = (messages: readonly ChatMessage[]) => engine.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
  const base = locomoAnswerTask(data.tuples.answer, format);
  const end = END_OF_TURN[engine.config.architecture] ?? '';
  return {
    ...base,
    maxCompletionTokens: settings.answerTokens,
    examples: (rng: Parameters<typeof base.examples>[0], count: number) => base.examples(rng, count).map((e) => ({ ...e, target: `${e.target}${end}` })),
    validate: locomoValidator('locomo-answer', engine, {
      conversations: conversationsOf(data.conversations, 'validation'),
      bankModel: generatedBankModel(),
      ...(settings.validationQuestions ? { questions: settings.validationQuestions } : {}),
      sampling: { answer: answerSampling(settings) },
    }),
  };
}

/** One seed of BASE → SFT → GRPO; `log` gets progress lines. */
export async function learnSeed(engine: Engine, data: LearnData, settings: LearnSettings, seed: number, log: (line: string) => void = () => {}): Promise<SeedResult> {
  const task = answerTask(engine, data, settings);
  const common: TrainerOptions = { promptsPerStep: settings.promptsPerStep, lora: { rank: settings.rank, alpha: settings.alpha }, seed, grpo: { beta: 0 } };
  const base = await evaluate(engine, data, 'test', settings);
  log(`seed ${seed} BASE: EM ${base.overall.em} F1 ${base.overall.f1}`);

  const sftName = `sft-${seed}`;
  const sft = new Trainer(engine, { ...common, algorithm: 'sft', totalSteps: settings.sftSteps, optimizer: { lr: settings.sftLr }, adapterName: sftName }, task);
  const sftSteps = await sft.run({ onProgress: (m) => log(`seed ${seed} SFT step ${m.step}: loss ${m.loss.toFixed(3)} ${m.tokensPerSecond.toFixed(0)} tok/s`) });
  const sftAdapter = await sft.downloadAdapter();
  sft.dispose();
  const sftEval = await evaluate(engine, data, 'test', settings, sftName);
  log(`seed ${seed} SFT: EM ${sftEval.overall.em} F1 ${sftEval.overall.f1}`);

  const grpoName = `grpo-${seed}`;
  const grpo = new Trainer(
    engine,
    { ...common, algorithm: 'grpo', totalSteps: settings.grpoSteps, groupSize: settings.groupSize, optimizer: { lr: settings.grpoLr }, validateEvery: settings.validateEvery, adapterName: grpoName },
    task,
    sftAdapter,
  );
  const grpoSteps = await grpo.run({
    onProgress: (m) => log(`seed ${seed} GRPO step ${m.step}: reward ${m.rewardMean?.toFixed(3)}${m.validation !== undefined ? ` validation EM ${m.validation.toFixed(3)}` : ''} ${m.tokensPerSecond.toFixed(0)} tok/s`),
  });
  // The kept policy: the best-validated step's adapter (the last step's when validation never ran).
  const kept: HostLoraAdapter = grpo.best?.adapter ?? (await grpo.downloadAdapter());
  const bestStep = grpo.best?.step ?? null;
  grpo.dispose();
  engine.removeAdapter(grpoName);
  engine.addAdapter(grpoName, kept);
  const grpoEval = await evaluate(engine, data, 'test', settings, grpoName);
  log(`seed ${seed} GRPO (step ${bestStep ?? settings.grpoSteps}): EM ${grpoEval.overall.em} F1 ${grpoEval.overall.f1}`);
  engine.removeAdapter(grpoName);
  engine.removeAdapter(sftName);

  const tps = (ms: StepMetrics[]) => ms.reduce((s, m) => s + m.tokens, 0) / Math.max(1e-9, ms.reduce((s, m) => s + m.seconds, 0));
  return {
    seed,
    stages: { BASE: base, SFT: sftEval, GRPO: grpoEval },
    curves: {
      sftLoss: sftSteps.map((m) => +m.loss.toFixed(4)),
      grpoReward: grpoSteps.map((m) => +(m.rewardMean ?? 0).toFixed(4)),
      validation: grpoSteps.flatMap((m) => (m.validation === undefined ? [] : [{ step: m.step, score: m.validation }])),
    },
    bestStep,
    tokensPerSecond: { sft: +tps(sftSteps).toFixed(1), grpo: +tps(grpoSteps).toFixed(1) },
  };
}

// ── The table ─────────────────────────────────────────────────────────────────────────────────────────

const COLUMNS = [
  ['single-hop', 1],
  ['multi-hop', 3],
  ['open-domain', 4],
  ['temporal', 2],
  ['overall', 0],
] as const;
type Metric = 'f1' | 'bleu1' | 'em';

/** Mean and (sample) standard deviation over seeds. */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const variance = values.length > 1 ? values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

const cellOf = (summary: EvalSummary, category: number): MetricMeans => (category === 0 ? summary.overall : summary.byCategory[category]!);

/** Per stage and column: mean ± std over seeds of F1, BLEU-1 and EM (percent). */
export function learnTable(results: readonly SeedResult[]): Record<Stage, Record<string, Record<Metric, { mean: number; std: number }>>> {
  const stages: Stage[] = ['BASE', 'SFT', 'GRPO'];
  return Object.fromEntries(
    stages.map((stage) => [
      stage,
      Object.fromEntries(
        COLUMNS.map(([name, category]) => [
          name,
          Object.fromEntries((['f1', 'bleu1', 'em'] as const).map((metric) => [metric, meanStd(results.map((r) => cellOf(r.stages[stage], category)[metric]))])),
        ]),
      ),
    ]),
  ) as Record<Stage, Record<string, Record<Metric, { mean: number; std: number }>>>;
}

/** The table as Markdown, in the paper's column order, each cell "mean ± std" over the seeds. */
export function learnMarkdown(results: readonly SeedResult[], model: string): string {
  const table = learnTable(results);
  const f = (x: { mean: number; std: number }) => `${x.mean.toFixed(1)} ± ${x.std.toFixed(1)}`;
  const header = `| Model | Method | ${COLUMNS.map(([name]) => `${name} F1 | B1 | EM`).join(' | ')} |`;
  const align = `|---|---|${COLUMNS.map(() => '---:|---:|---:').join('|')}|`;
  // A column no held-out question falls in (e.g. with a question limit) shows "–", not 0.
  const asked = (category: number) => results.some((r) => cellOf(r.stages.BASE, category).count > 0);
  const rows = (['BASE', 'SFT', 'GRPO'] as const).map(
    (stage) =>
      `| ${model} | ${stage === 'SFT' ? 'Memory-SFT' : stage === 'GRPO' ? 'Memory-R1-GRPO' : 'BASE'} | ${COLUMNS.map(([name, category]) => (['f1', 'bleu1', 'em'] as const).map((m) => (asked(category) ? f(table[stage][name]![m]) : '–')).join(' | ')).join(' | ')} |`,
  );
  const questions = results[0] ? EVALUATED_CATEGORIES.map((c) => `${c}: ${results[0]!.stages.BASE.byCategory[c]!.count}`).join(', ') : '';
  return [header, align, ...rows, '', `Seeds: ${results.map((r) => r.seed).join(', ')}; held-out questions per category ${questions}; percent, mean ± sample std over seeds.`].join('\n');
}
