// `npm run bench -- engine` (Node part): matmul beside TensorFlow.js and model tokens/s on Dawn.
// Prints one JSON object on stdout; progress on stderr. Model folders come from bench-models.ts.
import { create, globals } from 'webgpu';
import { requestGpuContext } from '../../src/gpu/device';
import { DirectorySource } from '../../src/model/source.node.js';
import { BENCH_MODELS } from './bench-models-list';
import { ensureBenchModels } from './bench-models';
import { ensureWebLlmBenchModel } from './engine-webllm-model';

Object.assign(globalThis, globals);
const gpu = create([]);
// TensorFlow.js finds WebGPU through navigator.gpu, as in a browser.
Object.defineProperty(globalThis, 'navigator', { value: { gpu, userAgent: 'node' }, configurable: true });
// Imported only now: the TensorFlow.js WebGPU backend registers itself only if navigator.gpu exists.
const { benchMatmul, benchModel, MATMUL_SHAPES, useTfjsWebGpu } = await import('./engine-bench');

const dirs = await ensureBenchModels();
await ensureWebLlmBenchModel();
const context = await requestGpuContext(gpu);
console.error(`[engine] adapter: ${JSON.stringify(context.adapterInfo)}`);
const backend = await useTfjsWebGpu();
console.error('[engine] matmul…');
const matmul = await benchMatmul(context, MATMUL_SHAPES);
console.error(`[engine] matmul: ${JSON.stringify(matmul)}`);
const models = [];
for (const model of BENCH_MODELS) {
  console.error(`[engine] ${model.name}…`);
  models.push(await benchModel(model.name, new DirectorySource(dirs[model.name]!), context, model.prefill, model.decode));
  console.error(`[engine] ${JSON.stringify(models.at(-1))}`);
}
console.log(JSON.stringify({ runtime: 'node (Dawn)', adapter: context.adapterInfo, tfjs_backend: backend, matmul, models }));
