import { describe, expect, it } from 'vitest';
import { BackupError, parseBackup } from './backup';

const valid = {
  format: 'memory-r1-bank',
  version: 1,
  exportedAt: 1,
  bank: { id: 'u', name: 'Ana', createdAt: 1 },
  memories: [{ id: 'm1', bankId: 'u', text: 'likes tea', createdAt: 1, updatedAt: 1, version: 1, embedding: btoa(String.fromCharCode(...new Uint8Array(new Float32Array([0.5, -1]).buffer))) }],
  history: [{ seq: 3, bankId: 'u', memoryId: 'm1', event: 'ADD', before: null, after: { id: 'm1', bankId: 'u', text: 'likes tea', createdAt: 1, updatedAt: 1, version: 1 }, actor: 'manager', at: 1 }],
};

function problems(text: string): string[] {
  try {
    parseBackup(text);
  } catch (error) {
    if (error instanceof BackupError) return error.problems;
    throw error;
  }
  return [];
}

describe('parseBackup', () => {
  it('reads a valid backup, embeddings included', () => {
    const backup = parseBackup(JSON.stringify(valid));
    expect(backup.memories[0]!.embedding).toEqual(new Float32Array([0.5, -1]));
    expect(backup.history).toHaveLength(1);
  });

  it('lists every problem of a file with several', () => {
    const bad = { ...valid, memories: [{ ...valid.memories[0], text: '', version: 0 }, { ...valid.memories[0], createdAt: 'yesterday' }] };
    expect(problems(JSON.stringify(bad))).toEqual([
      expect.stringMatching(/^\$\.memories\[0\]\.text: Too small/),
      expect.stringMatching(/^\$\.memories\[0\]\.version: Too small/),
      expect.stringMatching(/^\$\.memories\[1\]\.createdAt: Invalid input: expected number/),
    ]);
  });

  it('refuses prototype-polluting keys anywhere', () => {
    const text = JSON.stringify(valid).replace('"history":[{', '"history":[{"constructor":{"prototype":{}},');
    expect(problems(text)).toEqual(['$.history[0].constructor: the key "constructor" is not allowed']);
  });

  it('refuses corrupt embeddings', () => {
    const bad = { ...valid, memories: [{ ...valid.memories[0], embedding: btoa('abc') }] };
    expect(problems(JSON.stringify(bad))).toEqual(['$.memories[0].embedding: not a finite float32 vector']);
  });
});
