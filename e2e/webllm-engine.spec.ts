// WebLLM's own engine in Chromium (the real workers/llm.worker.ts and our client), offline: a random
// Qwen2.5-0.5B-shaped model generated at test time, served by the dev server, run with MLC's prebuilt
// library for that shape (read from ../shared/webllm and served at the URL WebLLM's prebuilt record
// names). Our engine, reading the weights WebLLM cached, is the second opinion on its tokens.
// WebLLM is slow on SwiftShader (prefill ~0.5 token/s, decode ~0.06 token/s), so one load serves many
// checks, prompts are a few tokens and replies 1-3 tokens.
import { expect, test, type Page } from '@playwright/test';
import { ensureTestModel, readLibrary } from './harness/webllm.models';
import type { TestModel } from './harness/webllm';
import { MANAGER_JSON_SCHEMA } from '../src/agents/schemas';

const Q4_BASE = 'https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f32_1-MLC';
const LIBRARY_URL = /^https:\/\/raw\.githubusercontent\.com\/mlc-ai\/binary-mlc-llm-libs\/main\/web-llm-models\/v0_2_48\/([^/]+\.wasm)$/;
/** A prompt of a few tokens; WebLLM's conversation template encodes each of these parts on its own. */
const MESSAGES = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'Hi' },
];
const PROMPT_PARTS = ['<|im_start|>system\nBe brief.<|im_end|>\n', '<|im_start|>user\nHi<|im_end|>\n', '<|im_start|>assistant\n'];
/** Log-probabilities: WebLLM's kernels and ours differ in summation order and its softmax is f32. */
const LOGPROB_TOLERANCE = 0.02;

/** Serves the prebuilt libraries from disk and counts (or refuses) requests for the test models. */
async function serve(page: Page, options: { missing?: RegExp } = {}): Promise<{ requests: string[] }> {
  const requests: string[] = [];
  await page.context().route(LIBRARY_URL, (route) => route.fulfill({ status: 200, contentType: 'application/wasm', body: readLibrary(LIBRARY_URL.exec(route.request().url())![1]!) }));
  await page.context().route(/\/test-models\//, (route) => {
    const url = route.request().url();
    requests.push(new URL(url).pathname);
    return options.missing?.test(url) ? route.fulfill({ status: 404, body: 'not found' }) : route.continue();
  });
  await page.goto('/e2e/harness/webllm.html');
  // A dev server that just started may still be bundling dependencies.
  await expect(page.locator('#status')).toHaveText('ready', { timeout: 120_000 });
  return { requests };
}

const testModel = (page: Page, name: string, path: string): TestModel => ({ base: Q4_BASE, name, url: new URL(path, page.url()).href });

