// How stored memories are shown to a model: short ids instead of real ones (so it cannot invent or copy
// ids) and the date each memory refers to (so time questions can be answered from it).
import { assignShortIds, type Memory, type ShortIdMap } from '../memory';
import type { ShownMemoryWithDate } from './prompts';

/** The date a memory is about: its event date, else its session's date, else the day it was stored. */
export function memoryDate(memory: Memory): string {
  return memory.eventDate ?? memory.source?.sessionDate ?? new Date(memory.createdAt).toISOString().slice(0, 10);
}

export interface MemoryView {
  shown: ShownMemoryWithDate[];
  map: ShortIdMap;
  /** The memory behind a short id, if there is one. */
  byShortId(shortId: string): Memory | undefined;
}

export function viewMemories(memories: readonly Memory[], options: { withSpeaker?: boolean } = {}): MemoryView {
  const map = assignShortIds(memories);
  const byId = new Map(memories.map((memory) => [memory.id, memory]));
  const shown = memories.map((memory, i): ShownMemoryWithDate => {
    const view: ShownMemoryWithDate = { id: map.shown[i]!.id, text: memory.text, date: memoryDate(memory) };
    if (options.withSpeaker && memory.speaker) view.speaker = memory.speaker;
    return view;
  });
  return {
    shown,
    map,
    byShortId: (shortId) => {
      const real = map.toReal(shortId);
      return real === undefined ? undefined : byId.get(real);
    },
  };
}
