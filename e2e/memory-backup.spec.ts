// Export / import of a bank in real Chromium: a round trip restores it, a bad file changes nothing.
import { expect, test } from './fixtures';

async function seed(page: import('@playwright/test').Page) {
  return page.evaluate(async () => {
    const store = window.harness.s;
    await store.ensureBank('u', 'Ana');
    const added = await store.apply('u', [
      { event: 'ADD', text: 'Plays the cello', speaker: 'Ana' },
      { event: 'ADD', text: 'Visited Kyoto in April 2023', speaker: 'Ana', eventDate: '2023-04' },
    ], { actor: 'manager', turnId: 'D1:3', sessionDate: '8 May 2023' });
    const id = added.results[0]!.status === 'applied' ? added.results[0]!.memoryId : '';
    const update = await store.edit('u', { event: 'UPDATE', id, text: 'Plays the cello and the piano' });
    await store.undo(update.seq);
    return window.harness.memory.exportBank(store, 'u');
  });
}

async function bankState(page: import('@playwright/test').Page) {
  return page.evaluate(async () => ({
    memories: (await window.harness.s.list('u')).map(({ id, text, version, speaker, eventDate, source }) => ({ id, text, version, speaker, eventDate, source })),
    history: (await window.harness.s.history('u')).map(({ memoryId, event, before, after, actor, undoes, undoneBy }) => ({ memoryId, event, before, after, actor, undoes: !!undoes, undoneBy: !!undoneBy })),
  }));
}

test('export, wipe and import restore the bank with its history', async ({ harnessPage: page }) => {
  const backup = await seed(page);
  const original = await bankState(page);
  await page.evaluate(() => window.harness.s.wipe('u'));
  expect((await bankState(page)).memories).toEqual([]);
  const summary = await page.evaluate((text) => window.harness.memory.importBank(window.harness.s, text, { mode: 'replace' }), backup);
  expect(summary).toMatchObject({ bankId: 'u', memoriesWritten: 2, historyWritten: 4 });
  expect(await bankState(page)).toEqual(original);
  // Undo still works on imported history (links were renumbered together with the entries).
  const redone = await page.evaluate(async () => {
    const entry = (await window.harness.s.history('u')).find((h) => h.event === 'UPDATE' && h.undoneBy)!;
    await window.harness.s.redo(entry.seq);
    return (await window.harness.s.list('u')).map((m) => m.text);
  });
  expect(redone).toEqual(['Plays the cello and the piano', 'Visited Kyoto in April 2023']);
  // Merging the same file again keeps the newer memory and adds no duplicate history.
  const merged = await page.evaluate((text) => window.harness.memory.importBank(window.harness.s, text, { mode: 'merge' }), backup);
  expect(merged).toMatchObject({ memoriesWritten: 0, memoriesKept: 2, historyWritten: 0 });
});

