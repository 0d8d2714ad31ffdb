import { describe, expect, it } from 'vitest';
import { toWebLlmError, WebLlmError } from './webllm-errors';

// The texts as they reach the client: WebLLM 0.2.79's error classes through `err.toString()` in the
// worker, and the browsers' own fetch/GPU errors.
const DEVICE_LOST =
  'DeviceLostError: The WebGPU device was lost while loading the model. This issue often occurs due to running out of memory (OOM). To resolve this, try reloading with a model that has fewer parameters or uses a smaller context length.';

describe('toWebLlmError', () => {
  it.each([
    [DEVICE_LOST, 'device-lost', /GPU stopped working.*smaller model/],
    ['WebGPUNotAvailableError: WebGPU is not supported in your current environment, but it is necessary to run the WebLLM engine.', 'no-webgpu', /WebGPU is not available.*Chrome or Edge 113/],
    ['Error: Cannot find WebGPU in the environment', 'no-webgpu', /WebGPU/],
    ['ShaderF16SupportError: This model requires WebGPU extension shader-f16, which is not enabled in this browser.', 'shader-f16', /q4f32_1/],
    ['RangeError: WebAssembly.Memory(): could not allocate memory', 'out-of-memory', /about 1\.9 GB of GPU memory/],
    ['GPUOutOfMemoryError: Out of memory', 'out-of-memory', /Not enough memory/],
    ['TypeError: Failed to fetch', 'network', /Could not download.*about 900 MB.*works offline/],
    ["TypeError: Failed to execute 'add' on 'Cache': Request failed", 'network', /a request for its files failed/],
    ['RuntimeError: Aborted(). Build with -sASSERTIONS for more info.', 'unknown', /WebLLM failed \(load\).*Aborted\(\)/],
    ['DeviceLostError: the WebGPU device was lost (destroyed). Error: Model not loaded before trying to complete ChatCompletionRequest; generation aborted', 'device-lost', /The GPU stopped working/],
    ['Error: Failed to store https://x/resolve/main/params_shard_3.bin with error: Error: Network response was not ok', 'network', /Could not download/],
    ['Error: Cannot fetch https://huggingface.co/mlc-ai/x/resolve/main/mlc-chat-config.json', 'network', /Could not download/],
    ['ModelNotFoundError: Cannot find model record in appConfig for nope. Please check if the model ID is correct', 'model-not-found', /not a model this version of WebLLM knows/],
    ['QuotaExceededError: The quota has been exceeded.', 'storage-full', /no room left/],
    ['ContextWindowSizeExceededError: Prompt tokens exceed context window size: number of prompt tokens: 5000; context window size: 4096', 'context-too-long', /Retrieve fewer memories/],
    ['Something odd', 'unknown', /Something odd/],
  ])('%s → %s', (detail, kind, message) => {
    const error = toWebLlmError(detail, { phase: 'load', modelId: 'Qwen2.5-1.5B-Instruct-q4f32_1-MLC', vramMB: 1889, downloadMB: 900 });
    expect(error).toBeInstanceOf(WebLlmError);
    expect(error.kind).toBe(kind);
    expect(error.message).toMatch(message);
    expect(error.detail).toBe(detail);
  });

  it('reads Error objects and passes WebLlmErrors through', () => {
    const error = toWebLlmError(new TypeError('Failed to fetch'), { phase: 'chat' });
    expect(error.detail).toBe('TypeError: Failed to fetch');
    expect(toWebLlmError(error, { phase: 'load' })).toBe(error);
    expect(toWebLlmError({ weird: true }, { phase: 'embed' }).detail).toBe('{"weird":true}');
  });
});
