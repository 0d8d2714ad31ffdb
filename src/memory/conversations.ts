// Conversations, their turns, and settings: the rest of what the app keeps in the same database.
import type { ZodType } from 'zod';
import { guardQuota, inTransaction, type MemoryDb } from './db';
import { ConversationSchema, PendingTurnSchema, TurnSchema, type Conversation, type HistoryEntry, type PendingTurn, type Turn } from './schema';

export class ConversationLog {
  constructor(private readonly db: MemoryDb) {}

  async create(bankId: string, title: string): Promise<Conversation> {
    const now = Date.now();
    const conversation = ConversationSchema.parse({ id: crypto.randomUUID(), bankId, title, createdAt: now, updatedAt: now });
    await guardQuota(() => this.db.put('conversations', conversation));
    return conversation;
  }

  /** Conversations, most recently active first. */
  async list(): Promise<Conversation[]> {
    return (await this.db.getAllFromIndex('conversations', 'updatedAt')).reverse();
  }

  /**
   * Appends a turn and touches its conversation, in one transaction: on any error neither is stored. With
   * `rememberIn`, the turn is also queued for its memory update in that bank (see pending()), in the same
   * transaction, so a message is never stored without its update queued.
   */
  async append(conversationId: string, turn: Omit<Turn, 'id' | 'conversationId' | 'index'>, options: { rememberIn?: string } = {}): Promise<Turn> {
    const transaction = this.db.transaction(['conversations', 'turns', 'pending'], 'readwrite');
    return guardQuota(() =>
      inTransaction(transaction, async (tx) => {
        const conversation = await tx.objectStore('conversations').get(conversationId);
        if (!conversation) throw new Error(`There is no conversation ${conversationId}.`);
        // After the last turn (not the count: deleted messages leave gaps).
        const last = await tx.objectStore('turns').index('conversation').openCursor(IDBKeyRange.bound([conversationId, 0], [conversationId, Infinity]), 'prev');
        const index = last ? last.value.index + 1 : 0;
        const stored = TurnSchema.parse({ ...turn, id: crypto.randomUUID(), conversationId, index, ...(options.rememberIn ? { memory: { status: 'pending' } } : {}) });
        await tx.objectStore('turns').put(stored);
        if (options.rememberIn) {
          const pending = PendingTurnSchema.parse({ turnId: stored.id, conversationId, bankId: options.rememberIn, speaker: stored.speaker, text: stored.text, at: stored.at, ...(stored.sessionDate ? { sessionDate: stored.sessionDate } : {}) });
          await tx.objectStore('pending').put(pending);
        }
        await tx.objectStore('conversations').put({ ...conversation, updatedAt: Math.max(Date.now(), conversation.updatedAt) });
        return stored;
      }),
    );
  }

  get(conversationId: string): Promise<Conversation | undefined> {
    return this.db.get('conversations', conversationId);
  }

  async rename(conversationId: string, title: string): Promise<Conversation> {
    const transaction = this.db.transaction('conversations', 'readwrite');
    return guardQuota(() =>
      inTransaction(transaction, async (tx) => {
        const conversation = await tx.store.get(conversationId);
        if (!conversation) throw new Error(`There is no conversation ${conversationId}; it may have been deleted in another tab.`);
        const renamed = ConversationSchema.parse({ ...conversation, title: title.replace(/\s+/g, ' ').trim() });
        await tx.store.put(renamed);
        return renamed;
      }),
    );
  }

  /** Deletes a conversation with its turns and their queued memory updates, in one transaction. The memories they led to stay. */
  async delete(conversationId: string): Promise<void> {
    const transaction = this.db.transaction(['conversations', 'turns', 'pending'], 'readwrite');
    await inTransaction(transaction, async (tx) => {
      const turns = await tx.objectStore('turns').index('conversation').getAllKeys(IDBKeyRange.bound([conversationId, 0], [conversationId, Infinity]));
      await Promise.all([
        tx.objectStore('conversations').delete(conversationId),
        ...turns.flatMap((key) => [tx.objectStore('turns').delete(key), tx.objectStore('pending').delete(key)]),
      ]);
    });
  }

  /** Deletes one message and its queued memory update, if any. */
  async deleteTurn(turnId: string): Promise<void> {
    const transaction = this.db.transaction(['turns', 'pending'], 'readwrite');
    await inTransaction(transaction, async (tx) => {
      await Promise.all([tx.objectStore('turns').delete(turnId), tx.objectStore('pending').delete(turnId)]);
    });
  }

