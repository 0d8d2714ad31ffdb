// The memory bank on IndexedDB. Every change (a manager's batch, a user's edit, an undo) goes through one
// path: plan against the stored state, then write the memories and their history records in ONE
// transaction, under a per-bank Web Lock, and announce it to this tab's listeners and to other tabs.
import type { IDBPTransaction } from 'idb';
import { ConversationLog, Settings } from './conversations';
import { guardQuota, inTransaction, openMemoryDb, type MemoryDb, type MemoryDbSchema } from './db';
import { historyRecord, planBatch, referencedIds, sameState, snapshot, textsToEmbed, undoneBy } from './operations';
import { MemoryIndex, type RetrievalOptions, type RetrievedGroup } from './retrieval';
import type { Actor, Bank, HistoryEntry, Memory, MemoryEvent, MemorySnapshot, NewHistoryEntry, Operation } from './schema';
import { defaultLocks, type BankChange, type BankListener, type LockProvider } from './sync';

export { StorageFullError } from './db';

/** Turns texts into embeddings (one per text, any fixed dimension). */
export interface Embedder {
  embed(texts: string[]): Promise<Float32Array[]>;
}

export interface StoreOptions {
  /** Database name (tests use their own). */
  name?: string;
  embedder?: Embedder;
  locks?: LockProvider;
  /** Announce changes to other tabs and follow theirs (default: when BroadcastChannel exists). */
  broadcast?: boolean;
  /** Called when another tab upgraded the database and this one must reload. */
  onStale?: () => void;
}

export interface WriteContext {
  actor: Actor;
  turnId?: string;
  /** The facts extracted from the turn that the operations act on, kept in their history (provenance). */
  facts?: readonly string[];
  sessionDate?: string;
  /** Speaker of memories ADDed without one (Memory-R1 keeps memories per speaker). */
  speaker?: string;
}

export type OperationResult =
  | { index: number; status: 'applied'; event: MemoryEvent; memoryId: string; before: Memory | null; after: Memory | null; seq: number }
  | { index: number; status: 'rejected'; reason: string; operation: unknown; seq: number };

export interface ApplyResult {
  results: OperationResult[];
  applied: number;
  rejected: number;
}

export class MemoryStoreError extends Error {
  override name = 'MemoryStoreError';
}

let lastMillis = 0;
let counter = 0;
/** Ids that sort in creation order (time, then a counter within the millisecond), with a random tail. */
export function newMemoryId(now = Date.now()): string {
  counter = now === lastMillis ? counter + 1 : 0;
  lastMillis = now;
  const random = crypto.getRandomValues(new Uint32Array(1))[0]!.toString(36).padStart(7, '0');
  return `m${now.toString(36).padStart(9, '0')}${counter.toString(36).padStart(4, '0')}${random}`;
}

export class MemoryStore {
  private readonly listeners = new Set<BankListener>();
  private readonly indexes = new Map<string, Promise<MemoryIndex>>();
  private readonly channel: BroadcastChannel | undefined;
  readonly conversations: ConversationLog;
  readonly settings: Settings;

  private constructor(
    private readonly db: MemoryDb,
    private readonly locks: LockProvider,
    private readonly embedder: Embedder | undefined,
    channelName: string,
    broadcast: boolean,
  ) {
    this.conversations = new ConversationLog(db);
    this.settings = new Settings(db);
    if (broadcast && typeof BroadcastChannel !== 'undefined') {
      this.channel = new BroadcastChannel(channelName);
      this.channel.onmessage = (event: MessageEvent<BankChange>) => this.dispatch({ ...event.data, remote: true });
    }
  }

  static async open(options: StoreOptions = {}): Promise<MemoryStore> {
    const name = options.name ?? 'memory-r1';
    const db = await openMemoryDb(name, options.onStale);
    return new MemoryStore(db, options.locks ?? defaultLocks(), options.embedder, `memory-r1:${name}`, options.broadcast ?? true);
  }

  close(): void {
    this.channel?.close();
    this.db.close();
  }

  // ---- banks -------------------------------------------------------------------------------------

  async ensureBank(id: string, name = id, owner?: string): Promise<Bank> {
    const existing = await this.db.get('banks', id);
    if (existing) return existing;
    const bank: Bank = { id, name, createdAt: Date.now() };
    if (owner) bank.owner = owner;
    await guardQuota(() => this.db.put('banks', bank));
    return bank;
  }

