// Acquiring a WebGPU device from whatever `GPU` object the host offers (navigator.gpu in a browser or
// worker; Dawn's in Node, see node-device.ts). Nothing here touches the DOM.

/** A device together with what the rest of the code needs to know about it. */
export interface GpuContext {
  device: GPUDevice;
  adapterInfo: { vendor: string; architecture: string; description: string };
  /** True when WGSL `f16` may be used (feature `shader-f16`). */
  f16: boolean;
  /** True when the adapter is a software fallback (SwiftShader, lavapipe): fine for tests, slow for work. */
  isFallback: boolean;
}

export class GpuUnavailableError extends Error {
  override name = 'GpuUnavailableError';
}

/** Requests an adapter and a device with the largest buffer limits the adapter allows. */
export async function requestGpuContext(gpu: GPU | undefined, options: { preferF16?: boolean } = {}): Promise<GpuContext> {
  if (!gpu) {
    throw new GpuUnavailableError(
      'WebGPU is not available here. Use a recent Chrome or Edge (113+), or Safari 26+ / Firefox 141+ with WebGPU enabled.',
    );
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new GpuUnavailableError(
      'WebGPU found no usable GPU adapter. Update the graphics driver, or in Chrome open chrome://gpu to see why WebGPU is off.',
    );
  }
  const f16 = (options.preferF16 ?? true) && adapter.features.has('shader-f16');
  const requiredFeatures: GPUFeatureName[] = f16 ? ['shader-f16'] : [];
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxBufferSize: limits.maxBufferSize,
      maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: limits.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: limits.maxComputeWorkgroupSizeX,
    },
  });
  const info = adapter.info;
  return {
    device,
    adapterInfo: { vendor: info.vendor, architecture: info.architecture, description: info.description },
    f16,
    isFallback: Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter) || /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description}`),
  };
}

// GpuRuntime keeps the device, not the GpuContext, so fallback detection reads the device's adapter
// info (same test as requestGpuContext's isFallback). Without adapterInfo (older browsers), assume a GPU.
const fallbackDevices = new WeakMap<GPUDevice, boolean>();
export function isFallbackDevice(device: GPUDevice): boolean {
  let hit = fallbackDevices.get(device);
  if (hit === undefined) {
    const info = (device as { adapterInfo?: GPUAdapterInfo & { isFallbackAdapter?: boolean } }).adapterInfo;
    hit = Boolean(info && (info.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe/i.test(`${info.architecture} ${info.description}`)));
    fallbackDevices.set(device, hit);
  }
  return hit;
}
