// The Models page's opt-in model server: off by default and silent; switched on, it says that messages
// leave the browser; connecting to an OpenAI-compatible server on 127.0.0.1 (ours, with scripted replies,
// allowing this page's origin) makes it the loaded model, and a wrong model name fails saying what it serves.
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { createOpenAIServer } from '../src/cli/openai-server';
import { ScriptedChatModel } from '../src/llm/scripted';

test('the model server choice is opt-in, warns that messages leave the browser, and connects', async ({ page, baseURL }) => {
  const seen: string[] = [];
  const server = createOpenAIServer({ models: new Map([['tiny', { model: new ScriptedChatModel(() => 'ok', { id: 'tiny' }) }]]), allowOrigins: [new URL(baseURL!).origin] });
  server.on('request', (req) => seen.push(`${req.method} ${req.url}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  try {
    await page.goto('/#/models');
    const section = page.getByRole('region', { name: 'Model server (optional)' });
    const toggle = section.getByRole('checkbox', { name: 'Use a model server' });
    await expect(toggle).not.toBeChecked();
    await expect(section.getByRole('note')).toHaveCount(0);
    await toggle.check();
    await expect(section.getByRole('note')).toContainText('leave this browser');

    await section.getByLabel('Server address').fill(url);
    await section.getByLabel('Model name').fill('other');
    await section.getByRole('button', { name: 'Connect' }).click();
    await expect(page.getByRole('alert')).toContainText('does not serve "other"; it serves: tiny');

    await section.getByLabel('Model name').fill('tiny');
    await section.getByRole('button', { name: 'Connect' }).click();
    await expect(page.getByText('tiny on 127.0.0.1', { exact: false }).first()).toBeVisible();
    await expect(page.locator('.models-page')).toContainText('is ready');
    expect(seen.filter((r) => r === 'GET /v1/models')).toHaveLength(2);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
