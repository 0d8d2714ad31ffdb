// The chat's storage in real Chromium (real IndexedDB): the durable memory queue is written with its
// message or not at all, messages deleted leave no index clash, conversations are renamed, searched and
// deleted with everything of theirs, and a database of the first version is upgraded keeping its data.
import { expect, test } from './fixtures';

test('a message and its queued memory update are stored together or not at all; delete, rename and search', async ({ harnessPage: page }) => {
  const outcome = await page.evaluate(async () => {
    const log = window.harness.s.conversations;
    const chat = await log.create('me', 'Morning');
    const first = await log.append(chat.id, { speaker: 'Ana', text: 'I moved to Lisbon', at: 1, sessionDate: '1 May 2024' }, { rememberIn: 'me' });
    const reply = await log.append(chat.id, { speaker: 'assistant', text: 'Lovely! Why Lisbon?', at: 2 });
    await log.append(chat.id, { speaker: 'Ana', text: 'Work.', at: 2 });
    // A full disk on the queue's put: neither the message nor its queue entry may be stored.
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'pending') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
    let failure = '';
    try {
      await log.append(chat.id, { speaker: 'Ana', text: 'lost?', at: 3 }, { rememberIn: 'me' });
    } catch (error) {
      failure = (error as Error).name;
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    const queued = await log.pending('me');
    // Deleting a message, then appending: the new turn goes after the last one (a count would land on "Work.").
    await log.deleteTurn(reply.id);
    const again = await log.append(chat.id, { speaker: 'assistant', text: 'Lovely!', at: 4 });
    const renamed = await log.rename(chat.id, '  Moving\n  house ');
    const other = await log.create('me', 'Cats');
    await log.append(other.id, { speaker: 'Ana', text: 'Miso is asleep', at: 5 }, { rememberIn: 'me' });
    const found = {
      lisbon: (await log.search('me', 'LISBON')).map((r) => [r.conversation.title, r.match?.text]),
      cats: (await log.search('me', 'cats')).map((r) => [r.conversation.title, r.match?.text ?? null]),
      otherBank: (await log.search('you', 'lisbon')).length,
    };
    await log.finishPending(first.id, { changed: 2, rejected: 0 });
    const afterFinish = { pending: (await log.pending()).map((p) => p.text), memory: (await log.getTurn(first.id))?.memory };
    await log.delete(other.id);
    return {
      failure,
      queued: queued.map((p) => [p.turnId === first.id, p.text, p.sessionDate]),
      firstMemory: first.memory,
      indexes: (await log.turns(chat.id)).map((t) => [t.index, t.text]),
      againIndex: again.index,
      title: renamed.title,
      found,
      afterFinish,
      afterDelete: { conversations: (await log.list()).map((c) => c.title), pending: (await log.pending()).length, applied: await log.applied(first.id) },
    };
  });
  expect(outcome.failure).toBe('StorageFullError');
  expect(outcome.queued).toEqual([[true, 'I moved to Lisbon', '1 May 2024']]);
  expect(outcome.firstMemory).toEqual({ status: 'pending' });
  expect(outcome.indexes).toEqual([
    [0, 'I moved to Lisbon'],
    [2, 'Work.'],
    [3, 'Lovely!'],
  ]);
  expect(outcome.title).toBe('Moving house');
  expect(outcome.found).toEqual({ lisbon: [['Moving house', 'I moved to Lisbon']], cats: [['Cats', null]], otherBank: 0 });
  expect(outcome.afterFinish).toEqual({ pending: ['Miso is asleep'], memory: { status: 'done', changed: 2, rejected: 0 } });
  expect(outcome.afterDelete).toEqual({ conversations: ['Moving house'], pending: 0, applied: false });
});

test('a database of the first version is upgraded with its data kept, and history is found by turn', async ({ page, database }) => {
  await page.goto('/e2e/harness/memory.html');
  await expect(page.locator('#status')).toHaveText('ready');
  const outcome = await page.evaluate(async (name) => {
    // The first version's layout, written with the plain IndexedDB API.
    await new Promise<void>((resolve, reject) => {
      const open = indexedDB.open(name, 1);
      open.onupgradeneeded = () => {
        const db = open.result;
        db.createObjectStore('banks', { keyPath: 'id' });
        db.createObjectStore('memories', { keyPath: 'id' }).createIndex('bankId', 'bankId');
        const history = db.createObjectStore('history', { keyPath: 'seq', autoIncrement: true });
        history.createIndex('bankId', 'bankId');
        history.createIndex('memoryId', 'memoryId');
        const conversations = db.createObjectStore('conversations', { keyPath: 'id' });
        conversations.createIndex('bankId', 'bankId');
        conversations.createIndex('updatedAt', 'updatedAt');
        db.createObjectStore('turns', { keyPath: 'id' }).createIndex('conversation', ['conversationId', 'index']);
        db.createObjectStore('settings', { keyPath: 'key' });
      };
      open.onsuccess = () => {
        const db = open.result;
        const tx = db.transaction(['memories', 'history', 'conversations', 'turns'], 'readwrite');
        const memory = { id: 'm1', bankId: 'me', text: 'Ana lives in Lisbon', createdAt: 1, updatedAt: 1, version: 1 };
        tx.objectStore('memories').put(memory);
        tx.objectStore('history').put({ bankId: 'me', memoryId: 'm1', event: 'ADD', before: null, after: memory, turnId: 't1', actor: 'manager', at: 1 });
        tx.objectStore('conversations').put({ id: 'c1', bankId: 'me', title: 'Old chat', createdAt: 1, updatedAt: 1 });
        tx.objectStore('turns').put({ id: 't1', conversationId: 'c1', index: 0, speaker: 'Ana', text: 'I live in Lisbon', at: 1 });
        tx.oncomplete = () => (db.close(), resolve());
        tx.onerror = () => reject(tx.error);
      };
      open.onerror = () => reject(open.error);
    });
    await window.harness.open(name);
    const store = window.harness.s;
    return {
      memories: (await store.list('me')).map((m) => m.text),
      turns: (await store.conversations.turns('c1')).map((t) => t.text),
      pending: (await store.conversations.pending()).length,
      applied: await store.conversations.applied('t1'),
      operations: (await store.conversations.operationsOf('t1')).map((h) => `${h.event} ${h.after?.text}`),
      version: window.harness.memory.DB_VERSION,
    };
  }, database);
  expect(outcome).toEqual({ memories: ['Ana lives in Lisbon'], turns: ['I live in Lisbon'], pending: 0, applied: true, operations: ['ADD Ana lives in Lisbon'], version: 2 });
});
