// The model the engine benchmark runs on both engines in Chromium, ours and WebLLM's: Qwen2.5-0.5B's shape
// with random weights in MLC q4f32_1 (the format WebLLM's prebuilt q4f32_1 library runs), written once
// under tmp/bench-models/ in the `<name>/resolve/main/` layout WebLLM asks for.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeTinyModel } from '../../src/model/tiny.node.js';
import { WEBLLM_BENCH_MODEL } from './engine-webllm';

export async function ensureWebLlmBenchModel(): Promise<string> {
  const dir = join('tmp/bench-models', WEBLLM_BENCH_MODEL.folder);
  if (!existsSync(join(dir, 'ndarray-cache.json'))) {
    console.error(`[bench] writing ${WEBLLM_BENCH_MODEL.name} to ${dir}…`);
    await writeTinyModel(dir, { format: 'mlc', arch: 'qwen2', quant: 'q4f32_1', seed: 1, shape: 'qwen2.5-0.5b' });
  }
  return dir;
}
