// The real WebLLM client and worker in Chromium. No network here, so loading a prebuilt model must fail
// fast with our clear error (not hang, not a raw stack); an unknown model is refused before any download.
import { expect, test } from '@playwright/test';

test.beforeEach(async ({ page }) => {
  await page.goto('/e2e/harness/webllm.html');
  await expect(page.locator('#status')).toHaveText('ready');
});

test('a model whose files cannot be fetched fails with the network advice', async ({ page }) => {
  // Block the model hosts outright so the test is the same with or without a network.
  await page.context().route(/huggingface\.co|githubusercontent\.com/, (route) => route.abort('internetdisconnected'));
  const result = await page.evaluate(() => window.webllmHarness.load('SmolLM2-360M-Instruct-q4f32_1-MLC'));
  if (result.ok) throw new Error('loaded a model without a network');
  console.log(`webllm load without network: ${JSON.stringify({ kind: result.kind, detail: result.detail, ms: Math.round(result.ms) })}`);
  expect(result.kind).toBe('network');
  expect(result.message).toContain('Could not download "SmolLM2-360M-Instruct-q4f32_1-MLC"');
  expect(result.message).toContain('Check your connection');
});

test('an unknown model id is refused with the model advice', async ({ page }) => {
  const result = await page.evaluate(() => window.webllmHarness.load('Qwen9-1T-q4f16_1-MLC'));
  expect(result).toMatchObject({ ok: false, kind: 'model-not-found' });
  expect(!result.ok && result.message).toContain('not a model this version of WebLLM knows');
});
