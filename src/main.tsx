// The app's composition root: opens the memory bank and hands it to the UI (which never opens storage itself).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { MemoryStore, requestPersistentStorage } from './memory';
import { App } from './ui/App';
import './ui/styles.css';

async function start() {
  const root = createRoot(document.getElementById('root')!);
  try {
    const store = await MemoryStore.open({ onStale: () => alert('Memory-R1 was updated in another tab. Reload this page to continue.') });
    const persistence = await requestPersistentStorage();
    root.render(
      <StrictMode>
        <App store={store} persistence={persistence} gpu={navigator.gpu} />
      </StrictMode>,
    );
  } catch (error) {
    root.render(<p role="alert">Memory-R1 could not open its storage: {(error as Error).message}</p>);
  }
}

void start();
