// The Evaluate page: LoCoMo from a file, a tiny run (1 conversation, 2 questions, 4 turns) through the real
// pipeline with scripted replies, progress kept in IndexedDB, and the paper-layout table with the
// published rows beside ours, plus JSON and Markdown downloads.
import { expect, test } from '@playwright/test';
import { openApp, shoot } from './app-helpers';

const SCRIPT = '/e2e/app-fixtures/eval-script.json';
// The benchmark sits beside the project (never copied into it); a missing file fails the test loudly.
const LOCOMO = '../shared/data/locomo10.json';

test('runs a tiny LoCoMo evaluation and shows the table with the published rows', async ({ page }, testInfo) => {
  await openApp(page, 'evaluate', SCRIPT);
  const source = page.getByRole('region', { name: 'Benchmark data' });
  const chooser = page.waitForEvent('filechooser');
  await source.getByText('Open locomo10.json…').click();
  await (await chooser).setFiles(LOCOMO);
  await expect(page.getByText('locomo10.json: 10 conversations.')).toBeVisible();

  await page.getByLabel('Split').selectOption('train');
  await page.getByLabel('Conversations', { exact: true }).fill('1');
  await page.getByLabel('Questions per conversation').fill('2');
  await page.getByLabel('Turns per conversation').fill('4');
  await page.getByRole('button', { name: 'Run the evaluation' }).click();

  await expect(page.getByText(/Done: 2 questions \(2 answered now, 0 from earlier runs/)).toBeVisible({ timeout: 60_000 });
  await expect(page.getByRole('progressbar', { name: 'Evaluation progress' })).toHaveAttribute('value', '2');
  const table = page.getByRole('table');
  await expect(table.locator('caption')).toContainText('train split: 2 questions');
  const ours = table.getByRole('row', { name: /ours: script/ });
  await expect(ours).toHaveCount(1);
  // Both questions are temporal (category 2): "7 May 2023" is exact, "in 2021" against "2022" is not.
  await expect(ours.getByRole('cell').nth(10)).toHaveText('50.00'); // Temporal F1 (Backbone, then 3 × 3 cells before it)
  // Table 1's GRPO rows (LLaMA-3.1-8B, Qwen-2.5-7B) and Table 3's (Qwen-2.5 3B, 7B, 14B).
  await expect(table.getByRole('row', { name: /Memory-R1-GRPO/ })).toHaveCount(5);
  await expect(table.getByRole('row', { name: /Qwen-2\.5-3B-Instruct BASE/ })).toContainText('24.18');
  await expect(table.getByRole('row', { name: /Mem0/ }).first()).toContainText('30.41');

  const json = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download JSON' }).click();
  expect((await json).suggestedFilename()).toBe('locomo-eval.json');
  const md = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Download Markdown' }).click();
  const markdown = await (await md).path();
  expect(markdown).toBeTruthy();

  // The same set-up again resumes: nothing left to answer.
  await page.getByRole('button', { name: 'Run the evaluation' }).click();
  await expect(page.getByText(/Done: 2 questions \(0 answered now, 2 from earlier runs/)).toBeVisible({ timeout: 30_000 });

  await shoot(page, testInfo, 'evaluate-light');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await shoot(page, testInfo, 'evaluate-dark-phone');
});