test('malformed imports are rejected with a clear message and change nothing', async ({ harnessPage: page }) => {
  const backup = await seed(page);
  const before = await bankState(page);
  const valid = JSON.parse(backup);
  const variants: [string, string, RegExp][] = [
    ['truncated JSON', backup.slice(0, backup.length - 40), /not valid JSON .*is it complete\?/],
    ['wrong version', JSON.stringify({ ...valid, version: 7 }), /format version 7, made by a newer Memory-R1; update the app/],
    ['not a backup', JSON.stringify({ hello: 'world' }), /not a Memory-R1 bank backup/],
    ['wrong types', JSON.stringify({ ...valid, memories: [{ ...valid.memories[0], version: 'two', text: 42 }] }), /\$\.memories\[0\]\.text: .*\n- \$\.memories\[0\]\.version/],
    ['a 10 MB string', JSON.stringify({ ...valid, memories: [{ ...valid.memories[0], text: 'a'.repeat(10 * 1024 * 1024) }] }), /\$\.memories\[0\]\.text: Too big/],
    ['__proto__ key', backup.replace('"memories":[{', '"memories":[{"__proto__":{"polluted":true},'), /\$\.memories\[0\]\.__proto__: the key "__proto__" is not allowed/],
    ['another bank\'s memory', JSON.stringify({ ...valid, memories: [{ ...valid.memories[0], bankId: 'other' }] }), /bankId: "other" is not the bank's id "u"/],
    ['duplicate ids', JSON.stringify({ ...valid, memories: [valid.memories[0], valid.memories[0]] }), /appears twice/],
  ];
  for (const [name, text, message] of variants) {
    for (const mode of ['replace', 'merge'] as const) {
      const error = await page.evaluate(
        async ({ text, mode }) => {
          try {
            await window.harness.memory.importBank(window.harness.s, text, { mode });
            return 'imported';
          } catch (e) {
            return `${(e as Error).name}: ${(e as Error).message}`;
          }
        },
        { text, mode },
      );
      expect(error, name).toMatch(/^BackupError: The backup was not imported \(nothing was changed\):/);
      expect(error, name).toMatch(message);
      expect(await bankState(page), name).toEqual(before);
    }
  }
  expect(await page.evaluate(() => ({} as Record<string, unknown>).polluted)).toBeUndefined();
});

test('refusals of crafted files are BackupErrors listing the problem, and change nothing', async ({ harnessPage: page }) => {
  const backup = await seed(page);
  const before = await bankState(page);
  // Built in the page: some of these files are tens of megabytes.
  const outcomes = await page.evaluate(async (text) => {
    const valid = JSON.parse(text);
    const floats = (...values: number[]) => btoa(String.fromCharCode(...new Uint8Array(new Float32Array(values).buffer)));
    const withEmbedding = (embedding: string) => JSON.stringify({ ...valid, memories: [{ ...valid.memories[0], embedding }, ...valid.memories.slice(1)] });
    const rejected = (operation: string) => text.replace('"history":[', `"history":[{"seq":999,"bankId":"u","event":"REJECTED","before":null,"after":null,"actor":"manager","at":1,"operation":${operation}},`);
    const files: Record<string, string> = {
      'embedding "A"': withEmbedding('A'),
      'embedding "AAAAA"': withEmbedding('AAAAA'),
      'embedding "="': withEmbedding('='),
      'empty embedding': withEmbedding(''),
      'NaN embedding': withEmbedding(floats(0.5, Number.NaN)),
      'infinite embedding': withEmbedding(floats(Number.NEGATIVE_INFINITY, 1)),
      '200,000 levels deep': rejected('['.repeat(200_000) + ']'.repeat(200_000)),
      'a 50 MB operation': rejected(JSON.stringify('x'.repeat(50 * 1024 * 1024))),
    };
    const out: Record<string, string> = {};
    for (const [name, file] of Object.entries(files)) {
      for (const mode of ['replace', 'merge'] as const) {
        try {
          await window.harness.memory.importBank(window.harness.s, file, { mode });
          out[`${name} (${mode})`] = 'imported';
        } catch (e) {
          out[`${name} (${mode})`] = `${(e as Error).name}: ${(e as Error).message}`;
        }
      }
    }
    return out;
  }, backup);
  const expected: Record<string, RegExp> = {
    'embedding "A"': /\$\.memories\[0\]\.embedding: not a float32 vector \(1 base64 characters/,
    'embedding "AAAAA"': /\$\.memories\[0\]\.embedding: not a float32 vector \(5 base64 characters/,
    'embedding "="': /\$\.memories\[0\]\.embedding: not a float32 vector \(1 base64 characters/,
    'empty embedding': /\$\.memories\[0\]\.embedding: not a float32 vector \(empty\)/,
    'NaN embedding': /\$\.memories\[0\]\.embedding: not a float32 vector \(value 1 is NaN/,
    'infinite embedding': /\$\.memories\[0\]\.embedding: not a float32 vector \(value 0 is -Infinity/,
    '200,000 levels deep': /\$\.history\[0\]\.operation(\[0\])+: nested deeper than 24 levels/,
    'a 50 MB operation': /\$\.history\[0\]\.operation: larger than 16000 characters/,
  };
  for (const [name, pattern] of Object.entries(expected)) {
    for (const mode of ['replace', 'merge']) {
      const outcome = outcomes[`${name} (${mode})`]!;
      expect(outcome, name).toMatch(/^BackupError: The backup was not imported \(nothing was changed\):/);
      expect(outcome, name).toMatch(pattern);
    }
  }
  expect(await bankState(page)).toEqual(before);
});

test('an imported history cannot reach another bank, and undo never changes one', async ({ harnessPage: page }) => {
  const outcome = await page.evaluate(async () => {
    const { s: store, memory } = window.harness;
    const added = await store.apply('victim', [{ event: 'ADD', text: 'Victim keeps this' }], { actor: 'user' });
    const victim = (await store.list('victim'))[0]!;
    const victimChanges = () => window.harness.changes.filter((c) => c.bankId === 'victim').length;
    const announcedBefore = victimChanges();
    const file = (history: unknown[], memories: unknown[] = []) =>
      JSON.stringify({ format: 'memory-r1-bank', version: 1, exportedAt: 1, bank: { id: 'u', name: 'u', createdAt: 1 }, memories, history });
    const { embedding: _e, ...snap } = victim;
    const mine = { ...snap, bankId: 'u' };
    // An ADD then DELETE of the victim's id, claimed for bank u: consistent on its own, but the id is the other bank's.
    const addThenDelete = file([
      { seq: 1, bankId: 'u', memoryId: victim.id, event: 'ADD', before: null, after: mine, actor: 'user', at: 1 },
      { seq: 2, bankId: 'u', memoryId: victim.id, event: 'DELETE', before: mine, after: null, actor: 'user', at: 2 },
    ]);
    // Snapshots of the victim itself, under bank u's entry.
    const foreignSnapshot = file([{ seq: 1, bankId: 'u', memoryId: victim.id, event: 'ADD', before: null, after: snap, actor: 'user', at: 1 }], [snap]);
    const errors: string[] = [];
    for (const text of [addThenDelete, foreignSnapshot]) {
      for (const mode of ['replace', 'merge'] as const) {
        try {
          await memory.importBank(store, text, { mode });
          errors.push('imported');
        } catch (e) {
          errors.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      }
    }
    // History written by other means (an older app, a bug): undo still refuses to touch the victim.
    const crafted = await store.write('u', async (tx) =>
      Promise.all([
        tx.objectStore('history').add({ bankId: 'u', memoryId: victim.id, event: 'ADD', before: null, after: mine, actor: 'user', at: 1 } as never),
        tx.objectStore('history').add({ bankId: 'u', memoryId: victim.id, event: 'ADD', before: null, after: snap, actor: 'user', at: 1 } as never),
        tx.objectStore('history').add({ bankId: 'u', memoryId: victim.id, event: 'DELETE', before: mine, after: null, actor: 'user', at: 1 } as never),
      ]),
    );
    const undoErrors: string[] = [];
    for (const seq of crafted) {
      try {
        await store.undo(seq);
        undoErrors.push('undone');
      } catch (e) {
        undoErrors.push((e as Error).message);
      }
    }
    // The victim's own entry still undoes normally.
    const victimAfter = (await store.list('victim')).map(({ id, bankId, text, version }) => ({ id, bankId, text, version }));
    return { errors, undoErrors, victimAfter, victimBefore: { id: victim.id, bankId: 'victim', text: victim.text, version: victim.version }, announced: victimChanges() - announcedBefore, uMemories: (await store.list('u')).length, addSeq: added.results[0]!.seq };
  });
  expect(outcome.errors[0]).toMatch(/^BackupError: .*\n- \$\.history\[0\]\.memoryId: "m[0-9a-z]+" belongs to bank "victim"$/);
  expect(outcome.errors[1]).toMatch(/^BackupError: .*\n- \$\.history\[0\]\.memoryId: "m[0-9a-z]+" belongs to bank "victim"$/);
  for (const error of outcome.errors.slice(2)) {
    expect(error).toMatch(/^BackupError: /);
    expect(error).toMatch(/\$\.memories\[0\]\.bankId: "victim" is not the bank's id "u"/);
    expect(error).toMatch(/\$\.history\[0\]\.after\.bankId: "victim" is not the bank's id "u"/);
  }
  expect(outcome.undoErrors).toEqual([
    expect.stringMatching(/names memory "m[0-9a-z]+", which belongs to another bank; nothing was changed/),
    expect.stringMatching(/does not describe a memory of bank "u", so it cannot be undone/),
    expect.stringMatching(/names memory "m[0-9a-z]+", which belongs to another bank; nothing was changed/),
  ]);
  expect(outcome.victimAfter).toEqual([outcome.victimBefore]);
  expect(outcome.announced).toBe(0);
  expect(outcome.uMemories).toBe(0);
});

test("a bank's own export always imports: embeddings of an earlier size or non-finite are left out, odd operations kept as text", async ({ harnessPage: page, database }) => {
  const outcome = await page.evaluate(async (name) => {
    const { memory } = window.harness;
    const embedder = (values: number[]) => ({ embed: async (texts: string[]) => texts.map(() => new Float32Array(values)) });
    const open = async (values: number[]) => memory.MemoryStore.open({ name, embedder: embedder(values), broadcast: false });
    for (const [values, text] of [[[1, 0, 0], 'Old model memory'], [[0.6, 0.8], 'New model memory'], [[0, 1], 'Another new one'], [[Number.NaN, 1], 'A broken vector']] as const) {
      const store = await open([...values]);
      await store.apply('u', [{ event: 'ADD', text }], { actor: 'user' });
      store.close();
    }
    const store = window.harness.s;
    let deep: unknown = 1;
    for (let i = 0; i < 20; i++) deep = [deep];
    await store.apply('u', [JSON.parse('{"event": "ADD", "__proto__": {"polluted": true}}'), { event: 'MERGE', deep }], { actor: 'manager' });
    const text = await memory.exportBank(store, 'u');
    await store.wipe('u');
    const summary = await memory.importBank(store, text, { mode: 'replace' });
    const memories = (await store.list('u')).map((m) => [m.text, m.embedding ? [...m.embedding] : null]);
    const operations = (await store.history('u')).filter((h) => h.event === 'REJECTED').map((h) => h.operation);
    return { summary, memories, operations };
  }, database);
  expect(outcome.summary).toMatchObject({ memoriesWritten: 4, historyWritten: 6 });
  expect(outcome.memories).toEqual([
    ['Old model memory', null],
    ['New model memory', [0.6000000238418579, 0.800000011920929]],
    ['Another new one', [0, 1]],
    ['A broken vector', null],
  ]);
  expect(outcome.operations).toEqual(['(not kept: nested deeper than 16 levels)', '{"event":"ADD","__proto__":{"polluted":true}}']);
});
