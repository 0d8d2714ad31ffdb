// Screenshots of every page, light and dark, and at a phone's width (390 px), for people to look at:
// test-results/screenshots/. The pages are filled first (chat turns, a replayed demo) so they show content.
import { expect, test } from '@playwright/test';
import { DEMO_SCRIPT, openApp, say, shoot } from './app-helpers';

const PAGES = ['chat', 'memory', 'demo', 'models', 'settings'] as const;

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
      await page.waitForTimeout(150);
      await shoot(page, testInfo, `${name}-${scheme}`);
    }
  }

  await page.setViewportSize({ width: 390, height: 844 });
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    for (const name of PAGES) {
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: new RegExp(`^${name}$`, 'i') }).click();
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
