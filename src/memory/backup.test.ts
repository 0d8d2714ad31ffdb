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
    expect(problems(JSON.stringify(bad))).toEqual(['$.memories[0].embedding: not a float32 vector (3 bytes, not a whole number of float32 values)']);
  });

  const withEmbedding = (embedding: string) => JSON.stringify({ ...valid, memories: [{ ...valid.memories[0], embedding }] });
  const floats = (...values: number[]) => btoa(String.fromCharCode(...new Uint8Array(new Float32Array(values).buffer)));

  it.each([
    ['A', /^\$\.memories\[0\]\.embedding: not a float32 vector \(1 base64 characters/],
    ['AAAAA', /not a float32 vector \(5 base64 characters, not a whole number of groups of 4\)/],
    ['=', /not a float32 vector \(1 base64 characters/],
    ['', /not a float32 vector \(empty\)/],
    [floats(1, Number.NaN), /not a float32 vector \(value 1 is NaN, not a finite number\)/],
    [floats(Number.POSITIVE_INFINITY), /not a float32 vector \(value 0 is Infinity, not a finite number\)/],
    ['AAAA====', /embedding: expected base64 float32 data/],
  ])('refuses the embedding %j with a BackupError naming it', (embedding, message) => {
    const found = problems(withEmbedding(embedding));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });

  it('refuses embeddings of different lengths', () => {
    const second = { ...valid.memories[0], id: 'm2', embedding: floats(1, 2, 3) };
    const file = { ...valid, memories: [valid.memories[0], second] };
    expect(problems(JSON.stringify(file))).toEqual(['$.memories[1].embedding: 3 dimensions, others have 2']);
  });

  it('measures 200,000 levels of nesting without recursing, and refuses them', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const text = JSON.stringify(valid).replace('"actor":"manager"', `"actor":"manager","operation":${deep}`);
    expect(problems(text)).toEqual([`$.history[0].operation${'[0]'.repeat(21)}: nested deeper than 24 levels`]);
    expect(problems(deep)).toEqual([`$${'[0]'.repeat(24)}: nested deeper than 24 levels`]);
  });

  it('bounds what the schema leaves open: a rejected operation of 50 MB or 17 levels is refused, not stored', () => {
    const rejected = (operation: unknown) => ({ seq: 9, bankId: 'u', event: 'REJECTED', before: null, after: null, actor: 'manager', at: 2, reason: 'bad', operation });
    const file = (operation: unknown) => JSON.stringify({ ...valid, history: [...valid.history, rejected(operation)] });
    expect(problems(file('x'.repeat(50 * 1024 * 1024)))).toEqual(['$.history[1].operation: larger than 16000 characters']);
    let nested: unknown = 'leaf';
    for (let i = 0; i < 17; i++) nested = { a: nested };
    expect(problems(file(nested))).toEqual([`$.history[1].operation: nested deeper than 16 levels (at operation${'.a'.repeat(16)})`]);
    // Within the limits, whatever its shape, it is kept as written.
    const odd = { event: 'MERGE', id: [1, { deep: [null, true] }], text: 'y'.repeat(10_000) };
    expect(parseBackup(file(odd)).history[1]!.operation).toEqual(odd);
    // A model's "constructor" key inside a rejected operation (kept as written by an older app) is no reason
    // to refuse a schema-valid file: the operation is kept as its JSON text.
    const text = file({ event: 'ADD', text: 'x' }).replace('"operation":{', '"operation":{"constructor":{"prototype":1},');
    expect(parseBackup(text).history[1]!.operation).toBe('{"constructor":{"prototype":1},"event":"ADD","text":"x"}');
  });
});

