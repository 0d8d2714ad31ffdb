// Export and import of a bank as one JSON file. Import is all-or-nothing: the file is parsed and checked
// in full first (size, JSON, dangerous keys, schema, consistency), every problem is listed, and only a
// clean file is written, in one transaction.
import { z } from 'zod';
import { jsonProblems, PROTOTYPE_KEYS } from './json-limits';
import { sameState, snapshot, undoneBy } from './operations';
import { BankSchema, HistoryEntrySchema, MemorySchema, type Bank, type HistoryEntry, type HistoryEvent, type Memory } from './schema';
import { refreshUndoFlags, type MemoryStore, type WriteTransaction } from './store';

export const BACKUP_FORMAT = 'memory-r1-bank';
export const BACKUP_VERSION = 1;
/** Largest backup accepted (characters of JSON); a bigger file is refused before parsing. */
export const MAX_BACKUP_CHARS = 256 * 1024 * 1024;
/** Deepest nesting in a backup: the format itself needs 4 levels, a kept operation up to 16 more. */
export const MAX_BACKUP_DEPTH = 24;
/** Most dimensions an embedding may have (today's embedding models have at most a few thousand). */
export const MAX_EMBEDDING_DIMENSIONS = 65_536;
const MAX_PROBLEMS = 20;

const EmbeddingText = z.string().max(1_000_000).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64 float32 data');
const StoredMemorySchema = MemorySchema.extend({ embedding: EmbeddingText.optional() });
const BackupSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    version: z.literal(BACKUP_VERSION),
    exportedAt: z.number().finite(),
    bank: BankSchema,
    memories: z.array(StoredMemorySchema).max(10_000_000),
    history: z.array(HistoryEntrySchema).max(50_000_000),
  })
  .strict();
type BackupFile = z.infer<typeof BackupSchema>;

export interface Backup {
  bank: Bank;
  memories: Memory[];
  /** In file order; `undoneBy` as the entries' `undoes` links say (a stale flag in the file is not kept). */
  history: HistoryEntry[];
}

export class BackupError extends Error {
  override name = 'BackupError';
  constructor(readonly problems: string[]) {
    super(`The backup was not imported (nothing was changed):\n- ${problems.join('\n- ')}`);
  }
}

function encodeEmbedding(embedding: Float32Array): string {
  const bytes = new Uint8Array(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** The embedding a base64 text holds, or what is wrong with it. */
function decodeEmbedding(text: string): Float32Array | string {
  if (!text) return 'empty';
  // The schema allows only base64 letters and end padding; whole groups of 4 make it decodable.
  if (text.length % 4 !== 0) return `${text.length} base64 characters, not a whole number of groups of 4`;
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    return 'not valid base64';
  }
  if (binary.length % 4 !== 0) return `${binary.length} bytes, not a whole number of float32 values`;
  const vector = new Float32Array(Uint8Array.from(binary, (c) => c.charCodeAt(0)).buffer);
  if (vector.length > MAX_EMBEDDING_DIMENSIONS) return `${vector.length} dimensions; the limit is ${MAX_EMBEDDING_DIMENSIONS}`;
  const bad = vector.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return `value ${bad} is ${vector[bad]}, not a finite number`;
  return vector;
}

/**
 * The embedding size a backup keeps: the most common among the memories. Embeddings of another size (an
 * earlier model's, not yet replaced) or with non-finite values are left out, as an import would refuse
 * them; they are derived data, and the bank computes them again once an embedding model is loaded.
 */
function keptDimension(memories: readonly Memory[]): number | undefined {
  const counts = new Map<number, number>();
  for (const m of memories) if (m.embedding?.length) counts.set(m.embedding.length, (counts.get(m.embedding.length) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]?.[0];
}

export async function exportBank(store: MemoryStore, bankId: string): Promise<string> {
  const bank = (await store.listBanks()).find((b) => b.id === bankId) ?? { id: bankId, name: bankId, createdAt: Date.now() };
  const stored = await store.list(bankId);
  const dimension = keptDimension(stored);
  const memories = stored.map(({ embedding, ...rest }) =>
    embedding && embedding.length === dimension && embedding.every(Number.isFinite) ? { ...rest, embedding: encodeEmbedding(embedding) } : rest,
  );
  const history = (await store.history(bankId)).reverse();
  const file: BackupFile = { format: BACKUP_FORMAT, version: BACKUP_VERSION, exportedAt: Date.now(), bank, memories, history };
  return JSON.stringify(file);
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : `${text}.${String(part)}`), '$');
}

