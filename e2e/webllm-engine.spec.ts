// WebLLM's own engine in Chromium (the real workers/llm.worker.ts and our client), offline: random
// Qwen2.5-0.5B-shaped models generated at test time, served by the dev server, run with MLC's prebuilt
// libraries for that shape (read from ../shared/webllm and served at the URL WebLLM's prebuilt record
// names). Our engine, reading the weights WebLLM cached, is the second opinion on its tokens.
// WebLLM is slow on SwiftShader: each request costs about a minute whatever its prompt's length (a
// prompt of a few tokens takes as long to read as one of 30), and each further token ~16 s. So one load
// serves many checks, each request checks as much as it can, and replies are 1-2 tokens. The token and
// log-prob comparisons continue a plain text prompt (a text completion), so both engines read exactly
// the same token ids.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { ensureTestModel, ensureTrainedAdapter, readLibrary, type AdapterLesson } from './harness/webllm.models';
import type { TestModel } from './harness/webllm';
import { MANAGER_JSON_SCHEMA } from '../src/agents/schemas';

const Q4_BASE = 'https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f32_1-MLC';
const Q0_BASE = 'https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q0f32-MLC';
const LIBRARY_URL = /^https:\/\/raw\.githubusercontent\.com\/mlc-ai\/binary-mlc-llm-libs\/main\/web-llm-models\/v0_2_48\/([^/]+\.wasm)$/;
/** The chat requests' prompt: a few tokens. */
const MESSAGES = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'Hi' },
];
/** The text both engines continue in the token and log-prob comparisons (7 tokens). */
const ORACLE_PROMPT = 'The user said hello';
/** What the merge test's adapter is trained to say after ORACLE_PROMPT (two tokens): 4 steps at 3e-4 take the loss from ~18 to ~1e-3. */
const MERGE_LESSON: AdapterLesson = { prompt: ORACLE_PROMPT, target: ' user said', steps: 4, lr: 3e-4 };
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

const testModel = (page: Page, name: string, path: string, base = Q4_BASE): TestModel => ({ base, name, url: new URL(path, page.url()).href });

interface Step {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

interface Steps {
  promptTokens: number;
  steps: Step[];
}

/**
 * WebLLM's greedy steps against ours on the same prompt tokens: the same token at each step (as text:
 * WebLLM reports no ids), its log-probability within `tolerance`, and the same top-3 tokens. Returns
 * the largest log-prob gap.
 */
function compareSteps(label: string, theirs: Steps, mine: Steps, tolerance: number): number {
  expect(mine.promptTokens, `${label}: prompt tokens`).toBe(theirs.promptTokens);
  expect(theirs.steps.length, `${label}: WebLLM's steps`).toBe(mine.steps.length);
  let worst = 0;
  for (const [i, step] of theirs.steps.entries()) {
    const our = mine.steps[i]!;
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
  console.log(`${label}: greedy tokens ${JSON.stringify(theirs.steps.map((s) => s.token))} agree; max |log-prob WebLLM - ours| = ${worst.toExponential(2)} (tolerance ${tolerance})`);
  expect(worst, label).toBeLessThan(tolerance);
  return worst;
}

/** WebLLM's (loaded) greedy continuation of ORACLE_PROMPT with log-probs. */
const webllmSteps = (page: Page, newTokens: number) => page.evaluate(([p, n]) => window.webllmHarness.completionLogprobs(p, n), [ORACLE_PROMPT, newTokens] as const);

/** Our engine's (loaded) greedy continuation of ORACLE_PROMPT; `keepAs` keeps its first log-prob row. */
const ourSteps = (page: Page, newTokens: number, options: { trained?: boolean; keepAs?: string } = {}) =>
  page.evaluate(([p, n, o]) => window.webllmHarness.ourSteps(p, n, o), [ORACLE_PROMPT, newTokens, options] as const);

/** Loads our engine from what WebLLM cached under `url` and checks the server saw no request for it. */
async function loadOursFromCache(page: Page, url: string, backend: 'cache' | 'indexeddb', requests: string[]): Promise<{ ms: number; quantization?: string }> {
  const before = requests.length;
  const loaded = await page.evaluate(([u, b]) => window.webllmHarness.loadOurs(u, b), [url, backend] as const);
  expect(requests.length, "our engine read the weights from WebLLM's cache, not the server").toBe(before);
  return loaded;
}

const seconds = (timings: Record<string, number>): string => JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Number((v / 1000).toFixed(1))])));

