// Conversations, their turns, and settings: the rest of what the app keeps in the same database.
import type { ZodType } from 'zod';
import { guardQuota, inTransaction, type MemoryDb } from './db';
import { ConversationSchema, TurnSchema, type Conversation, type Turn } from './schema';

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

  /** Appends a turn and touches its conversation, in one transaction: on any error neither is stored. */
  async append(conversationId: string, turn: Omit<Turn, 'id' | 'conversationId' | 'index'>): Promise<Turn> {
    const transaction = this.db.transaction(['conversations', 'turns'], 'readwrite');
    return guardQuota(() =>
      inTransaction(transaction, async (tx) => {
        const conversation = await tx.objectStore('conversations').get(conversationId);
        if (!conversation) throw new Error(`There is no conversation ${conversationId}.`);
        const index = await tx.objectStore('turns').index('conversation').count(IDBKeyRange.bound([conversationId, 0], [conversationId, Infinity]));
        const stored = TurnSchema.parse({ ...turn, id: crypto.randomUUID(), conversationId, index });
        await tx.objectStore('turns').put(stored);
        await tx.objectStore('conversations').put({ ...conversation, updatedAt: Math.max(Date.now(), conversation.updatedAt) });
        return stored;
      }),
    );
  }

  turns(conversationId: string): Promise<Turn[]> {
    return this.db.getAllFromIndex('turns', 'conversation', IDBKeyRange.bound([conversationId, 0], [conversationId, Infinity]));
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