describe('parseBackup: history', () => {
  const memory = valid.history[0]!.after;
  const entry = valid.history[0]!;
  const file = (history: unknown[], memories: unknown[] = [valid.memories[0]]) => JSON.stringify({ ...valid, memories, history });
  const update = { seq: 4, bankId: 'u', memoryId: 'm1', event: 'UPDATE', before: memory, after: { ...memory, text: 'likes green tea', version: 2 }, actor: 'user', at: 2 };
  const updated = { ...valid.memories[0], text: 'likes green tea', version: 2 };

  it('accepts a consistent history and derives undo flags from the undo links', () => {
    const undo = { seq: 7, bankId: 'u', memoryId: 'm1', event: 'UPDATE', before: update.after, after: { ...memory, version: 3 }, actor: 'user', at: 3, undoes: 4 };
    const redo = { seq: 8, bankId: 'u', memoryId: 'm1', event: 'UPDATE', before: undo.after, after: { ...update.after, version: 4 }, actor: 'user', at: 4, undoes: 7 };
    const again = { seq: 9, bankId: 'u', memoryId: 'm1', event: 'UPDATE', before: redo.after, after: { ...memory, version: 5 }, actor: 'user', at: 5, undoes: 8 };
    // Flags as an older app left them after undo, redo, undo of the redo: #4 wrongly read "not undone".
    const history = parseBackup(file([entry, update, { ...undo }, { ...redo, undoneBy: 9 }, again], [{ ...valid.memories[0], version: 5 }])).history;
    expect(history.map((h) => [h.seq, h.undoneBy])).toEqual([[3, undefined], [4, 7], [7, undefined], [8, 9], [9, undefined]]);
  });

  it.each([
    ['another bank', [entry, { ...update, bankId: 'v' }], [updated], /^\$\.history\[1\]\.bankId: "v" is not the bank's id "u"$/],
    ['a snapshot of another bank', [entry, { ...update, after: { ...update.after, bankId: 'v' } }], [updated], /^\$\.history\[1\]\.after\.bankId: "v" is not the bank's id "u"$/],
    ['a snapshot of another memory', [entry, { ...update, before: { ...memory, id: 'victim' } }], [updated], /^\$\.history\[1\]\.before\.id: "victim" is not the entry's memoryId "m1"$/],
    ['a DELETE with an after', [entry, { ...update, event: 'DELETE' }], [updated], /^\$\.history\[1\]\.after: null expected in a DELETE entry$/],
    ['an ADD with a before', [{ ...entry, before: memory }], undefined, /^\$\.history\[0\]\.before: null expected in a ADD entry$/],
    ['a change without its memory', [{ ...entry, memoryId: undefined }], undefined, /^\$\.history\[0\]\.memoryId: missing/],
    ['a last change the memories contradict', [entry, update], undefined, /^\$\.history\[1\]\.after: memory "m1" reads differently in the file's memories$/],
    ['a deleted memory still listed', [entry, { ...update, event: 'DELETE', after: null }], undefined, /the last change to memory "m1" deletes it, but the file's memories hold it/],
    ['a memory kept but not listed', [entry], [], /the last change to memory "m1" keeps it, but the file's memories do not hold it/],
    ['an undo of nothing', [entry, { ...update, undoes: 99 }], [updated], /^\$\.history\[1\]\.undoes: #99 is not an earlier change to memory "m1" in this file$/],
    ['an undo that is no revert', [entry, { ...update, undoes: 3 }], [updated], /^\$\.history\[1\]\.undoes: this entry does not revert #3/],
    ['a stray undoneBy', [{ ...entry, undoneBy: 4 }, update], [updated], /^\$\.history\[0\]\.undoneBy: #4 is not an entry of this file that undoes #3$/],
    ['a NONE that changes', [entry, { ...update, event: 'NONE' }], [updated], /a NONE entry changes nothing, so it must equal "before"/],
    ['a repeated seq', [entry, { ...update, seq: 3 }], [updated], /^\$\.history\[1\]\.seq: 3 appears twice$/],
  ])('refuses %s', (_name, history, memories, message) => {
    const found = problems(file(history, memories));
    expect(found).toContainEqual(expect.stringMatching(message));
  });
});
