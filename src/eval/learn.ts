// The proof-of-learning experiment on generated LoCoMo data (./generate), laid out as the paper's tables:
// BASE (the model as it is), Memory-SFT (cross-entropy on the gold answers; the paper's Memory-SFT
// imitates a GPT-5 teacher's replies, which cannot run here) and Memory-R1-GRPO (reward = exact match),
// both trained from BASE as in the paper, for the Answer Agent, each scored on the held-out
// (test-split) conversations by the real evaluation runner: F1 / BLEU-1 / EM per category and overall.
// SFT and GRPO alike validate on conv-30 before their first step and every few steps, and keep their
// best step (the trainer's validation hook; step 0 is BASE itself), as the paper selects checkpoints on
// conv-30: a stage that only hurts on validation is scored as BASE.
// Each evaluation also gets a reading check (report.ts's readingCheck): EM on the questions whose retrieved
// memories hold their evidence beside EM on those whose memories lack it, which tells a model that reads
// its memories from one that answers from priors, whatever its overall score.
//
// A model of random weights knows no language, so BASE is first made by format pre-training (ours): full
// fine-tuning by SFT on answer-agent demonstrations from a separate generated file (other people, other
// facts, same templates), standing in for the instruction tuning of the paper's base models. It is kept
// short on purpose: BASE should answer some held-out questions, not all, so that what SFT and GRPO add on
// the training conversation shows.
//
// Everything goes through the LoCoMo path: the generated file is parsed by the LoCoMo loader, tuples are
// built by buildTrainingTuples, rewards are rewards.ts's, evaluation is runLocomoEval. The banks (for
// tuples and evaluation alike) are built by the scripted bank builder (./generated-oracle), standing in
// for the strong model the paper builds them with.
//
// With `manager` set, the Memory Manager gets the same three rows: BASE, Memory-SFT (on the bank
// builder's operations, standing in for the paper's teacher) and Memory-R1-GRPO (reward: the frozen BASE answer
// agent's exact match on the questions linked to the turn, as in the paper), each scored by the banks it
// builds on the held-out conversations, answered by the frozen BASE answer agent. The bank builder still
// extracts the facts (./bank-builder), so the rows differ in their operations only; the bank builder's own
// operations are scored too, as the reference. Pre-training then teaches the manager's format as well.
//
// Choices of ours, for a tiny model trained on a CPU: the SFT target ends with the chat template's
// end-of-turn token (so a trained model stops after the answer), answers are capped at a few tokens, and
// fewer memories are retrieved per speaker (`perSpeaker`; the paper's 30 makes prompts too long here).
import type { ChatMessage, ChatModel } from '../llm/chat-model';
import { LocalChatModel } from '../llm/local';
import type { Engine } from '../model/engine';
import type { HostLoraAdapter } from '../model/lora';
import { makeTinyModel } from '../model/tiny';
import type { TaskExample, TrainingTask } from '../train/task';
import { Trainer, type StepMetrics, type TrainerOptions } from '../train/trainer';
import { bankBuilder } from './bank-builder';
import { generateLocomoText } from './generate';
import { generatedBankModel } from './generated-oracle';
import { conversationsOf, EVALUATED_CATEGORIES, parseLocomo, type LocomoConversation } from './locomo';
import { locomoValidator } from './locomo-validation';
import { readingCheck, summarize, type EvalSummary, type MetricMeans } from './report';
import { MemoryEvalStore, runLocomoEval } from './runner';
import { managerReward } from './rewards';
import { locomoAnswerTask, locomoManagerTask } from './training-tasks';
import { buildTrainingTuples, type TrainingTuples } from './tuples';

export interface LearnSettings {
  /** The generated file: conversations (≥ 3: train, validation, test) and seed. */
  conversations: number;
  dataSeed: number;
  /** Memories retrieved per speaker (tuples, evaluation, validation); the paper's is 30. */
  perSpeaker: number;
  /** Format pre-training that makes BASE (none: BASE is the model as loaded). */
  pretrain?: PretrainSettings;
  sftSteps: number;
  grpoSteps: number;
  promptsPerStep: number;
  groupSize: number;
  /** DAPO's dynamic sampling in GRPO: groups whose rewards all agree are dropped and more prompts drawn. */
  dynamicSampling: boolean;
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
  /** The Memory Manager's rows (absent: the answer agent's only). */
  manager?: ManagerSettings;
}

