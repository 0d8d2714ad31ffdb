// The data shapes of the memory bank, one zod schema each; TypeScript types are derived from them and the
// LLM-facing JSON Schemas (agents/) are derived from the operation schema, so the three never drift apart.
import { z } from 'zod';
import { jsonProblems } from './json-limits';

/** Most facts kept with a history record (a turn yields a handful). */
export const MAX_FACTS = 50;

/** Longest memory text accepted. Memories are short facts; a longer text is almost surely a bad input. */
export const MAX_MEMORY_TEXT = 4000;
const MAX_NAME = 200;
/** The longest chat message accepted. */
export const MAX_MESSAGE_CHARS = 100_000;

const name = z.string().max(MAX_NAME);
const timestamp = z.number().finite().nonnegative();

export const MemorySourceSchema = z
  .object({
    turnId: name.optional(),
    sessionDate: name.optional(),
  })
  .strict();

export const MemorySchema = z
  .object({
    id: name.min(1),
    bankId: name.min(1),
    text: z.string().min(1).max(MAX_MEMORY_TEXT),
    speaker: name.optional(),
    createdAt: timestamp,
    updatedAt: timestamp,
    eventDate: name.optional(),
    source: MemorySourceSchema.optional(),
    /** Unit-length embedding of `text` from the bank's embedder, when it has one. */
    embedding: z.custom<Float32Array>((value) => value instanceof Float32Array, "expected a Float32Array").optional(),
    /** Starts at 1 and grows with every change, so undo can tell whether a memory changed since. */
    version: z.number().int().positive(),
  })
  .strict();
export type Memory = z.infer<typeof MemorySchema>;

export const EVENTS = ['ADD', 'UPDATE', 'DELETE', 'NONE'] as const;
export type MemoryEvent = (typeof EVENTS)[number];

/**
 * One operation in the Memory-R1 / Mem0 format. For ADD the id is ignored (the bank assigns one); for
 * UPDATE, DELETE and NONE it names an existing memory. `speaker` and `eventDate` are optional metadata
 * for ADD and UPDATE.
 */
export const OperationSchema = z
  .object({
    event: z.enum(EVENTS),
    id: name.default(''),
    text: z.string().max(MAX_MEMORY_TEXT).default(''),
    old_memory: z.string().max(MAX_MEMORY_TEXT).optional(),
    speaker: name.optional(),
    eventDate: name.optional(),
  })
  .strict();
export type Operation = z.infer<typeof OperationSchema>;
export type OperationInput = z.input<typeof OperationSchema>;

export const ACTORS = ['manager', 'user', 'import', 'system'] as const;
export type Actor = (typeof ACTORS)[number];

/** A memory as history keeps it: everything but the embedding (which can be recomputed from the text). */
export type MemorySnapshot = Omit<Memory, 'embedding'>;
export const MemorySnapshotSchema = MemorySchema.omit({ embedding: true });

/** Limits on a rejected operation as history keeps it: whatever the model wrote, bounded. */
export const OPERATION_LIMITS = { maxDepth: 16, maxChars: 16_000 } as const;
export const MAX_REASON = 1000;
const OpenOperationSchema = z.unknown().superRefine((value, context) => {
  for (const { path, message } of jsonProblems(value, { ...OPERATION_LIMITS, maxProblems: 1 }, 'operation')) {
    context.addIssue({ code: 'custom', message: path === 'operation' ? message : `${message} (at ${path})` });
  }
});

export const HISTORY_EVENTS = [...EVENTS, 'REJECTED'] as const;
export type HistoryEvent = (typeof HISTORY_EVENTS)[number];

export const HistoryEntrySchema = z
  .object({
    seq: z.number().int().positive(),
    bankId: name.min(1),
    /** The memory changed; undefined for a rejected operation that named no existing memory. */
    memoryId: name.optional(),
    event: z.enum(HISTORY_EVENTS),
    before: MemorySnapshotSchema.nullable(),
    after: MemorySnapshotSchema.nullable(),
    turnId: name.optional(),
    /** The facts extracted from that turn which the manager acted on (why the change was made). */
    facts: z.array(z.string().max(MAX_MEMORY_TEXT)).max(MAX_FACTS).optional(),
    actor: z.enum(ACTORS),
    at: timestamp,
    /** For REJECTED: why, and what the model (or user) asked for. */
    reason: z.string().max(MAX_REASON).optional(),
    operation: OpenOperationSchema.optional(),
    /** This entry reverts entry `undoes`; an entry reverted later carries the reverting entry in `undoneBy`. */
    undoes: z.number().int().positive().optional(),
    undoneBy: z.number().int().positive().optional(),
  })
  .strict();
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
/** A history record before IndexedDB has given it its sequence number. */
export type NewHistoryEntry = Omit<HistoryEntry, 'seq'>;

export const BankSchema = z
  .object({
    id: name.min(1),
    name: name.min(1),
    /** Memory-R1 keeps one bank per speaker; a chat keeps one per user. Informational. */
    owner: name.optional(),
    createdAt: timestamp,
  })
  .strict();
export type Bank = z.infer<typeof BankSchema>;

export const ConversationSchema = z
  .object({
    id: name.min(1),
    bankId: name.min(1),
    title: name,
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .strict();
export type Conversation = z.infer<typeof ConversationSchema>;

export const TurnSchema = z
  .object({
    id: name.min(1),
    conversationId: name.min(1),
    index: z.number().int().nonnegative(),
    speaker: name.min(1),
    text: z.string().max(MAX_MESSAGE_CHARS, 'A message can be at most 100,000 characters.'),
    at: timestamp,
    sessionDate: name.optional(),
    /** Assistant replies: the memories the answer agent said it used, as they read then. */
    usedMemories: z
      .array(z.object({ id: name.min(1), text: z.string().max(100_000) }).strict())
      .max(1000)
      .optional(),
    /** Assistant replies: generation was stopped by the user; `text` is what had streamed. */
    stopped: z.boolean().optional(),
    /** User messages: where the turn's memory update stands ("done" with what it changed). */
    memory: z
      .object({ status: z.enum(['pending', 'done']), changed: z.number().int().nonnegative().optional(), rejected: z.number().int().nonnegative().optional() })
      .strict()
      .optional(),
  })
  .strict();
export type Turn = z.infer<typeof TurnSchema>;
/** A chat message whose memory update (extract → manage → apply) is still to run; keyed by its turn. */
export const PendingTurnSchema = z
  .object({
    turnId: name.min(1),
    conversationId: name.min(1),
    bankId: name.min(1),
    speaker: name.min(1),
    text: z.string().max(MAX_MESSAGE_CHARS),
    sessionDate: name.optional(),
    at: timestamp,
  })
  .strict();
export type PendingTurn = z.infer<typeof PendingTurnSchema>;
export type UsedMemory = NonNullable<Turn['usedMemories']>[number];
