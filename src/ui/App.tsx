import { useEffect, useMemo, useRef, useState } from 'react';
import type { MemoryStore, PersistenceState, UserData } from '../memory';
import { OperationsFeed } from './components/OperationsFeed';
import { useModelState } from './engines/model-host';
import { useEmbeddingBackfill } from './engines/useEmbeddingBackfill';
import { engineLabel, type Engines } from './engines/services';
import { chosenModel, loadChoice } from './engines/webllm-choice';
import { useGpuSupport } from './gpu-support';
import { ChatPage } from './pages/ChatPage';
import { DemoPage } from './pages/DemoPage';
import { EvaluatePage } from './pages/EvaluatePage';
import { MemoryPage } from './pages/MemoryPage';
import { ModelsPage } from './pages/ModelsPage';
import { NoWebGpuNotice } from './pages/NoWebGpuNotice';
import { ERASED_CHANNEL, SettingsPage } from './pages/SettingsPage';
import { TrainPage } from './pages/TrainPage';
import { useRoute, type Page } from './router';
import { useSettings } from './settings';

export interface AppProps {
  store: MemoryStore;
  persistence: PersistenceState;
  gpu: GPU | undefined;
  engines: Engines;
  /** Everything the app stored, for "Delete all my data". */
  data: UserData;
}

const NAV: { page: Page; label: string }[] = [
  { page: 'chat', label: 'Chat' },
  { page: 'memory', label: 'Memory' },
  { page: 'demo', label: 'Demo' },
  { page: 'train', label: 'Train' },
  { page: 'evaluate', label: 'Evaluate' },
  { page: 'models', label: 'Models' },
  { page: 'settings', label: 'Settings' },
];

/** The heading of the page shown in `main` (hidden pages stay mounted), else `main` itself. */
function pageHeading(main: HTMLElement): HTMLElement {
  for (const child of main.children) {
    const heading = child instanceof HTMLElement && !child.hidden ? child.querySelector<HTMLElement>('h2') : null;
    if (heading) return heading;
  }
  return main;
}

/** Moves focus to the current page's heading, so keyboard and screen-reader users start at its content. */
function focusPage(main: HTMLElement | null): void {
  if (!main) return;
  const heading = pageHeading(main);
  if (heading !== main && !heading.hasAttribute('tabindex')) heading.tabIndex = -1;
  heading.focus();
}

/** The user's own bank, and the demo's (wiped by every replay, so it never mixes with the user's). */
const BANK = 'me';
const DEMO_BANK = 'demo';