export interface ManagerSettings {
  /** SFT steps and GRPO steps, each from BASE (learning rates: sftLr, grpoLr). */
  steps: number;
  /** Longest manager reply in rollouts, validation and evaluation (tokens; inference gives it 1,024). */
  tokens: number;
  /** First N turns of each validation and test conversation the managers build banks from (default all). */
  turns?: number;
}

/** Full fine-tuning by SFT on demonstrations from a separate generated file (seed dataSeed + 1000, all its conversations). */
export interface PretrainSettings {
  conversations: number;
  steps: number;
  promptsPerStep: number;
  lr: number;
  /**
   * Language modelling on the whole demonstration: the loss covers everything after the system message
   * (memories, question, answer), not the answer alone, as base models are pre-trained on whole texts.
   * Names recur within a prompt (a memory's subject in the question, a city before and after a move), so
   * the copying from context that answering needs is trained on every token after the system message,
   * not only on the answer's few.
   */
  wholeText?: boolean;
}

export type Stage = 'BASE' | 'SFT' | 'GRPO';

/** EM (percent) and count of the held-out questions whose memories held all of their evidence, and of those whose memories held none. */
export interface Reading {
  found: { em: number; count: number };
  missing: { em: number; count: number };
}

/** One evaluation of a stage: its summary, and whether its answers came from the memories. */
interface Scored {
  summary: EvalSummary;
  reading: Reading;
}

/** One agent's three rows in one seed. */
export interface AgentResult {
  stages: Record<Stage, EvalSummary>;
  /** Each stage's reading check (report.ts's readingCheck): equal EM with and without the evidence means answers come from priors. */
  reading: Record<Stage, Reading>;
  /** SFT loss and GRPO mean reward per step; each stage's validation scores (EM 0-1 on conv-30) by step (step 0: its start, BASE). */
  curves: { sftLoss: number[]; grpoReward: number[]; validation: Record<'SFT' | 'GRPO', { step: number; score: number }[]> };
  /** Each stage's kept step (best validation; 0 when no step beat BASE; null without validation). */
  bestStep: Record<'SFT' | 'GRPO', number | null>;
  tokensPerSecond: { sft: number; grpo: number };
  /** GRPO rollouts that hit the completion cap, over all steps. */
  truncated: number;
}

export interface SeedResult extends AgentResult {
  seed: number;
  /** The Memory Manager's rows, and the bank builder's own operations scored the same way. */
  manager?: AgentResult & { reference: EvalSummary };
}

export interface LearnData {
  conversations: LocomoConversation[];
  tuples: TrainingTuples;
}

/** The generated file, parsed by the LoCoMo loader, and the answer tuples over the bank builder's banks. */
export async function learnData(settings: Pick<LearnSettings, 'conversations' | 'dataSeed' | 'perSpeaker'>): Promise<LearnData> {
  if (settings.conversations < 3) throw new Error('the learning experiment needs ≥ 3 conversations (train, validation, test)');
  const conversations = parseLocomo(generateLocomoText({ conversations: settings.conversations, seed: settings.dataSeed }));
  return { conversations, tuples: await answerTuples(conversationsOf(conversations, 'train'), settings.perSpeaker) };
}

const answerTuples = (conversations: readonly LocomoConversation[], perSpeaker: number) =>
  buildTrainingTuples({ conversations, model: generatedBankModel(), identity: { model: 'generated-oracle', perSpeaker }, perSpeaker });

/** Where format pre-training's demonstrations come from: a file of its own, never the experiment's. */
const PRETRAIN_SEED_OFFSET = 1000;

/** Format pre-training's answer tuples: every question of a separate generated file. */
export async function pretrainData(settings: Pick<LearnSettings, 'dataSeed' | 'perSpeaker'> & { pretrain: PretrainSettings }): Promise<TrainingTuples> {
  const conversations = parseLocomo(generateLocomoText({ conversations: settings.pretrain.conversations, seed: settings.dataSeed + PRETRAIN_SEED_OFFSET }));
  return answerTuples(conversations, settings.perSpeaker);
}