interface Step {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

/**
 * WebLLM's greedy steps against ours: the same token at each step (as text: WebLLM reports no ids), its
 * log-probability within `tolerance`, and the same top-3 tokens. Returns the largest log-prob gap.
 */
function compareSteps(label: string, theirs: Step[], mine: Step[], tolerance: number): number {
  expect(theirs.length, `${label}: WebLLM's steps`).toBe(mine.length);
  let worst = 0;
  for (const [i, step] of theirs.entries()) {
    const our = mine[i]!;
    expect(step.token, `${label} step ${i}: greedy token`).toBe(our.token);
    worst = Math.max(worst, Math.abs(our.logprob - step.logprob));
    // Each of WebLLM's top 3 is in our top 5 with the same text and log-prob (near-ties may swap places;
    // byte tokens all print as "�", so the log-prob tells them apart).
    for (const [j, t] of step.top.slice(0, 3).entries()) {
      const match = our.top.filter((o) => o.token === t.token).sort((a, b) => Math.abs(a.logprob - t.logprob) - Math.abs(b.logprob - t.logprob))[0];
      expect(match, `${label} step ${i}: WebLLM's top ${j + 1} ${JSON.stringify(t)} is in our top 5`).toBeDefined();
      worst = Math.max(worst, Math.abs(t.logprob - match!.logprob));
    }
  }
  console.log(`${label}: greedy tokens ${JSON.stringify(theirs.map((s) => s.token))} agree; max |log-prob WebLLM - ours| = ${worst.toExponential(2)} (tolerance ${tolerance})`);
  expect(worst, label).toBeLessThan(tolerance);
  return worst;
}

test('WebLLM runs a generated 0.5B q4f32_1 model: progress, streamed chat, greedy tokens and log-probs equal to ours, our JSON Schema, abort, the cache read by our engine with no second download, device lost', async ({ page }) => {
  test.setTimeout(1_200_000);
  const made = await ensureTestModel('qwen2.5-0.5b-q4f32_1', 'q4f32_1');
  console.log(`test model: ${made.generated ? `generated in ${made.seconds.toFixed(1)} s` : 'reused'}`);
  const { requests } = await serve(page);
  const model = testModel(page, 'test-qwen2.5-0.5b-q4f32_1', made.path);
  const options = { models: [model] };
  const timings: Record<string, number> = {};

  const load = await page.evaluate(([id, o]) => window.webllmHarness.load(id, o), [model.name, options] as const);
  timings.load = load.ms / 1000;
  expect(load).toMatchObject({ ok: true });
  const fractions = load.progress.map((p) => p.fraction);
  expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]! - 1e-9), 'progress only rises').toBe(true);
  expect(new Set(load.progress.map((p) => p.phase))).toEqual(new Set(['starting', 'download', 'cache', 'shaders', 'ready']));
  expect(load.progress.at(-1)).toMatchObject({ phase: 'ready', fraction: 1 });
  expect(requests).toContain(`${made.path}ndarray-cache.json`);
  const fetched = requests.length;
  expect(await page.evaluate((o) => window.webllmHarness.cached(o.models[0]!.name, o), options)).toBe(true);

  // A streamed chat completion (also the warm-up: WebLLM's first completion is its slowest).
  const streamed = await page.evaluate((m) => window.webllmHarness.chat({ messages: m, max_tokens: 2 }, { stream: true }), MESSAGES);
  timings.streamed2 = streamed.ms / 1000;
  console.log(`webllm stream: ${JSON.stringify(streamed)}`);
  if (!streamed.ok) throw new Error(`streamed chat failed: ${streamed.message}`);
  expect(streamed.finishReason).toBe('length');
  expect(streamed.usage.promptTokens).toBeGreaterThan(5);
  expect(streamed.text.length).toBeGreaterThan(0);
  expect(streamed.deltas.join('')).toBe(streamed.text);

  // The oracle: WebLLM's greedy tokens and log-probs against our engine reading WebLLM's Cache API copy.
  const theirs = await page.evaluate(([id, m]) => window.webllmHarness.greedyLogprobs(id, m, 2), [model.name, MESSAGES] as const);
  timings.logprobs2 = theirs.ms / 1000;
  expect(theirs.text).toBe(streamed.text);
  const ourLoad = await page.evaluate((url) => window.webllmHarness.loadOurs(url, 'cache'), model.url);
  expect(requests.length, "our engine read the weights from WebLLM's cache, not the server").toBe(fetched);
  expect(ourLoad.quantization).toBe('q4f32_1');
  const mine = await page.evaluate((parts) => window.webllmHarness.ourSteps(parts, 2), PROMPT_PARTS);
  expect(mine.promptTokens).toBe(theirs.promptTokens);
  compareSteps('q4f32_1', theirs.steps, mine.steps, LOGPROB_TOLERANCE);

  // Abort while WebLLM is still reading the prompt: an AbortError once it stops.
  const aborted = await page.evaluate((m) => window.webllmHarness.chat({ messages: m, max_tokens: 50 }, { abortAfterMs: 1000 }), MESSAGES);
  timings.abort = aborted.ms / 1000;
  console.log(`webllm abort: ${JSON.stringify(aborted)}`);
  expect(aborted).toMatchObject({ ok: false, kind: 'AbortError' });
  expect(aborted.deltas.join('').length).toBeLessThan(10);

  // Nothing reached the server after the load: every later read came from the caches.
  expect(requests.length).toBe(fetched);

  // response_format with the manager's JSON Schema: the grammar (one required key, strict) fixes the
  // reply's first characters but for whitespace, so three tokens must spell a prefix of them. Coming
  // right after the abort, it also shows a stopped request does not stop the next one.
  const json = await page.evaluate(([m, schema]) => window.webllmHarness.chat({ messages: m, max_tokens: 3, json_schema: schema }), [MESSAGES, MANAGER_JSON_SCHEMA] as const);
  timings.json3 = json.ms / 1000;
  console.log(`webllm json: ${JSON.stringify(json)}`);
  // Soft: the checks after it still run if it fails.
  expect.soft(json).toMatchObject({ ok: true });
  const jsonText = json.ok ? json.text : '';
  expect.soft(jsonText.startsWith('{'), `${JSON.stringify(jsonText)} starts with "{"`).toBe(true);
  expect.soft('{"memory":['.startsWith(jsonText.replace(/\s/g, '')), `${JSON.stringify(jsonText)} starts the schema's reply`).toBe(true);

  // The GPU device lost mid-request: our message, and the next request says the same.
  const worker = page.workers().find((w) => w.url().includes('llm.worker'));
  expect(worker, 'the WebLLM worker').toBeDefined();
  await worker!.evaluate(() => {
    const create = GPUDevice.prototype.createCommandEncoder;
    GPUDevice.prototype.createCommandEncoder = function (this: GPUDevice, descriptor?: GPUCommandEncoderDescriptor) {
      this.destroy();
      return create.call(this, descriptor);
    };
  });
  const lost = await page.evaluate((m) => window.webllmHarness.chat({ messages: m, max_tokens: 1 }, { timeoutMs: 300_000 }), MESSAGES);
  timings.deviceLost = lost.ms / 1000;
  console.log(`webllm after device loss: ${JSON.stringify(lost)}`);
  expect(lost).toMatchObject({ ok: false, kind: 'device-lost' });
  expect(!lost.ok && lost.message).toContain('The GPU stopped working');
  const again = await page.evaluate((m) => window.webllmHarness.chat({ messages: m, max_tokens: 1 }, { timeoutMs: 120_000 }), MESSAGES);
  expect(again).toMatchObject({ ok: false, kind: 'device-lost' });
  expect(await page.evaluate(() => window.webllmHarness.unload())).toEqual({ ok: true });

  // Cache listing and deletion through WebLLM's own functions.
  const keys = await page.evaluate(() => window.webllmHarness.cacheKeys());
  expect(keys['webllm/config']).toEqual([`${model.url}mlc-chat-config.json`]);
  expect(keys['webllm/wasm']).toEqual([expect.stringMatching(/v0_2_48\/Qwen2-0\.5B-Instruct-q4f32_1-ctx4k_cs1k-webgpu\.wasm$/)]);
  expect(keys['webllm/model']).toContain(`${model.url}params_shard_0.bin`);
  expect(await page.evaluate((o) => window.webllmHarness.deleteCached(o.models[0]!.name, o), options)).toBe(false);
  const after = await page.evaluate(() => window.webllmHarness.cacheKeys());
  expect(after).toEqual({ 'webllm/config': [], 'webllm/model': [], 'webllm/wasm': [] });
  console.log(`webllm q4f32_1 timings (s): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Number(v.toFixed(1))])))}`);
});

