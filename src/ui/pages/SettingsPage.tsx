import { useEffect, useMemo, useState } from 'react';
import { CHAT_MODELS, EMBEDDING_MODELS } from '../../llm/webllm-catalogue';
import { describeUserData, type StoredRecords, type UserData } from '../../memory';
import type { WebLlmApi } from '../engines/services';
import { useCacheStatus } from '../models/useCacheStatus';
import type { Settings } from '../settings';

interface Props {
  settings: Settings;
  onChange: (patch: Partial<Settings>) => void;
  data: UserData;
  webllm: WebLlmApi;
}

/** Set before the reload that follows "Delete all my data", so the page can say what went. */
export const ERASED_KEY = 'memory-r1:erased';
/** Tells the app's other tabs that everything was erased: they reload, so none writes back what it held. */
export const ERASED_CHANNEL = 'memory-r1:erased';

/** Settings that are the user's to choose; each is saved as it changes. And deleting everything. */
export function SettingsPage({ settings, onChange, data, webllm }: Props) {
  return (
    <div className="page settings-page">
      <section className="panel" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <div className="form-grid">
          <label htmlFor="setting-theme">Theme</label>
          <select id="setting-theme" value={settings.theme} onChange={(e) => onChange({ theme: e.target.value as Settings['theme'] })}>
            <option value="system">Follow the system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
          <label htmlFor="setting-user-name">Your name in memories</label>
          <input id="setting-user-name" key={settings.userName} defaultValue={settings.userName} maxLength={60} onBlur={(e) => e.target.value.trim() && onChange({ userName: e.target.value.trim() })} />
          <label htmlFor="setting-per-speaker">Memories retrieved per speaker</label>
          <input id="setting-per-speaker" type="number" min={1} max={200} value={settings.perSpeaker} onChange={(e) => e.target.valueAsNumber >= 1 && onChange({ perSpeaker: Math.min(200, Math.round(e.target.valueAsNumber)) })} />
          <label htmlFor="setting-temperature">Answer temperature</label>
          <input id="setting-temperature" type="number" min={0} max={2} step={0.1} value={settings.temperature} onChange={(e) => e.target.valueAsNumber >= 0 && onChange({ temperature: Math.min(2, e.target.valueAsNumber) })} />
          <label htmlFor="setting-manager-temperature">Memory manager temperature</label>
          <input id="setting-manager-temperature" type="number" min={0} max={2} step={0.1} value={settings.managerTemperature} onChange={(e) => e.target.valueAsNumber >= 0 && onChange({ managerTemperature: Math.min(2, e.target.valueAsNumber) })} />
        </div>
      </section>
      <DeleteAllData data={data} webllm={webllm} />
    </div>
  );
}

/** One button that erases everything the app stored in this browser, after saying exactly what goes. */
function DeleteAllData({ data, webllm }: { data: UserData; webllm: WebLlmApi }) {
  const [asking, setAsking] = useState<StoredRecords[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [erased] = useState(() => {
    const text = sessionStorage.getItem(ERASED_KEY);
    sessionStorage.removeItem(ERASED_KEY);
    return text;
  });
  const models = useCachedModels(webllm);
  const goes = asking ? describeUserData(asking) : [];

  const ask = async () => {
    setProblem(null);
    try {
      setAsking(await data.list());
    } catch (error) {
      setProblem(`Could not read what is stored: ${(error as Error).message}`);
    }
  };
  const erase = async () => {
    try {
      const before = await data.erase();
      sessionStorage.setItem(ERASED_KEY, describeUserData(before).join(', ') || 'nothing was stored');
      const channel = new BroadcastChannel(ERASED_CHANNEL);
      channel.postMessage('erased');
      channel.close();
      // Every view of the app (and its worker) holds what was just erased: start afresh.
      window.location.hash = '#/settings';
      window.location.reload();
    } catch (error) {
      setAsking(null);
      setProblem(`Not everything was deleted: ${(error as Error).message}. Try again, or clear this site's data in the browser's settings.`);
    }
  };

  return (
    <section className="panel" aria-labelledby="data-title">
      <h2 id="data-title">Your data</h2>
      <p className="muted">Everything stays in this browser: memory banks, chats, training checkpoints and data, cached evaluation runs, settings.</p>
      {erased && (
        <p role="status" className="notice info">
          All your data was deleted ({erased}).
        </p>
      )}
      {problem && (
        <p role="alert" className="notice error">
          {problem}
        </p>
      )}
      {asking === null ? (
        <button type="button" className="danger" onClick={() => void ask()}>
          Delete all my data…
        </button>
      ) : (
        <div role="group" aria-labelledby="delete-all-question" className="confirm-box">
          <p id="delete-all-question">
            {goes.length === 0 ? 'Nothing is stored yet. Delete anyway?' : 'This deletes, for good:'}
          </p>
          {goes.length > 0 && (
            <ul aria-label="What will be deleted">
              {goes.map((line) => (
                <li key={line}>{line}</li>
              ))}
            </ul>
          )}
          <div className="row">
            <button type="button" className="danger" autoFocus onClick={() => void erase()}>
              Delete everything
            </button>
            <button type="button" onClick={() => setAsking(null)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <h3>Downloaded models</h3>
      {models === null ? (
        <p className="muted">Checking the model cache…</p>
      ) : models.length === 0 ? (
        <p className="muted">No model is in this browser&rsquo;s cache.</p>
      ) : (
        <>
          <p className="muted">
            Kept by &ldquo;Delete all my data&rdquo; (they hold no personal data); delete them on the <a href="#/models">Models page</a>:
          </p>
          <ul aria-label="Models in the cache">
            {models.map((name) => (
              <li key={name}>{name}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

/** The catalogue's models found in WebLLM's cache, and models merged from trained adapters. */
function useCachedModels(webllm: WebLlmApi): string[] | null {
  const ids = useMemo(() => [...new Set([...CHAT_MODELS.flatMap((e) => Object.values(e.ids)), ...EMBEDDING_MODELS.map((e) => e.id)])], []);
  const [cache] = useCacheStatus(webllm, ids);
  const [trained, setTrained] = useState<string[] | null>(null);
  useEffect(() => void webllm.trainedModels().then((list) => setTrained(list.map((m) => `${m.name} (trained)`)), () => setTrained([])), [webllm]);
  if (trained === null || ids.some((id) => cache[id] === undefined || cache[id] === 'checking')) return null;
  return [...ids.filter((id) => cache[id] === 'cached'), ...trained];
}