/** What each history event records: whether `before` and `after` hold a memory. */
const SHAPES: Record<HistoryEvent, readonly [before: boolean, after: boolean]> = {
  ADD: [false, true],
  UPDATE: [true, true],
  DELETE: [true, false],
  NONE: [true, true],
  REJECTED: [false, false],
};
const REVERSIBLE: ReadonlySet<HistoryEvent> = new Set(['ADD', 'UPDATE', 'DELETE']);

/**
 * Problems of the history as a whole: each entry must describe a memory of this bank under its own id,
 * with the before/after its event implies; undo links must join an entry and its exact revert; and the
 * last change recorded for each memory must leave it as the file's memory list holds it.
 */
function historyProblems(bankId: string, history: readonly HistoryEntry[], memories: ReadonlyMap<string, Memory>): string[] {
  const problems: string[] = [];
  const bySeq = new Map<number, HistoryEntry>();
  history.forEach((entry, i) => {
    if (bySeq.has(entry.seq)) problems.push(`$.history[${i}].seq: ${entry.seq} appears twice`);
    bySeq.set(entry.seq, entry);
  });
  const last = new Map<string, { entry: HistoryEntry; i: number }>();
  history.forEach((entry, i) => {
    const at = `$.history[${i}]`;
    if (entry.bankId !== bankId) problems.push(`${at}.bankId: "${entry.bankId}" is not the bank's id "${bankId}"`);
    if (entry.event !== 'REJECTED' && !entry.memoryId) problems.push(`${at}.memoryId: missing; a ${entry.event} entry names its memory`);
    const [hasBefore, hasAfter] = SHAPES[entry.event];
    for (const [field, expected] of [['before', hasBefore], ['after', hasAfter]] as const) {
      const value = entry[field];
      if (!value !== !expected) problems.push(`${at}.${field}: ${expected ? 'a memory' : 'null'} expected in a ${entry.event} entry`);
      if (!value) continue;
      if (value.bankId !== bankId) problems.push(`${at}.${field}.bankId: "${value.bankId}" is not the bank's id "${bankId}"`);
      if (value.id !== entry.memoryId) problems.push(`${at}.${field}.id: "${value.id}" is not the entry's memoryId "${entry.memoryId}"`);
    }
    if (entry.event === 'NONE' && !sameState(entry.before, entry.after)) problems.push(`${at}.after: a NONE entry changes nothing, so it must equal "before"`);
    if ((entry.undoes !== undefined || entry.undoneBy !== undefined) && !REVERSIBLE.has(entry.event)) {
      problems.push(`${at}: a ${entry.event} entry changes nothing, so it can neither undo nor be undone`);
    }
    if (entry.undoes !== undefined) {
      const target = bySeq.get(entry.undoes);
      if (!target || target.seq >= entry.seq || target.memoryId !== entry.memoryId || !REVERSIBLE.has(target.event)) {
        problems.push(`${at}.undoes: #${entry.undoes} is not an earlier change to memory "${entry.memoryId}" in this file`);
      } else if (!sameState(entry.before, target.after) || !sameState(entry.after, target.before)) {
        problems.push(`${at}.undoes: this entry does not revert #${entry.undoes} (its before/after are not #${entry.undoes}'s after/before)`);
      }
    }
    if (entry.undoneBy !== undefined && bySeq.get(entry.undoneBy)?.undoes !== entry.seq) {
      problems.push(`${at}.undoneBy: #${entry.undoneBy} is not an entry of this file that undoes #${entry.seq}`);
    }
    if (REVERSIBLE.has(entry.event) && entry.memoryId) {
      const previous = last.get(entry.memoryId);
      if (!previous || previous.entry.seq < entry.seq) last.set(entry.memoryId, { entry, i });
    }
  });
  for (const [id, { entry, i }] of last) {
    const memory = memories.get(id);
    if (!entry.after && memory) problems.push(`$.history[${i}]: the last change to memory "${id}" deletes it, but the file's memories hold it`);
    else if (entry.after && !memory) problems.push(`$.history[${i}]: the last change to memory "${id}" keeps it, but the file's memories do not hold it`);
    else if (entry.after && !sameState(memory, entry.after)) problems.push(`$.history[${i}].after: memory "${id}" reads differently in the file's memories`);
  }
  return problems;
}

