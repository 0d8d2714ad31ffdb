// Checkpoints in the browser: one IndexedDB database of the trainer's own (the memory bank's database
// knows nothing of training). A save is one put in one transaction, so a closed tab or a full disk
// leaves the previous checkpoint of that name intact.
import type { DBSchema, IDBPDatabase } from 'idb';
import { openVersionedDb, type Upgrade } from '../memory/versioned-db';
import type { CheckpointStorage } from './checkpoint';

interface TrainingDb extends DBSchema {
  checkpoints: { key: string; value: { name: string; bytes: Uint8Array; savedAt: number } };
}

const upgrades: Upgrade<TrainingDb>[] = [(db) => void db.createObjectStore('checkpoints', { keyPath: 'name' })];

export class IndexedDbCheckpointStorage implements CheckpointStorage {
  private constructor(private readonly db: IDBPDatabase<TrainingDb>) {}

  static async open(name = 'memory-r1-training'): Promise<IndexedDbCheckpointStorage> {
    const db = await openVersionedDb<TrainingDb>(name, upgrades);
    return new IndexedDbCheckpointStorage(db);
  }

  async save(name: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.db.put('checkpoints', { name, bytes, savedAt: Date.now() });
    } catch (error) {
      if ((error as Error).name === 'QuotaExceededError') {
        throw new Error('The browser refused to store the checkpoint: storage is full. The previous checkpoint is kept. Delete downloaded models or old checkpoints to make room.');
      }
      throw error;
    }
  }

  async load(name: string): Promise<Uint8Array> {
    const entry = await this.db.get('checkpoints', name);
    if (!entry) throw new Error(`There is no checkpoint named "${name}".`);
    return entry.bytes;
  }

  async list(): Promise<string[]> {
    return this.db.getAllKeys('checkpoints');
  }

  async remove(name: string): Promise<void> {
    await this.db.delete('checkpoints', name);
  }

  close(): void {
    this.db.close();
  }
}
