// What this browser's WebGPU offers, asked once before choosing a model: whether there is an adapter at
// all (else the app explains how to get one) and whether it has `shader-f16` (picks the quantisation).

export interface WebGpuSupport {
  available: boolean;
  shaderF16: boolean;
  /** Why WebGPU is unavailable, in words for the user. */
  reason?: string;
}

export const NO_WEBGPU_ADVICE =
  'Models run on WebGPU. Use Chrome or Edge 113+ on Windows, macOS or ChromeOS (on Linux enable chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows. Your memory bank keeps working without it.';

export async function probeWebGpu(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<WebGpuSupport> {
  if (!gpu) return { available: false, shaderF16: false, reason: `This browser has no WebGPU. ${NO_WEBGPU_ADVICE}` };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    adapter = null;
  }
  if (!adapter) return { available: false, shaderF16: false, reason: `WebGPU is present but no GPU adapter is available (it may be blocked or disabled). ${NO_WEBGPU_ADVICE}` };
  return { available: true, shaderF16: adapter.features.has('shader-f16') };
}
