// The memory bank in real Chromium: real IndexedDB, Web Locks, BroadcastChannel.
import { expect, openHarness, test } from './fixtures';

test('a batch is validated and applied in one transaction with its history', async ({ harnessPage: page }) => {
  const outcome = await page.evaluate(async () => {
    const store = window.harness.s;
    await store.ensureBank('u');
    const first = await store.apply('u', [
      { event: 'ADD', id: '', text: 'Likes green tea' },
      { event: 'ADD', id: '', text: 'Lives in Lisbon', speaker: 'Ana' },
    ], { actor: 'manager', turnId: 't1' });
    const [tea, city] = first.results.map((r) => (r.status === 'applied' ? r.memoryId : ''));
    const second = await store.apply('u', [
      { event: 'UPDATE', id: tea, text: 'Likes green tea and oolong', old_memory: 'Likes green tea' },
      { event: 'DELETE', id: city, text: '' },
      { event: 'ADD', id: '', text: 'Moved to Porto in 2023' },
      { event: 'UPDATE', id: 'made-up-id', text: 'anything' },
      { event: 'NONE', id: tea, text: '' },
      { event: 'ADD', id: '', text: '   ' },
      { event: 'MERGE', id: tea, text: 'x' },
    ], { actor: 'manager', turnId: 't2' });
    return {
      second: second.results.map((r) => (r.status === 'applied' ? r.event : `rejected: ${r.reason}`)),
      memories: (await store.list('u')).map((m) => [m.text, m.version, m.source?.turnId]),
      history: (await store.history('u')).map((h) => [h.event, h.actor, h.turnId]),
    };
  });
  expect(outcome.second).toEqual([
    'UPDATE',
    'DELETE',
    'ADD',
    'rejected: no memory with id "made-up-id" in this bank',
    expect.stringMatching(/^rejected: memory ".+" is already changed by operation #0 of this batch$/),
    'rejected: ADD needs a non-empty text',
    expect.stringMatching(/^rejected: not a valid operation \(event: /),
  ]);
  expect(outcome.memories).toEqual([
    ['Likes green tea and oolong', 2, 't1'],
    ['Moved to Porto in 2023', 1, 't2'],
  ]);
  expect(outcome.history.map(([event]) => event)).toEqual(['REJECTED', 'REJECTED', 'REJECTED', 'REJECTED', 'ADD', 'DELETE', 'UPDATE', 'ADD', 'ADD']);
});

test('undo and redo walk a memory back and forth through its history', async ({ harnessPage: page }) => {
  const states = await page.evaluate(async () => {
    const store = window.harness.s;
    const texts = async () => (await store.list('u')).map((m) => m.text);
    const add = await store.apply('u', [{ event: 'ADD', text: 'Has a cat named Miso' }], { actor: 'manager' });
    const id = add.results[0]!.status === 'applied' ? add.results[0]!.memoryId : '';
    const update = await store.edit('u', { event: 'UPDATE', id, text: 'Has two cats, Miso and Tofu' });
    const remove = await store.edit('u', { event: 'DELETE', id });
    const seen: string[][] = [await texts()];
    await store.undo(remove.seq);
    seen.push(await texts());
    let error = '';
    try {
      await store.undo(add.results[0]!.seq); // the memory changed since: refused
    } catch (e) {
      error = (e as Error).message;
    }
    await store.undo(update.seq);
    seen.push(await texts());
    await store.redo(update.seq);
    seen.push(await texts());
    const history = (await store.history('u')).map((h) => `${h.event}:${h.actor}${h.undoes ? `:undoes` : ''}`);
    return { seen, error, history };
  });
  expect(states.seen).toEqual([[], ['Has two cats, Miso and Tofu'], ['Has a cat named Miso'], ['Has two cats, Miso and Tofu']]);
  expect(states.error).toMatch(/changed after history entry #\d+; undo the later changes/);
  expect(states.history).toEqual(['UPDATE:user:undoes', 'UPDATE:user:undoes', 'ADD:user:undoes', 'DELETE:user', 'UPDATE:user', 'ADD:manager']);
});

test('after undo, redo and an undo of the redo, the original entry reads undone and offers redo', async ({ harnessPage: page }) => {
  const outcome = await page.evaluate(async () => {
    const store = window.harness.s;
    const add = await store.apply('u', [{ event: 'ADD', text: 'Has a cat' }], { actor: 'manager' });
    const id = add.results[0]!.status === 'applied' ? add.results[0]!.memoryId : '';
    const update = await store.edit('u', { event: 'UPDATE', id, text: 'Has two cats' });
    const flags = async () => Object.fromEntries((await store.history('u')).map((h) => [h.seq, h.undoneBy ?? null]));
    const text = async () => (await store.get(id))?.text;
    const undo = await store.undo(update.seq);
    const redo = await store.redo(update.seq);
    const undoRedo = await store.undo(redo.seq);
    const afterThree = { flags: await flags(), text: await text() };
    // What the History panel then offers on the original entry: Redo (it is undone), and it works.
    await store.redo(update.seq);
    const afterRedo = { flags: await flags(), text: await text() };
    await store.undo(update.seq);
    return { seqs: { add: add.results[0]!.seq, update: update.seq, undo: undo.seq, redo: redo.seq, undoRedo: undoRedo.seq }, afterThree, afterRedo, final: await text() };
  });
  const { add, update, undo, redo, undoRedo } = outcome.seqs;
  expect(outcome.afterThree).toEqual({ flags: { [add]: null, [update]: undo, [undo]: null, [redo]: undoRedo, [undoRedo]: null }, text: 'Has a cat' });
  expect(outcome.afterRedo.text).toBe('Has two cats');
  expect(outcome.afterRedo.flags[update]).toBeNull();
  expect(outcome.final).toBe('Has a cat');
});

test('the store reads ids as the in-memory bank does, and UPDATE sets the speaker it names', async ({ harnessPage: page }) => {
  const outcome = await page.evaluate(async () => {
    const { s: store, memory } = window.harness;
    const ops = (id: string) => [{ event: 'UPDATE', id: `  ${id} `, text: 'Lives in Porto', speaker: 'Ben' }];
    const seed = [{ event: 'ADD', text: 'Lives in Lisbon', speaker: 'Ana' }];
    const stored = await store.apply('u', seed, { actor: 'user' });
    const inMemory = new memory.InMemoryBank('u');
    const kept = await inMemory.apply(seed, { actor: 'user' });
    const idOf = (r: typeof stored) => (r.results[0]!.status === 'applied' ? r.results[0]!.memoryId : '');
    const a = await store.apply('u', ops(idOf(stored)), { actor: 'user' });
    const b = await inMemory.apply(ops(idOf(kept)), { actor: 'user' });
    const pick = (m: { text: string; speaker?: string } | undefined) => m && { text: m.text, speaker: m.speaker };
    return {
      statuses: [a.results[0]!.status, b.results[0]!.status],
      store: pick(await store.get(idOf(stored))),
      inMemory: pick((await inMemory.list())[0]),
    };
  });
  expect(outcome.statuses).toEqual(['applied', 'applied']);
  expect(outcome.store).toEqual({ text: 'Lives in Porto', speaker: 'Ben' });
  expect(outcome.inMemory).toEqual(outcome.store);
});

test('a write that fails inside a batch (storage full) leaves nothing behind', async ({ harnessPage: page }) => {
  await page.evaluate(() => window.harness.s.apply('u', [{ event: 'ADD', text: 'Keeps this one' }], { actor: 'user' }));
  const before = await page.evaluate(async () => ({ memories: await window.harness.s.list('u'), history: await window.harness.s.history('u') }));
  // Fault injection on the real IndexedDB: the 30th put of the batch fails as a full disk would. The 29
  // puts before it really happened inside the transaction; only a real abort can take them back.
  const failure = await page.evaluate(async () => {
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (++calls === 30) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
    try {
      const batch = Array.from({ length: 50 }, (_, i) => ({ event: 'ADD', text: `memory ${i}` }));
      await window.harness.s.apply('u', batch, { actor: 'manager' });
      return 'no error';
    } catch (error) {
      return `${(error as Error).name}: ${(error as Error).message}`;
    } finally {
      IDBObjectStore.prototype.put = put;
    }
  });
  expect(failure).toMatch(/^StorageFullError: .*storage is full\. Nothing was changed/);
  const after = await page.evaluate(async () => ({ memories: await window.harness.s.list('u'), history: await window.harness.s.history('u') }));
  expect(after).toEqual(before);
});

test('a tab closed in the middle of a large batch leaves all of it or none', async ({ harnessPage: page, database, context }) => {
  void page.evaluate(() => {
    const batch = Array.from({ length: 20000 }, (_, i) => ({ event: 'ADD', text: `bulk memory ${i}` }));
    return window.harness.s.apply('bulk', batch, { actor: 'manager' });
  }).catch(() => undefined);
  await page.waitForTimeout(300);
  await page.close();
  const reopened = await context.newPage();
  await openHarness(reopened, database);
  const counts = await reopened.evaluate(async () => [(await window.harness.s.list('bulk')).length, (await window.harness.s.history('bulk')).length]);
  expect([[0, 0], [20000, 20000]]).toContainEqual(counts);
});

test('memories survive a reload', async ({ harnessPage: page, database }) => {
  await page.evaluate(() => window.harness.s.apply('u', [{ event: 'ADD', text: 'Born in 1990' }, { event: 'ADD', text: 'Allergic to peanuts' }], { actor: 'manager' }));
  await page.reload();
  await openHarness(page, database);
  const texts = await page.evaluate(async () => (await window.harness.s.list('u')).map((m) => m.text));
  expect(texts).toEqual(['Born in 1990', 'Allergic to peanuts']);
});

test('two pages writing at once lose nothing and see each other', async ({ harnessPage: first, database, context }) => {
  const second = await context.newPage();
  await openHarness(second, database);
  const writer = async (tag: string) => {
    for (let i = 0; i < 25; i++) {
      const ops = [0, 1, 2].map((j) => ({ event: 'ADD', text: `${tag} fact ${i}.${j}`, speaker: tag }));
      await window.harness.s.apply('shared', ops, { actor: 'manager' });
    }
  };
  await Promise.all([first.evaluate(writer, 'A'), second.evaluate(writer, 'B')]);
  for (const page of [first, second]) {
    const seen = await page.evaluate(async () => {
      const store = window.harness.s;
      const memories = await store.list('shared');
      const groups = await store.retrieve('shared', 'fact', { perSpeaker: 100 });
      return {
        count: memories.length,
        unique: new Set(memories.map((m) => m.text)).size,
        history: (await store.history('shared')).length,
        retrieved: Object.fromEntries(groups.map((g) => [g.speaker, g.memories.length])),
      };
    });
    expect(seen).toEqual({ count: 150, unique: 150, history: 150, retrieved: { A: 75, B: 75 } });
  }
  // Each page was told of the other's 25 batches through the BroadcastChannel.
  await expect.poll(() => second.evaluate(() => window.harness.changes.filter((c) => c.remote).length)).toBe(25);
  // And a live index built before the other tab's change follows it.
  await first.evaluate(() => window.harness.s.index('shared'));
  await second.evaluate(() => window.harness.s.apply('shared', [{ event: 'ADD', text: 'zebra crossing', speaker: 'B' }], { actor: 'user' }));
  await expect
    .poll(() => first.evaluate(async () => (await window.harness.s.retrieve('shared', 'zebra', { fillWithRecent: false }))[1]?.memories.map((r) => r.memory.text)))
    .toEqual(['zebra crossing']);
});

test('retrieval follows every operation without a rebuild', async ({ harnessPage: page }) => {
  const results = await page.evaluate(async () => {
    const store = window.harness.s;
    const top = async (query: string) =>
      (await store.retrieve('u', query, { perSpeaker: 2, fillWithRecent: false })).map((g) => [g.speaker, g.memories.map((r) => r.memory.text)]);
    const added = await store.apply('u', [
      { event: 'ADD', text: 'Caroline went to a LGBTQ support group', speaker: 'Caroline' },
      { event: 'ADD', text: 'Caroline is researching adoption agencies', speaker: 'Caroline' },
      { event: 'ADD', text: 'Melanie painted a sunrise', speaker: 'Melanie' },
      { event: 'ADD', text: 'Melanie ran a charity race for mental health', speaker: 'Melanie' },
    ], { actor: 'manager' });
    const ids = added.results.map((r) => (r.status === 'applied' ? r.memoryId : ''));
    const steps = [await top('support group')];
    await store.apply('u', [{ event: 'UPDATE', id: ids[2], text: 'Melanie painted a lake at sunrise' }, { event: 'DELETE', id: ids[0] }], { actor: 'manager' });
    steps.push(await top('painted lake support'));
    return steps;
  });
  expect(results[0]).toEqual([
    ['Caroline', ['Caroline went to a LGBTQ support group']],
    ['Melanie', []],
  ]);
  expect(results[1]).toEqual([
    ['Caroline', []],
    ['Melanie', ['Melanie painted a lake at sunrise']],
  ]);
});

test('memories stored before an embedding model get embeddings, batch by batch, skipping ones edited meanwhile', async ({ harnessPage: page, database }) => {
  const outcome = await page.evaluate(async (name) => {
    const { memory } = window.harness;
    const plain = window.harness.s; // opened without an embedder: memories get no embedding
    const texts = Array.from({ length: 40 }, (_, i) => `memory number ${i} about ${i % 2 ? 'tea' : 'trains'}`);
    const added = await plain.apply('u', texts.map((text) => ({ event: 'ADD', text, speaker: 'Ana' })), { actor: 'manager' });
    const ids = added.results.map((r) => (r.status === 'applied' ? r.memoryId : ''));
    const letters = (dim: number) => (text: string) => {
      const v = new Float32Array(dim);
      for (const c of text) v[c.charCodeAt(0) % dim]! += 1;
      return v;
    };
    // An embedder that, while its second batch is being embedded, sees the user edit memory 20.
    let calls = 0;
    const embedder = (dim: number, edit: boolean): import('../src/memory').Embedder => ({
      embed: async (batch) => {
        calls++;
        if (edit && calls === 3) await plain.apply('u', [{ event: 'UPDATE', id: ids[20]!, text: 'memory twenty, edited' }], { actor: 'user' });
        return batch.map(letters(dim));
      },
    });
    const progress: string[] = [];
    const store = await memory.MemoryStore.open({ name, embedder: embedder(26, true) });
    const first = await store.embedMissing('u', { batchSize: 16, onProgress: (done, total) => progress.push(`${done}/${total}`) });
    const afterFirst = await store.list('u');
    const again = await store.embedMissing('u');
    const via = (await store.retrieve('u', 'memory number 3 about tea', { perSpeaker: 3, fillWithRecent: false }))[0]!.memories.map((r) => r.via);
    store.close();
    // A model of another size: everything is embedded again.
    const wider = await memory.MemoryStore.open({ name, embedder: embedder(30, false) });
    const third = await wider.embedMissing('u');
    const sizes = new Set((await wider.list('u')).map((m) => m.embedding?.length));
    wider.close();
    return {
      first,
      progress,
      missing: afterFirst.filter((m) => !m.embedding).map((m) => m.text),
      again,
      via,
      third,
      sizes: [...sizes],
      history: (await plain.history('u')).length,
    };
  }, database);
  expect(outcome.first).toBe(39); // memory 20 changed under the second batch: skipped
  expect(outcome.progress).toEqual(['16/40', '32/40', '40/40']);
  expect(outcome.missing).toEqual(['memory twenty, edited']);
  expect(outcome.again).toBe(1); // only the edited one was still missing
  expect(outcome.via).toContain('both');
  expect(outcome.third).toBe(40);
  expect(outcome.sizes).toEqual([30]);
  expect(outcome.history).toBe(41); // 40 ADDs and the user's UPDATE: embedding writes no history
});

test('asks for persistent storage', async ({ harnessPage: page }) => {
  const state = await page.evaluate(async () => ({ state: await window.harness.memory.requestPersistentStorage(), persisted: await navigator.storage.persisted() }));
  expect(['persisted', 'granted', 'denied']).toContain(state.state);
  expect(state.persisted).toBe(state.state === 'persisted' || state.state === 'granted');
});
