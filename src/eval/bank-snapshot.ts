// Memories as JSON (bank caches, training tuples): embeddings as base64 float32 so a snapshot stays small
// and exact, and validated on the way back in (cache files are untrusted input like any other file).
import { z } from 'zod';
import { InMemoryBank, MemorySnapshotSchema, type Embedder, type Memory } from '../memory';

export const StoredMemorySchema = MemorySnapshotSchema.extend({ embedding: z.string().optional() });
export type StoredMemory = z.infer<typeof StoredMemorySchema>;

function toBase64(vector: Float32Array): string {
  const bytes = new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text: string): Float32Array {
  const binary = atob(text);
  if (binary.length % 4 !== 0) throw new Error('embedding is not a whole number of float32 values');
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export function storeMemories(memories: readonly Memory[]): StoredMemory[] {
  return memories.map(({ embedding, ...rest }) => (embedding ? { ...rest, embedding: toBase64(embedding) } : rest));
}

/** Stored memories back to memories; throws naming `where` and the first problem. */
export function loadMemories(stored: unknown, where: string): Memory[] {
  const parsed = z.array(StoredMemorySchema).safeParse(stored);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${where}: memories are malformed (${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'})`);
  }
  return parsed.data.map(({ embedding, ...rest }) => (embedding === undefined ? rest : { ...rest, embedding: fromBase64(embedding) }));
}

/**
 * A fresh in-memory bank holding `memories`. InMemoryBank numbers new ids `<bankId>:<n>` from 0, so a
 * bank seeded with memories that already use such ids would reuse them; the restored bank therefore gets
 * a new generation suffix (`conv-26#2`) and the memories are moved into it, keeping their ids.
 */
export function restoreBank(baseId: string, memories: readonly Memory[], embedder?: Embedder): InMemoryBank {
  const root = baseId.replace(/#\d+$/, '');
  let generation = 0;
  for (const memory of memories) {
    const match = /#(\d+):\d+$/.exec(memory.id);
    generation = Math.max(generation, match ? Number(match[1]) : 0);
  }
  const bankId = `${root}#${generation + 1}`;
  return new InMemoryBank(bankId, memories.map((memory) => ({ ...memory, bankId })), embedder);
}
