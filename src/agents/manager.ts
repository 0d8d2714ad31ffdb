// The Memory Manager: new facts + related stored memories → ADD/UPDATE/DELETE/NONE operations, applied to
// the bank in one atomic batch. The model's reply is untrusted: it is parsed tolerantly, validated against
// the schema, given one repair attempt, and otherwise dropped (nothing applied). Short ids are mapped back
// to real ones, so an invented id can only ever be rejected by the bank, never hit another memory.
import { operationsToRealIds, type Memory, type MemoryBank, type MemoryEvent, type WriteContext } from '../memory';
import { addUsage, NO_USAGE, type ChatModel, type ChatRequest, type Sampling, type TokenUsage } from '../llm/chat-model';
import { viewMemories, type MemoryView } from './memory-view';
import { findJson } from './parse-json';
import { buildManagerMessages, buildRepairMessages, MANAGER_FORMAT } from './prompts';
import { MANAGER_JSON_SCHEMA, ManagerOutputSchema, type ManagerOperation } from './schemas';

export const MANAGER_SAMPLING: Sampling = { temperature: 0, top_p: 1, max_tokens: 1024 };

export type ParsedOperations = { ok: true; operations: ManagerOperation[] } | { ok: false; error: string };

const OPERATION_KEYS = ['id', 'text', 'event', 'old_memory'] as const;

/**
 * Forgives what small models commonly get wrong without changing meaning: a bare list instead of
 * {"memory": [...]}, lower-case events, numeric ids, a missing text on DELETE/NONE, extra keys.
 */
function normalise(value: unknown): unknown {
  const list = Array.isArray(value) ? value : typeof value === 'object' && value !== null && 'memory' in value ? value.memory : undefined;
  if (!Array.isArray(list)) return value;
  return {
    memory: list.map((item: unknown) => {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) return item;
      const source = item as Record<string, unknown>;
      const op: Record<string, unknown> = {};
      for (const key of OPERATION_KEYS) if (source[key] !== undefined && source[key] !== null) op[key] = source[key];
      if (typeof op.event === 'string') op.event = op.event.trim().toUpperCase();
      if (typeof op.id === 'number' && Number.isFinite(op.id)) op.id = String(op.id);
      if (op.id === undefined && op.event === 'ADD') op.id = '';
      if (op.text === undefined && (op.event === 'DELETE' || op.event === 'NONE')) op.text = '';
      return op;
    }),
  };
}

function describe(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** Raw reply → validated operations, or the reason it is unusable (phrased for the repair prompt). Never throws. */
export function parseManagerReply(raw: string): ParsedOperations {
  const found = findJson(raw);
  if (!found.ok) return found;
  const parsed = ManagerOutputSchema.safeParse(normalise(found.value));
  if (!parsed.success) return { ok: false, error: `the JSON does not match the format (${describe(parsed.error.issues)})` };
  return { ok: true, operations: parsed.data.memory };
}

export interface ManagerDecision {
  /** The operations to apply, with the short ids the model used; empty when it fell back. */
  operations: ManagerOperation[];
  /** True when no usable reply came even after the repair attempt: nothing is applied (all NONE). */
  fellBack: boolean;
  attempts: number;
  replies: string[];
  /** Why each unusable reply was refused. */
  errors: string[];
  usage: TokenUsage;
}

export interface ManagerCallOptions {
  sampling?: Sampling;
  speaker?: string;
  sessionDate?: string;
  signal?: AbortSignal;
}

/** Asks the model for operations over `view`; one repair attempt on an unusable reply, then NONE. */
export async function decideOperations(model: ChatModel, facts: readonly string[], view: MemoryView, options: ManagerCallOptions = {}): Promise<ManagerDecision> {
  const messages = buildManagerMessages({
    facts,
    memories: view.shown,
    ...(options.speaker ? { speaker: options.speaker } : {}),
    ...(options.sessionDate ? { sessionDate: options.sessionDate } : {}),
  });
  const request = (conversation: typeof messages): ChatRequest => ({
    ...MANAGER_SAMPLING,
    ...options.sampling,
    messages: conversation,
    json_schema: MANAGER_JSON_SCHEMA,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const decision: ManagerDecision = { operations: [], fellBack: false, attempts: 0, replies: [], errors: [], usage: NO_USAGE };
  let conversation = messages;
  for (let attempt = 0; attempt < 2; attempt++) {
    const reply = await model.chat(request(conversation));
    decision.attempts++;
    decision.replies.push(reply.text);
    decision.usage = addUsage(decision.usage, reply.usage);
    const parsed = parseManagerReply(reply.text);
    if (parsed.ok) return { ...decision, operations: parsed.operations };
    decision.errors.push(parsed.error);
    conversation = buildRepairMessages(messages, reply.text, parsed.error, MANAGER_FORMAT);
  }
  return { ...decision, fellBack: true };
}

export interface AppliedOperation {
  event: MemoryEvent;
  memoryId: string;
  before: Memory | null;
  after: Memory | null;
  /** The operation as the model wrote it (short id). */
  operation: ManagerOperation;
}

export interface RejectedOperation {
  reason: string;
  operation: ManagerOperation;
}

export interface ApplyOutcome {
  applied: AppliedOperation[];
  rejected: RejectedOperation[];
}

/** The bank names an invented short id by its marker; say it in the model's terms instead. */
function explain(reason: string, operation: ManagerOperation): string {
  return reason.includes('"unknown:') ? `id "${operation.id}" is not one of the memories shown (${operation.event} ignored)` : reason;
}

/** Maps short ids to real ones and applies the batch through the bank's atomic path, as the manager. */
export async function applyOperations(
  bank: MemoryBank,
  operations: readonly ManagerOperation[],
  view: MemoryView,
  context: Omit<WriteContext, 'actor'> = {},
): Promise<ApplyOutcome> {
  if (operations.length === 0) return { applied: [], rejected: [] };
  // old_memory is the model's note, not something to store; the bank's schema accepts it and ignores it.
  const real = operationsToRealIds(operations, view.map);
  const result = await bank.apply(real, { ...context, actor: 'manager' });
  const outcome: ApplyOutcome = { applied: [], rejected: [] };
  for (const r of result.results) {
    const operation = operations[r.index]!;
    if (r.status === 'applied') outcome.applied.push({ event: r.event, memoryId: r.memoryId, before: r.before, after: r.after, operation });
    else outcome.rejected.push({ reason: explain(r.reason, operation), operation });
  }
  return outcome;
}

export interface ManagerResult extends ApplyOutcome, Omit<ManagerDecision, 'operations'> {
  operations: ManagerOperation[];
}

/** Decide and apply in one call (the pipeline times the two separately). */
export async function manageMemories(
  model: ChatModel,
  bank: MemoryBank,
  facts: readonly string[],
  related: readonly Memory[],
  context: Omit<WriteContext, 'actor'> & { sampling?: Sampling; signal?: AbortSignal } = {},
): Promise<ManagerResult> {
  const view = viewMemories(related);
  const { sampling, signal, ...write } = context;
  const decision = await decideOperations(model, facts, view, {
    ...(sampling ? { sampling } : {}),
    ...(signal ? { signal } : {}),
    ...(write.speaker ? { speaker: write.speaker } : {}),
    ...(write.sessionDate ? { sessionDate: write.sessionDate } : {}),
  });
  const outcome = await applyOperations(bank, decision.operations, view, write);
  return { ...decision, ...outcome };
}
