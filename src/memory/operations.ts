// Validating a batch of memory operations against the bank: pure, so the same rules serve the store,
// the agents (which report rejections to the model) and the tests.
import { MAX_FACTS, MAX_MEMORY_TEXT, OperationSchema, type Actor, type Memory, type MemoryEvent, type MemorySnapshot, type NewHistoryEntry, type Operation } from './schema';

/** What one operation of a batch will do, decided before anything is written. */
export type PlannedOperation =
  | { kind: 'change'; index: number; event: MemoryEvent; operation: Operation; before: Memory | null; after: Memory | null }
  | { kind: 'rejected'; index: number; operation: unknown; reason: string; memoryId?: string };

export interface PlanContext {
  bankId: string;
  now: number;
  newId: () => string;
  turnId?: string;
  sessionDate?: string;
  /** Speaker given to ADDed memories that do not name one. */
  speaker?: string;
  /** Embeddings of the texts ADD and UPDATE will store, computed before the write (keyed by text). */
  embeddings?: ReadonlyMap<string, Float32Array>;
}

/** The ids a batch refers to, so the caller can fetch exactly those memories before planning. */
export function referencedIds(rawOperations: readonly unknown[]): string[] {
  const ids = new Set<string>();
  for (const raw of rawOperations) {
    const parsed = OperationSchema.safeParse(raw);
    if (parsed.success && parsed.data.event !== 'ADD' && parsed.data.id) ids.add(parsed.data.id);
  }
  return [...ids];
}

function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

export function snapshot(memory: Memory | null): MemorySnapshot | null {
  if (!memory) return null;
  const { embedding: _embedding, ...rest } = memory;
  return rest;
}

/**
 * Decides every operation of a batch: which change it makes or why it is rejected. Rules: the operation
 * must match the schema; ADD and UPDATE need non-empty text; UPDATE, DELETE and NONE must name a memory
 * of this bank; no memory may be touched twice in one batch; an UPDATE must change the text.
 */
export function planBatch(
  rawOperations: readonly unknown[],
  existing: ReadonlyMap<string, Memory>,
  context: PlanContext,
): PlannedOperation[] {
  const touchedBy = new Map<string, number>();
  return rawOperations.map((raw, index): PlannedOperation => {
    const parsed = OperationSchema.safeParse(raw);
    if (!parsed.success) return { kind: 'rejected', index, operation: raw, reason: `not a valid operation (${describeIssues(parsed.error)})` };
    const operation = parsed.data;
    const text = operation.text.trim();
    const reject = (reason: string, memoryId?: string): PlannedOperation => ({ kind: 'rejected', index, operation, reason, memoryId });

    if (operation.event === 'ADD') {
      if (!text) return reject('ADD needs a non-empty text');
      const memory: Memory = {
        id: context.newId(),
        bankId: context.bankId,
        text,
        createdAt: context.now,
        updatedAt: context.now,
        version: 1,
      };
      const speaker = operation.speaker ?? context.speaker;
      if (speaker) memory.speaker = speaker;
      if (operation.eventDate) memory.eventDate = operation.eventDate;
      if (context.turnId || context.sessionDate) {
        memory.source = {};
        if (context.turnId) memory.source.turnId = context.turnId;
        if (context.sessionDate) memory.source.sessionDate = context.sessionDate;
      }
      const embedding = context.embeddings?.get(text);
      if (embedding) memory.embedding = embedding;
      return { kind: 'change', index, event: 'ADD', operation, before: null, after: memory };
    }

    const id = operation.id.trim();
    if (!id) return reject(`${operation.event} needs the id of an existing memory`);
    const before = existing.get(id);
    if (!before || before.bankId !== context.bankId) return reject(`no memory with id "${id}" in this bank`);
    const earlier = touchedBy.get(id);
    if (earlier !== undefined) return reject(`memory "${id}" is already changed by operation #${earlier} of this batch`, id);
    if (operation.event === 'UPDATE' && !text) return reject('UPDATE needs a non-empty text', id);
    if (operation.event === 'UPDATE' && text === before.text) return reject(`UPDATE leaves memory "${id}" unchanged; use NONE`, id);
    touchedBy.set(id, index); // only an accepted operation claims its memory

    switch (operation.event) {
      case 'NONE':
        return { kind: 'change', index, event: 'NONE', operation, before, after: before };
      case 'DELETE':
        return { kind: 'change', index, event: 'DELETE', operation, before, after: null };
      case 'UPDATE': {
        const after: Memory = { ...before, text, updatedAt: context.now, version: before.version + 1 };
        if (operation.eventDate) after.eventDate = operation.eventDate;
        const embedding = context.embeddings?.get(text);
        if (embedding) after.embedding = embedding;
        else delete after.embedding;
        return { kind: 'change', index, event: 'UPDATE', operation, before, after };
      }
    }
  });
}

/** Texts whose embeddings a batch will need (ADD and UPDATE texts), to compute before the write. */
export function textsToEmbed(rawOperations: readonly unknown[]): string[] {
  const texts = new Set<string>();
  for (const raw of rawOperations) {
    const parsed = OperationSchema.safeParse(raw);
    if (!parsed.success) continue;
    const text = parsed.data.text.trim();
    if (text && (parsed.data.event === 'ADD' || parsed.data.event === 'UPDATE')) texts.add(text);
  }
  return [...texts];
}

/** The history record of one planned operation (a change, or a rejection with its reason). */
export function historyRecord(bankId: string, plan: PlannedOperation, context: { actor: Actor; turnId?: string; facts?: readonly string[] }, at: number): NewHistoryEntry {
  const facts = context.facts?.slice(0, MAX_FACTS).map((fact) => fact.slice(0, MAX_MEMORY_TEXT));
  const common = { bankId, actor: context.actor, at, ...(context.turnId ? { turnId: context.turnId } : {}), ...(facts?.length ? { facts } : {}) };
  if (plan.kind === 'rejected') {
    return { ...common, event: 'REJECTED', before: null, after: null, reason: plan.reason, operation: plan.operation, ...(plan.memoryId ? { memoryId: plan.memoryId } : {}) };
  }
  return { ...common, memoryId: (plan.after ?? plan.before)!.id, event: plan.event, before: snapshot(plan.before), after: snapshot(plan.after) };
}