  listBanks(): Promise<Bank[]> {
    return this.db.getAll('banks');
  }

  // ---- reading -----------------------------------------------------------------------------------

  async list(bankId: string, filter: { speaker?: string } = {}): Promise<Memory[]> {
    const memories = await this.db.getAllFromIndex('memories', 'bankId', bankId);
    const selected = filter.speaker === undefined ? memories : memories.filter((m) => (m.speaker ?? '') === filter.speaker);
    return selected.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<Memory | undefined> {
    return this.db.get('memories', id);
  }

  /** History of a bank, newest first. */
  async history(bankId: string, limit = Infinity): Promise<HistoryEntry[]> {
    const entries: HistoryEntry[] = [];
    let cursor = await this.db.transaction('history').store.index('bankId').openCursor(IDBKeyRange.only(bankId), 'prev');
    while (cursor && entries.length < limit) {
      entries.push(cursor.value);
      cursor = await cursor.continue();
    }
    return entries;
  }

  // ---- retrieval ---------------------------------------------------------------------------------

  /** The bank's live retrieval index: built once from the stored memories, then kept up to date by every change. */
  index(bankId: string): Promise<MemoryIndex> {
    let index = this.indexes.get(bankId);
    if (!index) {
      index = this.db.getAllFromIndex('memories', 'bankId', bankId).then((memories) => new MemoryIndex(memories));
      this.indexes.set(bankId, index);
    }
    return index;
  }

  async retrieve(bankId: string, query: string, options: RetrievalOptions & { embedding?: Float32Array } = {}): Promise<RetrievedGroup[]> {
    const embedding = options.embedding ?? (this.embedder ? (await this.embedder.embed([query]))[0] : undefined);
    const index = await this.index(bankId);
    return index.search(embedding ? { text: query, embedding } : { text: query }, options);
  }

  // ---- writing -----------------------------------------------------------------------------------

  /**
   * Validates a batch of operations against the bank and applies every valid one, all in one transaction
   * with their history records; invalid ones are recorded as REJECTED with the reason. Either the whole
   * batch is stored or (on a storage failure) nothing is.
   */
  async apply(bankId: string, operations: readonly unknown[], context: WriteContext): Promise<ApplyResult> {
    const embeddings = await this.embedTexts(textsToEmbed(operations));
    const ids = referencedIds(operations);
    const { results, entries, memories } = await this.write(bankId, async (tx) => {
      const memoriesStore = tx.objectStore('memories');
      const history = tx.objectStore('history');
      const found = await Promise.all(ids.map((id) => memoriesStore.get(id)));
      const existing = new Map(found.filter((m): m is Memory => m !== undefined).map((m) => [m.id, m]));
      const now = Date.now();
      const planned = planBatch(operations, existing, { bankId, now, newId: () => newMemoryId(now), embeddings, ...context });
      const writes: Promise<unknown>[] = [];
      const entries: NewHistoryEntry[] = planned.map((plan) => historyRecord(bankId, plan, context, now));
      for (const plan of planned) {
        if (plan.kind !== 'change' || plan.event === 'NONE') continue;
        writes.push(plan.after ? memoriesStore.put(plan.after) : memoriesStore.delete(plan.before!.id));
      }
      const seqs = await Promise.all(entries.map((entry) => history.add(entry as HistoryEntry)));
      await Promise.all(writes);
      const stored = entries.map((entry, i) => ({ ...entry, seq: seqs[i]! }) as HistoryEntry);
      const results = planned.map((plan, i): OperationResult =>
        plan.kind === 'change'
          ? { index: plan.index, status: 'applied', event: plan.event, memoryId: (plan.after ?? plan.before)!.id, before: plan.before, after: plan.after, seq: seqs[i]! }
          : { index: plan.index, status: 'rejected', reason: plan.reason, operation: plan.operation, seq: seqs[i]! },
      );
      const changedMemories = planned.flatMap((plan) => (plan.kind === 'change' && plan.after && plan.event !== 'NONE' ? [plan.after] : []));
      return { results, entries: stored, memories: changedMemories };
    });
    this.announce({ kind: 'entries', bankId, entries, memories, remote: false });
    const applied = results.filter((r) => r.status === 'applied').length;
    return { results, applied, rejected: results.length - applied };
  }

  /** A user's edit: the same validated path as the manager's operations, recorded with actor `user`. */
  async edit(bankId: string, operation: Operation | Record<string, unknown>): Promise<OperationResult> {
    const { results } = await this.apply(bankId, [operation], { actor: 'user' });
    return results[0]!;
  }

  /**
   * Reverts the change recorded in history entry `seq`, if the memory is still as that change left it.
   * The revert is itself a history entry (with `undoes`), so it can be undone in turn: that is redo.
   */
  async undo(seq: number, actor: Actor = 'user'): Promise<HistoryEntry> {
    const target = await this.db.get('history', seq);
    if (!target) throw new MemoryStoreError(`There is no history entry #${seq}.`);
    const embeddings = target.before ? await this.embedTexts([target.before.text]) : new Map<string, Float32Array>();
    const { entry, memories } = await this.write(target.bankId, async (tx) => {
      const history = tx.objectStore('history');
      const memoriesStore = tx.objectStore('memories');
      const original = await history.get(seq);
      if (!original) throw new MemoryStoreError(`There is no history entry #${seq}.`);
      if (original.event === 'NONE' || original.event === 'REJECTED' || !original.memoryId) {
        throw new MemoryStoreError(`History entry #${seq} (${original.event}) changed nothing, so there is nothing to undo.`);
      }
      if (original.undoneBy) throw new MemoryStoreError(`History entry #${seq} is already undone (by #${original.undoneBy}); redo it instead.`);
      // The entry must describe a memory of its own bank, and that memory must be as the entry left it:
      // nothing else (another bank's memory under the same id, a later change) is ever overwritten.
      const ownSnapshot = (m: Memory | MemorySnapshot | null) => !m || (m.id === original.memoryId && m.bankId === original.bankId);
      if (!ownSnapshot(original.before) || !ownSnapshot(original.after)) {
        throw new MemoryStoreError(`History entry #${seq} does not describe a memory of bank "${original.bankId}", so it cannot be undone.`);
      }
      const current = await memoriesStore.get(original.memoryId);
      if (current && current.bankId !== original.bankId) {
        throw new MemoryStoreError(`History entry #${seq} names memory "${original.memoryId}", which belongs to another bank; nothing was changed.`);
      }
      if (!sameState(current, original.after)) {
        throw new MemoryStoreError(`The memory changed after history entry #${seq}; undo the later changes to it first.`);
      }
      const now = Date.now();
      let restored: Memory | null = null;
      if (original.before) {
        restored = { ...original.before, version: (current?.version ?? original.before.version) + 1, updatedAt: now };
        const embedding = embeddings.get(restored.text);
        if (embedding) restored.embedding = embedding;
        await memoriesStore.put(restored);
      } else {
        await memoriesStore.delete(original.memoryId);
      }
      const event: MemoryEvent = !restored ? 'DELETE' : current ? 'UPDATE' : 'ADD';
      const revert: NewHistoryEntry = {
        bankId: original.bankId,
        memoryId: original.memoryId,
        event,
        before: snapshot(current ?? null),
        after: snapshot(restored),
        actor,
        at: now,
        undoes: seq,
      };
      const revertSeq = await history.add(revert as HistoryEntry);
      await refreshUndoFlags(tx, original.memoryId);
      return { entry: { ...revert, seq: revertSeq } as HistoryEntry, memories: restored ? [restored] : [] };
    });
    this.announce({ kind: 'entries', bankId: entry.bankId, entries: [entry], memories, remote: false });
    return entry;
  }

  /** Re-applies a change that was undone (by undoing its revert). */
  async redo(seq: number, actor: Actor = 'user'): Promise<HistoryEntry> {
    const entry = await this.db.get('history', seq);
    if (!entry) throw new MemoryStoreError(`There is no history entry #${seq}.`);
    if (!entry.undoneBy) throw new MemoryStoreError(`History entry #${seq} is not undone, so there is nothing to redo.`);
    return this.undo(entry.undoneBy, actor);
  }

  /** Deletes every memory and history record of a bank (the UI asks for confirmation first). */
  async wipe(bankId: string): Promise<void> {
    await this.write(bankId, async (tx) => {
      const memories = tx.objectStore('memories');
      const history = tx.objectStore('history');
      const [memoryKeys, historyKeys] = await Promise.all([memories.index('bankId').getAllKeys(bankId), history.index('bankId').getAllKeys(bankId)]);
      await Promise.all([...memoryKeys.map((key) => memories.delete(key)), ...historyKeys.map((key) => history.delete(key))]);
    });
    this.announce({ kind: 'reset', bankId, remote: false });
  }

  /**
   * Runs `body` in one read-write transaction over memories, history and banks, holding the bank's lock.
   * Any error aborts the transaction, so nothing of it is stored; a full disk becomes StorageFullError.
   */
  async write<T>(bankId: string, body: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    return this.locks.request(`memory-r1/bank/${bankId}`, () =>
      guardQuota(() => inTransaction(this.db.transaction(['memories', 'history', 'banks'], 'readwrite'), body)),
    );
  }

  // ---- embeddings --------------------------------------------------------------------------------

  /**
   * Gives the bank's memories that have no embedding, or one of another size than the embedder's (an
   * earlier embedding model), an embedding, a batch at a time. Each batch is one transaction that skips
   * memories changed since they were read. No history is written: an embedding is derived from the
   * text. Returns how many memories were embedded (0 without an embedder).
   */
  async embedMissing(bankId: string, options: { batchSize?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<number> {
    const probe = this.embedder ? (await this.embedder.embed(['dimension probe']))[0] : undefined;
    if (!probe || probe.length === 0) return 0;
    const pending = (await this.list(bankId)).filter((m) => m.embedding?.length !== probe.length);
    const batchSize = Math.max(1, options.batchSize ?? 32);
    let done = 0;
    try {
      for (let from = 0; from < pending.length; from += batchSize) {
        options.signal?.throwIfAborted();
        const batch = pending.slice(from, from + batchSize);
        const vectors = await this.embedder!.embed(batch.map((m) => m.text));
        done += await this.write(bankId, async (tx) => {
          const memories = tx.objectStore('memories');
          let stored = 0;
          for (const [i, read] of batch.entries()) {
            const current = await memories.get(read.id);
            const vector = vectors[i];
            if (!current || current.text !== read.text || current.version !== read.version || vector?.length !== probe.length) continue;
            await memories.put({ ...current, embedding: vector });
            stored++;
          }
          return stored;
        });
        options.onProgress?.(Math.min(from + batchSize, pending.length), pending.length);
      }
    } finally {
      // Retrieval indexes and views reload the bank once, not once per batch.
      if (done > 0) this.announce({ kind: 'reset', bankId, remote: false });
    }
    return done;
  }

  // ---- live views --------------------------------------------------------------------------------

  /** Calls `listener` after every change to any bank, from this tab or another. Returns the unsubscribe. */
  subscribe(listener: BankListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells this tab and the others about a committed change. */
  announce(change: BankChange): void {
    this.channel?.postMessage(change);
    this.dispatch(change);
  }

  private dispatch(change: BankChange): void {
    const index = this.indexes.get(change.bankId);
    if (index) {
      if (change.kind === 'reset') this.indexes.delete(change.bankId);
      else {
        const changed = new Map(change.memories.map((m) => [m.id, m]));
        void index.then((live) => {
          for (const entry of change.entries) {
            if (entry.event === 'NONE' || entry.event === 'REJECTED') continue;
            live.apply({ memoryId: entry.memoryId, after: entry.after ? (changed.get(entry.after.id) ?? { ...entry.after }) : null });
          }
        });
      }
    }
    for (const listener of this.listeners) listener(change);
  }

  private async embedTexts(texts: string[]): Promise<Map<string, Float32Array>> {
    if (!this.embedder || texts.length === 0) return new Map();
    const vectors = await this.embedder.embed(texts);
    return new Map(texts.map((text, i) => [text, vectors[i]!]));
  }
}

export type WriteTransaction = IDBPTransaction<MemoryDbSchema, ['memories', 'history', 'banks'], 'readwrite'>;

/** Sets every `undoneBy` of a memory's history as its `undoes` links say (see undoneBy), inside `tx`. */
export async function refreshUndoFlags(tx: WriteTransaction, memoryId: string): Promise<void> {
  const history = tx.objectStore('history');
  const entries = await history.index('memoryId').getAll(memoryId);
  const flags = undoneBy(entries);
  await Promise.all(
    entries.flatMap((entry) => {
      const by = flags.get(entry.seq);
      if (entry.undoneBy === by) return [];
      const updated = { ...entry };
      if (by === undefined) delete updated.undoneBy;
      else updated.undoneBy = by;
      return [history.put(updated)];
    }),
  );
}
