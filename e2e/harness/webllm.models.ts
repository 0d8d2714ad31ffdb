// Node side of the WebLLM browser tests: the random Qwen2.5-0.5B-shaped MLC models WebLLM loads, the
// LoRA adapter the merge test trains on one of them, and the prebuilt model libraries WebLLM runs them with.
//   Models are generated on first use into test-models/ (gitignored; ~300 MB for q4f32_1, ~1 GB for
//   q0f32) and reused while their stamp matches: the options and a hash of the generator's sources, so
//   a change to the generator regenerates them. A folder is written beside its final place and renamed
//   when complete, so an interrupted run never leaves a half model that looks valid.
//   Libraries are read from ../shared/webllm (or MEMORY_R1_WEBLLM_LIBS), never copied into the project.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Quantization } from '../../src/model/config';
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { Engine } from '../../src/model/engine';
import { DirectorySource } from '../../src/model/source.node';
import { writeTinyModel } from '../../src/model/tiny.node';
import { Trainer } from '../../src/train/trainer';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const GENERATOR_SOURCES = ['src/model/tiny.ts', 'src/model/tiny-tokenizer.ts', 'src/model/mlc.ts', 'src/model/weights-mlc.ts', 'src/model/q4.ts', 'src/model/half.ts'];
const STAMP = 'memory-r1-test-model.json';

export const LIBRARY_DIR = resolve(ROOT, process.env.MEMORY_R1_WEBLLM_LIBS ?? '../shared/webllm');

/** The path of a model under the dev server's root: WebLLM wants `<model>/resolve/main/<file>`. */
export const modelPath = (name: string): string => `/test-models/${name}/resolve/main/`;

/** Reads a prebuilt library by the file name its model record's `model_lib` ends in; says where to get it. */
export function readLibrary(fileName: string): Buffer {
  const path = join(LIBRARY_DIR, fileName);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: the WebLLM tests need MLC's prebuilt model library ${fileName} (binary-mlc-llm-libs, web-llm-models/v0_2_48). Put it in ${LIBRARY_DIR} or point MEMORY_R1_WEBLLM_LIBS at a folder that has it.`);
  }
  return readFileSync(path);
}

/** Hashed when the generator is imported, so the stamp names the code that actually ran. */
const GENERATOR = (() => {
  const hash = createHash('sha256');
  for (const file of GENERATOR_SOURCES) hash.update(readFileSync(join(ROOT, file)));
  return hash.digest('hex').slice(0, 16);
})();

interface Stamp {
  options: Record<string, unknown>;
  generator: string;
  files: Record<string, number>;
}

function isValid(dir: string, want: Omit<Stamp, 'files'>): boolean {
  try {
    const stamp = JSON.parse(readFileSync(join(dir, STAMP), 'utf8')) as Stamp;
    if (JSON.stringify(stamp.options) !== JSON.stringify(want.options) || stamp.generator !== want.generator) return false;
    return Object.entries(stamp.files).every(([file, size]) => statSync(join(dir, file)).size === size);
  } catch {
    return false;
  }
}

/**
 * The folder `dir`, made by `write` (into a sibling folder, renamed when complete) unless its stamp
 * says it was already made with `want`; returns whether it had to be made and how long that took.
 */
async function ensureFolder(dir: string, want: Omit<Stamp, 'files'>, write: (partial: string) => Promise<string[]>): Promise<{ generated: boolean; seconds: number }> {
  const started = Date.now();
  if (isValid(dir, want)) return { generated: false, seconds: 0 };
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const written = await write(partial);
  const files: Record<string, number> = {};
  for (const file of written) files[file] = statSync(join(partial, file)).size;
  await writeFile(join(partial, STAMP), JSON.stringify({ ...want, files } satisfies Stamp));
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  return { generated: true, seconds: (Date.now() - started) / 1000 };
}

/**
 * The model folder for `name` (a random Qwen2.5-0.5B-shaped MLC model in `quant`, seed 0), generated
 * if missing or stale; returns its URL path on the dev server and whether it had to be generated.
 */
export async function ensureTestModel(name: string, quant: Quantization): Promise<{ name: string; path: string; dir: string; generated: boolean; seconds: number }> {
  const dir = join(ROOT, 'test-models', name, 'resolve', 'main');
  const options = { format: 'mlc', shape: 'qwen2.5-0.5b', quant, seed: 0 } as const;
  const made = await ensureFolder(dir, { options, generator: GENERATOR }, (partial) => writeTinyModel(partial, options));
  return { name, path: modelPath(name), dir, ...made };
}

/** What the merge test's adapter is taught: `target` after `prompt`, in `steps` SFT steps at `lr`. */
export interface AdapterLesson {
  prompt: string;
  target: string;
  steps: number;
  lr: number;
}

const TRAINING_LOG = 'training.json';
/** The trainer's sources, hashed into the adapter's stamp: a change to the trainer retrains it. */
const TRAINER = (() => {
  const hash = createHash('sha256').update(GENERATOR);
  const dir = join(ROOT, 'src/train');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts') && !f.includes('.test.')).sort()) hash.update(readFileSync(join(dir, file)));
  return hash.digest('hex').slice(0, 16);
})();

/**
 * A LoRA adapter (PEFT folder) trained by our trainer, in Node (Dawn), on the test model `model`:
 * the headless path a developer takes (`memory-r1 train` writes the same folder). Made if missing or
 * stale, like the models; returns its URL path and the per-step losses of the run that made it.
 */
export async function ensureTrainedAdapter(model: { dir: string; name: string }, name: string, lesson: AdapterLesson): Promise<{ path: string; generated: boolean; seconds: number; losses: number[]; tokensPerSecond: number }> {
  const dir = join(ROOT, 'test-models', name);
  const made = await ensureFolder(dir, { options: { model: model.name, ...lesson }, generator: TRAINER }, async (partial) => {
    const gpu = await requestNodeGpuContext();
    const engine = await Engine.load(new DirectorySource(model.dir), gpu, { maxTokens: 64 });
    const task = { name: 'merge-lesson', examples: (_rng: unknown, count: number) => Array.from({ length: count }, () => ({ prompt: lesson.prompt, target: lesson.target })), reward: () => 0 };
    const trainer = new Trainer(engine, { algorithm: 'sft', totalSteps: lesson.steps, promptsPerStep: 1, lora: { rank: 4, alpha: 8 }, optimizer: { lr: lesson.lr }, adapterName: 'lesson', seed: 0 }, task);
    try {
      const steps = await trainer.run();
      const files = await trainer.exportPeft(model.name);
      for (const [file, bytes] of files) await writeFile(join(partial, file), bytes);
      const tokens = steps.reduce((n, m) => n + m.tokens, 0);
      const seconds = steps.reduce((n, m) => n + m.seconds, 0);
      await writeFile(join(partial, TRAINING_LOG), JSON.stringify({ losses: steps.map((m) => m.loss), tokensPerSecond: tokens / seconds }));
      return [...files.keys(), TRAINING_LOG];
    } finally {
      trainer.dispose();
      engine.dispose();
      gpu.device.destroy();
    }
  });
  const log = JSON.parse(readFileSync(join(dir, TRAINING_LOG), 'utf8')) as { losses: number[]; tokensPerSecond: number };
  return { path: `/test-models/${name}/`, ...made, ...log };
}

/** One file of a generated model (for the tests' own checks, e.g. which shards exist). */
export const readModelFile = (dir: string, file: string): Promise<Buffer> => readFile(join(dir, file));
