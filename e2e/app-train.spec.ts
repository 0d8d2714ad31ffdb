// The Train page on the real path: the app opened with the local engine on a tiny model (written here,
// served by the dev server), a short GRPO run on the synthetic task in the engine worker (WebGPU on
// SwiftShader), live metrics and charts, pause / resume, validation with the best step's checkpoint, a
// checkpoint in IndexedDB, and the adapter exported as PEFT files. A reload then finds the run again
// through its latest checkpoint. All weights of the (float32) tiny model trained in two steps and offered
// as a Hugging Face model's files.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { makeTinyModel } from '../src/model/tiny';
import { shoot } from './app-helpers';

const MODEL_DIR = 'tmp/e2e-models/tiny-qwen2-hf';
const MODEL_URL = `/${MODEL_DIR}/`;
const F16_DIR = 'tmp/e2e-models/tiny-qwen2-hf-f16';

test.beforeAll(async () => {
  for (const [dir, quant] of [[MODEL_DIR, 'q0f32'], [F16_DIR, 'q0f16']] as const) {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const [name, bytes] of makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1, quant })) await writeFile(join(dir, name), bytes);
  }
});

test('trains a tiny model with GRPO: progress, charts, pause and resume, checkpoints, PEFT export', async ({ page }, testInfo) => {
  test.setTimeout(150_000);
  await page.goto(`/?engine=local&model=${encodeURIComponent(MODEL_URL)}#/train`);
  await expect(page.locator('.status')).toContainText(`model local engine: ${MODEL_URL}`, { timeout: 60_000 });
  await expect(page.getByText('Training runs on our own WebGPU engine with the model at')).toBeVisible();

  // The documented defaults, then a small run.
  await expect(page.getByLabel('Group size G')).toHaveValue('8');
  await expect(page.getByLabel('Clip ε')).toHaveValue('0.2');
  await expect(page.getByLabel('KL weight β')).toHaveValue('0.04');
  await expect(page.getByLabel('LoRA rank r')).toHaveValue('16');
  await expect(page.getByLabel('LoRA alpha')).toHaveValue('32');
  await page.getByLabel('Algorithm').selectOption('grpo');
  await page.getByLabel('Steps', { exact: true }).fill('3');
  await page.getByLabel('Prompts per step').fill('4'); // one prompt per operation
  await page.getByLabel('Group size G').fill('4');
  await page.getByLabel('Learning rate').fill('0.005');
  await page.getByLabel('LoRA rank r').fill('4');
  await page.getByLabel('LoRA alpha').fill('8');
  await page.getByLabel('Checkpoint every').fill('1');
  await page.getByLabel('Validate every').fill('3'); // before the first step and after the last
  await page.getByRole('button', { name: 'Start training' }).click();

  // Pause as soon as the first step is in: the run stops after the step under way, with a checkpoint.
  const state = page.locator('.run-state');
  await expect(state).toContainText(/step [12] of 3/, { timeout: 60_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(state).toContainText('Paused', { timeout: 60_000 }); // after the step under way
  const checkpoints = page.getByRole('list', { name: 'Checkpoints' });
  await expect(checkpoints.getByRole('listitem').first()).toContainText(/Step [12] of 3/);
  await expect(page.getByRole('figure').filter({ hasText: 'Reward (mean ± std)' })).toContainText(/\d\.\d\d at step [12]/);

  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(state).toContainText('Finished · step 3 of 3', { timeout: 60_000 });
  await expect(page.getByRole('progressbar', { name: 'Training progress' })).toHaveAttribute('value', '3');
  for (const title of ['Reward (mean ± std)', 'KL to the base model', 'Loss', 'Tokens per second']) {
    const chart = page.getByRole('figure').filter({ hasText: title });
    await expect(chart).toContainText('at step 3');
    await expect(chart.locator('canvas')).toHaveCount(1);
  }
  await expect(page.getByRole('definition').filter({ hasText: 'tokens/s' })).toBeVisible();
  await expect(checkpoints.getByRole('listitem').first()).toContainText('Step 3 of 3');
  // Validation: its curve, its latest and best scores, and the best step's own checkpoint after the others.
  await expect(page.getByRole('figure').filter({ hasText: 'Validation score' })).toContainText(/\d\.\d\d at step 3/);
  await expect(page.getByRole('definition').filter({ hasText: /^\d+\.\d % after step 3 · best \d+\.\d % (before training|after step 3)$/ })).toBeVisible();
  const best = checkpoints.getByRole('listitem').last();
  await expect(best).toContainText(/^Step [03] of 3best validated · \d+\.\d %/);
  await best.getByRole('button', { name: /^Export the best-validated step \([03]\) as PEFT$/ }).click();
  await expect(page.getByRole('list', { name: 'PEFT files' })).toContainText(/best-validated checkpoint \(step [03]\)/);

  // Export: the two PEFT files, offered as downloads.
  await page.getByRole('button', { name: 'Export PEFT adapter' }).click();
  const names: string[] = [];
  for (const file of ['adapter_config.json', 'adapter_model.safetensors']) {
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: `Download ${file}` }).click();
    names.push((await download).suggestedFilename());
  }
  expect(names).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  // A Hugging Face base cannot be merged into WebLLM: the page says what to do instead.
  await page.getByRole('button', { name: 'Merge into WebLLM' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Merging into WebLLM needs an MLC base model' })).toBeVisible();

  await shoot(page, testInfo, 'train-light');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await shoot(page, testInfo, 'train-dark-phone');

  // After a reload the run is found again from its checkpoint in IndexedDB, with its history.
  await page.reload();
  await expect(page.locator('.status')).toContainText(`model local engine: ${MODEL_URL}`, { timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Checkpoints' }).getByRole('listitem').first()).toContainText('Step 3 of 3');
  await expect(page.getByRole('figure').filter({ hasText: 'Loss' })).toContainText('at step 3');
  await expect(page.getByRole('list', { name: 'Checkpoints' }).getByRole('listitem').last()).toContainText('best validated');
  // The form shows the run's own settings, and a new run over its checkpoints asks first.
  await expect(page.getByLabel('Steps', { exact: true })).toHaveValue('3');
  await expect(page.getByLabel('Group size G')).toHaveValue('4');
  await expect(page.getByLabel('LoRA rank r')).toHaveValue('4');
  await page.getByRole('button', { name: 'Start a new run…' }).click();
  const ask = page.getByRole('group', { name: /A new run replaces this model’s \d+ saved checkpoints?\. Start a new run\?/ });
  await expect(ask).toBeVisible();
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('list', { name: 'Checkpoints' }).getByRole('listitem').first()).toContainText('Step 3 of 3');
});

test('fine-tunes all weights of the float32 tiny model and offers its Hugging Face files', async ({ page }) => {
  test.setTimeout(90_000);
  await page.goto(`/?engine=local&model=${encodeURIComponent(MODEL_URL)}#/train`);
  await expect(page.locator('.status')).toContainText(`model local engine: ${MODEL_URL}`, { timeout: 60_000 });
  const choice = page.getByLabel('Fine-tune');
  await expect(choice.locator('option')).toHaveText(['LoRA adapter', 'All weights']);
  await choice.selectOption('full');
  await expect(page.getByText('Trains every weight, as the paper does')).toBeVisible();
  await expect(page.getByLabel('Learning rate')).toHaveValue('0.000001'); // the paper's, in place of LoRA's default
  await expect(page.getByLabel('LoRA rank r')).toHaveCount(0);
  await page.getByLabel('Steps', { exact: true }).fill('2');
  await page.getByLabel('Prompts per step').fill('2');
  await page.getByLabel('Group size G').fill('4');
  await page.getByLabel('Learning rate').fill('0.001');
  await page.getByLabel('Checkpoint every').fill('1');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.locator('.run-state')).toContainText('Finished · step 2 of 2', { timeout: 60_000 });
  await expect(page.getByText('Chat and the agents now run on the trained weights')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Export step 2 as model' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Merge into WebLLM' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Export model' }).click();
  const files = page.getByRole('list', { name: 'Model files' });
  // Exactly the folder's files: the base's tokenizer files it has, none it lacks.
  await expect(files.getByRole('link')).toHaveText(['model.safetensors', 'config.json', 'tokenizer.json', 'tokenizer_config.json'].map((f) => `Download ${f}`));
  const download = page.waitForEvent('download');
  await files.getByRole('link', { name: 'Download model.safetensors' }).click();
  expect((await download).suggestedFilename()).toBe('model.safetensors');

  // A float16 model cannot take the updates: the choice is there, disabled, with the reason.
  await page.goto(`/?engine=local&model=${encodeURIComponent(`/${F16_DIR}/`)}#/train`);
  await expect(page.locator('.status')).toContainText(`model local engine: /${F16_DIR}/`, { timeout: 60_000 });
  await expect(page.getByLabel('Fine-tune').locator('option', { hasText: 'All weights' })).toBeDisabled();
  await expect(page.getByText('All weights: Full fine-tuning needs the weights in float32')).toBeVisible();
});

test('trains the LoCoMo answer agent from locomo10.json: tuples built once, kept, and the run resumed after a reload', async ({ page }, testInfo) => {
  test.setTimeout(180_000);
  await page.goto(`/?engine=local&model=${encodeURIComponent(MODEL_URL)}#/train`);
  await expect(page.locator('.status')).toContainText(`model local engine: ${MODEL_URL}`, { timeout: 60_000 });
  await page.getByLabel('Agent and data').selectOption('locomo-answer');
  await expect(page.getByText('the reward is an exact match with the gold answer')).toBeVisible();
  await page.getByLabel('Steps', { exact: true }).fill('4');
  await page.getByLabel('Prompts per step').fill('1');
  await page.getByLabel('Group size G').fill('2');
  await page.getByLabel('Reply length').fill('8');
  await page.getByLabel('LoRA rank r').fill('4');
  await page.getByLabel('Checkpoint every').fill('1');
  await page.getByLabel('Turns used').fill('12');
  await page.getByLabel('Reply cap while building').fill('8');
  // Without the data the page says what to load.
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Load LoCoMo (locomo10.json)' })).toBeVisible();
  await page.getByRole('region', { name: 'LoCoMo data' }).locator('input[type=file]').setInputFiles('../shared/data/locomo10.json');
  await expect(page.getByText('locomo10.json: training on conv-26 (152 questions).')).toBeVisible();
  await expect(page.getByRole('alert')).toHaveCount(0);
  await shoot(page, testInfo, 'train-locomo');
  await page.getByRole('button', { name: 'Start training' }).click();

  const state = page.locator('.run-state');
  await expect(state).toContainText(/step [12] of 4/, { timeout: 120_000 });
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(state).toContainText('Paused');

  // After a reload the run resumes from its checkpoint, its task rebuilt from the tuples kept in IndexedDB.
  await page.reload();
  await expect(page.locator('.status')).toContainText(`model local engine: ${MODEL_URL}`, { timeout: 60_000 });
  await expect(page.getByRole('list', { name: 'Checkpoints' }).getByRole('listitem').first()).toContainText(/Step [123] of 4/);
  // Paused, with Resume the primary action and the form showing this run's settings, not the defaults.
  await expect(state).toContainText(/Paused · step [123] of 4/);
  await expect(page.getByRole('button', { name: 'Resume' })).toHaveClass(/primary/);
  await expect(page.getByRole('button', { name: 'Start a new run…' })).not.toHaveClass(/primary/);
  await expect(page.getByLabel('Agent and data')).toHaveValue('locomo-answer');
  await expect(page.getByLabel('Steps', { exact: true })).toHaveValue('4');
  await expect(page.getByLabel('Group size G')).toHaveValue('2');
  await expect(page.getByLabel('Reply length')).toHaveValue('8');
  // Starting afresh over the paused run asks first; Cancel keeps it.
  await page.getByRole('button', { name: 'Start a new run…' }).click();
  const ask = page.getByRole('group', { name: /A new run replaces this model’s \d+ saved checkpoints? and the paused run at step [123] of 4\. Start a new run\?/ });
  await ask.getByRole('button', { name: 'Cancel' }).click();
  await expect(ask).toHaveCount(0);
  await page.getByRole('button', { name: 'Resume' }).click();
  await expect(state).toContainText('Finished · step 4 of 4', { timeout: 120_000 });
  await expect(page.getByRole('figure').filter({ hasText: 'Reward (mean ± std)' })).toContainText('at step 4');
});