/** Text for a learner tokenizer's merges: the prompts and answers of some demonstrations, as the model will see them. */
export function tokenizerTextOf(tuples: TrainingTuples, count = 40): string {
  return tuples.answer
    .slice(0, count)
    .map((t) => `${t.prompt.map((m) => m.content).join('\n')}\n**Answer:** ${t.gold}\n`)
    .join('');
}

/** The learner-shaped random model (Qwen2) whose vocabulary is learned from the pre-training demonstrations. */
export function learnerModel(pretrainTuples: TrainingTuples, seed: number): Map<string, Uint8Array> {
  return makeTinyModel({ format: 'hf', arch: 'qwen2', seed, shape: 'learner', tokenizerText: tokenizerTextOf(pretrainTuples) });
}

/** Format pre-training: full fine-tuning of the engine's own weights by SFT on the demonstrations; returns the loss curve. */
export async function pretrain(engine: Engine, tuples: TrainingTuples, settings: LearnSettings & { pretrain: PretrainSettings }, log: (line: string) => void = () => {}): Promise<{ loss: number[]; tokensPerSecond: number }> {
  const p = settings.pretrain;
  const answering = demonstrationsOf(answerTask(engine, tuples, settings));
  const managing = settings.manager ? demonstrationsOf(await managerTask(engine, tuples, settings, settings.manager)) : undefined;
  const demonstrations = managing ? mixedTask(answering, managing, tuples.manager.length / (tuples.manager.length + tuples.answer.length)) : answering;
  const task = p.wholeText ? wholeTextTask(engine, demonstrations) : demonstrations;
  const trainer = new Trainer(engine, { algorithm: 'sft', fineTune: 'full', totalSteps: p.steps, promptsPerStep: p.promptsPerStep, optimizer: { lr: p.lr }, seed: settings.dataSeed + PRETRAIN_SEED_OFFSET }, task);
  const steps = await trainer.run({ onProgress: (m) => {
      if (m.step % 10 === 0 || m.step === p.steps) log(`pre-training step ${m.step}/${p.steps}: loss ${m.loss.toFixed(3)} ${m.tokensPerSecond.toFixed(0)} tok/s`);
    },
  });
  trainer.dispose();
  return { loss: steps.map((m) => +m.loss.toFixed(4)), tokensPerSecond: +tokensPerSecond(steps).toFixed(1) };
}

const tokensPerSecond = (ms: readonly StepMetrics[]) => ms.reduce((s, m) => s + m.tokens, 0) / Math.max(1e-9, ms.reduce((s, m) => s + m.seconds, 0));

/** Who builds the banks and who answers, for one evaluation. */
interface EvalModels {
  bank: ChatModel;
  answer: ChatModel;
  /** Names the bank builder (banks are cached under it within the run). */
  key: string;
  /** First N turns of each conversation the banks are built from (default all). */
  turns?: number;
}

/** The answer agent `adapter` (or the base model) on the bank builder's banks. */
const answerAgentModels = (engine: Engine, adapter?: string): EvalModels => ({ bank: generatedBankModel(), answer: new LocalChatModel(engine, adapter ? { adapter } : {}), key: `answer-${adapter ?? 'base'}` });

/** `operations` deciding the operations on the bank builder's facts, over the manager's turns; the frozen base model answers. */
const managerModels = (engine: Engine, manager: ManagerSettings, operations: ChatModel, key: string): EvalModels => ({
  bank: bankBuilder(generatedBankModel(), operations),
  answer: new LocalChatModel(engine),
  key,
  ...(manager.turns ? { turns: manager.turns } : {}),
});

/** The manager `adapter` (or the base model) as `operations`. */
const managerAdapterModels = (engine: Engine, manager: ManagerSettings, adapter?: string): EvalModels =>
  managerModels(engine, manager, new LocalChatModel(engine, adapter ? { adapter } : {}), `manager-${adapter ?? 'base'}`);

