// Node side of the WebLLM browser tests: the random Qwen2.5-0.5B-shaped MLC models WebLLM loads, and
// the prebuilt model libraries it runs them with.
//   Models are generated on first use into test-models/ (gitignored; ~300 MB for q4f32_1, ~1 GB for
//   q0f32) and reused while their stamp matches: the options and a hash of the generator's sources, so
//   a change to the generator regenerates them. A folder is written beside its final place and renamed
//   when complete, so an interrupted run never leaves a half model that looks valid.
//   Libraries are read from ../shared/webllm (or MEMORY_R1_WEBLLM_LIBS), never copied into the project.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Quantization } from '../../src/model/config';
import { writeTinyModel } from '../../src/model/tiny.node';

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
 * The model folder for `name` (a random Qwen2.5-0.5B-shaped MLC model in `quant`, seed 0), generated
 * if missing or stale; returns its URL path on the dev server and whether it had to be generated.
 */
export async function ensureTestModel(name: string, quant: Quantization): Promise<{ path: string; dir: string; generated: boolean; seconds: number }> {
  const dir = join(ROOT, 'test-models', name, 'resolve', 'main');
  const want = { options: { format: 'mlc', shape: 'qwen2.5-0.5b', quant, seed: 0 }, generator: GENERATOR };
  const started = Date.now();
  if (isValid(dir, want)) return { path: modelPath(name), dir, generated: false, seconds: 0 };
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  const written = await writeTinyModel(partial, { format: 'mlc', shape: 'qwen2.5-0.5b', quant, seed: 0 });
  const files: Record<string, number> = {};
  for (const file of written) files[file] = statSync(join(partial, file)).size;
  await writeFile(join(partial, STAMP), JSON.stringify({ ...want, files } satisfies Stamp));
  await rm(dir, { recursive: true, force: true });
  await rename(partial, dir);
  return { path: modelPath(name), dir, generated: true, seconds: (Date.now() - started) / 1000 };
}

/** One file of a generated model (for the tests' own checks, e.g. which shards exist). */
export const readModelFile = (dir: string, file: string): Promise<Buffer> => readFile(join(dir, file));
