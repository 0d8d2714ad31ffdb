// The LoCoMo evaluation, as Memory-R1 runs it: each conversation's turns are replayed through the agents
// into one bank per conversation (both speakers' memories, tagged by speaker, so a question retrieves 30
// per speaker), then every question of categories 1-4 is answered from that bank and scored.
// Each question's evidence recall@60 (./recall) is recorded beside its scores.
// Resumable: results and bank checkpoints go through an EvalStore (files in Node, ./runner-store.node;
// IndexedDB later in the app), so a rerun skips answered questions and never re-ingests a finished bank.
import { MemoryPipeline, retrieveForQuestion, type PipelineOptions } from '../agents';
import { embedderOf, type ChatModel } from '../llm/chat-model';
import { InMemoryBank, type Embedder } from '../memory';
import { loadMemories, restoreBank, storeMemories, type StoredMemory } from './bank-snapshot';
import { judgeAnswer, type JudgeChatModel } from './judge';
import type { Category, LocomoConversation } from './locomo';
import { scoreAnswer } from './metrics';
import { evidenceRecall, Provenance } from './recall';
import { conversationTurns, evaluatedQuestions, turnId, type IndexedQA } from './turns';

export interface QuestionResult {
  sampleId: string;
  qaIndex: number;
  question: string;
  gold: string;
  prediction: string;
  category: Category;
  em: number;
  f1: number;
  bleu1: number;
  locomo_f1: number;
  /** 1 if the judge said CORRECT, 0 otherwise; absent when no judge ran. */
  judge?: number;
  /** Texts of the memories the answer agent said it used. */
  usedMemories: string[];
  /** Memories retrieved and shown (60 for two speakers with enough memories). */
  retrieved: number;
  /** Fraction of the evidence turns some retrieved memory came from (recall@60); absent without evidence. */
  evidenceRecall?: number;
  /** Time to retrieve and answer (not the judge). */
  ms: number;
  tokens: { prompt: number; completion: number };
}

/** What a state file was written by; a rerun must match it (so results of two set-ups never mix). */
export type RunIdentity = Record<string, string | number | boolean | null>;

/** A conversation's bank part-way or fully built (`turnsDone === turnsTotal`). */
export interface BankCheckpoint {
  key: string;
  sampleId: string;
  turnsDone: number;
  turnsTotal: number;
  memories: StoredMemory[];
  /** Which turns each memory came from (./recall), for evidence recall. */
  provenance?: Record<string, string[]>;
}

/** Where a run keeps its progress. Appends must be durable before they resolve. */
export interface EvalStore {
  load(): Promise<{ identity?: RunIdentity; results: QuestionResult[] }>;
  /** Records the run's identity when the store is new. */
  begin(identity: RunIdentity): Promise<void>;
  append(result: QuestionResult): Promise<void>;
  loadBank(key: string): Promise<BankCheckpoint | undefined>;
  saveBank(checkpoint: BankCheckpoint): Promise<void>;
}

/** An EvalStore in memory: tests, and the shape the app's IndexedDB store will follow. */
export class MemoryEvalStore implements EvalStore {
  identity: RunIdentity | undefined;
  readonly results: QuestionResult[] = [];
  readonly banks = new Map<string, BankCheckpoint>();
  async load() {
    return { ...(this.identity ? { identity: this.identity } : {}), results: [...this.results] };
  }
  async begin(identity: RunIdentity) {
    this.identity ??= identity;
  }
  async append(result: QuestionResult) {
    this.results.push(structuredClone(result));
  }
  async loadBank(key: string) {
    const checkpoint = this.banks.get(key);
    return checkpoint && structuredClone(checkpoint);
  }
  async saveBank(checkpoint: BankCheckpoint) {
    this.banks.set(checkpoint.key, structuredClone(checkpoint));
  }
}

export class RunMismatchError extends Error {
  override name = 'RunMismatchError';
}

export interface EvalLimits {
  /** First N conversations of those given (smoke tests). */
  conversations?: number;
  /** First N questions (categories 1-4) of each conversation (smoke tests). */
  questions?: number;
  /** First N turns of each conversation (smoke tests). */
  turns?: number;
}

export type EvalProgress =
  | { phase: 'ingest'; sampleId: string; turn: number; turns: number; questionsDone: number; questionsTotal: number; etaMs?: number }
  | { phase: 'answer'; sampleId: string; questionsDone: number; questionsTotal: number; etaMs?: number };

