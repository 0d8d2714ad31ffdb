// The model folders the engine and training benchmarks load, written once under tmp/bench-models/
// (git-ignored) by the same generator as `memory-r1 make-tiny-model`.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyModel } from '../../src/model/tiny.node.js';
import { BENCH_MODELS } from './bench-models-list';

export const BENCH_MODEL_DIR = 'tmp/bench-models';

export async function ensureBenchModels(): Promise<Record<string, string>> {
  const dirs: Record<string, string> = {};
  for (const model of BENCH_MODELS) {
    const dir = join(BENCH_MODEL_DIR, model.folder);
    if (!existsSync(join(dir, 'config.json'))) {
      console.error(`[bench] writing ${model.name} to ${dir}…`);
      await writeTinyModel(dir, { ...model.options });
    }
    dirs[model.name] = dir;
  }
  return dirs;
}
