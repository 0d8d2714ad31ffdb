// A chat turn and a question, end to end over one bank. ingest: extract → retrieve → manage → apply;
// ask: retrieve → answer. Each step reports its time and tokens, and events let a UI show facts and
// operations as they happen. Knows nothing of storage (any MemoryBank) or of training.
import type { Memory, MemoryBank } from '../memory';
import { NO_USAGE, type ChatModel, type Sampling, type TokenUsage } from '../llm/chat-model';
import { answerFromMemories, retrieveForQuestion, type AnswerResult } from './answer';
import { extractFacts, type TurnInput } from './extract';
import { applyOperations, decideOperations, type AppliedOperation, type ManagerDecision, type RejectedOperation } from './manager';
import { viewMemories } from './memory-view';

export type IngestStep = 'extract' | 'retrieve' | 'manage' | 'apply';
export type AskStep = 'retrieve' | 'answer';

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

export type PipelineEvent =
  | { type: 'step-start'; run: 'ingest' | 'ask'; step: IngestStep | AskStep }
  | { type: 'step-end'; run: 'ingest' | 'ask'; report: StepReport }
  | { type: 'facts'; turnId: string; facts: string[] }
  | { type: 'applied'; turnId: string; operation: AppliedOperation }
  | { type: 'rejected'; turnId: string; operation: RejectedOperation }
  | { type: 'fell-back'; turnId: string; errors: string[] }
  | { type: 'answer'; question: string; answer: string; usedMemories: Memory[] };

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
  sampling?: { extract?: Sampling; manage?: Sampling; answer?: Sampling };
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

  private async step<S extends IngestStep | AskStep, T>(
    run: 'ingest' | 'ask',
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
}
        facts: extraction.facts,
