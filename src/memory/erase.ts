// "Delete all my data": what the app keeps in IndexedDB, counted and erased. The app writes these databases
//   memory-r1            banks, memories, their history, chats and their messages, settings
//   memory-r1-training   training checkpoints (LoRA adapters and optimizer state)
//   memory-r1-tuples     LoCoMo training tuples built for the trainer
//   memory-r1-eval       cached evaluation runs
// and, through WebLLM, downloaded and merged models: in the Cache API (scopes "webllm/*") or in IndexedDB
// databases named "webllm/*". Models are large and not personal, so they are listed and deleted apart
// (the Models page); everything else the origin holds in IndexedDB is erased here, whatever its name, so
// a database added later cannot be forgotten.
// Stores are cleared rather than databases deleted: the open tab (and its workers) hold connections, and a
// deletion would wait for them to close.

/** Databases of WebLLM's model cache (its IndexedDB backend), kept apart with the models. */
const isModelCache = (name: string) => name.startsWith('webllm/');

/** What a database keeps, in words for the confirmation (in the order said): store → [one, many]. */
const NOUNS: Record<string, Record<string, [string, string]>> = {
  'memory-r1': {
    memories: ['memory', 'memories'],
    history: ['history entry', 'history entries'],
    conversations: ['chat', 'chats'],
    turns: ['chat message', 'chat messages'],
    pending: ['memory update still to run', 'memory updates still to run'],
    banks: ['memory bank', 'memory banks'],
    settings: ['setting', 'settings'],
  },
  'memory-r1-training': { checkpoints: ['training checkpoint', 'training checkpoints'] },
  'memory-r1-tuples': { tuples: ['set of LoCoMo training tuples', 'sets of LoCoMo training tuples'], runs: ['LoCoMo training set-up', 'LoCoMo training set-ups'] },
  'memory-r1-eval': { runs: ['cached evaluation run', 'cached evaluation runs'], results: ['cached evaluation answer', 'cached evaluation answers'], banks: ['cached evaluation bank', 'cached evaluation banks'] },
};

export interface StoredRecords {
  database: string;
  store: string;
  /** One and many of the store's records, in words (["memory", "memories"]). */
  label: [string, string];
  count: number;
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The origin's databases that hold the user's data (not WebLLM's model cache). */
async function userDatabases(factory: IDBFactory): Promise<string[]> {
  if (typeof factory.databases !== 'function') return Object.keys(NOUNS);
  const listed = await factory.databases();
  return listed.map((d) => d.name).filter((name): name is string => !!name && !isModelCache(name));
}

/** Opens an existing database at its current version; undefined when it does not exist (nothing is created). */
async function openExisting(factory: IDBFactory, name: string): Promise<IDBDatabase | undefined> {
  let created = false;
  const open = factory.open(name);
  open.onupgradeneeded = () => {
    // Only reached for a database that did not exist: undo the creation.
    created = true;
    open.transaction?.abort();
  };
  try {
    return await request(open);
  } catch (error) {
    if (created) return undefined;
    throw error;
  }
}

async function eachDatabase<T>(factory: IDBFactory, body: (db: IDBDatabase, name: string) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (const name of await userDatabases(factory)) {
    const db = await openExisting(factory, name);
    if (!db) continue;
    try {
      results.push(await body(db, name));
    } finally {
      db.close();
    }
  }
  return results;
}

/** How many records each store of the user's databases holds (stores that are empty included). */
export async function listUserData(factory: IDBFactory = indexedDB): Promise<StoredRecords[]> {
  const perDatabase = await eachDatabase(factory, async (db, database) => {
    const known = Object.keys(NOUNS[database] ?? {});
    const rank = (store: string) => (known.includes(store) ? known.indexOf(store) : known.length);
    const stores = [...db.objectStoreNames].sort((a, b) => rank(a) - rank(b));
    if (stores.length === 0) return [];
    const tx = db.transaction(stores, 'readonly');
    const counts = await Promise.all(stores.map((store) => request(tx.objectStore(store).count())));
    return stores.map((store, i) => ({ database, store, label: NOUNS[database]?.[store] ?? [`record in ${database}/${store}`, `records in ${database}/${store}`], count: counts[i]! }));
  });
  return perDatabase.flat();
}

/**
 * Empties every store of the user's databases, one transaction per database (a database is emptied whole
 * or not at all). Returns the records that were there. Other tabs and workers keep their connections;
 * their in-memory views are stale, so the page should reload.
 */
export async function eraseUserData(factory: IDBFactory = indexedDB): Promise<StoredRecords[]> {
  const before = await listUserData(factory);
  await eachDatabase(factory, async (db) => {
    const stores = [...db.objectStoreNames];
    if (stores.length === 0) return;
    const tx = db.transaction(stores, 'readwrite');
    for (const store of stores) tx.objectStore(store).clear();
    await done(tx);
  });
  return before;
}

/** "12 memories, 3 chats, 1 training checkpoint…": the non-empty stores, summed by label. */
export function describeUserData(records: readonly StoredRecords[]): string[] {
  const totals = new Map<string, { label: [string, string]; count: number }>();
  for (const r of records) {
    if (r.count === 0) continue;
    const total = totals.get(r.label[1]) ?? { label: r.label, count: 0 };
    totals.set(r.label[1], { ...total, count: total.count + r.count });
  }
  return [...totals.values()].map(({ label, count }) => `${count} ${count === 1 ? label[0] : label[1]}`);
}

/** "Delete all my data" as the composition root hands it to the UI. */
export interface UserData {
  list(): Promise<StoredRecords[]>;
  erase(): Promise<StoredRecords[]>;
}

export const indexedDbUserData = (factory: IDBFactory = indexedDB): UserData => ({ list: () => listUserData(factory), erase: () => eraseUserData(factory) });
