// One bank as the agents see it: list, retrieve, apply a batch. Two implementations share the validation
// rules (planBatch) and the retrieval index (MemoryIndex): the IndexedDB store in the app, and a plain
// in-memory bank for Node (CLI, evaluation) and for training rewards, where the manager's operations are
// applied to a throw-away copy of a bank.
import { historyRecord, planBatch, textsToEmbed } from './operations';
import { MemoryIndex, type RetrievalOptions, type RetrievedGroup } from './retrieval';
import type { HistoryEntry, Memory } from './schema';
import type { ApplyResult, Embedder, MemoryStore, OperationResult, WriteContext } from './store';

export interface MemoryBank {
  readonly bankId: string;
  list(filter?: { speaker?: string }): Promise<Memory[]>;
  retrieve(query: string, options?: RetrievalOptions & { embedding?: Float32Array }): Promise<RetrievedGroup[]>;
  apply(operations: readonly unknown[], context: WriteContext): Promise<ApplyResult>;
}

/** A bank of the IndexedDB store. */
export function storeBank(store: MemoryStore, bankId: string): MemoryBank {
  return {
    bankId,
    list: (filter) => store.list(bankId, filter),
    retrieve: (query, options) => store.retrieve(bankId, query, options),
    apply: (operations, context) => store.apply(bankId, operations, context),
  };
}

/** A bank held in memory only: same rules and retrieval as the store, nothing persisted. */
export class InMemoryBank implements MemoryBank {
  private readonly memories = new Map<string, Memory>();
  private readonly index = new MemoryIndex();
  private nextId = 0;
  private nextSeq = 1;
  readonly history: HistoryEntry[] = [];

  constructor(
    readonly bankId: string,
    memories: Iterable<Memory> = [],
    private readonly embedder?: Embedder,
  ) {
    for (const memory of memories) this.put(memory);
  }

  /** An independent copy (memories and index), e.g. to score one rollout of the manager. */
  clone(): InMemoryBank {
    const copy = new InMemoryBank(this.bankId, this.memories.values(), this.embedder);
    copy.nextId = this.nextId;
    return copy;
  }

  async list(filter: { speaker?: string } = {}): Promise<Memory[]> {
    const all = [...this.memories.values()];
    return filter.speaker === undefined ? all : all.filter((m) => (m.speaker ?? '') === filter.speaker);
  }

  async retrieve(query: string, options: RetrievalOptions & { embedding?: Float32Array } = {}): Promise<RetrievedGroup[]> {
    const embedding = options.embedding ?? (this.embedder ? (await this.embedder.embed([query]))[0] : undefined);
    return this.index.search(embedding ? { text: query, embedding } : { text: query }, options);
  }

  async apply(operations: readonly unknown[], context: WriteContext): Promise<ApplyResult> {
    let embeddings: Map<string, Float32Array> | undefined;
    if (this.embedder) {
      const texts = textsToEmbed(operations);
      const vectors = await this.embedder.embed(texts);
      embeddings = new Map(texts.map((t, i) => [t, vectors[i]!]));
    }
    const now = Date.now();
    const planned = planBatch(operations, this.memories, {
      bankId: this.bankId,
      now,
      newId: () => this.freshId(),
      ...(embeddings ? { embeddings } : {}),
      ...context,
    });
    const results = planned.map((plan): OperationResult => {
      const seq = this.nextSeq++;
      this.history.push({ ...historyRecord(this.bankId, plan, context, now), seq });
      if (plan.kind === 'rejected') return { index: plan.index, status: 'rejected', reason: plan.reason, operation: plan.operation, seq };
      const memoryId = (plan.after ?? plan.before)!.id;
      if (plan.event !== 'NONE') {
        if (plan.after) this.put(plan.after);
        else {
          this.memories.delete(memoryId);
          this.index.remove(memoryId);
        }
      }
      return { index: plan.index, status: 'applied', event: plan.event, memoryId, before: plan.before, after: plan.after, seq };
    });
    const applied = results.filter((r) => r.status === 'applied').length;
    return { results, applied, rejected: results.length - applied };
  }

  /** A new id: a counter, skipping any id a seeded or restored memory already uses. */
  private freshId(): string {
    let id: string;
    do id = `${this.bankId}:${this.nextId++}`;
    while (this.memories.has(id));
    return id;
  }

  private put(memory: Memory): void {
    this.memories.set(memory.id, memory);
    this.index.upsert(memory);
  }
}