/**
 * A rejected operation is whatever a model wrote, and an older app kept it as it was: one holding a key
 * such as "constructor" becomes its JSON text (as the store keeps it now) instead of refusing the file.
 * Its size and depth are still checked, by the schema.
 */
function keepOperationsAsText(data: unknown): void {
  const history = data !== null && typeof data === 'object' && Object.hasOwn(data, 'history') ? (data as { history: unknown }).history : undefined;
  if (!Array.isArray(history)) return;
  for (const entry of history) {
    if (entry === null || typeof entry !== 'object' || !Object.hasOwn(entry, 'operation')) continue;
    const operation = (entry as { operation: unknown }).operation;
    const [problem] = jsonProblems(operation, { maxDepth: MAX_BACKUP_DEPTH, forbiddenKeys: PROTOTYPE_KEYS, maxProblems: 1 });
    if (problem?.message.startsWith('the key')) (entry as { operation: unknown }).operation = JSON.stringify(operation);
  }
}

/** Parses and checks a backup file; throws BackupError listing every problem found (up to 20). */
export function parseBackup(text: string): Backup {
  if (text.length > MAX_BACKUP_CHARS) throw new BackupError([`the file is ${text.length} characters long; the limit is ${MAX_BACKUP_CHARS}`]);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new BackupError([`the file is not valid JSON (${(error as Error).message}); is it complete?`]);
  }
  keepOperationsAsText(data);
  const shape = jsonProblems(data, { maxDepth: MAX_BACKUP_DEPTH, forbiddenKeys: PROTOTYPE_KEYS, maxProblems: MAX_PROBLEMS });
  if (shape.length) throw new BackupError(shape.map(({ path, message }) => `${path}: ${message}`));
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new BackupError(['the file is not a Memory-R1 bank backup (expected a JSON object)']);
  const header = data as { format?: unknown; version?: unknown };
  if (header.format !== BACKUP_FORMAT) throw new BackupError([`the file is not a Memory-R1 bank backup ("format" should be "${BACKUP_FORMAT}")`]);
  if (header.version !== BACKUP_VERSION) {
    const newer = typeof header.version === 'number' && header.version > BACKUP_VERSION;
    throw new BackupError([
      newer
        ? `the backup has format version ${header.version}, made by a newer Memory-R1; update the app to import it`
        : `the backup has format version ${JSON.stringify(header.version)}; this app reads version ${BACKUP_VERSION}`,
    ]);
  }
  const parsed = BackupSchema.safeParse(data);
  if (!parsed.success) {
    throw new BackupError(parsed.error.issues.slice(0, MAX_PROBLEMS).map((issue) => `${issuePath(issue.path)}: ${issue.message}`));
  }
  const file = parsed.data;
  const problems: string[] = [];
  const byId = new Map<string, Memory>();
  let dimension: number | undefined;
  const memories: Memory[] = file.memories.map((stored, i) => {
    const { embedding: encoded, ...rest } = stored;
    if (rest.bankId !== file.bank.id) problems.push(`$.memories[${i}].bankId: "${rest.bankId}" is not the bank's id "${file.bank.id}"`);
    if (byId.has(rest.id)) problems.push(`$.memories[${i}].id: "${rest.id}" appears twice`);
    byId.set(rest.id, rest);
    if (!rest.text.trim()) problems.push(`$.memories[${i}].text: empty`);
    if (encoded === undefined) return rest;
    const embedding = decodeEmbedding(encoded);
    if (typeof embedding === 'string') {
      problems.push(`$.memories[${i}].embedding: not a float32 vector (${embedding})`);
      return rest;
    }
    if (dimension !== undefined && embedding.length !== dimension) problems.push(`$.memories[${i}].embedding: ${embedding.length} dimensions, others have ${dimension}`);
    dimension ??= embedding.length;
    return { ...rest, embedding };
  });
  problems.push(...historyProblems(file.bank.id, file.history, byId));
  if (problems.length) throw new BackupError(problems.slice(0, MAX_PROBLEMS));
  const flags = undoneBy(file.history);
  const history = file.history.map(({ undoneBy: _stale, ...entry }) => {
    const by = flags.get(entry.seq);
    return (by === undefined ? entry : { ...entry, undoneBy: by }) as HistoryEntry;
  });
  return { bank: file.bank, memories, history };
}