test('a merged model (random adapter on two layers) installed by our code into the IndexedDB backend: WebLLM loads and generates it; its tokens and log-probs equal our engine on the merged weights, which are nearer base + adapter than the base', async ({ page }) => {
  test.setTimeout(1_200_000);
  const made = await ensureTestModel('qwen2.5-0.5b-q4f32_1', 'q4f32_1');
  const { requests } = await serve(page);
  const adapter = { seed: 5, layers: [0, 12] };
  const baseUrl = new URL(made.path, page.url()).href;
  const installed = await page.evaluate(([url, a]) => window.webllmHarness.installMerged(url, 'test-merged-q4f32_1', a, 'indexeddb'), [baseUrl, adapter] as const);
  console.log(`merged and installed: ${JSON.stringify(installed)}`);
  const served = requests.length;
  const merged: TestModel = { base: Q4_BASE, name: installed.name, url: `${installed.url}/resolve/main/` };
  const options = { models: [merged], cacheBackend: 'indexeddb' as const };
  expect(await page.evaluate((o) => window.webllmHarness.cached(o.models[0]!.name, o), options)).toBe(true);

  const load = await page.evaluate(([id, o]) => window.webllmHarness.load(id, o), [merged.name, options] as const);
  console.log(`webllm merged load: ${(load.ms / 1000).toFixed(1)} s`);
  expect(load).toMatchObject({ ok: true });
  expect(requests.length, 'WebLLM read the merged model from the cache only').toBe(served);
  const theirs = await page.evaluate(([id, m]) => window.webllmHarness.greedyLogprobs(id, m, 1), [merged.name, MESSAGES] as const);
  console.log(`webllm merged greedy (1 token): ${(theirs.ms / 1000).toFixed(1)} s`);
  expect(await page.evaluate(() => window.webllmHarness.unload())).toEqual({ ok: true });

  // Same weights: our engine reading the merged model from WebLLM's IndexedDB.
  await page.evaluate((url) => window.webllmHarness.loadOurs(url, 'indexeddb'), merged.url);
  compareSteps('merged q4f32_1 (same weights)', theirs.steps, (await page.evaluate((parts) => window.webllmHarness.ourSteps(parts, 1), PROMPT_PARTS)).steps, LOGPROB_TOLERANCE);
  const mergedBest = await page.evaluate((parts) => window.webllmHarness.keepRow('merged', parts), PROMPT_PARTS);

  // The merge carries the adapter: the merged model is nearer base + adapter (unmerged, our engine) than
  // the base. Not equal: the merge stores the adapted rows in 4 bits again, which moves every adapted
  // weight by up to half a quantisation step, as much as the base's own 4-bit rounding.
  await page.evaluate((url) => window.webllmHarness.loadOurs(url, 'url'), baseUrl);
  const unmergedBest = await page.evaluate(([parts, a]) => window.webllmHarness.keepRow('base+adapter', parts, a), [PROMPT_PARTS, adapter] as const);
  const baseBest = await page.evaluate((parts) => window.webllmHarness.keepRow('base', parts), PROMPT_PARTS);
  const toUnmerged = await page.evaluate(() => window.webllmHarness.rowDistance('merged', 'base+adapter'));
  const toBase = await page.evaluate(() => window.webllmHarness.rowDistance('merged', 'base'));
  const adapterEffect = await page.evaluate(() => window.webllmHarness.rowDistance('base+adapter', 'base'));
  console.log(
    `merge: greedy first token webllm ${JSON.stringify(theirs.steps[0]!.token)}, ours merged ${JSON.stringify(mergedBest)}, base + adapter ${JSON.stringify(unmergedBest)}, base ${JSON.stringify(baseBest)}; ` +
      `log-prob distance (mean, max) merged↔base+adapter ${JSON.stringify(toUnmerged)}, merged↔base ${JSON.stringify(toBase)}, adapter effect ${JSON.stringify(adapterEffect)}`,
  );
  expect(mergedBest.token).toBe(theirs.steps[0]!.token);
  expect(adapterEffect.mean, 'the adapter changes the model').toBeGreaterThan(0.05);
  expect(toUnmerged.mean, 'the merged model is nearer base + adapter than the base').toBeLessThan(toBase.mean);
});

