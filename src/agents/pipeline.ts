// A chat turn and a question, end to end over one bank. ingest: extract → retrieve → manage → apply;
// ask: retrieve → answer (the paper's Answer Agent); reply: retrieve → a natural chat reply, streamed.
// A chat turn replies first and remembers after (see MemoryQueue). Each step reports its time and tokens,
// and events let a UI show facts and operations as they happen. Knows nothing of storage (any
// MemoryBank) or of training.
import type { Memory, MemoryBank } from '../memory';
import { NO_USAGE, type ChatModel, type Sampling, type TokenUsage } from '../llm/chat-model';
import { answerFromMemories, retrieveForQuestion, type AnswerResult } from './answer';
import { extractFacts, type TurnInput } from './extract';
import { applyOperations, decideOperations, type AppliedOperation, type ManagerDecision, type RejectedOperation } from './manager';
import { viewMemories } from './memory-view';
import { buildReplyMessages, REPLY_SAMPLING, ReplyStream, type ReplyTurn } from './reply';

export type IngestStep = 'extract' | 'retrieve' | 'manage' | 'apply';
export type AskStep = 'retrieve' | 'answer';
export type ReplyStep = 'retrieve' | 'reply';

export interface StepReport<S extends string = string> {
  step: S;
  ms: number;
  usage: TokenUsage;
}

export interface IngestReport {
  turnId: string;
  facts: string[];
  /** Stored memories the manager was shown. */
  related: Memory[];
  decision: ManagerDecision | undefined;
  applied: AppliedOperation[];
  rejected: RejectedOperation[];
  /** The manager's reply was unusable twice, so nothing was applied. */
  fellBack: boolean;
  steps: StepReport<IngestStep>[];
}

export interface AskReport extends AnswerResult {
  question: string;
  steps: StepReport<AskStep>[];
}

export interface ReplyReport {
  message: string;
  /** What the user saw streamed, and what is kept: the reply without its "Memories used:" line. */
  text: string;
  /** The memories the reply said it relied on (of those it was shown). */
  usedMemories: Memory[];
  /** How many memories were retrieved and shown. */
  retrieved: number;
  /** Generation was aborted; `text` is what had streamed by then. */
  stopped: boolean;
  raw: string;
  usage: TokenUsage;
  steps: StepReport<ReplyStep>[];
}

export interface ReplyOptions {
  /** The user's name, as memories name them. */
  speaker: string;
  /** Earlier turns of the conversation, oldest first. */
  history?: readonly ReplyTurn[];
  date?: string;
  signal?: AbortSignal;
  /** Each visible piece of the reply as it streams. */
  onToken?: (delta: string) => void;
  /** false: a temporary chat, which neither reads nor writes memory. */
  useMemory?: boolean;
}

type Run = 'ingest' | 'ask' | 'reply';

export type PipelineEvent =
  | { type: 'step-start'; run: Run; step: IngestStep | AskStep | ReplyStep }
  | { type: 'step-end'; run: Run; report: StepReport }
  | { type: 'facts'; turnId: string; facts: string[] }
  | { type: 'applied'; turnId: string; operation: AppliedOperation }
  | { type: 'rejected'; turnId: string; operation: RejectedOperation }
  | { type: 'fell-back'; turnId: string; errors: string[] }
  | { type: 'answer'; question: string; answer: string; usedMemories: Memory[] }
  | { type: 'reply'; message: string; text: string; usedMemories: Memory[]; stopped: boolean };

export type PipelineListener = (event: PipelineEvent) => void;

export interface PipelineOptions {
  /** The model for extraction and management. */
  model: ChatModel;
  bank: MemoryBank;
  /** The answer agent's model (default: `model`); training keeps a frozen one here. */
  answerModel?: ChatModel;
  /** Related memories retrieved per fact for the manager (default 5), and at most this many in all (default 30). */
  relatedPerFact?: number;
  maxRelated?: number;
  /** Memories per speaker for questions (default 30). */
  perSpeaker?: number;
  /** Memories per speaker shown to the chat reply (default 10). */
  replyPerSpeaker?: number;
  /** The chat reply's model (default: `answerModel`, else `model`). */
  replyModel?: ChatModel;
  sampling?: { extract?: Sampling; manage?: Sampling; answer?: Sampling; reply?: Sampling };
  /** Milliseconds clock (tests pass a fake one). */
  now?: () => number;
}

let turnCounter = 0;

export class MemoryPipeline {
  private readonly listeners = new Set<PipelineListener>();
  private readonly now: () => number;

