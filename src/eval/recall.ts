// Evidence recall@60: of a question's evidence turns (its dia_ids), the fraction that at least one of the
// memories retrieved for it (30 per speaker) came from. A memory "comes from" every turn that made it
// what it is: the turn that ADDed it, and each turn that UPDATEd it or found it already known (NONE) —
// so a fact merged into an older memory still counts for the turn that said it. Retrieval is measured
// apart from answering: a wrong answer over recalled evidence is the answer agent's failure, an answer
// without the evidence retrieved is the bank's or retrieval's.
import type { AppliedOperation } from '../agents';
import type { Memory } from '../memory';

/** Memories retrieved per question (30 per speaker, as in Memory-R1 and Mem0). */
export const RECALL_AT = 60;

/** Which turns each memory of a bank came from, kept as the bank is built. */
export class Provenance {
  private readonly turns = new Map<string, string[]>();

  constructor(initial: Record<string, readonly string[]> = {}) {
    for (const [id, list] of Object.entries(initial)) this.turns.set(id, [...list]);
  }

  /** Records one turn's applied operations. */
  record(turnId: string, applied: readonly AppliedOperation[]): void {
    for (const op of applied) {
      if (op.event === 'DELETE') this.turns.delete(op.memoryId);
      else {
        const list = this.turns.get(op.memoryId) ?? [];
        if (!list.includes(turnId)) list.push(turnId);
        this.turns.set(op.memoryId, list);
      }
    }
  }

  /** The turns a memory came from (its source turn when it was made before tracking began). */
  turnsOf(memory: Pick<Memory, 'id' | 'source'>): readonly string[] {
    return this.turns.get(memory.id) ?? (memory.source?.turnId ? [memory.source.turnId] : []);
  }

  toJSON(): Record<string, string[]> {
    return Object.fromEntries(this.turns);
  }
}

/** Fraction of `evidence` (turn ids) that some retrieved memory came from; undefined without evidence. */
export function evidenceRecall(evidence: readonly string[], retrieved: readonly Pick<Memory, 'id' | 'source'>[], provenance: Provenance): number | undefined {
  const wanted = new Set(evidence);
  if (wanted.size === 0) return undefined;
  const found = new Set<string>();
  for (const memory of retrieved) for (const turn of provenance.turnsOf(memory)) if (wanted.has(turn)) found.add(turn);
  return found.size / wanted.size;
}

/** Mean of the defined recalls, or null when none is. */
export function meanRecall(values: readonly (number | undefined)[]): number | null {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length ? defined.reduce((a, b) => a + b, 0) / defined.length : null;
}
