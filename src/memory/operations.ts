// Validating a batch of memory operations against the bank: pure, so the same rules serve the store,
// the agents (which report rejections to the model) and the tests.
import { jsonProblems, PROTOTYPE_KEYS } from './json-limits';
import { MAX_FACTS, MAX_MEMORY_TEXT, MAX_REASON, OPERATION_LIMITS, OperationSchema, type Actor, type HistoryEntry, type Memory, type MemoryEvent, type MemorySnapshot, type NewHistoryEntry, type Operation } from './schema';

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

/** The memory an operation names: surrounding spaces are not part of an id (the one rule of every bank). */
export function operationId(operation: Operation): string {
  return operation.id.trim();
}

/** The ids a batch refers to, so the caller can fetch exactly those memories before planning. */
export function referencedIds(rawOperations: readonly unknown[]): string[] {
  const ids = new Set<string>();
  for (const raw of rawOperations) {
    const parsed = OperationSchema.safeParse(raw);
    if (parsed.success && parsed.data.event !== 'ADD' && operationId(parsed.data)) ids.add(operationId(parsed.data));
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

    const id = operationId(operation);
    if (!id) return reject(`${operation.event} needs the id of an existing memory`);
    const before = existing.get(id);
    if (!before || before.bankId !== context.bankId) return reject(`no memory with id "${id}" in this bank`);
    const earlier = touchedBy.get(id);
    if (earlier !== undefined) return reject(`memory "${id}" is already changed by operation #${earlier} of this batch`, id);
    if (operation.event === 'UPDATE' && !text) return reject('UPDATE needs a non-empty text', id);
    const sameMetadata = (operation.speaker ?? before.speaker) === before.speaker && (operation.eventDate ?? before.eventDate) === before.eventDate;
    if (operation.event === 'UPDATE' && text === before.text && sameMetadata) return reject(`UPDATE leaves memory "${id}" unchanged; use NONE`, id);
    touchedBy.set(id, index); // only an accepted operation claims its memory

    switch (operation.event) {
      case 'NONE':
        return { kind: 'change', index, event: 'NONE', operation, before, after: before };
      case 'DELETE':
        return { kind: 'change', index, event: 'DELETE', operation, before, after: null };
      case 'UPDATE': {
        const after: Memory = { ...before, text, updatedAt: context.now, version: before.version + 1 };
        if (operation.speaker) after.speaker = operation.speaker;
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
    const reason = plan.reason.length > MAX_REASON ? `${plan.reason.slice(0, MAX_REASON - 1)}…` : plan.reason;
    return { ...common, event: 'REJECTED', before: null, after: null, reason, operation: keptOperation(plan.operation), ...(plan.memoryId ? { memoryId: plan.memoryId } : {}) };
  }
  return { ...common, memoryId: (plan.after ?? plan.before)!.id, event: plan.event, before: snapshot(plan.before), after: snapshot(plan.after) };
}

/**
 * A rejected operation as its history record keeps it: as written when within OPERATION_LIMITS, else a
 * note of what it was, so a bank's history always fits the limits its backups are checked against.
 */
export function keptOperation(operation: unknown): unknown {
  const problem = jsonProblems(operation, { ...OPERATION_LIMITS, forbiddenKeys: PROTOTYPE_KEYS, maxProblems: 1 })[0];
  if (!problem) return operation;
  if (problem.message.startsWith('nested')) return `(not kept: ${problem.message})`;
  const json = JSON.stringify(operation);
  // A key such as "__proto__" is kept as text: as JSON, the backup check refuses it (and rightly so).
  if (problem.message.startsWith('the key') && json.length <= OPERATION_LIMITS.maxChars) return json;
  return `(not kept: ${problem.message}) ${json.slice(0, 500)}…`;
}

/**
 * Whether a memory (as stored now) is in the state a history snapshot records: same memory of the same
 * bank, same text, speaker and event date. Versions and times may differ (an undo writes a new version).
 */
export function sameState(current: MemorySnapshot | null | undefined, expected: MemorySnapshot | null | undefined): boolean {
  if (!current || !expected) return !current && !expected;
  return (
    current.id === expected.id &&
    current.bankId === expected.bankId &&
    current.text === expected.text &&
    current.speaker === expected.speaker &&
    current.eventDate === expected.eventDate
  );
}

/**
 * Which entry undoes which, from the `undoes` links alone: an entry is undone by the latest entry that
 * reverts it and is itself in effect (not undone). So after undo, redo (an undo of the undo) and an undo
 * of that redo, the original entry reads undone again. Returns entry seq → the seq that undoes it.
 */
export function undoneBy(entries: readonly Pick<HistoryEntry, 'seq' | 'undoes'>[]): Map<number, number> {
  const undone = new Map<number, number>();
  for (const entry of [...entries].sort((a, b) => b.seq - a.seq)) {
    if (entry.undoes === undefined || undone.has(entry.seq) || undone.has(entry.undoes)) continue;
    undone.set(entry.undoes, entry.seq);
  }
  return undone;
}
