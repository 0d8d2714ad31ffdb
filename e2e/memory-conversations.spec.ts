// Conversations and settings in real Chromium: a failed write stores nothing and a full disk reads as such.
import { expect, test } from './fixtures';

test('an append that fails stores no turn, and a full disk is a StorageFullError everywhere', async ({ harnessPage: page }) => {
  const outcome = await page.evaluate(async () => {
    const store = window.harness.s;
    const conversation = await store.conversations.create('u', 'Morning chat');
    await store.conversations.append(conversation.id, { speaker: 'Ana', text: 'hello', at: 1 });
    // Fault injection on the real IndexedDB: the put named `failOn` throws as a full disk would. For an
    // append that is the conversation's put, after its turn's put already happened in the transaction.
    const put = IDBObjectStore.prototype.put;
    const failing = async (failOn: string, body: () => Promise<unknown>) => {
      IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
        if (this.name === failOn) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
        return put.apply(this, args);
      };
      try {
        await body();
        return 'no error';
      } catch (error) {
        return `${(error as Error).name}: ${(error as Error).message}`;
      } finally {
        IDBObjectStore.prototype.put = put;
      }
    };
    const errors = {
      append: await failing('conversations', () => store.conversations.append(conversation.id, { speaker: 'assistant', text: 'hi there', at: 2 })),
      create: await failing('conversations', () => store.conversations.create('u', 'Another')),
      setting: await failing('settings', () => store.settings.set('theme', window.harness.z.string(), 'dark')),
      missing: await failing('none', () => store.conversations.append('no-such-id', { speaker: 'Ana', text: 'x', at: 3 })),
    };
    return {
      errors,
      turns: (await store.conversations.turns(conversation.id)).map((t) => t.text),
      conversations: (await store.conversations.list()).map((c) => c.title),
      setting: await store.settings.get('theme', window.harness.z.string(), 'none'),
    };
  });
  expect(outcome.errors.missing).toBe('Error: There is no conversation no-such-id.');
  expect(outcome.turns).toEqual(['hello']);
  expect(outcome.conversations).toEqual(['Morning chat']);
  expect(outcome.setting).toBe('none');
  for (const key of ['append', 'create', 'setting'] as const) expect(outcome.errors[key], key).toMatch(/^StorageFullError: .*storage is full\. Nothing was changed/);
});
