// Getting around the app by keyboard and on a phone: "Skip to content" lands on the current page's
// content on every page, navigation moves focus to the new page's heading, and at 390 px nothing
// overflows and the controls that used to (Settings, the Memory speaker filter, the Demo's live panes)
// are on screen and usable.
import { expect, test, type Page } from '@playwright/test';
import { DEMO_SCRIPT, feed, openApp } from './app-helpers';

const PAGES = ['Chat', 'Memory', 'Demo', 'Train', 'Evaluate', 'Models', 'Settings'] as const;

const nav = (page: Page, name: string) => page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name, exact: true });

/** The focused element: its tag, text, and whether it is a visible part of <main>. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const element = document.activeElement as HTMLElement | null;
    return { tag: element?.tagName ?? '', text: element?.textContent?.trim() ?? '', inMain: !!element?.closest('main'), visible: !!element && element.getClientRects().length > 0 };
  });

test('skip to content stays on the page and focuses its heading, on every page; navigation focuses the heading', async ({ page }) => {
  await openApp(page, 'settings', DEMO_SCRIPT); // so that the first link, Chat, is a navigation
  for (const name of PAGES) {
    await nav(page, name).click();
    await expect(nav(page, name)).toHaveAttribute('aria-current', 'page');
    // Following the link moved focus to the new page's heading.
    await expect.poll(() => focused(page)).toMatchObject({ tag: 'H2', inMain: true, visible: true });
    const heading = (await focused(page)).text;

    const hash = await page.evaluate(() => location.hash);
    await page.keyboard.press('Shift+Tab'); // anywhere else first
    await page.locator('.skip-link').focus();
    await expect(page.locator('.skip-link')).toBeVisible();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => location.hash), `${name}: the skip link keeps the page`).toBe(hash);
    await expect(nav(page, name)).toHaveAttribute('aria-current', 'page');
    expect(await focused(page), `${name}: focus on its content`).toMatchObject({ tag: 'H2', inMain: true, visible: true, text: heading });
  }
});

/** The element's box lies within the 390 px viewport's width. */
async function withinScreen(page: Page, locator: ReturnType<Page['locator']>, what: string) {
  await expect(locator, what).toBeVisible();
  const box = (await locator.boundingBox())!;
  expect(box.x, `${what}: left edge`).toBeGreaterThanOrEqual(0);
  expect(box.x + box.width, `${what}: right edge`).toBeLessThanOrEqual(390);
}

test('at 390 px: no page overflows, Settings and the Memory speaker filter fit, the Demo feed follows the transcript', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await openApp(page, 'demo', DEMO_SCRIPT);
  for (const name of PAGES) {
    await nav(page, name).click();
    await expect(nav(page, name)).toHaveAttribute('aria-current', 'page');
    expect(await page.evaluate(() => document.documentElement.scrollWidth), `${name} at 390 px`).toBeLessThanOrEqual(390);
  }

  await nav(page, 'Settings').click();
  for (const label of ['Theme', 'Your name in memories', 'Memories retrieved per speaker', 'Answer temperature', 'Memory manager temperature']) {
    await withinScreen(page, page.getByLabel(label, { exact: true }), label);
    await withinScreen(page, page.locator('label', { hasText: label }).first(), `${label} (label)`);
  }
  await page.getByLabel('Answer temperature').fill('0.3');
  await expect(page.getByLabel('Answer temperature')).toHaveValue('0.3');
  await withinScreen(page, page.getByRole('button', { name: 'Delete all my data…' }), 'Delete all my data');

  await nav(page, 'Memory').click();
  const speakerLabel = page.locator('label[for=memory-speaker]');
  await withinScreen(page, speakerLabel, 'Speaker label');
  await withinScreen(page, page.getByLabel('Speaker'), 'Speaker filter');
  // The label sits beside its control, not stranded on a line of its own at the far edge.
  const [labelBox, selectBox] = [(await speakerLabel.boundingBox())!, (await page.getByLabel('Speaker').boundingBox())!];
  expect(Math.abs(labelBox.y + labelBox.height / 2 - (selectBox.y + selectBox.height / 2))).toBeLessThan(12);

  await nav(page, 'Demo').click();
  await page.getByRole('button', { name: 'Load the sample conversation' }).click();
  await page.getByLabel('Pause between turns').fill('0');
  await page.getByRole('button', { name: 'Step one turn' }).click();
  await expect(page.getByText('Turn 2 of 12')).toBeVisible();
  const transcript = (await page.locator('.transcript').boundingBox())!;
  const log = (await feed(page).boundingBox())!;
  expect(log.y - (transcript.y + transcript.height), 'feed right below the transcript').toBeLessThan(200);
  await withinScreen(page, feed(page), 'operations feed');
});
