// Training tuples in the browser: a small IndexedDB database of their own, keyed by what built them
// (tuples.ts's identity), and per model the LoCoMo set-up of its latest training run, so the run can be
// resumed after a reload without the data file. Each write is one transaction.
import type { DBSchema, IDBPDatabase } from 'idb';
import { openVersionedDb, type Upgrade } from '../memory/versioned-db';
import type { LocomoConversation } from './locomo';
import type { TupleSettings } from './locomo-task';
import { identityKey, type RunIdentity } from './runner';
import { TUPLES_VERSION, type TrainingTuples, type TupleCache } from './tuples';

/** A LoCoMo training run's set-up: enough to rebuild its task from the kept tuples. */
export interface LocomoRunSetup {
  identity: RunIdentity;
  settings: TupleSettings;
  /** The file's validation conversations (conv-30), so a resumed run validates as it started (absent: runs kept before validation). */
  validation?: LocomoConversation[];
}

interface TupleDb extends DBSchema {
  tuples: { key: string; value: { key: string; tuples: TrainingTuples } };
  runs: { key: string; value: { model: string; setup: LocomoRunSetup } };
}

const upgrades: Upgrade<TupleDb>[] = [
  (db) => {
    db.createObjectStore('tuples', { keyPath: 'key' });
    db.createObjectStore('runs', { keyPath: 'model' });
  },
];

export class IndexedDbTupleCache implements TupleCache {
  private constructor(private readonly db: IDBPDatabase<TupleDb>) {}

  static async open(name = 'memory-r1-tuples'): Promise<IndexedDbTupleCache> {
    const db = await openVersionedDb<TupleDb>(name, upgrades);
    return new IndexedDbTupleCache(db);
  }

  async load(identity: RunIdentity): Promise<TrainingTuples | undefined> {
    const row = await this.db.get('tuples', identityKey(identity));
    return row && row.tuples.version === TUPLES_VERSION ? row.tuples : undefined;
  }

  async save(tuples: TrainingTuples): Promise<void> {
    await this.db.put('tuples', { key: identityKey(tuples.identity), tuples });
  }

  async saveRun(model: string, setup: LocomoRunSetup): Promise<void> {
    await this.db.put('runs', { model, setup });
  }

  async lastRun(model: string): Promise<LocomoRunSetup | undefined> {
    return (await this.db.get('runs', model))?.setup;
  }

  close(): void {
    this.db.close();
  }
}
