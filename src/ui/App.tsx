import { useEffect, useState } from 'react';
import type { MemoryStore, PersistenceState } from '../memory';
import { MemoryPanel } from './MemoryPanel';

export interface AppProps {
  store: MemoryStore;
  persistence: PersistenceState;
  gpu: GPU | undefined;
}

/** What the browser offers for running models: WebGPU at all, and f16 shaders (faster, half the memory). */
function useGpuSupport(gpu: GPU | undefined): string {
  const [support, setSupport] = useState('checking WebGPU…');
  useEffect(() => {
    if (!gpu) return setSupport('WebGPU is not available in this browser: use a recent Chrome or Edge to run models.');
    void gpu.requestAdapter().then((adapter) =>
      setSupport(adapter ? `WebGPU ready${adapter.features.has('shader-f16') ? ' with f16 shaders' : ' (no f16 shaders)'}` : 'WebGPU is present but found no GPU adapter.'),
    );
  }, [gpu]);
  return support;
}

export function App({ store, persistence, gpu }: AppProps) {
  const gpuSupport = useGpuSupport(gpu);
  return (
    <div className="app">
      <header className="app-header">
        <h1>Memory-R1</h1>
        <p className="status">
          {gpuSupport} · storage {persistence === 'persisted' || persistence === 'granted' ? 'persistent' : 'may be cleared by the browser'}
        </p>
      </header>
      <main>
        <MemoryPanel store={store} bankId="me" />
      </main>
    </div>
  );
}
