// The chat: three turns that state, change and contradict facts go through the real pipeline (scripted
// model, real IndexedDB): each is answered first, then remembered, and shows as ADD, UPDATE and DELETE in
// the live feed and in the "Memory updated" chip under the message; all of it outlives a reload.
import { expect, test } from '@playwright/test';
import { feed, memoryRegion, openApp, say } from './app-helpers';

test('three turns state, change and contradict facts; the feed and bank follow, and survive a reload', async ({ page }) => {
  await openApp(page);
  await expect(memoryRegion(page).getByText('Nothing remembered yet.')).toBeVisible();
  // Shift+Enter starts a new line instead of sending.
  const box = page.getByLabel('Message', { exact: true });
  await box.fill('first line');
  await box.press('Shift+Enter');
  await expect(box).toHaveValue('first line\n');
  await expect(page.locator('.thread .message')).toHaveCount(0);

  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await expect(feed(page).locator('.op-add')).toHaveCount(2);
  await expect(page.locator('.message.assistant .bubble').last()).toHaveText('Hello to you and Miso');
  const chip = page.locator('.message.user').last().getByRole('button', { name: 'Memory updated (2)' });
  await chip.click();
  await expect(page.locator('.message.user').last().locator('.chip-operations li')).toHaveText(['Added User lives in Paris', 'Added User has a cat named Miso']);

  await say(page, 'Miso now has a sister, a kitten called Tofu.');
  const update = feed(page).locator('.op-update');
  await expect(update).toHaveCount(1);
  // A word diff: what was added is <ins>, what went is <del>, the rest stays plain.
  await expect(update.locator('ins').first()).toHaveText(/two cats, Miso/);
  await expect(update.locator('ins').last()).toHaveText('Tofu');
  await expect(update.locator('del').first()).toHaveText(/cat/);
  await expect(update.locator('.op-text')).toContainText('named');

  await say(page, "I don't live in Paris any more: I moved to Lisbon.");
  await expect(feed(page).locator('.op-delete del')).toHaveText('User lives in Paris');
  await expect(feed(page).locator('.op-add')).toHaveCount(3);

  const bank = memoryRegion(page).getByRole('listitem');
  await expect(bank).toHaveCount(2);
  await expect(memoryRegion(page)).toContainText('User lives in Lisbon');
  await expect(memoryRegion(page)).toContainText('User has two cats, Miso and a kitten named Tofu');
  await expect(memoryRegion(page)).not.toContainText('Paris');

  // Replies come before the memory update, so a question is answered from what earlier turns left, and
  // the reply says which memories it used.
  await expect(page.locator('.message.user').last().getByRole('button', { name: 'Memory updated (2)' })).toBeVisible();
  await say(page, 'Where do I live now?');
  await expect(page.locator('.message.assistant .bubble').last()).toHaveText('You live in Lisbon.');
  await expect(page.locator('.message.assistant .bubble strong').last()).toHaveText('Lisbon');
  const used = page.locator('.message.assistant').last().getByText('Memories used (1)');
  await used.click();
  await expect(page.locator('.message.assistant').last().locator('.used li')).toHaveText('User lives in Lisbon');

  await page.reload();
  await expect(memoryRegion(page).getByRole('listitem')).toHaveCount(2);
  await expect(memoryRegion(page)).toContainText('User lives in Lisbon');
  // The conversation is resumed, with its eight turns, and the last reply still says what it used.
  await expect(page.locator('.thread .message')).toHaveCount(8);
  // The chips too: the second message updated one memory, the third deleted one and added one.
  await page.locator('.message.user').nth(1).getByRole('button', { name: 'Memory updated (1)' }).click();
  await expect(page.locator('.message.user').nth(1).locator('.chip-operations li')).toHaveText(['Updated User has a cat named Miso → User has two cats, Miso and a kitten named Tofu']);
  await expect(page.locator('.message.user').nth(2).getByRole('button', { name: 'Memory updated (2)' })).toBeVisible();
  await page.locator('.message.assistant').last().getByText('Memories used (1)').click();
  await expect(page.locator('.message.assistant').last().locator('.used li')).toHaveText('User lives in Lisbon');
  await expect(page.getByRole('combobox', { name: 'Conversation' })).toContainText('Hi! I live in Paris with my cat Miso.');
});

test('without a model the chat says so and links to Models', async ({ page }) => {
  await openApp(page, 'chat', null);
  await expect(page.getByRole('region', { name: 'Chat' }).getByText('No model is loaded.')).toBeVisible();
  await page.getByRole('link', { name: 'Choose one on the Models page' }).click();
  await expect(page).toHaveURL(/#\/models$/);
  await expect(page.getByRole('heading', { name: 'Chat model' })).toBeVisible();
});

test('memories kept before an embedding model get embeddings once a model that embeds is loaded', async ({ page }) => {
  await openApp(page, 'chat');
  await say(page, 'Hi! I live in Paris with my cat Miso.');
  await expect(memoryRegion(page).getByRole('listitem')).toHaveCount(2);
  /** The embedding size of each stored memory (0: none), read straight from IndexedDB. */
  const sizes = () =>
    page.evaluate(
      () =>
        new Promise<number[]>((resolve, reject) => {
          const open = indexedDB.open('memory-r1');
          open.onerror = () => reject(open.error);
          open.onsuccess = () => {
            const all = open.result.transaction('memories').objectStore('memories').getAll();
            all.onerror = () => reject(all.error);
            all.onsuccess = () => {
              open.result.close();
              resolve(all.result.map((m: { embedding?: Float32Array }) => m.embedding?.length ?? 0));
            };
          };
        }),
    );
  expect(await sizes()).toEqual([0, 0]);
  // The same script with embeddings: the two memories get theirs in the background.
  await page.route('**/chat-script.json', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), embedDimensions: 64 } });
  });
  await page.reload();
  await expect(page.locator('.status')).toContainText('model script');
  await expect.poll(sizes).toEqual([64, 64]);
});