test('WebLLM load failures name the problem: a missing model library, a missing weight shard', async ({ page }) => {
  test.setTimeout(300_000);
  const made = await ensureTestModel('qwen2.5-0.5b-q4f32_1', 'q4f32_1');
  const { requests } = await serve(page, { missing: /params_shard_7\.bin$/ });
  const model = testModel(page, 'test-qwen2.5-0.5b-q4f32_1', made.path);

  const noLibrary = { ...model, name: 'no-library', modelLib: 'https://raw.githubusercontent.com/mlc-ai/binary-mlc-llm-libs/main/web-llm-models/v0_2_48/Missing-webgpu.wasm' };
  await page.context().route(/Missing-webgpu\.wasm$/, (route) => route.fulfill({ status: 404, body: 'not found' }));
  const lib = await page.evaluate((m) => window.webllmHarness.load(m.name, { models: [m] }), noLibrary);
  console.log(`missing library: ${JSON.stringify(lib)}`);
  expect(lib).toMatchObject({ ok: false, kind: 'network' });
  expect(!lib.ok && lib.message).toContain('Could not download "no-library"');
  expect(requests.some((r) => r.endsWith('params_shard_0.bin')), 'no weights fetched before the library').toBe(false);

  const shard = await page.evaluate((m) => window.webllmHarness.load(m.name, { models: [m] }), model);
  console.log(`missing shard: ${JSON.stringify({ ...shard, progress: shard.progress.length })}`);
  expect(shard).toMatchObject({ ok: false, kind: 'network' });
  expect(!shard.ok && shard.message).toContain(`Could not download "${model.name}"`);
  expect(requests).toContain(`${made.path}params_shard_7.bin`);
  // Nothing half-loaded stays listed as cached, and deleting clears what the failed load left.
  expect(await page.evaluate((m) => window.webllmHarness.cached(m.name, { models: [m] }), model)).toBe(false);
  const left = await page.evaluate(() => window.webllmHarness.cacheKeys());
  expect(left['webllm/model']).toContain(`${model.url}ndarray-cache.json`);
  expect(await page.evaluate((m) => window.webllmHarness.deleteCached(m.name, { models: [m] }), model)).toBe(false);
  expect((await page.evaluate(() => window.webllmHarness.cacheKeys()))['webllm/model']).toEqual([]);
});
