// The Demo with no model at all: its controls say why they are off, and "Watch the sample without a
// model" replays the shipped sample on its shipped script, operations streaming into the feed.
import { expect, test } from '@playwright/test';
import { feed, memoryRegion, openApp } from './app-helpers';

test('without a model the Demo says why its controls are off, and plays the sample on its script', async ({ page }) => {
  await openApp(page, 'demo', null);
  await expect(page.locator('.status')).toContainText('no model loaded');
  await page.getByRole('button', { name: 'Load the sample conversation' }).click();
  const play = page.getByRole('button', { name: 'Play' });
  await expect(play).toBeDisabled();
  await expect(play).toHaveAccessibleDescription(/No model is loaded: load one on the Models page, or watch the sample without a model/);
  await expect(page.getByRole('button', { name: 'Ask the questions' })).toHaveAccessibleDescription(/No model is loaded/);

  await page.getByLabel('Pause between turns').fill('0');
  await page.getByRole('button', { name: 'Watch the sample without a model' }).click();
  await expect(page.getByText('Replies come from the sample’s script, not a model')).toBeVisible();
  await expect(page.getByText('Replay finished: all 12 turns remembered.')).toBeVisible({ timeout: 60_000 });
  await expect(feed(page).locator('.op-update')).toHaveCount(4);
  await expect(memoryRegion(page)).toContainText("Priya's dog Pepper is a whippet and is moving to Bristol with her");
  // The rest of the app still has no model.
  await expect(page.locator('.status')).toContainText('no model loaded');

  await page.getByRole('button', { name: 'Ask the questions' }).click();
  await expect(page.getByRole('table').getByRole('row')).toHaveCount(7, { timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Resume' })).toBeDisabled();
  await expect(page.getByText('The replay is finished: Start over to watch it again.')).toBeVisible();
});