/** The evaluation runner over the test split's questions. */
async function evaluate(data: LearnData, settings: LearnSettings, models: EvalModels): Promise<Scored> {
  const limits = { ...(settings.testQuestions ? { questions: settings.testQuestions } : {}), ...(models.turns ? { turns: models.turns } : {}) };
  const run = await runLocomoEval({
    conversations: conversationsOf(data.conversations, 'test'),
    model: models.bank,
    answerModel: models.answer,
    store: new MemoryEvalStore(),
    identity: { bank: models.key },
    bankKey: models.key,
    limits,
    perSpeaker: settings.perSpeaker,
    sampling: { answer: answerSampling(settings), ...(settings.manager ? { manage: managerSampling(settings.manager) } : {}) },
  });
  const { found, missing } = readingCheck(run.results);
  return { summary: summarize(run.results), reading: { found: { em: found.em, count: found.count }, missing: { em: missing.em, count: missing.count } } };
}

const answerSampling = (settings: LearnSettings) => ({ temperature: 0, top_p: 1, max_tokens: settings.answerTokens });
const managerSampling = (manager: ManagerSettings) => ({ temperature: 0, top_p: 1, max_tokens: manager.tokens });

const END_OF_TURN: Record<string, string> = { qwen2: '<|im_end|>', llama: '<|eot_id|>' };
const endOfTurn = (engine: Engine) => END_OF_TURN[engine.config.architecture] ?? '';
const chatFormat = (engine: Engine) => (messages: readonly ChatMessage[]) => engine.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });

/** The answer agent's task on the tuples, with the end-of-turn token after the SFT target. */
function answerTask(engine: Engine, tuples: TrainingTuples, settings: LearnSettings) {
  const base = locomoAnswerTask(tuples.answer, chatFormat(engine));
  const end = endOfTurn(engine);
  return {
    ...base,
    maxCompletionTokens: settings.answerTokens,
    examples: (rng: Parameters<typeof base.examples>[0], count: number) => base.examples(rng, count).map((e) => ({ ...e, target: `${e.target}${end}` })),
  };
}

/** A task's examples as pre-training and SFT see them: each keeps its tuple (whose prompt is the agent's messages) and has a target. */
type Demonstration = TaskExample & { target: string; tuple: { prompt: readonly ChatMessage[] } };

/**
 * The manager's task on the tuples: its reward is the frozen base model answering the linked questions
 * from the bank the operations leave, its rollouts are capped at `manager.tokens`, and its SFT target is
 * the bank builder's operations (then the end-of-turn token).
 */
async function managerTask(engine: Engine, tuples: TrainingTuples, settings: LearnSettings, manager: ManagerSettings) {
  const builder = generatedBankModel();
  const end = endOfTurn(engine);
  const targets = new Map(await Promise.all(tuples.manager.map(async (t) => [t, `${(await builder.chat({ messages: t.prompt })).text}${end}`] as const)));
  const base = locomoManagerTask(tuples.manager, chatFormat(engine), managerReward(new LocalChatModel(engine), { sampling: answerSampling(settings) }));
  return {
    ...base,
    maxCompletionTokens: manager.tokens,
    examples: (rng: Parameters<typeof base.examples>[0], count: number) => base.examples(rng, count).map((e) => ({ ...e, target: targets.get(e.tuple)! })),
  };
}

/** A task's demonstrations alone: pre-training is SFT, with no reward and no validation. */
function demonstrationsOf(task: Pick<TrainingTask<Demonstration>, 'name' | 'examples'>): TrainingTask<Demonstration> {
  return {
    name: task.name,
    examples: (rng, count) => task.examples(rng, count),
    reward: () => {
      throw new Error('pre-training demonstrations have no reward');
    },
  };
}

/** Demonstrations of two tasks, each example drawn from `b` with probability `shareOfB`. */
function mixedTask(a: TrainingTask<Demonstration>, b: TrainingTask<Demonstration>, shareOfB: number): TrainingTask<Demonstration> {
  return { ...a, name: `${a.name}+${b.name}`, examples: (rng, count) => Array.from({ length: count }, () => (rng() < shareOfB ? b : a).examples(rng, 1)[0]!) };
}

/** A task with SFT targets that start right after the system message: the prompt's own text is learned too. */
function wholeTextTask(engine: Engine, task: TrainingTask<Demonstration>): TrainingTask<Demonstration> {
  return {
    ...task,
    examples: (rng, count) =>
      task.examples(rng, count).map((e) => {
        const [first] = e.tuple.prompt;
        if (first?.role !== 'system') throw new Error('whole-text pre-training: the prompt has no system message');
        const system = engine.tokenizer.applyChatTemplate([first], { addGenerationPrompt: false });
        if (!e.prompt.startsWith(system)) throw new Error('whole-text pre-training: the chat template does not render the system message first');
        return { ...e, prompt: system, target: `${e.prompt.slice(system.length)}${e.target}` };
      }),
  };
}

