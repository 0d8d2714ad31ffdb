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
