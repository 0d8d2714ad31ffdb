// What the browser offers for running models: WebGPU at all, and f16 shaders (faster, half the memory).
import { useEffect, useState } from 'react';

export type GpuSupport = { state: 'checking' } | { state: 'ready'; f16: boolean; adapter: string } | { state: 'missing'; reason: string };

export function useGpuSupport(gpu: GPU | undefined): GpuSupport {
  const [support, setSupport] = useState<GpuSupport>({ state: 'checking' });
  useEffect(() => {
    if (!gpu) return setSupport({ state: 'missing', reason: 'This browser does not offer WebGPU (navigator.gpu is missing).' });
    gpu.requestAdapter().then(
      (adapter) =>
        setSupport(
          adapter
            ? { state: 'ready', f16: adapter.features.has('shader-f16'), adapter: [adapter.info.vendor, adapter.info.architecture].filter(Boolean).join(' ') || 'GPU' }
            : { state: 'missing', reason: 'WebGPU is present but found no usable GPU adapter (a blocklisted driver, or GPU acceleration turned off).' },
        ),
      (error: Error) => setSupport({ state: 'missing', reason: `WebGPU failed to start: ${error.message}` }),
    );
  }, [gpu]);
  return support;
}