export function App({ store, persistence, gpu, engines, data }: AppProps) {
  const route = useRoute();
  const page = NAV.some((n) => n.page === route) ? route : 'chat';
  const support = useGpuSupport(gpu);
  const [settings, updateSettings] = useSettings(store);
  const model = useModelState(engines.host);
  const backfill = useEmbeddingBackfill(store, BANK, model);
  // Train and Evaluate mount on first visit, then stay mounted while hidden so a run carries on.
  const [visited, setVisited] = useState<ReadonlySet<Page>>(() => new Set([page]));
  useEffect(() => setVisited((v) => (v.has(page) ? v : new Set([...v, page]))), [page]);

  useEffect(() => {
    document.documentElement.dataset.theme = settings.theme;
  }, [settings.theme]);

  useEffect(() => {
    document.title = `${NAV.find((n) => n.page === page)?.label ?? 'Chat'} · Memory-R1`;
  }, [page]);

  // Another tab deleted all data: what this one holds is gone from storage, so start afresh too.
  useEffect(() => {
    const channel = new BroadcastChannel(ERASED_CHANNEL);
    channel.onmessage = () => window.location.reload();
    return () => channel.close();
  }, []);

  // After a navigation (not on the first load), focus goes to the new page's heading.
  const main = useRef<HTMLElement>(null);
  const shownPage = useRef(page);
  useEffect(() => {
    if (shownPage.current === page) return;
    shownPage.current = page;
    focusPage(main.current);
  }, [page]);

  // One click to load the model chosen on an earlier visit (WebLLM only; others load from the URL).
  const quickLoad = useMemo(() => {
    if (engines.choice.kind !== 'webllm' || support.state !== 'ready') return undefined;
    const choice = chosenModel(settings, support.f16);
    return choice && { label: choice.label, load: () => void loadChoice(engines, choice) };
  }, [engines, support, settings]);

  const needsGpu = engines.choice.kind !== 'scripted';
  const showNoGpu = support.state === 'missing' && needsGpu && (page === 'chat' || page === 'demo' || page === 'models' || page === 'train' || page === 'evaluate');

  return (
    <div className="app">
      {/* The hash is the route: following "#main" would leave the page, so the link moves focus itself. */}
      <a
        className="skip-link"
        href="#main"
        onClick={(event) => {
          event.preventDefault();
          focusPage(main.current);
        }}
      >
        Skip to content
      </a>
      <header className="app-header">
        <h1>
          <a href="#/chat">Memory-R1</a>
        </h1>
        <nav aria-label="Pages">
          {NAV.map((item) => (
            <a key={item.page} href={`#/${item.page}`} aria-current={item.page === page ? 'page' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
        <p className="status">
          <span>
            {support.state === 'checking' && 'Checking WebGPU…'}
            {support.state === 'ready' && `WebGPU: ${support.adapter}${support.f16 ? ', f16 shaders' : ', no f16 shaders'}`}
            {support.state === 'missing' && 'No WebGPU'}
          </span>
          <span>
            {engines.choice.kind !== 'webllm' && `${engineLabel(engines.choice)}: `}
            {model.status === 'ready' ? `model ${model.label}` : model.status === 'loading' ? `loading ${model.label}…` : model.status === 'error' ? 'model failed to load' : 'no model loaded'}
          </span>
          {backfill && (
            <span role="status">
              embedding memories {backfill.done} of {backfill.total}
            </span>
          )}
          <span>storage {persistence === 'persisted' || persistence === 'granted' ? 'persistent' : 'may be cleared by the browser under pressure'}</span>
        </p>
      </header>
      {showNoGpu && support.state === 'missing' && <NoWebGpuNotice reason={support.reason} />}
      <main id="main" tabIndex={-1} ref={main}>
        {/* Chat and Demo stay mounted while hidden, so a turn or a replay in progress carries on elsewhere. */}
        <div hidden={page !== 'chat'}>
          {/* Chat and Models have no title of their own: a heading for screen readers and the skip link. */}
          <h2 className="visually-hidden">Chat</h2>
          <ChatPage store={store} bankId={BANK} host={engines.host} settings={settings} quickLoad={quickLoad} noGpu={support.state === 'missing' && needsGpu} />
        </div>
        <div hidden={page !== 'demo'}>
          <DemoPage store={store} bankId={DEMO_BANK} host={engines.host} settings={settings} quickLoad={quickLoad} noGpu={support.state === 'missing' && needsGpu} />
        </div>
        {(visited.has('train') || page === 'train') && (
          <div hidden={page !== 'train'}>
            <TrainPage host={engines.host} choice={engines.choice} training={engines.training} noGpu={support.state === 'missing'} />
          </div>
        )}
        {(visited.has('evaluate') || page === 'evaluate') && (
          <div hidden={page !== 'evaluate'}>
            <EvaluatePage host={engines.host} evaluation={engines.evaluation} quickLoad={quickLoad} noGpu={support.state === 'missing' && needsGpu} />
          </div>
        )}
        {page === 'memory' && (
          <div className="layout">
            <MemoryPage store={store} bankId={BANK} canEmbed={model.status === 'ready' && typeof model.model.embed === 'function'} />
            <aside className="side-column" aria-label="Recent operations">
              <OperationsFeed store={store} bankId={BANK} />
            </aside>
          </div>
        )}
        {page === 'models' && (
          <div>
            <h2 className="visually-hidden">Models</h2>
            <ModelsPage engines={engines} support={support} settings={settings} onChange={updateSettings} />
          </div>
        )}
        {page === 'settings' && <SettingsPage settings={settings} onChange={updateSettings} data={data} webllm={engines.webllm} />}
      </main>
    </div>
  );
}
