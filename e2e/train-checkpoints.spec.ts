// Training checkpoints in the browser's IndexedDB survive a reload byte for byte.
import { expect, openHarness, test } from './fixtures';

test('checkpoints are stored in IndexedDB and survive a reload', async ({ harnessPage: page, database }) => {
  const name = `${database}-training`;
  await page.evaluate(async (name) => {
    const storage = await window.harness.train.IndexedDbCheckpointStorage.open(name);
    await storage.save('step-2', Uint8Array.from({ length: 100_000 }, (_, i) => (i * 31) & 255));
    await storage.save('step-4', new Uint8Array([4, 4, 4]));
    await storage.save('step-4', new Uint8Array([4, 4, 4, 4])); // a later save replaces the earlier one
    storage.close();
  }, name);
  await page.reload();
  await openHarness(page, database);
  const read = await page.evaluate(async (name) => {
    const storage = await window.harness.train.IndexedDbCheckpointStorage.open(name);
    const step2 = await storage.load('step-2');
    const result = {
      names: await storage.list(),
      step2Ok: step2.length === 100_000 && step2.every((b, i) => b === ((i * 31) & 255)),
      step4: Array.from(await storage.load('step-4')),
      missing: await storage.load('nope').then(() => 'found', (e: Error) => e.message),
    };
    storage.close();
    return result;
  }, name);
  expect(read).toEqual({ names: ['step-2', 'step-4'], step2Ok: true, step4: [4, 4, 4, 4], missing: 'There is no checkpoint named "nope".' });
});
