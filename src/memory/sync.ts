// Coordination between tabs: writes to a bank are serialised with the Web Locks API, and every
// committed change is announced on a BroadcastChannel so other tabs' views and indexes follow.
import type { HistoryEntry, Memory } from './schema';

export interface LockProvider {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** The browser's (and worker's) Web Locks; an in-process queue where there are none (Node). */
export function defaultLocks(): LockProvider {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  if (locks) return { request: <T>(name: string, callback: () => Promise<T>) => locks.request(name, callback) as Promise<T> };
  const tails = new Map<string, Promise<unknown>>();
  return {
    request<T>(name: string, callback: () => Promise<T>): Promise<T> {
      const previous = tails.get(name) ?? Promise.resolve();
      const run = previous.then(callback, callback);
      tails.set(name, run.catch(() => undefined));
      return run;
    },
  };
}

/** What changed in a bank: the history entries a write produced (with the memories before and after). */
export type BankChange =
  | { kind: 'entries'; bankId: string; entries: HistoryEntry[]; memories: Memory[]; remote: boolean }
  /** Many memories changed at once (import, wipe): reload the bank. */
  | { kind: 'reset'; bankId: string; remote: boolean };

export type BankListener = (change: BankChange) => void;

