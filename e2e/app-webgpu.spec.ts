// Without WebGPU the app says which browsers and settings work; the memory bank keeps working.
import { expect, test } from '@playwright/test';
import { openApp, shoot } from './app-helpers';

test('the no-WebGPU notice appears when the browser has no WebGPU', async ({ page }) => {
  await page.addInitScript(() => {
    delete (Object.getPrototypeOf(navigator) as { gpu?: unknown }).gpu;
  });
  await openApp(page, 'chat', null);
  const notice = page.getByRole('region', { name: 'This browser cannot run the models' });
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('Chrome or Edge 113');
  await expect(notice).toContainText('chrome://flags/#enable-unsafe-webgpu');
  await expect(page.locator('.status')).toContainText('No WebGPU');
  await expect(page.getByRole('region', { name: 'Chat' })).toContainText('This browser cannot run models');

  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Models' }).click();
  await expect(notice).toBeVisible();
  await expect(page.getByRole('button', { name: /Download and load|Load/ })).toBeDisabled();

  // Memories need no GPU: the Memory page works and the notice steps aside.
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Memory' }).click();
  await expect(notice).toHaveCount(0);
  await page.getByLabel('New memory').fill('Works without a GPU');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(page.getByRole('region', { name: 'Memory', exact: true })).toContainText('Works without a GPU');
});

test('the Models page shows WebGPU and shader-f16 support and the catalogue with cache status', async ({ page }) => {
  await openApp(page, 'models', null);
  await expect(page.getByRole('region', { name: 'This browser' })).toContainText(/WebGPU\s*yes/);
  // SwiftShader has no shader-f16: the q4f32_1 builds are offered.
  await expect(page.getByRole('region', { name: 'This browser' })).toContainText('q4f32_1');
  await page.getByLabel(/Qwen2.5 1.5B Instruct/).check();
  await expect(page.locator('.badge').first()).toHaveText('not downloaded');
  await expect(page.getByRole('button', { name: /Download and load Qwen2.5 1.5B Instruct \(q4f32_1\)/ })).toBeEnabled();
});

test('a model merged from a trained adapter is listed on the Models page, can be chosen, and deleted', async ({ page }, testInfo) => {
  // The real merge and install into WebLLM's Cache API (same origin as the app).
  await page.goto('/e2e/harness/merge.html');
  await expect(page.locator('#status')).toHaveText('ready');
  await page.evaluate(() => window.mergeHarness.install('tiny-trained', 'q4f16_1', 'cache'));

  await openApp(page, 'models', null);
  const trained = page.getByRole('region', { name: 'Trained models' });
  await expect(trained).toContainText('tiny-trained');
  await trained.getByRole('radio', { name: /tiny-trained/ }).check();
  // Installed by the merge: nothing to download.
  await expect(page.getByRole('button', { name: 'Load tiny-trained (trained)' })).toBeEnabled();
  await shoot(page, testInfo, 'models-trained');
  // The choice is kept in settings.
  await page.reload();
  await expect(page.getByRole('region', { name: 'Trained models' }).getByRole('radio', { name: /tiny-trained/ })).toBeChecked();

  await page.getByRole('button', { name: 'Delete tiny-trained' }).click();
  await expect(page.getByRole('region', { name: 'Trained models' })).toContainText('None yet.');
  await expect(page.getByRole('button', { name: /Download and load a model/ })).toBeDisabled();
  const left = await page.evaluate(async () => (await (await caches.open('webllm/model')).keys()).map((r) => r.url).filter((u) => u.includes('local.invalid')));
  expect(left).toEqual([]);
});
