// Memory-R1's training data, built by running our own pipeline over a split (train = conv-26, 152 QA):
// - manager tuples: a turn, the memory bank built from the turns before it, the facts extracted from the
//   turn, the memories the manager is shown, its exact prompt, and the questions whose evidence includes
//   the turn (what its reward asks the frozen answer agent);
// - answer tuples: a question, the memories retrieved for it (30 per speaker) from the finished bank, the
//   exact prompt, the gold answer, and how much of its evidence the retrieved memories cover (recall@60).
// As in the paper, the bank can be built by a model other than the policy being trained (`model`: a
// stronger bank builder), and the answer agent's banks by a chosen (trained) Memory Manager
// (`answerBankModel`, Algorithm 2); `embedder` makes retrieval hybrid (BM25 + embeddings).
// Pure JSON-able data: cached as a file in Node (./tuples.node) and in IndexedDB in the app.
import { answerPrompt, buildManagerMessages, MemoryPipeline, retrieveForQuestion, viewMemories, type PipelineOptions } from '../agents';
import { embedderOf, type ChatMessage, type ChatModel } from '../llm/chat-model';
import { InMemoryBank, type Embedder } from '../memory';
import { storeMemories, type StoredMemory } from './bank-snapshot';
import type { Category, LocomoConversation } from './locomo';
import { evidenceRecall, meanRecall, Provenance, RECALL_AT } from './recall';
import type { RunIdentity } from './runner';
import { conversationTurns, evaluatedQuestions, turnId, type ConversationTurn } from './turns';

export const TUPLES_VERSION = 2;

export interface LinkedQuestion {
  qaIndex: number;
  question: string;
  gold: string;
  category: Category;
}

export interface ManagerTuple {
  sampleId: string;
  turn: ConversationTurn;
  /** The bank before this turn: every memory made from earlier turns, none from this one or later. */
  memories: StoredMemory[];
  facts: string[];
  /** Ids of the memories shown to the manager, in the order shown (short id "0" is the first). */
  related: string[];
  /** The manager's prompt for this turn, exactly as the pipeline builds it. */
  prompt: ChatMessage[];
  questions: LinkedQuestion[];
}

export interface AnswerTuple {
  sampleId: string;
  qaIndex: number;
  question: string;
  gold: string;
  category: Category;
  /** The retrieved memories per speaker, in the order shown. */
  groups: { speaker: string; memories: StoredMemory[] }[];
  prompt: ChatMessage[];
  /** The question's evidence as turn ids (`sampleId:diaId`). */
  evidence: string[];
  /** Fraction of the evidence turns some retrieved memory came from (./recall); absent without evidence. */
  evidenceRecall?: number;
}

export interface TrainingTuples {
  version: typeof TUPLES_VERSION;
  /** What built them (model, adapter, split, limits): a cache is reused only for the same identity. */
  identity: RunIdentity;
  manager: ManagerTuple[];
  answer: AnswerTuple[];
  /** Linked turns the extractor found no facts in (the manager is not called there, so no tuple). */
  linkedTurnsWithoutFacts: number;
  /** Mean evidence recall of the answer tuples' retrieved memories (0-1; null when no question has evidence). */
  recall: { at: typeof RECALL_AT; mean: number | null };
}

export type TupleProgress = { sampleId: string; turn: number; turns: number };

/** Where built tuples are kept (a file in Node, IndexedDB in the browser). */
export interface TupleCache {
  /** The tuples built by this identity, if kept. */
  load(identity: RunIdentity): Promise<TrainingTuples | undefined>;
  save(tuples: TrainingTuples): Promise<void>;
}

/** The kept tuples of `identity`, or `build()` them and keep them. */
export async function loadOrBuildTuples(cache: TupleCache, identity: RunIdentity, build: () => Promise<TrainingTuples>): Promise<{ tuples: TrainingTuples; cached: boolean }> {
  const kept = await cache.load(identity);
  if (kept) return { tuples: kept, cached: true };
  const tuples = await build();
  await cache.save(tuples);
  return { tuples, cached: false };
}

export interface TupleOptions {
  conversations: readonly LocomoConversation[];
  /** Runs extraction and management while the bank is built (the bank builder: any model, not only the policy). */
  model: ChatModel;
  /** Builds the banks the answer tuples retrieve from (e.g. the base model with a trained manager adapter); default `model`. */
  answerBankModel?: ChatModel;
  /** Embeds memories and questions (default: `model`'s embeddings, if it has any). */
  embedder?: Embedder;
  identity: RunIdentity;
  limits?: { conversations?: number; turns?: number; questions?: number };
  /** Memories retrieved per speaker for each answer tuple (default 30, as in Memory-R1). */
  perSpeaker?: number;
  /** Sampling of extraction and management while the bank is built (default: the agents' own). */
  sampling?: PipelineOptions['sampling'];
  onProgress?: (progress: TupleProgress) => void;
  signal?: AbortSignal;
}