test('WebLLM runs a generated 0.5B q4f32_1 model: progress, streamed chat, greedy tokens and log-probs equal to ours, our JSON Schema, abort, the cache read by our engine with no second download, device lost', async ({ page }) => {
  test.setTimeout(900_000);
  const timings: Record<string, number> = {};
  const made = await ensureTestModel('qwen2.5-0.5b-q4f32_1', 'q4f32_1');
  console.log(`test model: ${made.generated ? `generated in ${made.seconds.toFixed(1)} s` : 'reused'}`);
  const { requests } = await serve(page);
  const model = testModel(page, 'test-qwen2.5-0.5b-q4f32_1', made.path);
  const options = { models: [model] };

  const load = await page.evaluate(([id, o]) => window.webllmHarness.load(id, o), [model.name, options] as const);
  timings.load = load.ms;
  expect(load).toMatchObject({ ok: true });
  const fractions = load.progress.map((p) => p.fraction);
  expect(fractions.every((f, i) => i === 0 || f >= fractions[i - 1]! - 1e-9), 'progress only rises').toBe(true);
  expect(new Set(load.progress.map((p) => p.phase))).toEqual(new Set(['starting', 'download', 'cache', 'shaders', 'ready']));
  expect(load.progress.at(-1)).toMatchObject({ phase: 'ready', fraction: 1 });
  expect(requests).toContain(`${made.path}ndarray-cache.json`);
  const fetched = requests.length;
  expect(await page.evaluate((o) => window.webllmHarness.cached(o.models[0]!.name, o), options)).toBe(true);

  // Our engine, reading WebLLM's Cache API copy: the same greedy tokens and log-probs.
  const ourLoad = await loadOursFromCache(page, model.url, 'cache', requests);
  expect(ourLoad.quantization).toBe('q4f32_1');
  const theirs = await webllmSteps(page, 2);
  timings.logprobs2 = theirs.ms;
  compareSteps('q4f32_1', theirs, await ourSteps(page, 2), LOGPROB_TOLERANCE);

  // Abort while WebLLM is still reading the prompt: an AbortError once it stops.
  const aborted = await page.evaluate((m) => window.webllmHarness.chat({ messages: m, max_tokens: 50 }, { abortAfterMs: 1000 }), MESSAGES);
  timings.abort = aborted.ms;
  console.log(`webllm abort: ${JSON.stringify(aborted)}`);
  expect(aborted).toMatchObject({ ok: false, kind: 'AbortError' });
  expect(aborted.deltas.join('').length).toBeLessThan(10);

  // Nothing reached the server after the load: every later read came from the caches.
  expect(requests.length).toBe(fetched);

  // A streamed chat completion through our client, with response_format and the manager's JSON Schema:
  // the grammar (one required key, strict) fixes the reply's first characters but for whitespace, so two
  // tokens must spell a prefix of them. Coming right after the abort, it also shows a stopped request
  // does not stop the next one.
  const json = await page.evaluate(([m, schema]) => window.webllmHarness.chat({ messages: m, max_tokens: 2, json_schema: schema }, { stream: true }), [MESSAGES, MANAGER_JSON_SCHEMA] as const);
  timings.streamedJson2 = json.ms;
  console.log(`webllm streamed json: ${JSON.stringify(json)}`);
  // Soft: the checks after it still run if it fails.
  expect.soft(json).toMatchObject({ ok: true, finishReason: 'length' });
  const jsonText = json.ok ? json.text : '';
  expect.soft(json.ok && json.usage.promptTokens, 'prompt tokens').toBeGreaterThan(5);
  expect.soft(json.deltas.length, 'streamed in deltas').toBeGreaterThan(0);
  expect.soft(json.deltas.join(''), 'the deltas make the reply').toBe(jsonText);
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
  timings.deviceLost = lost.ms;
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
  console.log(`webllm q4f32_1 timings (s): ${seconds(timings)}`);
});