  /** A bank's conversations whose title or any message contains `query` (case-insensitive), most recent first, with the first matching message. */
  async search(bankId: string, query: string): Promise<{ conversation: Conversation; match?: Turn }[]> {
    const needle = query.trim().toLowerCase();
    const conversations = (await this.list()).filter((c) => c.bankId === bankId);
    if (!needle) return conversations.map((conversation) => ({ conversation }));
    const found: { conversation: Conversation; match?: Turn }[] = [];
    for (const conversation of conversations) {
      const match = (await this.turns(conversation.id)).find((turn) => turn.text.toLowerCase().includes(needle));
      if (match) found.push({ conversation, match });
      else if (conversation.title.toLowerCase().includes(needle)) found.push({ conversation });
    }
    return found;
  }

  getTurn(turnId: string): Promise<Turn | undefined> {
    return this.db.get('turns', turnId);
  }

  /** Turns whose memory update is still to run (all banks, or one), oldest first. */
  async pending(bankId?: string): Promise<PendingTurn[]> {
    const all = bankId === undefined ? await this.db.getAll('pending') : await this.db.getAllFromIndex('pending', 'bankId', bankId);
    return all.sort((a, b) => a.at - b.at || a.turnId.localeCompare(b.turnId));
  }

  /** Whether the bank's history holds any record of this turn, i.e. its operations were applied. */
  async applied(turnId: string): Promise<boolean> {
    return (await this.db.countFromIndex('history', 'turnId', turnId)) > 0;
  }

  /** The history records a turn's memory update made, in order. */
  operationsOf(turnId: string): Promise<HistoryEntry[]> {
    return this.db.getAllFromIndex('history', 'turnId', turnId);
  }

  /** Ends a turn's memory update: its queue entry goes and the turn records what changed, in one transaction. */
  async finishPending(turnId: string, outcome: { changed: number; rejected: number }): Promise<void> {
    const transaction = this.db.transaction(['turns', 'pending'], 'readwrite');
    await guardQuota(() =>
      inTransaction(transaction, async (tx) => {
        const turn = await tx.objectStore('turns').get(turnId);
        await tx.objectStore('pending').delete(turnId);
        if (turn) await tx.objectStore('turns').put({ ...turn, memory: { status: 'done', changed: outcome.changed, rejected: outcome.rejected } });
      }),
    );
  }

  /** Replaces a stored turn's reply fields (text, stopped, usedMemories), e.g. after a regeneration. */
  async updateTurn(turnId: string, change: Pick<Partial<Turn>, 'text' | 'stopped' | 'usedMemories' | 'at'>): Promise<Turn> {
    const transaction = this.db.transaction('turns', 'readwrite');
    return guardQuota(() =>
      inTransaction(transaction, async (tx) => {
        const turn = await tx.store.get(turnId);
        if (!turn) throw new Error(`There is no message ${turnId}; it may have been deleted in another tab.`);
        const updated = TurnSchema.parse({ ...turn, ...change });
        if (change.stopped === undefined) delete updated.stopped;
        await tx.store.put(updated);
        return updated;
      }),
    );
  }

  turns(conversationId: string): Promise<Turn[]> {
    return this.db.getAllFromIndex('turns', 'conversation', IDBKeyRange.bound([conversationId, 0], [conversationId, Infinity]));
  }

  /** Deletes every conversation of a bank (each with its turns and queued updates, as delete()). Returns how many went. */
  async deleteForBank(bankId: string): Promise<number> {
    const ids = await this.db.getAllKeysFromIndex('conversations', 'bankId', bankId);
    for (const id of ids) await this.delete(id);
    return ids.length;
  }
}

export class Settings {
  constructor(private readonly db: MemoryDb) {}

  /** The stored value if it still matches the schema, else the default (a setting from an older version never breaks the app). */
  async get<T>(key: string, schema: ZodType<T>, fallback: T): Promise<T> {
    const stored = await this.db.get('settings', key);
    const parsed = schema.safeParse(stored?.value);
    return parsed.success ? parsed.data : fallback;
  }

  async set<T>(key: string, schema: ZodType<T>, value: T): Promise<void> {
    const setting = { key, value: schema.parse(value) };
    await guardQuota(() => this.db.put('settings', setting));
  }
}
