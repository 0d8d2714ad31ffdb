// An evaluation's progress in the browser: one IndexedDB database of its own (the memory bank's knows
// nothing of evaluations), holding every run set-up's identity, answered questions and bank checkpoints,
// keyed by a run id (the app derives it from the set-up, so a rerun of the same set-up resumes). Each
// append is one transaction, durable before it resolves (the runner's contract).
import type { DBSchema, IDBPDatabase } from 'idb';
import { openVersionedDb, type Upgrade } from '../memory/versioned-db';
import type { BankCheckpoint, EvalStore, QuestionResult, RunIdentity } from './runner';

interface EvalDb extends DBSchema {
  runs: { key: string; value: { runId: string; identity: RunIdentity; startedAt: number } };
  results: { key: [string, string, number]; value: { runId: string; result: QuestionResult }; indexes: { byRun: string } };
  banks: { key: [string, string]; value: { runId: string; checkpoint: BankCheckpoint }; indexes: { byRun: string } };
}

const upgrades: Upgrade<EvalDb>[] = [
  (db) => {
    db.createObjectStore('runs', { keyPath: 'runId' });
    db.createObjectStore('results', { keyPath: ['runId', 'result.sampleId', 'result.qaIndex'] }).createIndex('byRun', 'runId');
    db.createObjectStore('banks', { keyPath: ['runId', 'checkpoint.key'] }).createIndex('byRun', 'runId');
  },
];

export class IndexedDbEvalStore implements EvalStore {
  private constructor(
    private readonly db: IDBPDatabase<EvalDb>,
    readonly runId: string,
  ) {}

  static async open(runId: string, name = 'memory-r1-eval'): Promise<IndexedDbEvalStore> {
    const db = await openVersionedDb<EvalDb>(name, upgrades);
    return new IndexedDbEvalStore(db, runId);
  }

  async load(): Promise<{ identity?: RunIdentity; results: QuestionResult[] }> {
    const run = await this.db.get('runs', this.runId);
    const results = (await this.db.getAllFromIndex('results', 'byRun', this.runId)).map((r) => r.result);
    return { ...(run ? { identity: run.identity } : {}), results };
  }

  async begin(identity: RunIdentity): Promise<void> {
    const tx = this.db.transaction('runs', 'readwrite');
    if (!(await tx.store.get(this.runId))) await tx.store.put({ runId: this.runId, identity, startedAt: Date.now() });
    await tx.done;
  }

  async append(result: QuestionResult): Promise<void> {
    await this.db.put('results', { runId: this.runId, result });
  }

  async loadBank(key: string): Promise<BankCheckpoint | undefined> {
    return (await this.db.get('banks', [this.runId, key]))?.checkpoint;
  }

  async saveBank(checkpoint: BankCheckpoint): Promise<void> {
    await this.db.put('banks', { runId: this.runId, checkpoint });
  }

  /** Forgets this run: its identity, results and banks (one transaction). */
  async clear(): Promise<void> {
    const tx = this.db.transaction(['runs', 'results', 'banks'], 'readwrite');
    await tx.objectStore('runs').delete(this.runId);
    for (const store of ['results', 'banks'] as const) {
      const keys = await tx.objectStore(store).index('byRun').getAllKeys(this.runId);
      for (const key of keys) await tx.objectStore(store).delete(key);
    }
    await tx.done;
  }

  close(): void {
    this.db.close();
  }
}
