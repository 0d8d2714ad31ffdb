// Shared set-up for the app's browser tests: the real app (index.html) in real Chromium, each test in a
// fresh browser context (so a fresh IndexedDB), with replies scripted so no model is needed.
import { expect, type Page, type TestInfo } from '@playwright/test';
import { mkdirSync } from 'node:fs';

export const CHAT_SCRIPT = '/e2e/app-fixtures/chat-script.json';
export const DEMO_SCRIPT = '/demo/sample-script.json';

/** Opens the app on a page (hash route) with the scripted engine, and waits until the model is ready. */
export async function openApp(page: Page, route = 'chat', script: string | null = CHAT_SCRIPT): Promise<void> {
  const query = script ? `?engine=scripted&script=${encodeURIComponent(script)}` : '';
  await page.goto(`/${query}#/${route}`);
  await expect(page.getByRole('navigation', { name: 'Pages' })).toBeVisible();
  if (script) await expect(page.locator('.status')).toContainText('model script');
}

/** Sends a chat message with Enter and waits for the assistant's reply to finish. */
export async function say(page: Page, text: string): Promise<void> {
  const box = page.getByLabel('Message', { exact: true });
  await box.fill(text);
  await box.press('Enter');
  await expect(page.locator('.message.assistant.pending')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Send' })).toBeVisible();
}

export function memoryRegion(page: Page) {
  return page.getByRole('region', { name: 'Memory', exact: true });
}

export function feed(page: Page) {
  return page.getByRole('log', { name: 'Memory operations' });
}

const SHOTS = 'test-results/screenshots';

/** Saves a full-page screenshot under test-results/screenshots/ (and attaches it to the report). */
export async function shoot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const path = `${SHOTS}/${name}.png`;
  await page.screenshot({ path, fullPage: true, animations: 'disabled' });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}