  constructor(private readonly options: PipelineOptions) {
    this.now = options.now ?? (() => performance.now());
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: PipelineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: PipelineEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (UI) must not break the write path.
      }
    }
  }

  private async step<S extends IngestStep | AskStep | ReplyStep, T>(
    run: Run,
    step: S,
    steps: StepReport<S>[],
    work: () => Promise<T>,
    usageOf: (value: T) => TokenUsage = () => NO_USAGE,
  ): Promise<T> {
    this.emit({ type: 'step-start', run, step });
    const start = this.now();
    const value = await work();
    const report: StepReport<S> = { step, ms: this.now() - start, usage: usageOf(value) };
    steps.push(report);
    this.emit({ type: 'step-end', run, report });
    return value;
  }

  /** Memories related to any of the facts: the best few per fact, each once, at most maxRelated. */
  private async related(facts: readonly string[]): Promise<Memory[]> {
    const perFact = this.options.relatedPerFact ?? 5;
    const max = this.options.maxRelated ?? 30;
    const chosen = new Map<string, Memory>();
    for (const fact of facts) {
      const groups = await this.options.bank.retrieve(fact, { perSpeaker: perFact, fillWithRecent: false });
      const best = groups
        .flatMap((group) => group.memories)
        .sort((a, b) => b.score - a.score)
        .slice(0, perFact);
      for (const { memory } of best) if (chosen.size < max) chosen.set(memory.id, memory);
    }
    return [...chosen.values()];
  }

  async ingest(turn: TurnInput, options: { signal?: AbortSignal } = {}): Promise<IngestReport> {
    const turnId = turn.id ?? `turn-${Date.now().toString(36)}-${turnCounter++}`;
    const signal = options.signal ? { signal: options.signal } : {};
    const sampling = this.options.sampling ?? {};
    const steps: StepReport<IngestStep>[] = [];
    const report: IngestReport = { turnId, facts: [], related: [], decision: undefined, applied: [], rejected: [], fellBack: false, steps };

    const extraction = await this.step('ingest', 'extract', steps, () => extractFacts(this.options.model, turn, { ...signal, ...(sampling.extract ? { sampling: sampling.extract } : {}) }), (r) => r.usage);
    report.facts = extraction.facts;
    this.emit({ type: 'facts', turnId, facts: extraction.facts });
    if (extraction.facts.length === 0) return report;

    report.related = await this.step('ingest', 'retrieve', steps, () => this.related(extraction.facts));
    const view = viewMemories(report.related);
    const decision = await this.step(
      'ingest',
      'manage',
      steps,
      () =>
        decideOperations(this.options.model, extraction.facts, view, {
          ...signal,
          speaker: turn.speaker,
          ...(turn.sessionDate ? { sessionDate: turn.sessionDate } : {}),
          ...(sampling.manage ? { sampling: sampling.manage } : {}),
        }),
      (d) => d.usage,
    );
    report.decision = decision;
    report.fellBack = decision.fellBack;
    if (decision.fellBack) this.emit({ type: 'fell-back', turnId, errors: decision.errors });

    const outcome = await this.step('ingest', 'apply', steps, () =>
      applyOperations(this.options.bank, decision.operations, view, {
        turnId,
        facts: extraction.facts,
        speaker: turn.speaker,
        ...(turn.sessionDate ? { sessionDate: turn.sessionDate } : {}),
      }),
    );
    report.applied = outcome.applied;
    report.rejected = outcome.rejected;
    for (const operation of outcome.applied) this.emit({ type: 'applied', turnId, operation });
    for (const operation of outcome.rejected) this.emit({ type: 'rejected', turnId, operation });
    return report;
  }

  async ask(question: string, options: { signal?: AbortSignal; date?: string } = {}): Promise<AskReport> {
    const steps: StepReport<AskStep>[] = [];
    const groups = await this.step('ask', 'retrieve', steps, () => retrieveForQuestion(this.options.bank, question, this.options.perSpeaker));
    const sampling = this.options.sampling?.answer;
    const result = await this.step(
      'ask',
      'answer',
      steps,
      () =>
        answerFromMemories(this.options.answerModel ?? this.options.model, question, groups, {
          ...(sampling ? { sampling } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
          ...(options.date ? { date: options.date } : {}),
        }),
      (r) => r.usage,
    );
    this.emit({ type: 'answer', question, answer: result.answer, usedMemories: result.usedMemories });
    return { ...result, question, steps };
  }

  /**
   * The chat's reply to a message: memories retrieved for it, then a natural reply streamed through
   * `onToken` without its "Memories used:" line. A stop (abort) is not an error: the reply comes back
   * with what had streamed and `stopped`.
   */
  async reply(message: string, options: ReplyOptions): Promise<ReplyReport> {
    const steps: StepReport<ReplyStep>[] = [];
    const useMemory = options.useMemory ?? true;
    const groups = useMemory ? await this.step('reply', 'retrieve', steps, () => retrieveForQuestion(this.options.bank, message, this.options.replyPerSpeaker ?? 10)) : [];
    const view = viewMemories(groups.flatMap((group) => group.memories));
    const messages = buildReplyMessages({
      message,
      speaker: options.speaker,
      memories: view.shown,
      ...(options.history ? { history: options.history } : {}),
      ...(options.date ? { date: options.date } : {}),
    });
    const stream = new ReplyStream(options.onToken);
    const model = this.options.replyModel ?? this.options.answerModel ?? this.options.model;
    let raw = '';
    let usage = NO_USAGE;
    let stopped = false;
    await this.step('reply', 'reply', steps, async () => {
      try {
        const response = await model.chat({
          ...REPLY_SAMPLING,
          ...this.options.sampling?.reply,
          messages,
          onToken: (delta) => {
            raw += delta;
            stream.push(delta);
          },
          ...(options.signal ? { signal: options.signal } : {}),
        });
        // A model that does not stream still gives its text here.
        if (!raw) stream.push(response.text);
        raw = response.text;
        usage = response.usage;
      } catch (error) {
        if (!(options.signal?.aborted && isAbort(error))) throw error;
        stopped = true;
      }
      stream.end();
      return usage;
    }, (u) => u);
    const usedMemories = stopped ? [] : stream.usedShortIds.map((id) => view.byShortId(id)).filter((m): m is Memory => m !== undefined);
    this.emit({ type: 'reply', message, text: stream.visible, usedMemories, stopped });
    return { message, text: stream.visible, usedMemories, retrieved: view.shown.length, stopped, raw, usage, steps };
  }
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || /abort/i.test(error.message));
}

/**
 * Runs jobs one after another per key (a conversation): a turn's memory update starts only when the one
 * before it in the same conversation is done, so the manager always sees the bank as earlier turns left
 * it. A failed job does not block the next.
 */
export class MemoryQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(job);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves when every job queued so far under `key` (or under any key) has finished. */
  async idle(key?: string): Promise<void> {
    await Promise.all(key === undefined ? [...this.tails.values()] : [this.tails.get(key)]);
  }
}
