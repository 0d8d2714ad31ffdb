// "Delete all my data" in real Chromium: chats, memories and settings written through the app, training
// checkpoints, LoCoMo tuples and cached evaluation runs written by their own IndexedDB modules. Cancel keeps
// them all; after the confirmation every database the origin holds is empty, and WebLLM's model cache stays.
import { expect, test, type Page } from '@playwright/test';
import { memoryRegion, openApp, say } from './app-helpers';

/** Records per store of every IndexedDB database of the origin. */
async function storedRecords(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const counts: Record<string, number> = {};
    for (const { name } of await indexedDB.databases()) {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open(name!);
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      for (const store of db.objectStoreNames) {
        counts[`${name}/${store}`] = await new Promise<number>((resolve, reject) => {
          const request = db.transaction(store).objectStore(store).count();
          request.onsuccess = () => resolve(request.result);
          request.onerror = () => reject(request.error);
        });
      }
      db.close();
    }
    return counts;
  });
}

/** Writes through the app's own storage modules (served by Vite), as training and evaluation do. */
async function seedTrainingAndEvaluation(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const load = (path: string) => import(/* @vite-ignore */ path);
    const { IndexedDbCheckpointStorage } = await load('/src/train/checkpoint-storage.idb.ts');
    await (await IndexedDbCheckpointStorage.open()).save('run/step-2', new Uint8Array([1, 2, 3]));
    const { IndexedDbTupleCache } = await load('/src/eval/tuples.idb.ts');
    await (await IndexedDbTupleCache.open()).saveRun('tiny-model', { task: 'manager' });
    const { IndexedDbEvalStore } = await load('/src/eval/runner-store.idb.ts');
    const evaluation = await IndexedDbEvalStore.open('run-1');
    await evaluation.begin({ model: 'tiny-model' });
    await evaluation.append({ sampleId: 'conv-26', qaIndex: 0, question: 'q', gold: 'a', prediction: 'a', category: 1, em: 1, f1: 1, bleu1: 1, locomo_f1: 1, usedMemories: [] });
    // A model file in WebLLM's cache: models are not part of "my data".
    await (await caches.open('webllm/model')).put('https://example.invalid/model/params_shard_0.bin', new Response('weights'));
  });
}

test('delete all my data leaves every database empty, and keeps the model cache', async ({ page, context }) => {
  await openApp(page, 'chat');
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await page.getByRole('link', { name: 'Memory', exact: true }).click();
  await page.getByLabel('New memory').fill('Allergic to peanuts');
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(memoryRegion(page).locator('.memory-text', { hasText: 'Allergic to peanuts' })).toBeVisible();
  await seedTrainingAndEvaluation(page);
  // A second tab showing the memories starts afresh too.
  const other = await context.newPage();
  await openApp(other, 'memory', null);
  await expect(memoryRegion(other).locator('.memory-text')).not.toHaveCount(0);

  const before = await storedRecords(page);
  for (const store of ['memory-r1/memories', 'memory-r1/history', 'memory-r1/conversations', 'memory-r1/turns', 'memory-r1-training/checkpoints', 'memory-r1-tuples/runs', 'memory-r1-eval/runs', 'memory-r1-eval/results']) {
    expect(before[store], store).toBeGreaterThan(0);
  }

  await page.getByRole('link', { name: 'Settings', exact: true }).click();
  // Asking first: Cancel deletes nothing.
  await page.getByRole('button', { name: 'Delete all my data…' }).click();
  await page.getByRole('button', { name: 'Cancel' }).click();
  expect(await storedRecords(page)).toEqual(before);

  await page.getByRole('button', { name: 'Delete all my data…' }).click();
  const question = page.getByRole('group', { name: 'This deletes, for good:' });
  const listed = question.getByRole('list', { name: 'What will be deleted' });
  await expect(listed).toContainText(`${before['memory-r1/memories']} memories`);
  await expect(listed).toContainText(`${before['memory-r1/conversations']} chat`);
  await expect(listed).toContainText('1 training checkpoint');
  await expect(listed).toContainText('1 cached evaluation run');
  await question.getByRole('button', { name: 'Delete everything' }).click();

  await expect(page.getByRole('status').filter({ hasText: 'All your data was deleted' })).toBeVisible();
  const after = await storedRecords(page);
  expect(Object.keys(after).length).toBeGreaterThanOrEqual(Object.keys(before).length);
  expect(Object.entries(after).filter(([, count]) => count > 0)).toEqual([]);
  expect(await page.evaluate(async () => (await (await caches.open('webllm/model')).keys()).length)).toBe(1);

  await expect(memoryRegion(other).getByText('No memories yet.')).toBeVisible();

  // The app carries on with nothing: no memories, no chats.
  await page.getByRole('link', { name: 'Memory', exact: true }).click();
  await expect(memoryRegion(page).getByText('No memories yet.')).toBeVisible();
});