test('WebLLM runs a generated 0.5B q0f32 model (floats stored as bf16, as mlc_llm writes them): its greedy tokens and log-probs equal our engine reading its cache', async ({ playwright, launchOptions, baseURL }) => {
  test.setTimeout(900_000);
  const timings: Record<string, number> = {};
  const made = await ensureTestModel('qwen2.5-0.5b-q0f32', 'q0f32');
  console.log(`test model: ${made.generated ? `generated in ${made.seconds.toFixed(1)} s` : 'reused'}`);
  // A profile on disk: a test's default (in-memory) profile holds only about 300 MB, less than this model.
  const profile = await mkdtemp(join(tmpdir(), 'memory-r1-webllm-'));
  const context = await playwright.chromium.launchPersistentContext(profile, { ...launchOptions, ...(baseURL ? { baseURL } : {}) });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await q0f32Checks(page, made, timings);
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
  console.log(`webllm q0f32 timings (s): ${seconds(timings)}`);
});

async function q0f32Checks(page: Page, made: { path: string }, timings: Record<string, number>): Promise<void> {
  const { requests } = await serve(page);
  const model = testModel(page, 'test-qwen2.5-0.5b-q0f32', made.path, Q0_BASE);
  const load = await page.evaluate((m) => window.webllmHarness.load(m.name, { models: [m] }), model);
  timings.load = load.ms;
  console.log(`webllm q0f32 load: ${JSON.stringify({ ...load, progress: load.progress.at(-1) })}`);
  expect(load).toMatchObject({ ok: true });
  const theirs = await webllmSteps(page, 2);
  timings.logprobs2 = theirs.ms;
  // Both engines hold the weights as f32: WebLLM's copy goes before ours comes (2 GB each).
  expect(await page.evaluate(() => window.webllmHarness.unload())).toEqual({ ok: true });
  const ourLoad = await loadOursFromCache(page, model.url, 'cache', requests);
  timings.ourLoad = ourLoad.ms;
  expect(ourLoad.quantization).toBe('q0f32');
  compareSteps('q0f32', theirs, await ourSteps(page, 2), LOGPROB_TOLERANCE);
}

