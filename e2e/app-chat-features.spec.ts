// What people expect of a chat, in the real app (scripted model, real IndexedDB, real Chromium): what
// streams is what is kept, stop and regenerate, conversations renamed, searched and deleted, a temporary
// chat that stores nothing, a memory update finished after a reload mid-turn (and never applied twice),
// an over-long message refused before anything is stored, and Markdown that cannot run anything.
import { expect, test, type Page } from '@playwright/test';
import { CHAT_SCRIPT, memoryRegion, openApp, say } from './app-helpers';

/** Every record of the named stores of the app's database, read straight from IndexedDB. */
function records(page: Page, stores: string[]): Promise<Record<string, Record<string, unknown>[]>> {
  return page.evaluate(
    (names) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open('memory-r1');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction(names);
          const out: Record<string, unknown[]> = {};
          for (const name of names) {
            const all = tx.objectStore(name).getAll();
            all.onsuccess = () => (out[name] = all.result);
          }
          tx.oncomplete = () => (db.close(), resolve(out as Record<string, Record<string, unknown>[]>));
          tx.onerror = () => reject(tx.error);
        };
      }),
    stores,
  );
}

const counts = async (page: Page, stores: string[]) => Object.fromEntries(Object.entries(await records(page, stores)).map(([k, v]) => [k, v.length]));

/** Serves the chat script with changes (e.g. a token delay) until the page unroutes it. */
async function scriptWith(page: Page, change: Record<string, unknown>): Promise<void> {
  await page.route('**/chat-script.json', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), ...change } });
  });
}

const STORY = 'Once upon a time there was a cat called Miso who lived in a small flat above a bakery';
const lastReply = (page: Page) => page.locator('.message.assistant').last();

