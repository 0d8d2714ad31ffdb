// WebGPU in Node through Dawn (the npm package `webgpu`). Needs a Vulkan driver: a GPU's, Mesa's
// lavapipe, or the SwiftShader driver Debian's Chromium ships (`npm test` sets that up by itself).
import { GpuUnavailableError, requestGpuContext, type GpuContext } from './device';

let installed: GPU | undefined;

async function dawn(): Promise<GPU> {
  if (!installed) {
    const { create, globals } = await import('webgpu');
    // Dawn's GPUBufferUsage, GPUShaderStage, ... as globals, the way a browser has them.
    Object.assign(globalThis, globals);
    installed = create([]);
  }
  return installed;
}

export async function requestNodeGpuContext(options: { preferF16?: boolean } = {}): Promise<GpuContext> {
  try {
    return await requestGpuContext(await dawn(), options);
  } catch (error) {
    if (error instanceof GpuUnavailableError) {
      throw new GpuUnavailableError(
        'WebGPU in Node found no Vulkan driver: run `apt-get install -y chromium` (it ships SwiftShader, which ' +
          '`memory-r1` and `npm test` then find by themselves), or install a GPU\'s Vulkan driver or Mesa 25\'s lavapipe.',
      );
    }
    throw error;
  }
}
