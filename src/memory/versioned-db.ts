// Opening the app's small IndexedDB databases (evaluations, checkpoints, training tuples) at the version
// their upgrade list reaches: upgrades[n] brings a database from version n to n + 1, so a list only
// ever grows (never edit a released step).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export type Upgrade<S extends DBSchema> = (db: IDBPDatabase<S>) => void;

export function openVersionedDb<S extends DBSchema>(name: string, upgrades: readonly Upgrade<S>[]): Promise<IDBPDatabase<S>> {
  return openDB<S>(name, upgrades.length, {
    upgrade(database, oldVersion) {
      for (let v = oldVersion; v < upgrades.length; v++) upgrades[v]!(database);
    },
  });
}
