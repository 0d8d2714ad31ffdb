// A merged model installed as a WebLLM custom model, in real Chromium storage: the files land where WebLLM
// looks (WebLLM's own hasModelInCache agrees), our loaders read back exactly the merged weights, the
// registry lists it, and removal leaves nothing behind. The tiny model has no WebLLM library, so this
// checks the cache layout; webllm-engine.spec.ts has WebLLM run a merged 0.5B-shaped model.
import { expect, test } from '@playwright/test';

test.beforeEach(async ({ page }) => {
  await page.goto('/e2e/harness/merge.html');
  await expect(page.locator('#status')).toHaveText('ready');
});

for (const backend of ['cache', 'indexeddb'] as const) {
  test(`${backend}: install a merged q4f16_1 tiny model, read it back, list it, remove it`, async ({ page }) => {
    const got = await page.evaluate((b) => window.mergeHarness.install('tiny-merged', 'q4f16_1', b), backend);
    console.log(`merge install (${backend}): ${got.files.length} files, ${got.changed}/${got.tensors} tensors changed by the merge`);
    expect(got.quantization).toBe('q4f16_1');
    expect(got.sameConfig).toBe(true);
    expect(got.mismatched).toEqual([]);
    expect(got.changed).toBeGreaterThan(0);
    expect(got.tokens.length).toBeGreaterThan(0);
    const url = (f: string): string => `https://local.invalid/tiny-merged/resolve/main/${f}`;
    expect(got.keys['webllm/config']).toEqual(['https://local.invalid/memory-r1-custom-models.json', url('mlc-chat-config.json')]);
    expect(got.keys['webllm/model']).toEqual(got.files.filter((f) => f !== 'mlc-chat-config.json').map(url).sort());
    expect(got.files.filter((f) => f.startsWith('params_shard_')).length).toBeGreaterThan(1);
    expect(got.record).toMatchObject({ model: 'https://local.invalid/tiny-merged', model_id: 'tiny-merged' });
    expect(got.listed).toEqual(['tiny-merged']);
    expect(got.webllmSees).toBe(true);

    const again = await page.evaluate((b) => window.mergeHarness.install('tiny-merged', 'q4f16_1', b).then(() => 'installed', (e: Error) => e.message), backend);
    expect(again).toContain('already installed');

    const gone = await page.evaluate((b) => window.mergeHarness.remove('tiny-merged', b), backend);
    expect(gone).toEqual({ removed: true, keys: { 'webllm/model': [], 'webllm/config': ['https://local.invalid/memory-r1-custom-models.json'] }, listed: [], webllmSees: false });
  });
}

test('cache: two merged models side by side; removing one keeps the other intact (q0f16)', async ({ page }) => {
  await page.evaluate(() => window.mergeHarness.install('first', 'q0f16', 'cache'));
  const second = await page.evaluate(() => window.mergeHarness.install('second', 'q0f16', 'cache'));
  expect(second.mismatched).toEqual([]);
  expect(second.listed).toEqual(['first', 'second']);
  const after = await page.evaluate(() => window.mergeHarness.remove('first', 'cache'));
  expect(after.listed).toEqual(['second']);
  expect(after.keys['webllm/model']!.every((k) => k.startsWith('https://local.invalid/second/'))).toBe(true);
  expect(after.keys['webllm/model']!.length).toBe(second.keys['webllm/model']!.filter((k) => k.includes('/second/')).length);
});

test("WebLLM's engine reads the custom model's config from the cache and goes on to the base's library", async ({ page }) => {
  // No network here either way: record what the engine (in its worker) asks for, and refuse it.
  const asked: string[] = [];
  await page.context().route(/local\.invalid|huggingface\.co|githubusercontent\.com/, (route) => {
    asked.push(route.request().url());
    return route.abort('internetdisconnected');
  });
  const installed = await page.evaluate(() => window.mergeHarness.install('engine-check', 'q4f16_1', 'cache'));
  const result = await page.evaluate(() => window.mergeHarness.startEngine('engine-check'));
  console.log(`webllm on a custom model offline: ${JSON.stringify({ ok: result.ok, error: result.error?.slice(0, 160), asked })}`);
  expect(result.ok).toBe(false);
  expect(asked.filter((u) => u.includes('local.invalid'))).toEqual([]);
  expect(asked).toContain(installed.record.model_lib);

  // Control: without the cached config WebLLM would go to the made-up URL (so the check above can fail).
  asked.length = 0;
  await page.evaluate(async () => (await caches.open('webllm/config')).delete('https://local.invalid/engine-check/resolve/main/mlc-chat-config.json'));
  await page.evaluate(() => window.mergeHarness.startEngine('engine-check'));
  expect(asked).toEqual(['https://local.invalid/engine-check/resolve/main/mlc-chat-config.json']);
});
