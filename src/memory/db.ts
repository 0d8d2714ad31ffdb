// The IndexedDB schema, versioned: each step upgrades from the version before it, so a browser holding an
// older database is brought forward without losing anything. Add a step; never edit a released one.
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import type { Bank, Conversation, HistoryEntry, Memory, PendingTurn, Turn } from './schema';

export interface Setting {
  key: string;
  value: unknown;
}

export interface MemoryDbSchema extends DBSchema {
  banks: { key: string; value: Bank };
  memories: { key: string; value: Memory; indexes: { bankId: string } };
  history: { key: number; value: HistoryEntry; indexes: { bankId: string; memoryId: string; turnId: string } };
  conversations: { key: string; value: Conversation; indexes: { bankId: string; updatedAt: number } };
  turns: { key: string; value: Turn; indexes: { conversation: [string, number] } };
  settings: { key: string; value: Setting };
  /** Chat turns whose memory update has not finished yet (kept across a reload, finished on the next load). */
  pending: { key: string; value: PendingTurn; indexes: { bankId: string } };
}

export type MemoryDb = IDBPDatabase<MemoryDbSchema>;
type UpgradeTransaction = IDBPTransaction<MemoryDbSchema, StoreNames<MemoryDbSchema>[], 'versionchange'>;

/** upgrades[n] brings a database from version n to n + 1. */
const upgrades: ((db: MemoryDb, tx: UpgradeTransaction) => void)[] = [
  (db) => {
    db.createObjectStore('banks', { keyPath: 'id' });
    db.createObjectStore('memories', { keyPath: 'id' }).createIndex('bankId', 'bankId');
    const history = db.createObjectStore('history', { keyPath: 'seq', autoIncrement: true });
    history.createIndex('bankId', 'bankId');
    history.createIndex('memoryId', 'memoryId');
    const conversations = db.createObjectStore('conversations', { keyPath: 'id' });
    conversations.createIndex('bankId', 'bankId');
    conversations.createIndex('updatedAt', 'updatedAt');
    db.createObjectStore('turns', { keyPath: 'id' }).createIndex('conversation', ['conversationId', 'index']);
    db.createObjectStore('settings', { keyPath: 'key' });
  },
  // The chat's durable memory queue, and history by turn (what a turn did; whether it was applied).
  (db, tx) => {
    db.createObjectStore('pending', { keyPath: 'turnId' }).createIndex('bankId', 'bankId');
    tx.objectStore('history').createIndex('turnId', 'turnId');
  },
];
export const DB_VERSION = upgrades.length;

export class DatabaseError extends Error {
  override name = 'DatabaseError';
}

export class StorageFullError extends Error {
  override name = 'StorageFullError';
  constructor() {
    super('The browser refused to store more data: storage is full. Nothing was changed. Free space by deleting downloaded models (Models page) or by exporting and wiping banks you no longer need.');
  }
}

function isQuotaError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'QuotaExceededError' || /quota/i.test(error.message));
}

/** Runs a storage write, reporting a full disk as StorageFullError. */
export async function guardQuota<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw isQuotaError(error) ? new StorageFullError() : error;
  }
}

/**
 * Runs `body` over an open transaction and waits for it to commit. Any error, thrown synchronously by a
 * request or later, aborts the transaction: a request already made must not commit without the rest.
 */
export async function inTransaction<Tx extends { abort(): void; done: Promise<void> }, T>(tx: Tx, body: (tx: Tx) => Promise<T>): Promise<T> {
  try {
    const result = await body(tx);
    await tx.done;
    return result;
  } catch (error) {
    try {
      tx.abort();
    } catch {
      // Already aborted or finished: nothing was committed.
    }
    await tx.done.catch(() => undefined);
    throw error;
  }
}

/**
 * Opens (creating or upgrading) the database. `onStale` is called when another tab opens a newer
 * version: this connection closes so the upgrade can go on, and the page should ask the user to reload.
 */
export async function openMemoryDb(name = 'memory-r1', onStale?: () => void): Promise<MemoryDb> {
  if (typeof indexedDB === 'undefined') {
    throw new DatabaseError('IndexedDB is not available here (a private window, or storage disabled by a setting); allow site data for this page and reload.');
  }
  const db = await openDB<MemoryDbSchema>(name, DB_VERSION, {
    upgrade(database, oldVersion, _newVersion, tx) {
      for (let version = oldVersion; version < DB_VERSION; version++) upgrades[version]!(database, tx);
    },
    blocked() {
      console.warn('Memory-R1: the memory database is being upgraded but another tab still has it open; close other Memory-R1 tabs.');
    },
    blocking() {
      db.close();
      onStale?.();
    },
  });
  return db;
}
