import { useEffect, useState } from 'react';
import type { MemoryStore, PersistenceState } from '../memory';
import { OperationsFeed } from './components/OperationsFeed';
import { MemoryPage } from './pages/MemoryPage';
import { NoWebGpuNotice } from './pages/NoWebGpuNotice';
import { SettingsPage } from './pages/SettingsPage';
import { useRoute, type Page } from './router';
import { useSettings } from './settings';

export interface AppProps {
  store: MemoryStore;
  persistence: PersistenceState;
  gpu: GPU | undefined;
}

type GpuSupport = { state: 'checking' } | { state: 'ready'; f16: boolean; adapter: string } | { state: 'missing'; reason: string };

/** What the browser offers for running models: WebGPU at all, and f16 shaders (faster, half the memory). */
function useGpuSupport(gpu: GPU | undefined): GpuSupport {
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

const NAV: { page: Page; label: string }[] = [
  { page: 'memory', label: 'Memory' },
  { page: 'settings', label: 'Settings' },
];

const BANK = 'me';

export function App({ store, persistence, gpu }: AppProps) {
  const route = useRoute();
  const page = NAV.some((n) => n.page === route) ? route : 'memory';
  const support = useGpuSupport(gpu);
  const [settings, updateSettings] = useSettings(store);

  useEffect(() => {
    document.documentElement.dataset.theme = settings.theme;
  }, [settings.theme]);

  return (
    <div className="app">
      <header className="app-header">
        <h1>Memory-R1</h1>
        <nav aria-label="Pages">
          {NAV.map((item) => (
            <a key={item.page} href={`#/${item.page}`} aria-current={item.page === page ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        <p className="status">
          {support.state === 'checking' && 'Checking WebGPU…'}
          {support.state === 'ready' && `WebGPU: ${support.adapter}${support.f16 ? ', f16 shaders' : ', no f16 shaders'}`}
          {support.state === 'missing' && 'No WebGPU: models cannot run here'} · storage{' '}
          {persistence === 'persisted' || persistence === 'granted' ? 'persistent' : 'may be cleared by the browser under pressure'}
        </p>
      </header>
      {support.state === 'missing' && <NoWebGpuNotice reason={support.reason} />}
      <main className="layout">
        <div className="main-column">
          {page === 'memory' && <MemoryPage store={store} bankId={BANK} />}
          {page === 'settings' && <SettingsPage settings={settings} onChange={updateSettings} />}
        </div>
        <aside className="side-column">
          <OperationsFeed store={store} bankId={BANK} />
        </aside>
      </main>
    </div>
  );
}
