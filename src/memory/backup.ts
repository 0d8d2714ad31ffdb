// Export and import of a bank as one JSON file. Import is all-or-nothing: the file is parsed and checked
// in full first (size, JSON, dangerous keys, schema, consistency), every problem is listed, and only a
// clean file is written, in one transaction.
import { z } from 'zod';
import { snapshot } from './operations';
import { BankSchema, HistoryEntrySchema, MemorySchema, type Bank, type HistoryEntry, type Memory } from './schema';
import type { MemoryStore } from './store';

export const BACKUP_FORMAT = 'memory-r1-bank';
export const BACKUP_VERSION = 1;
/** Largest backup accepted (characters of JSON); a bigger file is refused before parsing. */
export const MAX_BACKUP_CHARS = 256 * 1024 * 1024;
const MAX_PROBLEMS = 20;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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

function decodeEmbedding(text: string): Float32Array | undefined {
  const binary = atob(text);
  if (binary.length % 4 !== 0) return undefined;
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

export async function exportBank(store: MemoryStore, bankId: string): Promise<string> {
  const bank = (await store.listBanks()).find((b) => b.id === bankId) ?? { id: bankId, name: bankId, createdAt: Date.now() };
  const memories = (await store.list(bankId)).map(({ embedding, ...rest }) => (embedding ? { ...rest, embedding: encodeEmbedding(embedding) } : rest));
  const history = (await store.history(bankId)).reverse();
  const file: BackupFile = { format: BACKUP_FORMAT, version: BACKUP_VERSION, exportedAt: Date.now(), bank, memories, history };
  return JSON.stringify(file);
}

/** Paths of keys that could pollute prototypes if the data were ever merged into objects naively. */
function forbiddenKeyPaths(value: unknown, path = '$', found: string[] = []): string[] {
  if (found.length >= MAX_PROBLEMS || value === null || typeof value !== 'object') return found;
  for (const key of Object.keys(value)) {
    const child = `${path}${Array.isArray(value) ? `[${key}]` : `.${key}`}`;
    if (FORBIDDEN_KEYS.has(key)) found.push(`${child}: the key "${key}" is not allowed`);
    else forbiddenKeyPaths((value as Record<string, unknown>)[key], child, found);
  }
  return found;
}

function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : `${text}.${String(part)}`), '$');
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
  const forbidden = forbiddenKeyPaths(data);
  if (forbidden.length) throw new BackupError(forbidden);
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
  const ids = new Set<string>();
  let dimension: number | undefined;
  const memories: Memory[] = file.memories.map((stored, i) => {
    const { embedding: encoded, ...rest } = stored;
    if (rest.bankId !== file.bank.id) problems.push(`$.memories[${i}].bankId: "${rest.bankId}" is not the bank's id "${file.bank.id}"`);
    if (ids.has(rest.id)) problems.push(`$.memories[${i}].id: "${rest.id}" appears twice`);
    ids.add(rest.id);
    if (!rest.text.trim()) problems.push(`$.memories[${i}].text: empty`);
    if (encoded === undefined) return rest;
    const embedding = decodeEmbedding(encoded);
    if (!embedding || embedding.some((v) => !Number.isFinite(v))) problems.push(`$.memories[${i}].embedding: not a finite float32 vector`);
    else if (dimension !== undefined && embedding.length !== dimension) problems.push(`$.memories[${i}].embedding: ${embedding.length} dimensions, others have ${dimension}`);
    dimension ??= embedding?.length;
    return embedding ? { ...rest, embedding } : rest;
  });
  const seqs = new Set<number>();
  file.history.forEach((entry, i) => {
    if (entry.bankId !== file.bank.id) problems.push(`$.history[${i}].bankId: "${entry.bankId}" is not the bank's id "${file.bank.id}"`);
    if (seqs.has(entry.seq)) problems.push(`$.history[${i}].seq: ${entry.seq} appears twice`);
    seqs.add(entry.seq);
  });
  if (problems.length) throw new BackupError(problems.slice(0, MAX_PROBLEMS));
  return { bank: file.bank, memories, history: file.history };
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

/** Imports a backup file's text into its bank, all in one transaction; throws BackupError (writing nothing) if anything is wrong. */
export async function importBank(store: MemoryStore, text: string, options: ImportOptions): Promise<ImportSummary> {
  const backup = parseBackup(text);
  const bankId = backup.bank.id;
  const summary = await store.write(bankId, async (tx) => {
    const memories = tx.objectStore('memories');
    const history = tx.objectStore('history');
    const banks = tx.objectStore('banks');
    // A memory id that already lives in another bank would be moved by the import: refuse it.
    const existing = await Promise.all(backup.memories.map((m) => memories.get(m.id)));
    const foreign = existing.flatMap((m, i) => (m && m.bankId !== bankId ? [`$.memories[${i}].id: "${m.id}" already belongs to bank "${m.bankId}"`] : []));
    if (foreign.length) throw new BackupError(foreign.slice(0, MAX_PROBLEMS));

    const knownHistory = new Set<string>();
    const historyKey = (e: HistoryEntry) => `${e.memoryId}|${e.event}|${e.at}|${e.after?.version ?? e.before?.version ?? ''}`;
    if (options.mode === 'replace') {
      const [memoryKeys, historyKeys] = await Promise.all([memories.index('bankId').getAllKeys(bankId), history.index('bankId').getAllKeys(bankId)]);
      await Promise.all([...memoryKeys.map((k) => memories.delete(k)), ...historyKeys.map((k) => history.delete(k))]);
    } else {
      for (const entry of await history.index('bankId').getAll(bankId)) knownHistory.add(historyKey(entry));
    }
    await banks.put(backup.bank);
    let memoriesWritten = 0;
    const writes = backup.memories.map((memory, i) => {
      const current = options.mode === 'merge' ? existing[i] : undefined;
      if (current && (current.version > memory.version || (current.version === memory.version && current.updatedAt >= memory.updatedAt))) return undefined;
      memoriesWritten++;
      return memories.put(memory);
    });
    // Sequence numbers are global to the database: imported entries get new ones, and their undo links follow.
    const newSeq = new Map<number, number>();
    let historyWritten = 0;
    for (const entry of backup.history) {
      if (knownHistory.has(historyKey(entry))) continue;
      const { seq, undoes, undoneBy, ...rest } = entry;
      newSeq.set(seq, await history.add({ ...rest, before: snapshot(rest.before as Memory | null), after: snapshot(rest.after as Memory | null) } as HistoryEntry));
      historyWritten++;
    }
    for (const entry of backup.history) {
      const seq = newSeq.get(entry.seq);
      if (seq === undefined || (entry.undoes === undefined && entry.undoneBy === undefined)) continue;
      const stored = (await history.get(seq))!;
      const undoes = entry.undoes !== undefined ? newSeq.get(entry.undoes) : undefined;
      const undoneBy = entry.undoneBy !== undefined ? newSeq.get(entry.undoneBy) : undefined;
      await history.put({ ...stored, ...(undoes ? { undoes } : {}), ...(undoneBy ? { undoneBy } : {}) });
    }
    await Promise.all(writes);
    return { bankId, memoriesWritten, memoriesKept: backup.memories.length - memoriesWritten, historyWritten };
  });
  store.announce({ kind: 'reset', bankId, remote: false });
  return summary;
}