/** The same task, validated on conv-30. */
function validatedAnswerTask(engine: Engine, data: LearnData, settings: LearnSettings) {
  return {
    ...answerTask(engine, data.tuples, settings),
    validate: locomoValidator('locomo-answer', engine, {
      conversations: conversationsOf(data.conversations, 'validation'),
      bankModel: generatedBankModel(),
      perSpeaker: settings.perSpeaker,
      ...(settings.validationQuestions ? { questions: settings.validationQuestions } : {}),
      sampling: { answer: answerSampling(settings) },
    }),
  };
}

/** The manager's task, validated on conv-30 by the banks the policy builds there (the bank builder extracting). */
async function validatedManagerTask(engine: Engine, data: LearnData, settings: LearnSettings, manager: ManagerSettings) {
  return {
    ...(await managerTask(engine, data.tuples, settings, manager)),
    validate: locomoValidator('locomo-manager', engine, {
      conversations: conversationsOf(data.conversations, 'validation'),
      extractModel: generatedBankModel(),
      perSpeaker: settings.perSpeaker,
      ...(settings.validationQuestions ? { questions: settings.validationQuestions } : {}),
      ...(manager.turns ? { turns: manager.turns } : {}),
      sampling: { answer: answerSampling(settings), manage: managerSampling(manager) },
    }),
  };
}

/** What one trained stage leaves: its steps, validation scores by step (0: the start, BASE) and the kept step. */
interface TrainedStage {
  steps: StepMetrics[];
  validation: { step: number; score: number }[];
  /** The best-validated step, whose adapter the engine now holds under the stage's name (0: no step beat BASE). */
  bestStep: number | null;
}

/**
 * Trains one adapter from BASE, validating on conv-30 before the first step and every validateEvery
 * steps, and leaves its best-validated state in the engine under options.adapterName (the last step's
 * when validation is off). SFT and GRPO are kept alike, so neither gets a checkpoint choice the other lacks.
 */
async function trainStage(engine: Engine, task: TrainingTask<TaskExample>, options: TrainerOptions, log: (m: StepMetrics) => void): Promise<TrainedStage> {
  const trainer = new Trainer(engine, options, task);
  const steps = await trainer.run({ onProgress: log });
  const kept: HostLoraAdapter = trainer.best?.adapter ?? (await trainer.downloadAdapter());
  const name = trainer.config.adapterName;
  const validation = [
    ...(trainer.startScore === null ? [] : [{ step: 0, score: trainer.startScore }]),
    ...steps.flatMap((m) => (m.validation === undefined ? [] : [{ step: m.step, score: m.validation }])),
  ];
  const bestStep = trainer.best?.step ?? null;
  trainer.dispose();
  engine.removeAdapter(name);
  engine.addAdapter(name, kept);
  return { steps, validation, bestStep };
}

const scoreText = ({ summary, reading }: Scored): string =>
  `EM ${summary.overall.em} F1 ${summary.overall.f1}; EM ${reading.found.em} on the ${reading.found.count} questions whose memories hold the evidence, ${reading.missing.em} on the ${reading.missing.count} whose memories lack it`;

const validationText = (m: StepMetrics): string => (m.validation !== undefined ? ` validation EM ${m.validation.toFixed(3)}` : '');

/** One agent to train: its task (SFT targets, reward, validation), how a stage of it is scored, and its step counts. */
interface Agent {
  name: 'answer' | 'manager';
  task: TrainingTask<TaskExample>;
  evaluate(adapter?: string): Promise<Scored>;
  sftSteps: number;
  grpoSteps: number;
}

