// Persistent storage: without it the browser may evict the memory bank under storage pressure.

export type PersistenceState = 'persisted' | 'granted' | 'denied' | 'unsupported';

/** Asks the browser to keep this origin's data (Chrome decides silently; Firefox may ask the user). */
export async function requestPersistentStorage(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<PersistenceState> {
  if (!storage?.persist || !storage.persisted) return 'unsupported';
  if (await storage.persisted()) return 'persisted';
  return (await storage.persist()) ? 'granted' : 'denied';
}

export async function storageEstimate(storage: StorageManager | undefined = globalThis.navigator?.storage): Promise<{ usage: number; quota: number } | undefined> {
  if (!storage?.estimate) return undefined;
  const { usage = 0, quota = 0 } = await storage.estimate();
  return { usage, quota };
}
