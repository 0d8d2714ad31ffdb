// Screenshots of every page, light and dark, and at a phone's width (390 px), for people to look at:
// test-results/screenshots/. The pages are filled first (chat turns, a replayed demo) so they show content.
import { expect, test } from '@playwright/test';
import { DEMO_SCRIPT, openApp, say, shoot } from './app-helpers';

const PAGES = ['chat', 'memory', 'demo', 'train', 'evaluate', 'models', 'settings'] as const;

test('every page, light and dark, desktop and phone', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1280, height: 860 });
  await openApp(page, 'chat', DEMO_SCRIPT);
  await shoot(page, testInfo, 'chat-empty-light');
  // The demo script answers every chat message too (no rule matches: its fallbacks).
  await openApp(page, 'chat');
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await say(page, 'Miso now has a sister, a kitten called Tofu.');
  await say(page, "I don't live in Paris any more: I moved to Lisbon.");
  await page.locator('.message.assistant details summary').last().click();

  // The Demo with no model: its offer to play the sample on its script.
  await openApp(page, 'demo', null);
  await page.getByRole('button', { name: 'Load the sample conversation' }).click();
  await shoot(page, testInfo, 'demo-no-model-light');

  await openApp(page, 'demo', DEMO_SCRIPT);
  await page.getByRole('button', { name: 'Load the sample conversation' }).click();
  await page.getByLabel('Pause between turns').fill('0');
  await page.getByRole('button', { name: 'Play' }).click();
  await expect(page.getByText('Replay finished')).toBeVisible({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Ask the questions' }).click();
  await expect(page.getByRole('table').getByRole('row')).toHaveCount(7, { timeout: 30_000 });

  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const name of PAGES) {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: new RegExp(`^${name}$`, 'i') }).click();
      await expect(page.getByRole('link', { name: new RegExp(`^${name}$`, 'i') })).toHaveAttribute('aria-current', 'page');
      if (name === 'memory') await openFirstHistory(page);
      await page.waitForTimeout(150);
      await shoot(page, testInfo, `${name}-${scheme}`);
    }
  }
  // Searching, with the matches marked; the confirmation of "Delete all my data".
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Memory' }).click();
  await page.getByLabel('Search memories').fill('cats');
  await shoot(page, testInfo, 'memory-search-dark');
  await page.getByLabel('Search memories').fill('');
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Settings' }).click();
  await page.getByRole('button', { name: 'Delete all my data…' }).click();
  await shoot(page, testInfo, 'settings-delete-all-dark');
  await page.getByRole('button', { name: 'Cancel' }).click();

  await page.setViewportSize({ width: 390, height: 844 });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const name of PAGES) {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: new RegExp(`^${name}$`, 'i') }).click();
      if (name === 'memory') await openFirstHistory(page);
      await page.waitForTimeout(150);
      await shoot(page, testInfo, `phone-${name}-${scheme}`);
    }
  }
  // Nothing may be wider than the phone's screen.
  for (const name of PAGES) {
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: new RegExp(`^${name}$`, 'i') }).click();
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at 390 px`).toBeLessThanOrEqual(390);
  }
});

/** Opens the first memory's history (once), so the shots show provenance. */
async function openFirstHistory(page: import('@playwright/test').Page) {
  const details = page.locator('.memory-history').first();
  if (!(await details.getAttribute('open'))) await details.locator('summary').click();
}

test('the no-WebGPU page, light and phone', async ({ page }, testInfo) => {
  await page.addInitScript(() => {
    delete (Object.getPrototypeOf(navigator) as { gpu?: unknown }).gpu;
  });
  await openApp(page, 'chat', null);
  await expect(page.getByRole('region', { name: 'This browser cannot run the models' })).toBeVisible();
  await shoot(page, testInfo, 'no-webgpu-light');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await shoot(page, testInfo, 'phone-no-webgpu-dark');
});