export interface EvalOptions {
  conversations: readonly LocomoConversation[];
  /** Extraction and memory management (e.g. the base model with the manager's adapter). */
  model: ChatModel;
  /** The answer agent (default `model`). */
  answerModel?: ChatModel;
  /** Embeds memories and questions (default: `model`'s embeddings, if it has any): hybrid retrieval. */
  embedder?: Embedder;
  judge?: JudgeChatModel;
  store: EvalStore;
  /** Identifies the run: must equal the store's if it has one. Include whatever changes banks or answers. */
  identity: RunIdentity;
  /** Identifies what builds banks (model + manager adapter): banks are cached per conversation under it. */
  bankKey: string;
  limits?: EvalLimits;
  /** Memories retrieved per speaker for each question (default 30, as in Memory-R1: 60 for two speakers). */
  perSpeaker?: number;
  /** Sampling for each agent (defaults: the agents' own, greedy); e.g. shorter outputs for smoke runs. */
  sampling?: PipelineOptions['sampling'];
  /** Save a part-built bank every N turns (default 10), so a kill loses at most that much ingestion. */
  checkpointEvery?: number;
  onProgress?: (progress: EvalProgress) => void;
  signal?: AbortSignal;
  now?: () => number;
}

export interface EvalRun {
  /** Results of every selected question, in conversation then file order (earlier runs' included). */
  results: QuestionResult[];
  /** Questions answered by this run, and found already done. */
  answered: number;
  skipped: number;
  /** Turns ingested by this run. */
  ingestedTurns: number;
}

const resultKey = (sampleId: string, qaIndex: number) => `${sampleId}#${qaIndex}`;

/** One string per identity, whatever the order of its keys. */
export const identityKey = (identity: RunIdentity): string => JSON.stringify(Object.keys(identity).sort().map((key) => [key, identity[key]]));

/** Same keys with the same values, in any order. */
export function sameIdentity(a: RunIdentity, b: RunIdentity): boolean {
  return identityKey(a) === identityKey(b);
}

/** Running mean times per turn and per question, so the ETA covers ingestion as well as answering. */
class Eta {
  private turnMs = 0;
  private turns = 0;
  private questionMs = 0;
  private questions = 0;
  addTurn(ms: number) {
    this.turnMs += ms;
    this.turns++;
  }
  addQuestion(ms: number) {
    this.questionMs += ms;
    this.questions++;
  }
  estimate(turnsLeft: number, questionsLeft: number): number | undefined {
    if ((turnsLeft > 0 && this.turns === 0) || (questionsLeft > 0 && this.questions === 0)) return undefined;
    return (this.turns ? (turnsLeft * this.turnMs) / this.turns : 0) + (this.questions ? (questionsLeft * this.questionMs) / this.questions : 0);
  }
}

interface Plan {
  conversation: LocomoConversation;
  questions: IndexedQA[];
  pending: IndexedQA[];
  cacheKey: string;
  checkpoint: BankCheckpoint | undefined;
  turnsLeft: number;
}

