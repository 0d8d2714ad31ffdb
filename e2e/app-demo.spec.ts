// The demo: the sample conversation shipped in public/ is replayed turn by turn through the real pipeline
// (scripted replies), the operations stream into the feed, then the questions are answered and scored.
import { expect, test } from '@playwright/test';
import { DEMO_SCRIPT, feed, memoryRegion, openApp } from './app-helpers';

test('replays the sample conversation and shows answers beside gold answers with F1', async ({ page }) => {
  await openApp(page, 'demo', DEMO_SCRIPT);
  await page.getByRole('button', { name: 'Load the sample conversation' }).click();
  await expect(page.getByText('Priya and Jonah: 3 sessions, 6 questions')).toBeVisible();

  await page.getByLabel('Pause between turns').fill('0');
  await page.getByRole('button', { name: 'Step one turn' }).click();
  await expect(page.getByText('Turn 2 of 12')).toBeVisible();
  await expect(memoryRegion(page)).toContainText('Priya adopted a greyhound called Pepper');

  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(page.getByText('Replay finished: all 12 turns remembered.')).toBeVisible({ timeout: 60_000 });

  const log = feed(page);
  await expect(log.locator('.op-update')).toHaveCount(4);
  await expect(log.locator('.op-delete del')).toHaveText(['Priya adopted a greyhound called Pepper', 'Jonah bakes bread at the bakery on Kirkgate']);
  await expect(log.locator('.op-none')).toHaveCount(1);
  await expect(log.locator('.op-rejected')).toContainText('id "42" is not one of the memories shown');
  await expect(memoryRegion(page)).toContainText("Priya's dog Pepper is a whippet and is moving to Bristol with her");
  await expect(memoryRegion(page)).not.toContainText('greyhound');

  await page.getByRole('button', { name: 'Ask the questions' }).click();
  const table = page.getByRole('table');
  await expect(table.getByRole('row')).toHaveCount(7, { timeout: 30_000 });
  await expect(table.getByRole('row', { name: /What kind of dog is Pepper\? a whippet/ })).toContainText('1.00');
  await expect(table.getByRole('row', { name: /Which city is Priya moving to/ }).locator('td.f1')).toHaveText('0.25'); // {bristol} against 7 gold tokens
  await expect(table.locator('caption')).toContainText('Mean F1');
  await expect(table.locator('caption')).toContainText('over 6 of 6 questions');
});

test('a LoCoMo file can be opened and a conversation picked', async ({ page }) => {
  // The benchmark sits beside the project (never copied into it); a missing file fails the test loudly.
  const locomo = '../shared/data/locomo10.json';
  await openApp(page, 'demo', DEMO_SCRIPT);
  const chooser = page.waitForEvent('filechooser');
  await page.getByText('Open locomo10.json…').click();
  await (await chooser).setFiles(locomo);
  const select = page.getByRole('combobox', { name: 'Conversation in locomo10.json' });
  await expect(select.locator('option')).toHaveCount(10);
  await select.selectOption('conv-30');
  await expect(page.getByText(/Jon and Gina: \d+ sessions, 81 questions/)).toBeVisible();
  await expect(page.getByText(/Turn 1 of \d+/)).toBeVisible();
});
