// The engine benchmark's side-by-side with WebLLM (Chromium part): the same model folder, the same
// WebGPU adapter and the same prompt and decode lengths through our engine and through WebLLM 0.2.79 with
// MLC's prebuilt Qwen2-0.5B q4f32_1 library (served from MEMORY_R1_WEBLLM_LIBS, ../shared/webllm by default).
import type { GpuContext } from '../../src/gpu';
import { appConfigFor } from '../../src/llm/webllm';
import { prebuiltRecordFor } from '../../src/llm/webllm-base-record';
import { customModelRecord } from '../../src/llm/webllm-custom-model';
import { measureWebLlmSpeed } from '../../src/llm/webllm-speed';
import { UrlSource } from '../../src/model/source';
import { benchModel } from './engine-bench';

export const WEBLLM_BENCH_MODEL = {
  name: 'qwen2.5-0.5b shape (mlc q4f32_1, random)',
  folder: 'qwen2.5-0.5b-shape-mlc-q4f32_1/resolve/main',
  base: 'https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f32_1-MLC',
  prefill: 8,
  decode: 2,
};

export async function benchAgainstWebLlm(context: GpuContext) {
  const m = WEBLLM_BENCH_MODEL;
  const url = new URL(`/tmp/bench-models/${m.folder}/`, location.href).href;
  const ours = await benchModel(m.name, new UrlSource(url), context, m.prefill, m.decode);
  console.log('ours done; WebLLM next (its first forward compiles for minutes on a CPU)');
  const base = prebuiltRecordFor(m.base)!;
  const library = base.model_lib.split('/').pop()!;
  const record = { ...customModelRecord(base, 'bench-qwen2.5-0.5b-q4f32_1', url), model_lib: new URL(`/@fs${import.meta.env.MEMORY_R1_WEBLLM_LIBS}/${library}`, location.href).href };
  const appConfig = appConfigFor('cache', [{ name: record.model_id, record, files: [], bytes: 0, installedAt: '' }]);
  // The same token ids our benchModel feeds.
  const ids = Array.from({ length: m.prefill }, (_, i) => (i * 7 + 3) % 512);
  const webllm = await measureWebLlmSpeed(appConfig, record.model_id, ids, m.decode);
  const ratio = (a: number, b: number) => +(a / b).toFixed(3);
  return {
    note: 'WebGPU here is SwiftShader, a CPU implementation: this compares the two engines\' kernels running on a CPU, not on a GPU.',
    model: m.name,
    library,
    ours,
    webllm,
    ratio_ours_to_webllm: { prefill: ratio(ours.prefill_tokens_per_s, webllm.prefill_tokens_per_s), decode: ratio(ours.decode_tokens_per_s, webllm.decode_tokens_per_s) },
  };
}