export interface ImportOptions {
  /** `replace` empties the bank first; `merge` keeps what is there and takes the newer version of a memory in both. */
  mode: 'merge' | 'replace';
}

export interface ImportSummary {
  bankId: string;
  memoriesWritten: number;
  memoriesKept: number;
  historyWritten: number;
}

/**
 * Memories whose last recorded change no longer says what they hold. A merge of a crafted file (a version
 * that wins with history the bank already has, memories without history) could leave one; it is refused.
 */
async function outOfStep(tx: WriteTransaction, ids: Iterable<string>): Promise<string[]> {
  const problems: string[] = [];
  for (const id of ids) {
    const entries = await tx.objectStore('history').index('memoryId').getAll(id);
    const last = entries.filter((e) => e.event !== 'NONE' && e.event !== 'REJECTED').reduce<HistoryEntry | undefined>((a, b) => (!a || b.seq > a.seq ? b : a), undefined);
    if (last && !sameState(await tx.objectStore('memories').get(id), last.after)) {
      problems.push(`memory "${id}": merged, its last recorded change would not be what it holds; import this file with "replace" instead`);
    }
  }
  return problems;
}

/** Imports a backup file's text into its bank, all in one transaction; throws BackupError (writing nothing) if anything is wrong. */
export async function importBank(store: MemoryStore, text: string, options: ImportOptions): Promise<ImportSummary> {
  const backup = parseBackup(text);
  const bankId = backup.bank.id;
  const fileMemories = new Map(backup.memories.map((m) => [m.id, m]));
  const summary = await store.write(bankId, async (tx) => {
    const memories = tx.objectStore('memories');
    const history = tx.objectStore('history');
    const banks = tx.objectStore('banks');
    // Memory ids are keys of the whole database: an id the file uses (in its memories or its history) that
    // lives in another bank would let the import, or a later undo, change that bank. Refuse it.
    const historyIds = [...new Set(backup.history.flatMap((e) => (e.memoryId && !fileMemories.has(e.memoryId) ? [e.memoryId] : [])))];
    const [existing, historyOwners] = await Promise.all([Promise.all(backup.memories.map((m) => memories.get(m.id))), Promise.all(historyIds.map((id) => memories.get(id)))]);
    const foreign = [
      ...existing.flatMap((m, i) => (m && m.bankId !== bankId ? [`$.memories[${i}].id: "${m.id}" already belongs to bank "${m.bankId}"`] : [])),
      ...historyOwners.flatMap((m) => {
        if (!m || m.bankId === bankId) return [];
        const i = backup.history.findIndex((e) => e.memoryId === m.id);
        return [`$.history[${i}].memoryId: "${m.id}" belongs to bank "${m.bankId}"`];
      }),
    ];
    if (foreign.length) throw new BackupError(foreign.slice(0, MAX_PROBLEMS));

    const known = new Map<string, number>();
    const historyKey = (e: HistoryEntry) => `${e.memoryId}|${e.event}|${e.at}|${e.after?.version ?? e.before?.version ?? ''}`;
    if (options.mode === 'replace') {
      const [memoryKeys, historyKeys] = await Promise.all([memories.index('bankId').getAllKeys(bankId), history.index('bankId').getAllKeys(bankId)]);
      await Promise.all([...memoryKeys.map((k) => memories.delete(k)), ...historyKeys.map((k) => history.delete(k))]);
    } else {
      for (const entry of await history.index('bankId').getAll(bankId)) known.set(historyKey(entry), entry.seq);
    }
    await banks.put(backup.bank);
    let memoriesWritten = 0;
    /** Memories whose history in the file is not merged (see below). */
    const diverged = new Set<string>();
    const writes = backup.memories.map((memory, i) => {
      const current = options.mode === 'merge' ? existing[i] : undefined;
      if (current && (current.version > memory.version || (current.version === memory.version && current.updatedAt >= memory.updatedAt))) {
        if (!sameState(current, memory)) diverged.add(memory.id);
        return undefined;
      }
      memoriesWritten++;
      return memories.put(memory);
    });
    // A memory the file deleted but the bank still holds also keeps the bank's state.
    if (options.mode === 'merge') historyOwners.forEach((m, i) => m && diverged.add(historyIds[i]!));
    // Merging adds the file's new entries of a memory after the bank's own, so they come last only when
    // the file's last change to it is new too; otherwise (or when the bank kept its own state) they are
    // left out. Either way the bank's last entry for every memory still says what it holds: what undo
    // checks, and what a later export of the bank must pass.
    const lastChange = new Map<string, HistoryEntry>();
    for (const entry of backup.history) if (entry.memoryId && entry.event !== 'NONE' && entry.event !== 'REJECTED') lastChange.set(entry.memoryId, entry);
    for (const [memoryId, entry] of lastChange) if (known.has(historyKey(entry))) diverged.add(memoryId);
    // Sequence numbers are global to the database: imported entries get new ones, and their undo links follow.
    const newSeq = new Map<number, number>();
    const touched = new Set<string>();
    let historyWritten = 0;
    for (const entry of backup.history) {
      const knownSeq = known.get(historyKey(entry));
      if (knownSeq !== undefined) newSeq.set(entry.seq, knownSeq);
      if (knownSeq !== undefined || (entry.memoryId && diverged.has(entry.memoryId))) continue;
      const { seq, undoes: _undoes, undoneBy: _undoneBy, ...rest } = entry;
      newSeq.set(seq, await history.add({ ...rest, before: snapshot(rest.before as Memory | null), after: snapshot(rest.after as Memory | null) } as HistoryEntry));
      if (entry.undoes !== undefined && entry.memoryId) touched.add(entry.memoryId);
      historyWritten++;
    }
    for (const entry of backup.history) {
      const seq = newSeq.get(entry.seq);
      const undoes = entry.undoes !== undefined ? newSeq.get(entry.undoes) : undefined;
      if (seq === undefined || undoes === undefined || known.has(historyKey(entry))) continue;
      await history.put({ ...(await history.get(seq))!, undoes });
    }
    for (const memoryId of touched) await refreshUndoFlags(tx, memoryId);
    await Promise.all(writes);
    if (options.mode === 'merge') {
      const problems = await outOfStep(tx, new Set([...fileMemories.keys(), ...historyIds]));
      if (problems.length) throw new BackupError(problems.slice(0, MAX_PROBLEMS));
    }
    return { bankId, memoriesWritten, memoriesKept: backup.memories.length - memoriesWritten, historyWritten };
  });
  store.announce({ kind: 'reset', bankId, remote: false });
  return summary;
}
