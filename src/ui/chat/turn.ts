// A chat turn replies first and remembers after. The user's message is stored together with its entry in
// the durable memory queue (IndexedDB "pending"); the reply agent streams its answer; then the memory
// update (extract → manage → apply) runs, one turn at a time per conversation. A turn whose update had not
// finished when the tab closed is still queued, and is finished on the next load. An update is applied at
// most once: its history records carry the turn id, and a turn that already has them is only marked done.
import { MemoryPipeline, MemoryQueue, type IngestReport, type PipelineEvent, type ReplyTurn } from '../../agents';
import type { ChatModel } from '../../llm/chat-model';
import { storeBank, type MemoryStore, type PendingTurn } from '../../memory';
import { todayAsSessionDate } from '../format';
import type { Settings } from '../settings';

/** A pipeline over the bank with the user's sampling settings. */
export function pipelineFor(model: ChatModel, store: MemoryStore, bankId: string, settings: Settings, answerModel?: ChatModel): MemoryPipeline {
  return new MemoryPipeline({
    model,
    bank: storeBank(store, bankId),
    ...(answerModel ? { answerModel } : {}),
    perSpeaker: settings.perSpeaker,
    sampling: { manage: { temperature: settings.managerTemperature }, answer: { temperature: settings.temperature }, reply: { temperature: settings.temperature } },
  });
}

const STEP_LABELS: Record<string, string> = {
  'ingest:extract': 'Picking out facts…',
  'ingest:retrieve': 'Looking up related memories…',
  'ingest:manage': 'Deciding memory operations…',
  'ingest:apply': 'Updating memory…',
  'ask:retrieve': 'Retrieving memories…',
  'ask:answer': 'Answering…',
  'reply:retrieve': 'Recalling…',
  'reply:reply': 'Replying…',
};

export function stepLabel(event: PipelineEvent): string | undefined {
  return event.type === 'step-start' ? STEP_LABELS[`${event.run}:${event.step}`] : undefined;
}

/** What a memory update changed: operations other than NONE, and rejected ones. */
export interface MemoryOutcome {
  changed: number;
  rejected: number;
}

export function outcomeOf(report: IngestReport): MemoryOutcome {
  return { changed: report.applied.filter((op) => op.event !== 'NONE').length, rejected: report.rejected.length };
}

/** Earlier messages as the reply agent sees them, with the day each was said. */
export function replyHistory(entries: readonly { role: 'user' | 'assistant'; text: string; at: number }[]): ReplyTurn[] {
  return entries.filter((e) => e.text.trim() !== '').map((e) => ({ role: e.role, text: e.text, date: todayAsSessionDate(new Date(e.at)) }));
}

type LockRequest = <T>(name: string, body: () => Promise<T>) => Promise<T>;
const locks: LockRequest = (name, body) => {
  const webLocks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  return webLocks ? (webLocks.request(name, body) as ReturnType<typeof body>) : body();
};

/**
 * The chat's memory updates for one store: queued per conversation, durable, applied once. `onDone` hears
 * each finished turn (to update the chat view).
 */
export class ChatMemory {
  private readonly queue = new MemoryQueue();
  private readonly queued = new Set<string>();

  constructor(
    private readonly store: MemoryStore,
    private readonly onDone: (turnId: string, outcome: MemoryOutcome) => void,
    private readonly onStep: (label: string | null) => void = () => {},
  ) {}

  /** Queues a turn's memory update (once, however often it is asked for); resolves when it is done. */
  update(pending: PendingTurn, model: ChatModel, settings: Settings): Promise<MemoryOutcome | undefined> {
    if (this.queued.has(pending.turnId)) return this.queue.idle(pending.conversationId).then(() => undefined);
    this.queued.add(pending.turnId);
    return this.queue
      .run(pending.conversationId, () => locks(`memory-r1/turn/${pending.turnId}`, () => this.run(pending, model, settings)))
      .finally(() => this.queued.delete(pending.turnId));
  }

  /** Finishes every turn of the bank still queued from before (a closed tab, a failed update). */
  async resume(bankId: string, model: ChatModel, settings: Settings): Promise<number> {
    const pending = await this.store.conversations.pending(bankId);
    await Promise.all(pending.map((p) => this.update(p, model, settings).catch(() => undefined)));
    return pending.length;
  }

  private async run(pending: PendingTurn, model: ChatModel, settings: Settings): Promise<MemoryOutcome | undefined> {
    const log = this.store.conversations;
    // Another tab may have finished it while this one waited for the lock.
    if (!(await log.pending(pending.bankId)).some((p) => p.turnId === pending.turnId)) return undefined;
    let outcome: MemoryOutcome;
    if (await log.applied(pending.turnId)) {
      // Applied before the tab closed, but not yet marked done: count what it did, apply nothing again.
      const entries = await log.operationsOf(pending.turnId);
      outcome = { changed: entries.filter((e) => e.event !== 'NONE' && e.event !== 'REJECTED').length, rejected: entries.filter((e) => e.event === 'REJECTED').length };
    } else if (!(await log.getTurn(pending.turnId))) {
      outcome = { changed: 0, rejected: 0 }; // the message was deleted before its update ran
    } else {
      const pipeline = pipelineFor(model, this.store, pending.bankId, settings);
      const off = pipeline.on((event) => {
        const label = stepLabel(event);
        if (label) this.onStep(label);
      });
      try {
        const report = await pipeline.ingest({ id: pending.turnId, speaker: pending.speaker, text: pending.text, ...(pending.sessionDate ? { sessionDate: pending.sessionDate } : {}) });
        outcome = outcomeOf(report);
      } finally {
        off();
        this.onStep(null);
      }
    }
    await log.finishPending(pending.turnId, outcome);
    this.onDone(pending.turnId, outcome);
    return outcome;
  }
}
