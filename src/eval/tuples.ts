// Memory-R1's training data, built by running our own pipeline over a split (train = conv-26, 152 QA):
// - manager tuples: a turn, the memory bank built from the turns before it, the facts extracted from the
//   turn, the memories the manager is shown, its exact prompt, and the questions whose evidence includes
//   the turn (what its reward asks the frozen answer agent);
// - answer tuples: a question, the memories retrieved for it (30 per speaker) from the finished bank, the
//   exact prompt, and the gold answer.
// Pure JSON-able data: cached as a file in Node (./tuples.node) and in IndexedDB in the app.
import { answerPrompt, buildManagerMessages, MemoryPipeline, retrieveForQuestion, viewMemories, type PipelineOptions } from '../agents';
import { embedderOf, type ChatMessage, type ChatModel } from '../llm/chat-model';
import { InMemoryBank } from '../memory';
import { storeMemories, type StoredMemory } from './bank-snapshot';
import type { Category, LocomoConversation } from './locomo';
import type { RunIdentity } from './runner';
import { conversationTurns, evaluatedQuestions, type ConversationTurn } from './turns';

export const TUPLES_VERSION = 1;

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
}

export interface TrainingTuples {
  version: typeof TUPLES_VERSION;
  /** What built them (model, adapter, split, limits): a cache is reused only for the same identity. */
  identity: RunIdentity;
  manager: ManagerTuple[];
  answer: AnswerTuple[];
  /** Linked turns the extractor found no facts in (the manager is not called there, so no tuple). */
  linkedTurnsWithoutFacts: number;
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
  /** Runs extraction and management while the bank is built. */
  model: ChatModel;
  identity: RunIdentity;
  limits?: { conversations?: number; turns?: number; questions?: number };
  /** Sampling of extraction and management while the bank is built (default: the agents' own). */
  sampling?: PipelineOptions['sampling'];
  onProgress?: (progress: TupleProgress) => void;
  signal?: AbortSignal;
}

export async function buildTrainingTuples(options: TupleOptions): Promise<TrainingTuples> {
  const limits = options.limits ?? {};
  const out: TrainingTuples = { version: TUPLES_VERSION, identity: options.identity, manager: [], answer: [], linkedTurnsWithoutFacts: 0 };
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
    const bank = new InMemoryBank(conversation.sampleId, [], embedderOf(options.model));
    const pipeline = new MemoryPipeline({ model: options.model, bank, ...(options.sampling ? { sampling: options.sampling } : {}) });
    const turns = conversationTurns(conversation, limits.turns);
    for (const turn of turns) {
      options.signal?.throwIfAborted();
      const linkedQuestions = linked.get(turn.diaId);
      const before = linkedQuestions ? await bank.list() : [];
      const report = await pipeline.ingest(turn, options.signal ? { signal: options.signal } : {});
      options.onProgress?.({ sampleId: conversation.sampleId, turn: turn.index + 1, turns: turns.length });
      if (!linkedQuestions) continue;
      if (report.facts.length === 0) {
        out.linkedTurnsWithoutFacts++;
        continue;
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
    }
    for (const qa of questions) {
      const groups = await retrieveForQuestion(bank, qa.question);
      out.answer.push({
        sampleId: conversation.sampleId,
        qaIndex: qa.qaIndex,
        question: qa.question,
        gold: qa.answer,
        category: qa.category,
        groups: groups.map((group) => ({ speaker: group.speaker, memories: storeMemories(group.memories) })),
        prompt: answerPrompt(qa.question, groups).messages,
      });
    }
  }
  return out;
}
