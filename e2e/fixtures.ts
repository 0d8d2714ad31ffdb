// Shared set-up for browser tests: a page on the test harness with a fresh, uniquely named database.
import { test as base, expect, type Page } from '@playwright/test';

export async function openHarness(page: Page, database: string): Promise<void> {
  await page.goto('/e2e/harness/memory.html');
  await expect(page.locator('#status')).toHaveText('ready');
  await page.evaluate((name) => window.harness.open(name), database);
}

export const test = base.extend<{ database: string; harnessPage: Page }>({
  // eslint-disable-next-line no-empty-pattern
  database: async ({}, use, testInfo) => {
    await use(`test-${testInfo.testId}-${Date.now()}`);
  },
  harnessPage: async ({ page, database }, use) => {
    await openHarness(page, database);
    await use(page);
  },
});

export { expect };