test('what streams is exactly what is kept, and a stopped reply stays stopped after a reload', async ({ page }) => {
  await scriptWith(page, { tokenDelayMs: 25 });
  await openApp(page);
  // Every text the reply shows while it streams (the typing dots aside), recorded by the page itself.
  await page.evaluate(() => {
    const seen: string[] = ((window as unknown as { seen: string[] }).seen = []);
    new MutationObserver(() => {
      const bubble = [...document.querySelectorAll('.message.assistant .bubble .md')].at(-1);
      const text = bubble?.textContent ?? '';
      if (text && seen.at(-1) !== text) seen.push(text);
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await say(page, 'Tell me a long story');
  const reply = async () => (await records(page, ['turns'])).turns!.find((t) => t.speaker === 'assistant')?.text as string | undefined;
  await expect.poll(reply).toBeDefined();
  const kept = (await reply())!;
  expect(kept.startsWith(STORY)).toBe(true);
  expect(kept).not.toContain('Memories used');
  const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
  expect(seen.length).toBeGreaterThan(10);
  for (const text of seen) expect(kept.startsWith(text), text).toBe(true);
  expect(seen.at(-1)).toBe(kept);

  // Stop: what streamed stays, marked stopped, also after a reload.
  await page.unroute('**/chat-script.json');
  await scriptWith(page, { tokenDelayMs: 150 });
  await page.reload();
  await expect(page.locator('.status')).toContainText('model script');
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('Tell me a long story again');
  await box.press('Enter');
  await expect(lastReply(page).locator('.bubble')).toContainText('there was a cat');
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
  await expect(lastReply(page).getByText('Stopped')).toBeVisible();
  const partial = (await lastReply(page).locator('.bubble').textContent())!;
  expect(STORY.startsWith(partial) && partial.length < STORY.length).toBe(true);
  await page.reload();
  await expect(page.locator('.thread .message')).toHaveCount(4);
  await expect(lastReply(page).locator('.bubble')).toHaveText(partial);
  await expect(lastReply(page).getByText('Stopped')).toBeVisible();
});

test('regenerate replaces the last reply; conversations are renamed, searched and deleted', async ({ page }) => {
  // Replies by position: the first reply, the turn's extraction (nothing to keep), the regenerated reply.
  await scriptWith(page, { replies: ['First reply.\nMemories used: none', '{"facts": []}', 'Second reply.\nMemories used: none'] });
  await openApp(page);
  await say(page, 'Hello there');
  await expect(page.getByText('Nothing new to remember')).toBeVisible();
  await expect(lastReply(page).locator('.bubble')).toHaveText('First reply.');
  await lastReply(page).getByRole('button', { name: 'Regenerate' }).click();
  await expect(lastReply(page).locator('.bubble')).toHaveText('Second reply.');
  await expect(page.locator('.thread .message')).toHaveCount(2);
  await page.reload();
  await expect(lastReply(page).locator('.bubble')).toHaveText('Second reply.');
  await expect(page.locator('.thread .message')).toHaveCount(2);
  await expect(page.locator('.message time').first()).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await lastReply(page).getByRole('button', { name: 'Copy assistant message' }).click();
  await expect(lastReply(page).getByRole('button', { name: 'Copy assistant message' })).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('Second reply.');

  // A second conversation, remembered: rename it, find it by a word of a message, delete the first.
  await page.unroute('**/chat-script.json');
  await page.reload();
  await expect(page.locator('.status')).toContainText('model script');
  await page.getByRole('button', { name: 'New conversation' }).click();
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await expect(memoryRegion(page).getByRole('listitem')).toHaveCount(2);
  await page.getByRole('button', { name: 'Rename' }).click();
  await page.getByLabel('New name').fill('About   Miso');
  await page.getByRole('button', { name: 'Save name' }).click();
  const picker = page.getByRole('combobox', { name: 'Conversation' });
  await expect(picker.locator('option:checked')).toContainText('About Miso');
  await page.getByLabel('Search chats').fill('paris');
  await expect(page.getByRole('list', { name: 'Chats found' }).getByRole('listitem')).toHaveCount(1);
  await expect(page.getByRole('list', { name: 'Chats found' })).toContainText('About Miso');
  await page.getByLabel('Search chats').fill('hello');
  await page.getByRole('list', { name: 'Chats found' }).getByRole('button', { name: 'Hello there' }).click();
  await expect(lastReply(page).locator('.bubble')).toHaveText('Second reply.');
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await page.getByRole('button', { name: 'Delete conversation' }).click();
  // The other conversation opens; the deleted one's messages are gone, the memories stay.
  await expect(picker.locator('option:checked')).toContainText('About Miso');
  await expect(picker.locator('option')).toHaveCount(2);
  const left = await records(page, ['conversations', 'turns', 'memories']);
  expect(left.conversations!.map((c) => c.title)).toEqual(['About Miso']);
  expect(left.turns!.map((t) => t.text).sort()).toEqual(['Hello to you and Miso', 'Hi! I live in Paris with my cat Miso.']);
  expect(left.memories).toHaveLength(2);
  // The address of a conversation opens it (a memory's source links there).
  const id = left.conversations![0]!.id as string;
  await page.getByRole('button', { name: 'New conversation' }).click();
  await expect(page.locator('.thread .message')).toHaveCount(0);
  await page.goto(`/?engine=scripted&script=${encodeURIComponent(CHAT_SCRIPT)}#/chat/${id}`);
  await expect(page.locator('.thread .message')).toHaveCount(2);
  await expect(picker.locator('option:checked')).toContainText('About Miso');
  // A single message can be deleted too.
  await lastReply(page).getByRole('button', { name: 'Delete assistant message' }).click();
  await expect(page.locator('.thread .message')).toHaveCount(1);
  expect((await records(page, ['turns'])).turns).toHaveLength(1);
});

test('a temporary chat uses and stores nothing', async ({ page }) => {
  await openApp(page);
  await page.getByRole('button', { name: 'Temporary chat' }).click();
  await expect(page.getByText('Temporary chat: memory is off.')).toBeVisible();
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await expect(lastReply(page).locator('.bubble')).toHaveText('Hello to you and Miso');
  await say(page, 'Where do I live?');
  await expect(page.locator('.thread .message')).toHaveCount(4);
  await expect(page.getByText('Remembering…')).toHaveCount(0);
  // Give a (wrongly) queued update time to show, then look in every store.
  await page.waitForTimeout(500);
  expect(await counts(page, ['conversations', 'turns', 'pending', 'memories', 'history'])).toEqual({ conversations: 0, turns: 0, pending: 0, memories: 0, history: 0 });
  await expect(memoryRegion(page).getByText('Nothing remembered yet.')).toBeVisible();
  await page.reload();
  await expect(page.locator('.thread .message')).toHaveCount(0);
});

test('a memory update cut off by a reload is finished on the next load, and never applied twice', async ({ page }) => {
  // The manager takes 20 s on the first load: the page is reloaded while it runs.
  await scriptWith(page, { callDelayMs: { manage: 20_000 } });
  await openApp(page);
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await expect(page.locator('.message.user').getByText('Remembering…')).toBeVisible();
  expect(await counts(page, ['pending', 'memories'])).toEqual({ pending: 1, memories: 0 });
  await page.unroute('**/chat-script.json');
  await page.reload();
  await expect(page.locator('.message.user').getByRole('button', { name: 'Memory updated (2)' })).toBeVisible();
  await expect(memoryRegion(page).getByRole('listitem')).toHaveCount(2);
  const done = await records(page, ['pending', 'history', 'turns']);
  expect(done.pending).toHaveLength(0);
  expect(done.history!.map((h) => h.event)).toEqual(['ADD', 'ADD']);
  const turn = done.turns!.find((t) => t.speaker !== 'assistant')!;
  expect(turn.memory).toEqual({ status: 'done', changed: 2, rejected: 0 });

  // The tab closed after the operations were applied but before the turn was marked done: the queue
  // entry is still there. The next load marks it done and applies nothing again.
  await page.evaluate(
    (pending) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('memory-r1');
        open.onsuccess = () => {
          const tx = open.result.transaction(['pending', 'turns'], 'readwrite');
          tx.objectStore('pending').put(pending);
          tx.objectStore('turns').put({ ...(pending.turn as object), memory: { status: 'pending' } });
          tx.oncomplete = () => (open.result.close(), resolve());
          tx.onerror = () => reject(tx.error);
        };
      }),
    { turnId: turn.id, conversationId: turn.conversationId, bankId: 'me', speaker: turn.speaker, text: turn.text, at: turn.at, sessionDate: turn.sessionDate, turn } as Record<string, unknown>,
  );
  await page.reload();
  await expect(page.locator('.message.user').getByRole('button', { name: 'Memory updated (2)' })).toBeVisible();
  await expect.poll(() => counts(page, ['pending', 'history', 'memories'])).toEqual({ pending: 0, history: 2, memories: 2 });
});

test('a message over 100,000 characters is refused before anything is stored, and the box keeps it', async ({ page }) => {
  await openApp(page);
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('a'.repeat(100_001));
  await box.press('Enter');
  await expect(page.getByRole('alert')).toHaveText(/100,001 characters long; the limit is 100,000\. Shorten it or send it in parts/);
  await expect(box).toHaveAttribute('aria-invalid', 'true');
  expect(await box.evaluate((el: HTMLTextAreaElement) => el.value.length)).toBe(100_001);
  expect(await counts(page, ['conversations', 'turns', 'pending'])).toEqual({ conversations: 0, turns: 0, pending: 0 });
  // Shortened to the limit, it goes.
  await box.press('End');
  await box.press('Backspace');
  await expect(page.getByRole('alert')).toHaveCount(0);
});

test('Markdown in replies renders lists and code, and its HTML, images and javascript: links stay inert', async ({ page }) => {
  await openApp(page, 'chat', CHAT_SCRIPT);
  await say(page, 'Show me markdown');
  const bubble = lastReply(page).locator('.bubble');
  await expect(bubble.locator('li')).toHaveText(['one', 'two']);
  await expect(bubble.locator('li strong')).toHaveText('two');
  await expect(bubble.locator('pre code')).toHaveText('const x = 1 < 2;');
  await expect(bubble.locator('img')).toHaveCount(0);
  await expect(bubble).toContainText('[image: pic]');
  const docs = bubble.getByRole('link', { name: 'the docs' });
  await expect(docs).toHaveAttribute('href', 'https://example.com/docs');
  await expect(docs).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(docs).toHaveAttribute('target', '_blank');
  // The javascript: link loses its URL (so it is not a link at all), and clicking it runs nothing.
  await expect(bubble.getByRole('link', { name: 'click me' })).toHaveCount(0);
  await bubble.getByText('click me').click();
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(await bubble.innerHTML()).not.toMatch(/onerror|javascript:/i);
});

/** WCAG contrast ratio of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const luminance = (css: string) => {
    const [r, g, bl] = css.match(/\d+(\.\d+)?/g)!.slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

test('a failed reply says what happened and what to do, readably in light and dark', async ({ page }) => {
  await scriptWith(page, { rules: [{ call: 'reply', match: 'break', error: 'The GPU device was lost' }] });
  await openApp(page);
  await say(page, 'please break');
  const alert = page.locator('.message.user').getByRole('alert');
  await expect(alert).toHaveText(/^No reply: The GPU device was lost\. Your message is kept; press Regenerate to try again/);
  await expect(page.locator('.message.user').getByRole('button', { name: 'Regenerate' })).toBeVisible();
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    const [fg, bg] = await alert.evaluate((el) => [getComputedStyle(el).color, getComputedStyle(el).backgroundColor]);
    expect(contrast(fg!, bg!), `${scheme}: ${fg} on ${bg}`).toBeGreaterThanOrEqual(4.5);
  }
});

test('a message the browser cannot store goes back in the box, with what to do, and leaves no empty chat', async ({ page }) => {
  await openApp(page);
  // A full disk for the message's write (its queued memory update is written in the same transaction).
  await page.evaluate(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
      if (this.name === 'pending') throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
      return put.apply(this, args);
    };
  });
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('I moved to Lisbon.');
  await box.press('Enter');
  await expect(page.locator('.thread-panel').getByRole('alert')).toHaveText(/^Your message could not be saved: The browser refused to store more data: storage is full\..* It is back in the box/);
  await expect(box).toHaveValue('I moved to Lisbon.');
  await expect(page.locator('.thread .message')).toHaveCount(0);
  expect(await counts(page, ['conversations', 'turns', 'pending'])).toEqual({ conversations: 0, turns: 0, pending: 0 });
});
