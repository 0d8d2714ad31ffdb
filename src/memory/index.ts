// The memory bank: schema, store, operations, retrieval, backup. See store.ts for the write path.
export * from './schema';
export { MemoryStore, MemoryStoreError, StorageFullError, type ApplyResult, type Embedder, type OperationResult, type StoreOptions, type WriteContext } from './store';
export { planBatch, type PlannedOperation } from './operations';
export { assignShortIds, operationsToRealIds, type ShortIdMap, type ShownMemory } from './short-ids';
export { matchRanges } from './bm25';
export { describeUserData, eraseUserData, indexedDbUserData, listUserData, type StoredRecords, type UserData } from './erase';
export { MemoryIndex, DEFAULT_PER_SPEAKER, type Retrieved, type RetrievedGroup, type RetrievalOptions, type RetrievalQuery } from './retrieval';
export { exportBank, importBank, parseBackup, BackupError, BACKUP_FORMAT, BACKUP_VERSION, type ImportOptions, type ImportSummary } from './backup';
export { requestPersistentStorage, storageEstimate, type PersistenceState } from './persistence';
export type { BankChange, BankListener, LockProvider } from './sync';
export { DB_VERSION } from './db';
export { InMemoryBank, storeBank, type MemoryBank } from './bank';