/** BASE, SFT and GRPO of one agent (both from BASE, each kept at its best-validated step). */
async function learnAgent(engine: Engine, agent: Agent, settings: LearnSettings, seed: number, log: (line: string) => void): Promise<AgentResult> {
  const common: TrainerOptions = { promptsPerStep: settings.promptsPerStep, lora: { rank: settings.rank, alpha: settings.alpha }, seed, grpo: { beta: 0 }, validateEvery: settings.validateEvery };
  const label = `seed ${seed} ${agent.name}`;
  const base = await agent.evaluate();
  log(`${label} BASE: ${scoreText(base)}`);

  const sftName = `${agent.name}-sft-${seed}`;
  const sft = await trainStage(engine, agent.task, { ...common, algorithm: 'sft', totalSteps: agent.sftSteps, optimizer: { lr: settings.sftLr }, adapterName: sftName }, (m) =>
    log(`${label} SFT step ${m.step}: loss ${m.loss.toFixed(3)}${validationText(m)} ${m.tokensPerSecond.toFixed(0)} tok/s`),
  );
  const sftEval = await agent.evaluate(sftName);
  log(`${label} SFT (step ${sft.bestStep ?? agent.sftSteps}): ${scoreText(sftEval)}`);
  engine.removeAdapter(sftName);

  const grpoName = `${agent.name}-grpo-${seed}`;
  const grpoOptions: TrainerOptions = { ...common, algorithm: 'grpo', totalSteps: agent.grpoSteps, groupSize: settings.groupSize, dynamicSampling: settings.dynamicSampling, optimizer: { lr: settings.grpoLr }, adapterName: grpoName };
  const grpo = await trainStage(engine, agent.task, grpoOptions, (m) => log(`${label} GRPO step ${m.step}: reward ${m.rewardMean?.toFixed(3)}${validationText(m)} ${m.truncated} truncated ${m.tokensPerSecond.toFixed(0)} tok/s`));
  const grpoEval = await agent.evaluate(grpoName);
  log(`${label} GRPO (step ${grpo.bestStep ?? agent.grpoSteps}): ${scoreText(grpoEval)}`);
  engine.removeAdapter(grpoName);

  return {
    stages: { BASE: base.summary, SFT: sftEval.summary, GRPO: grpoEval.summary },
    reading: { BASE: base.reading, SFT: sftEval.reading, GRPO: grpoEval.reading },
    curves: {
      sftLoss: sft.steps.map((m) => +m.loss.toFixed(4)),
      grpoReward: grpo.steps.map((m) => +(m.rewardMean ?? 0).toFixed(4)),
      validation: { SFT: sft.validation, GRPO: grpo.validation },
    },
    bestStep: { SFT: sft.bestStep, GRPO: grpo.bestStep },
    tokensPerSecond: { sft: +tokensPerSecond(sft.steps).toFixed(1), grpo: +tokensPerSecond(grpo.steps).toFixed(1) },
    truncated: grpo.steps.reduce((n, m) => n + m.truncated, 0),
  };
}

