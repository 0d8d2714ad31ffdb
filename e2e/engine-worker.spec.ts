// The engine worker in real Chromium: EngineClient spawns workers/engine.worker.ts, which loads a tiny
// model over HTTP from the dev server, runs it on WebGPU (SwiftShader here) and streams a chat reply;
// a json_schema request comes back as valid JSON.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { makeTinyModel } from '../src/model/tiny';

const MODEL_DIR = 'test-results/engine-worker-model';

test.beforeAll(async () => {
  await rm(MODEL_DIR, { recursive: true, force: true });
  await mkdir(MODEL_DIR, { recursive: true });
  for (const [name, bytes] of makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 3 })) await writeFile(join(MODEL_DIR, name), bytes);
});
test.afterAll(() => rm(MODEL_DIR, { recursive: true, force: true }));

test('loads a model in the engine worker and chats over Comlink', async ({ page }) => {
  await page.goto('/e2e/harness/engine.html');
  await expect(page.locator('#status')).toHaveText('ready');
  const outcome = await page.evaluate(async (base) => {
    const client = window.engineHarness.EngineClient.start();
    const phases: string[] = [];
    const info = await client.load(new URL(base, location.href).href, { onProgress: (p) => phases.push(p.phase), maxTokens: 128 });
    const model = client.chatModel();
    const deltas: string[] = [];
    const messages = [{ role: 'user' as const, content: 'I moved to Berlin.' }];
    const reply = await model.chat({ messages, temperature: 0, max_tokens: 6, onToken: (d) => deltas.push(d) });
    const schema = { type: 'object', properties: { facts: { type: 'array', items: { type: 'string' } } }, required: ['facts'], additionalProperties: false };
    const json = await model.chat({ messages, temperature: 1, seed: 2, max_tokens: 16, json_schema: schema });
    client.terminate();
    return { info, phases: [...new Set(phases)], reply, streamed: deltas.join(''), json: json.text };
  }, `/${MODEL_DIR}/`);
  expect(outcome.info).toMatchObject({ architecture: 'qwen2', vocabSize: 512, hasChatTemplate: true });
  expect(outcome.phases).toEqual(['download', 'upload', 'ready']);
  expect(outcome.reply.usage.completionTokens).toBeGreaterThan(0);
  expect(outcome.streamed).toBe(outcome.reply.text);
  const parsed = JSON.parse(outcome.json) as { facts: unknown };
  expect(Array.isArray(parsed.facts)).toBe(true);
});
