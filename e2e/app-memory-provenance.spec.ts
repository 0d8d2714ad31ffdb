// The Memory page as a user checks what is kept about them: where each memory came from and what happened
// to it (after a reload), search by word forms with the matches marked, wiping with or without the chats,
// a failed edit that keeps its draft, and a backup of another bank saying where its memories went.
import { expect, test, type Page } from '@playwright/test';
import { readFileSync, writeFileSync } from 'node:fs';
import { memoryRegion, openApp, say } from './app-helpers';

async function addMemory(page: Page, text: string) {
  await page.getByLabel('New memory').fill(text);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(memoryRegion(page).locator('.memory-text', { hasText: text })).toBeVisible();
}

/** Conversations stored in IndexedDB (read straight from the database, not from the page). */
function storedChats(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve, reject) => {
        const open = indexedDB.open('memory-r1');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction('conversations').objectStore('conversations').count();
          request.onsuccess = () => (resolve(request.result), open.result.close());
          request.onerror = () => reject(request.error);
        };
      }),
  );
}

test('each memory shows the message, chat and time it came from, and its history with the facts, after a reload', async ({ page }) => {
  await openApp(page, 'chat');
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await page.getByRole('link', { name: 'Memory', exact: true }).click();
  await expect(memoryRegion(page).locator('.memory-text')).toHaveCount(2);
  await page.reload();

  const item = memoryRegion(page).getByRole('listitem').filter({ hasText: 'User has a cat named Miso' });
  const source = item.locator('.memory-source');
  await expect(source).toContainText('From the message “Hi! I live in Paris with my cat Miso.”');
  await expect(source.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
  const link = source.getByRole('link');
  await expect(link).toHaveAttribute('href', /^#\/chat\/.+/);

  await item.getByText('History', { exact: true }).click();
  const history = item.getByRole('list', { name: 'History of “User has a cat named Miso”' });
  await expect(history.getByRole('listitem')).toHaveCount(1);
  await expect(history).toContainText('ADD');
  await expect(history).toContainText('by memory manager');
  await expect(history).toContainText('Facts behind it: “User lives in Paris”, “User has a cat named Miso”');
  await expect(history.locator('time')).toHaveCount(1);

  // An edit by hand joins the history, with its own actor and time.
  await item.getByRole('button', { name: 'Edit "User has a cat named Miso"' }).click();
  await memoryRegion(page).getByLabel('Memory text').fill('User has a black cat named Miso');
  await memoryRegion(page).getByRole('button', { name: 'Save' }).click();
  const edited = memoryRegion(page).getByRole('listitem').filter({ hasText: 'User has a black cat named Miso' }).first();
  await edited.getByText('History', { exact: true }).click();
  await expect(edited.getByRole('list', { name: /^History of/ }).getByRole('listitem')).toHaveCount(2);
  await expect(edited.getByRole('list', { name: /^History of/ })).toContainText('by you');

  // The bank-wide history and the feed say when.
  await expect(page.getByRole('region', { name: 'History' }).locator('time').first()).toBeVisible();
  await expect(page.getByRole('log', { name: 'Memory operations' }).locator('time').first()).toBeVisible();

  // The link opens the chat the message is in.
  await link.click();
  await expect(page.getByRole('link', { name: 'Chat', exact: true })).toHaveAttribute('aria-current', 'page');
  await expect(page.locator('.message.user .bubble').filter({ hasText: 'Hi! I live in Paris with my cat Miso.' })).toBeVisible();
});

test('search finds word forms and marks them; meaning-based search needs a model; a failed edit keeps its draft; a backup of another bank says where it went', async ({ page }, testInfo) => {
  await openApp(page, 'memory', null);
  await addMemory(page, 'Allergic to peanuts');
  await addMemory(page, 'Plays the cello on Sundays');
  await expect(page.getByText('Finding memories by meaning needs an embedding model')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Models page' })).toHaveAttribute('href', '#/models');

  await page.getByLabel('Search memories').fill('peanut');
  await expect(memoryRegion(page).locator('.memory-text')).toHaveText(['Allergic to peanuts']);
  await expect(memoryRegion(page).locator('.memory-text mark')).toHaveText(['peanuts']);
  await page.getByLabel('Search memories').fill('<b>played</b>');
  await expect(memoryRegion(page).locator('.memory-text')).toHaveText(['Plays the cello on Sundays']);
  await expect(memoryRegion(page).locator('.memory-text mark')).toHaveText(['Plays']);
  await expect(memoryRegion(page).locator('.memory-text b')).toHaveCount(0);
  await page.getByLabel('Search memories').fill('');

  // A failed edit keeps the draft.
  await memoryRegion(page).getByRole('button', { name: 'Edit "Plays the cello on Sundays"' }).click();
  const draft = `Plays the cello ${'and more '.repeat(500)}`;
  await memoryRegion(page).getByLabel('Memory text').fill(draft);
  await memoryRegion(page).getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert')).toContainText('Not saved');
  await expect(memoryRegion(page).getByLabel('Memory text')).toHaveValue(draft);
  await memoryRegion(page).getByRole('button', { name: 'Cancel' }).click();

  // A backup made of bank "other": importing it here puts its memories there, and says so.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export bank' }).click();
  const mine = testInfo.outputPath('mine.json');
  await (await download).saveAs(mine);
  const backup = readFileSync(mine, 'utf8').replaceAll('"bankId":"me"', '"bankId":"other"').replaceAll('"id":"me"', '"id":"other"');
  expect(backup).toContain('"bankId":"other"');
  await page.getByRole('button', { name: 'Wipe bank' }).click();
  await page.getByRole('button', { name: 'Delete memories' }).click();
  const other = testInfo.outputPath('other.json');
  writeFileSync(other, backup);
  const chooser = page.waitForEvent('filechooser');
  await page.getByText('Import (merge)').click();
  await (await chooser).setFiles(other);
  await expect(page.getByRole('alert')).toContainText('This backup is of the bank “other”');
  await expect(page.getByRole('alert')).toContainText('went into “other”');
  await expect(memoryRegion(page).getByText('No memories yet.')).toBeVisible();
});

test('wiping the bank asks whether the chats go too', async ({ page }) => {
  await openApp(page, 'chat');
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await page.getByRole('link', { name: 'Memory', exact: true }).click();
  await expect(memoryRegion(page).locator('.memory-text')).toHaveCount(2);
  expect(await storedChats(page)).toBe(1);

  // Without the chats: memories go, the chat stays.
  await page.getByRole('button', { name: 'Wipe bank' }).click();
  const question = page.getByRole('group', { name: 'Delete all 2 memories and their history?' });
  await expect(question.getByLabel('Also delete the 1 chat (their messages)')).not.toBeChecked();
  await question.getByRole('button', { name: 'Delete memories' }).click();
  await expect(memoryRegion(page).getByText('No memories yet.')).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('Bank wiped; your chats are kept.');
  expect(await storedChats(page)).toBe(1);

  // With them: both go.
  await addMemory(page, 'Allergic to peanuts');
  await page.getByRole('button', { name: 'Wipe bank' }).click();
  await page.getByLabel('Also delete the 1 chat (their messages)').check();
  await page.getByRole('button', { name: 'Delete memories and chats' }).click();
  await expect(page.getByRole('status')).toHaveText('Bank and chats deleted.');
  await expect(memoryRegion(page).getByText('No memories yet.')).toBeVisible();
  expect(await storedChats(page)).toBe(0);
});