/** One seed: the answer agent's three rows, then (with `manager` set) the manager's and the bank builder's reference; `log` gets progress lines. */
export async function learnSeed(engine: Engine, data: LearnData, settings: LearnSettings, seed: number, log: (line: string) => void = () => {}): Promise<SeedResult> {
  const answer = await learnAgent(
    engine,
    { name: 'answer', task: validatedAnswerTask(engine, data, settings), evaluate: (adapter) => evaluate(data, settings, answerAgentModels(engine, adapter)), sftSteps: settings.sftSteps, grpoSteps: settings.grpoSteps },
    settings,
    seed,
    log,
  );
  const m = settings.manager;
  if (!m) return { seed, ...answer };
  const task = await validatedManagerTask(engine, data, settings, m);
  const manager = await learnAgent(engine, { name: 'manager', task, evaluate: (adapter) => evaluate(data, settings, managerAdapterModels(engine, m, adapter)), sftSteps: m.steps, grpoSteps: m.steps }, settings, seed, log);
  const reference = await evaluate(data, settings, managerModels(engine, m, generatedBankModel(), 'manager-bank-builder'));
  log(`seed ${seed} manager: the bank builder's own operations: ${scoreText(reference)}`);
  return { seed, ...answer, manager: { ...manager, reference: reference.summary } };
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

/** One row: per column, mean ± std over seeds of F1, BLEU-1 and EM (percent). */
type Row = Record<string, Record<Metric, { mean: number; std: number }>>;

/** One row from each seed's summary of it. */
function rowOf(summaries: readonly EvalSummary[]): Row {
  return Object.fromEntries(
    COLUMNS.map(([name, category]) => [name, Object.fromEntries((['f1', 'bleu1', 'em'] as const).map((metric) => [metric, meanStd(summaries.map((s) => cellOf(s, category)[metric]))]))]),
  ) as Row;
}

/** One agent's rows, per stage. */
export function learnTable(results: readonly Pick<AgentResult, 'stages'>[]): Record<Stage, Row> {
  return { BASE: rowOf(results.map((r) => r.stages.BASE)), SFT: rowOf(results.map((r) => r.stages.SFT)), GRPO: rowOf(results.map((r) => r.stages.GRPO)) };
}

/** The manager's rows and the bank builder's reference row (null when the run had no manager). */
export function managerTable(results: readonly SeedResult[]): (Record<Stage, Row> & { reference: Row }) | null {
  const managers = results.flatMap((r) => (r.manager ? [r.manager] : []));
  if (managers.length === 0) return null;
  return { ...learnTable(managers), reference: rowOf(managers.map((m) => m.reference)) };
}

const METHOD: Record<Stage, string> = { BASE: 'BASE', SFT: 'Memory-SFT', GRPO: 'Memory-R1-GRPO' };

/** The answer agent's reading check per stage, mean over seeds: EM where the memories hold the evidence / where they lack it. */
function readingLine(results: readonly SeedResult[]): string {
  const em = (stage: Stage, side: keyof Reading) => meanStd(results.map((r) => r.reading[stage][side].em)).mean.toFixed(1);
  const first = results[0]!.reading.BASE;
  const stages = (['BASE', 'SFT', 'GRPO'] as const).map((stage) => `${METHOD[stage]} ${em(stage, 'found')} / ${em(stage, 'missing')}`).join(', ');
  return `Reading check (answer agent, EM on the ${first.found.count} held-out questions whose retrieved memories hold all their evidence / the ${first.missing.count} whose memories hold none; equal when answers come from priors, not the memories): ${stages}.`;
}

/**
 * The table as Markdown, in the paper's column order, each cell "mean ± std" over the seeds: the answer
 * agent's rows (on the bank builder's banks), then, when the run trained it, the manager's (on the banks
 * each builds, answered by the frozen BASE answer agent) under the bank builder's own operations.
 */
export function learnMarkdown(results: readonly SeedResult[], model: string): string {
  const f = (x: { mean: number; std: number }) => `${x.mean.toFixed(1)} ± ${x.std.toFixed(1)}`;
  const header = `| Model | Method | ${COLUMNS.map(([name]) => `${name} F1 | B1 | EM`).join(' | ')} |`;
  const align = `|---|---|${COLUMNS.map(() => '---:|---:|---:').join('|')}|`;
  // A column no held-out question falls in (e.g. with a question limit) shows "–", not 0.
  const asked = (category: number) => results.some((r) => cellOf(r.stages.BASE, category).count > 0);
  const row = (method: string, cells: Row) =>
    `| ${model} | ${method} | ${COLUMNS.map(([name, category]) => (['f1', 'bleu1', 'em'] as const).map((m) => (asked(category) ? f(cells[name]![m]) : '–')).join(' | ')).join(' | ')} |`;
  const answer = learnTable(results);
  const rows = (['BASE', 'SFT', 'GRPO'] as const).map((stage) => row(METHOD[stage], answer[stage]));
  const manager = managerTable(results);
  if (manager) {
    rows.push(row('manager: bank builder (reference)', manager.reference));
    for (const stage of ['BASE', 'SFT', 'GRPO'] as const) rows.push(row(`manager: ${METHOD[stage]}`, manager[stage]));
  }
  const reading = results[0] ? ['', readingLine(results)] : [];
  const questions = results[0] ? EVALUATED_CATEGORIES.map((c) => `${c}: ${results[0]!.stages.BASE.byCategory[c]!.count}`).join(', ') : '';
  const managerNote = manager ? ' Manager rows: the bank builder extracts, the row\'s manager decides the operations, the frozen BASE answer agent answers.' : '';
  return [header, align, ...rows, ...reading, '', `Seeds: ${results.map((r) => r.seed).join(', ')}; held-out questions per category ${questions}; percent, mean ± sample std over seeds.${managerNote}`].join('\n');
}
