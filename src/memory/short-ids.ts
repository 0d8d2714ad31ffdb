// Memories are shown to a model under short ids ("0", "1", ...) and its answer is mapped back, so the
// model never sees, copies or invents a real id: anything it names that is not on the list is unknown.
import type { Memory } from './schema';

export interface ShownMemory {
  id: string;
  text: string;
}

export interface ShortIdMap {
  shown: ShownMemory[];
  /** The real id behind a short id, or undefined if the model made it up. */
  toReal(shortId: string): string | undefined;
}

export function assignShortIds(memories: readonly Pick<Memory, 'id' | 'text'>[]): ShortIdMap {
  const real = memories.map((memory) => memory.id);
  return {
    shown: memories.map((memory, i) => ({ id: String(i), text: memory.text })),
    toReal: (shortId) => (/^(0|[1-9]\d*)$/.test(shortId.trim()) ? real[Number(shortId.trim())] : undefined),
  };
}

/**
 * Rewrites the ids of a model's operations from short to real. ADD keeps no id; an unknown short id
 * becomes a marker the bank's validation rejects ("no memory with id ..."), so the rejection names it.
 */
export function operationsToRealIds<T extends { event?: unknown; id?: unknown }>(operations: readonly T[], map: ShortIdMap): T[] {
  return operations.map((operation) => {
    if (operation.event === 'ADD' || operation.id === undefined) return { ...operation, id: '' };
    const shortId = String(operation.id);
    return { ...operation, id: map.toReal(shortId) ?? `unknown:${shortId}` };
  });
}
