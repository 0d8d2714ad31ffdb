// The memory browser through the UI: backup round trip, memory text is never markup, tabs stay in step.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { memoryRegion, openApp } from './app-helpers';

async function addMemory(page: import('@playwright/test').Page, text: string) {
  await page.getByLabel('New memory').fill(text);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(memoryRegion(page).locator('.memory-text', { hasText: text })).toBeVisible();
}

test('export, wipe and import through the UI restore the bank', async ({ page }, testInfo) => {
  await openApp(page, 'memory', null);
  await addMemory(page, 'Allergic to peanuts');
  await addMemory(page, 'Plays the cello on Sundays');

  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export bank' }).click();
  const file = testInfo.outputPath('backup.json');
  await (await download).saveAs(file);
  expect(JSON.parse(readFileSync(file, 'utf8'))).toBeTruthy();

  await page.getByRole('button', { name: 'Wipe bank' }).click();
  await page.getByRole('group', { name: /Delete all 2 memories/ }).getByRole('button', { name: 'Delete memories' }).click();
  await expect(memoryRegion(page).getByText('No memories yet.')).toBeVisible();

  const chooser = page.waitForEvent('filechooser');
  await page.getByText('Import (replace)').click();
  await (await chooser).setFiles(file);
  await expect(page.getByRole('status')).toContainText('Imported 2 memories');
  await expect(memoryRegion(page).locator('.memory-text')).toHaveText(['Allergic to peanuts', 'Plays the cello on Sundays']);
});

test('a memory that looks like HTML is shown as text, never run', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  const payload = '<img src=x onerror=alert(1)>';
  await openApp(page, 'memory');
  await addMemory(page, payload);
  await expect(memoryRegion(page).locator('.memory-text')).toHaveText(payload);
  // The same text in the live panel and the operations feed on the chat page.
  await page.getByRole('link', { name: 'Chat' }).click();
  await expect(memoryRegion(page)).toContainText(payload);
  await expect(page.getByRole('log', { name: 'Memory operations' })).toContainText(payload);
  await page.waitForTimeout(300);
  expect(await page.locator('img').count()).toBe(0);
  expect(dialogs).toEqual([]);
});

test('two tabs see each other’s changes', async ({ page, context }) => {
  await openApp(page, 'memory', null);
  const other = await context.newPage();
  await openApp(other, 'chat', null);
  await addMemory(page, 'Prefers trains to planes');
  await expect(memoryRegion(other)).toContainText('Prefers trains to planes');
  await expect(other.getByRole('log', { name: 'Memory operations' })).toContainText('Prefers trains to planes');

  await page.getByRole('button', { name: 'Delete "Prefers trains to planes"' }).click();
  await expect(memoryRegion(other).getByText('Nothing remembered yet.')).toBeVisible();
});