test('a merged model (an adapter our trainer trained) installed by our code into the IndexedDB backend: WebLLM loads and generates it; its greedy tokens equal base + adapter on our engine, its log-probs equal our engine on the merged weights', async ({ page }) => {
  test.setTimeout(900_000);
  const timings: Record<string, number> = {};
  const made = await ensureTestModel('qwen2.5-0.5b-q4f32_1', 'q4f32_1');
  const { requests } = await serve(page);
  const baseUrl = new URL(made.path, page.url()).href;

  // A few real SFT steps of our trainer (in Node, as `memory-r1 train` runs) teach the base to continue
  // ORACLE_PROMPT with MERGE_LESSON.target; the page reads the PEFT folder as the app imports one.
  const lesson = await ensureTrainedAdapter(made, 'merge-lesson-adapter', MERGE_LESSON);
  console.log(`adapter: ${lesson.generated ? `trained in ${lesson.seconds.toFixed(1)} s` : 'reused'}; ${MERGE_LESSON.steps} SFT steps at lr ${MERGE_LESSON.lr}: loss ${lesson.losses.map((l) => l.toPrecision(3)).join(' → ')}, ${lesson.tokensPerSecond.toFixed(2)} tok/s`);
  expect(lesson.losses.at(-1)!, 'the SFT loss falls').toBeLessThan(lesson.losses[0]! / 4);
  await page.evaluate((url) => window.webllmHarness.loadOurs(url, 'url'), baseUrl);
  const base = await ourSteps(page, 2, { keepAs: 'base' });
  await page.evaluate((url) => window.webllmHarness.loadAdapter(url), new URL(lesson.path, page.url()).href);
  const unmerged = await ourSteps(page, 2, { trained: true, keepAs: 'base+adapter' });
  expect(unmerged.steps.map((s) => s.token).join(''), 'base + adapter says what it was taught').toBe(MERGE_LESSON.target);
  expect(base.steps.map((s) => s.token).join(''), 'the base did not say it already').not.toBe(MERGE_LESSON.target);

  const installed = await page.evaluate(([url, name]) => window.webllmHarness.installMerged(url, name, 'indexeddb'), [baseUrl, 'test-merged-q4f32_1'] as const);
  timings.install = installed.ms;
  console.log(`merged and installed: ${JSON.stringify(installed)}`);
  const served = requests.length;
  const merged: TestModel = { base: Q4_BASE, name: installed.name, url: `${installed.url}/resolve/main/` };
  const options = { models: [merged], cacheBackend: 'indexeddb' as const };
  expect(await page.evaluate((o) => window.webllmHarness.cached(o.models[0]!.name, o), options)).toBe(true);

  const load = await page.evaluate(([id, o]) => window.webllmHarness.load(id, o), [merged.name, options] as const);
  timings.load = load.ms;
  expect(load).toMatchObject({ ok: true });
  expect(requests.length, 'WebLLM read the merged model from the cache only').toBe(served);
  const theirs = await webllmSteps(page, 2);
  timings.logprobs2 = theirs.ms;
  expect(await page.evaluate(() => window.webllmHarness.unload())).toEqual({ ok: true });

  // Same weights: our engine reading the merged model from WebLLM's IndexedDB.
  await loadOursFromCache(page, merged.url, 'indexeddb', requests);
  const mine = await ourSteps(page, 2, { keepAs: 'merged' });

  // Against base + adapter (unmerged, our engine): the merge stores the adapted rows in 4 bits again,
  // rounded stochastically (rounding to nearest would give the base back: the base is on the grid and the
  // adapter's changes are far under half a step), so each adapted weight moves by up to one step. The
  // greedy tokens must agree; the log-probs are compared as distances.
  const toUnmerged = await page.evaluate(() => window.webllmHarness.rowDistance('merged', 'base+adapter'));
  const toBase = await page.evaluate(() => window.webllmHarness.rowDistance('merged', 'base'));
  const requantised = theirs.steps.map((s, i) => Math.abs(s.logprob - unmerged.steps[i]!.logprob));
  console.log(
    `merge: greedy tokens webllm ${JSON.stringify(theirs.steps.map((s) => s.token))}, base + adapter ${JSON.stringify(unmerged.steps.map((s) => s.token))}, base ${JSON.stringify(base.steps.map((s) => s.token))}; ` +
      `|log-prob WebLLM merged - ours base + adapter| per token ${requantised.map((d) => d.toExponential(2)).join(', ')}; ` +
      `first-row log-prob distance (mean, max) merged↔base+adapter ${JSON.stringify(toUnmerged)}, merged↔base ${JSON.stringify(toBase)}`,
  );
  compareSteps('merged q4f32_1 (same weights)', theirs, mine, LOGPROB_TOLERANCE);
  expect(theirs.steps.map((s) => s.token), "WebLLM's greedy tokens on the merged model equal base + adapter's").toEqual(unmerged.steps.map((s) => s.token));
  expect(toUnmerged.mean, 'the merged model is nearer base + adapter than the base').toBeLessThan(toBase.mean / 2);
  console.log(`webllm merged timings (s): ${seconds(timings)}`);
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