/** Replays `turns` into a new bank through the pipeline; `onTurn` sees each turn's report. */
async function replay(
  sampleId: string,
  turns: readonly ConversationTurn[],
  model: ChatModel,
  options: TupleOptions,
  onTurn?: (turn: ConversationTurn, bank: InMemoryBank, ingest: () => ReturnType<MemoryPipeline['ingest']>) => Promise<void>,
): Promise<{ bank: InMemoryBank; provenance: Provenance }> {
  const bank = new InMemoryBank(sampleId, [], options.embedder ?? embedderOf(model));
  const pipeline = new MemoryPipeline({ model, bank, ...(options.sampling ? { sampling: options.sampling } : {}) });
  const provenance = new Provenance();
  for (const turn of turns) {
    options.signal?.throwIfAborted();
    const ingest = async () => {
      const report = await pipeline.ingest(turn, options.signal ? { signal: options.signal } : {});
      provenance.record(turn.id, report.applied);
      options.onProgress?.({ sampleId, turn: turn.index + 1, turns: turns.length });
      return report;
    };
    if (onTurn) await onTurn(turn, bank, ingest);
    else await ingest();
  }
  return { bank, provenance };
}

export async function buildTrainingTuples(options: TupleOptions): Promise<TrainingTuples> {
  const limits = options.limits ?? {};
  const out: TrainingTuples = { version: TUPLES_VERSION, identity: options.identity, manager: [], answer: [], linkedTurnsWithoutFacts: 0, recall: { at: RECALL_AT, mean: null } };
  for (const conversation of options.conversations.slice(0, limits.conversations)) {
    const questions = evaluatedQuestions(conversation, limits.questions);
    const linked = new Map<string, LinkedQuestion[]>();
    for (const qa of questions) {
      for (const diaId of new Set(qa.evidence)) {
        const list = linked.get(diaId) ?? [];
        list.push({ qaIndex: qa.qaIndex, question: qa.question, gold: qa.answer, category: qa.category });
        linked.set(diaId, list);
      }
    }
    const turns = conversationTurns(conversation, limits.turns);
    const built = await replay(conversation.sampleId, turns, options.model, options, async (turn, bank, ingest) => {
      const linkedQuestions = linked.get(turn.diaId);
      const before = linkedQuestions ? await bank.list() : [];
      const report = await ingest();
      if (!linkedQuestions) return;
      if (report.facts.length === 0) {
        out.linkedTurnsWithoutFacts++;
        return;
      }
      const prompt = buildManagerMessages({
        facts: report.facts,
        memories: viewMemories(report.related).shown,
        speaker: turn.speaker,
        ...(turn.sessionDate ? { sessionDate: turn.sessionDate } : {}),
      });
      out.manager.push({
        sampleId: conversation.sampleId,
        turn,
        memories: storeMemories(before),
        facts: report.facts,
        related: report.related.map((m) => m.id),
        prompt,
        questions: linkedQuestions,
      });
    });
    // Algorithm 2: the answer agent learns over banks kept by the chosen manager.
    const answerBank = options.answerBankModel && options.answerBankModel !== options.model ? await replay(conversation.sampleId, turns, options.answerBankModel, options) : built;
    for (const qa of questions) {
      const groups = await retrieveForQuestion(answerBank.bank, qa.question, options.perSpeaker);
      const evidence = qa.evidence.map((diaId) => turnId(conversation.sampleId, diaId));
      const recall = evidenceRecall(evidence, groups.flatMap((g) => g.memories), answerBank.provenance);
      out.answer.push({
        sampleId: conversation.sampleId,
        qaIndex: qa.qaIndex,
        question: qa.question,
        gold: qa.answer,
        category: qa.category,
        groups: groups.map((group) => ({ speaker: group.speaker, memories: storeMemories(group.memories) })),
        prompt: answerPrompt(qa.question, groups).messages,
        evidence,
        ...(recall !== undefined ? { evidenceRecall: recall } : {}),
      });
    }
  }
  out.recall.mean = meanRecall(out.answer.map((t) => t.evidenceRecall));
  return out;
}
