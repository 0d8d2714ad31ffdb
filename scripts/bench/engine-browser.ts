// `npm run bench -- engine` (Chromium part): the same measurements as engine-node.ts, on the browser's
// WebGPU, loading the model folders over HTTP from the dev server (the real UrlSource path).
import { requestGpuContext } from '../../src/gpu/device';
import { UrlSource } from '../../src/model/source';
import { BENCH_MODELS } from './bench-models-list';
import { benchMatmul, benchModel, MATMUL_SHAPES, useTfjsWebGpu } from './engine-bench';
import { benchAgainstWebLlm } from './engine-webllm';

async function runEngineBench() {
  const context = await requestGpuContext(navigator.gpu);
  const backend = await useTfjsWebGpu();
  const matmul = await benchMatmul(context, MATMUL_SHAPES);
  console.log('matmul done');
  const models = [];
  for (const model of BENCH_MODELS) {
    models.push(await benchModel(model.name, new UrlSource(new URL(`/tmp/bench-models/${model.folder}/`, location.href).href), context, model.prefill, model.decode));
    console.log(`${model.name} done`);
  }
  const webllm = await benchAgainstWebLlm(context);
  return { runtime: 'chromium', adapter: context.adapterInfo, tfjs_backend: backend, matmul, models, webllm };
}

/** The WebLLM side-by-side alone (the slow part), for a quicker look. */
async function runWebLlmComparison() {
  return benchAgainstWebLlm(await requestGpuContext(navigator.gpu));
}

declare global {
  interface Window {
    runEngineBench: typeof runEngineBench;
    runWebLlmComparison: typeof runWebLlmComparison;
  }
}
window.runEngineBench = runEngineBench;
window.runWebLlmComparison = runWebLlmComparison;