export async function runLocomoEval(options: EvalOptions): Promise<EvalRun> {
  const { store, limits = {}, signal } = options;
  const now = options.now ?? (() => performance.now());
  const stored = await store.load();
  if (stored.identity && !sameIdentity(stored.identity, options.identity)) {
    throw new RunMismatchError(
      `the saved progress is from another set-up (${JSON.stringify(stored.identity)}, now ${JSON.stringify(options.identity)}): use another output file or delete the old state`,
    );
  }
  await store.begin(options.identity);
  const done = new Map(stored.results.map((r) => [resultKey(r.sampleId, r.qaIndex), r]));

  const plans: Plan[] = [];
  for (const conversation of options.conversations.slice(0, limits.conversations)) {
    const questions = evaluatedQuestions(conversation, limits.questions);
    const pending = questions.filter((qa) => !done.has(resultKey(conversation.sampleId, qa.qaIndex)));
    const cacheKey = `${conversation.sampleId}|${options.bankKey}|turns=${limits.turns ?? 'all'}`;
    const checkpoint = pending.length ? await store.loadBank(cacheKey) : undefined;
    const turnsTotal = conversationTurns(conversation, limits.turns).length;
    const turnsLeft = pending.length ? turnsTotal - Math.min(checkpoint?.turnsDone ?? 0, turnsTotal) : 0;
    plans.push({ conversation, questions, pending, cacheKey, checkpoint, turnsLeft });
  }
  const questionsTotal = plans.reduce((n, p) => n + p.questions.length, 0);
  let questionsDone = questionsTotal - plans.reduce((n, p) => n + p.pending.length, 0);
  const skipped = questionsDone;
  let turnsLeft = plans.reduce((n, p) => n + p.turnsLeft, 0);
  let questionsLeft = questionsTotal - questionsDone;
  let ingestedTurns = 0;
  const eta = new Eta();

  for (const plan of plans) {
    if (plan.pending.length === 0) continue;
    const { conversation } = plan;
    const embedder = options.embedder ?? embedderOf(options.model);
    const provenance = new Provenance(plan.checkpoint?.provenance);
    const bank: InMemoryBank = plan.checkpoint
      ? restoreBank(conversation.sampleId, loadMemories(plan.checkpoint.memories, `bank cache ${plan.cacheKey}`), embedder)
      : new InMemoryBank(conversation.sampleId, [], embedder);
    const pipeline = new MemoryPipeline({ model: options.model, bank, ...(options.answerModel ? { answerModel: options.answerModel } : {}), ...(options.sampling ? { sampling: options.sampling } : {}), ...(options.perSpeaker ? { perSpeaker: options.perSpeaker } : {}) });

    const turns = conversationTurns(conversation, limits.turns);
    const every = Math.max(1, options.checkpointEvery ?? 10);
    const save = async (turnsDone: number) =>
      store.saveBank({ key: plan.cacheKey, sampleId: conversation.sampleId, turnsDone, turnsTotal: turns.length, memories: storeMemories(await bank.list()), provenance: provenance.toJSON() });
    const start = Math.min(plan.checkpoint?.turnsDone ?? 0, turns.length);
    for (let i = start; i < turns.length; i++) {
      signal?.throwIfAborted();
      const began = now();
      const report = await pipeline.ingest(turns[i]!, signal ? { signal } : {});
      provenance.record(turns[i]!.id, report.applied);
      eta.addTurn(now() - began);
      ingestedTurns++;
      turnsLeft--;
      if ((i + 1) % every === 0 || i + 1 === turns.length) await save(i + 1);
      options.onProgress?.({ phase: 'ingest', sampleId: conversation.sampleId, turn: i + 1, turns: turns.length, questionsDone, questionsTotal, ...etaOf(eta, turnsLeft, questionsLeft) });
    }
    if (turns.length === 0 && !plan.checkpoint) await save(0);

    for (const qa of plan.pending) {
      signal?.throwIfAborted();
      const began = now();
      const asked = await pipeline.ask(qa.question, signal ? { signal } : {});
      const ms = now() - began;
      eta.addQuestion(ms);
      // The same retrieval the answer agent saw (deterministic), measured apart from the answer.
      const retrieved = (await retrieveForQuestion(bank, qa.question, options.perSpeaker)).flatMap((group) => group.memories);
      const recall = evidenceRecall(qa.evidence.map((diaId) => turnId(conversation.sampleId, diaId)), retrieved, provenance);
      const result: QuestionResult = {
        sampleId: conversation.sampleId,
        qaIndex: qa.qaIndex,
        question: qa.question,
        gold: qa.answer,
        prediction: asked.answer,
        category: qa.category,
        ...scoreAnswer(asked.answer, qa.answer, qa.category),
        usedMemories: asked.usedMemories.map((m) => m.text),
        retrieved: asked.retrieved,
        ...(recall !== undefined ? { evidenceRecall: recall } : {}),
        ms: Math.round(ms),
        tokens: { prompt: asked.usage.promptTokens, completion: asked.usage.completionTokens },
      };
      if (options.judge) result.judge = (await judgeAnswer(options.judge, { question: qa.question, gold: qa.answer, prediction: asked.answer })).score;
      await store.append(result);
      done.set(resultKey(result.sampleId, result.qaIndex), result);
      questionsDone++;
      questionsLeft--;
      options.onProgress?.({ phase: 'answer', sampleId: conversation.sampleId, questionsDone, questionsTotal, ...etaOf(eta, turnsLeft, questionsLeft) });
    }
  }

  const results = plans.flatMap((plan) => plan.questions.map((qa) => done.get(resultKey(plan.conversation.sampleId, qa.qaIndex))!));
  return { results, answered: questionsTotal - skipped, skipped, ingestedTurns };
}

function etaOf(eta: Eta, turnsLeft: number, questionsLeft: number): { etaMs?: number } {
  const ms = eta.estimate(turnsLeft, questionsLeft);
  return ms === undefined ? {} : { etaMs: Math.round(ms) };
}
