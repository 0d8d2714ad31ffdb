import { useId, useState } from 'react';
import type { ModelHost } from '../engines/model-host';
import { connectModelServer } from '../engines/model-server';

/**
 * The opt-in "model server" choice: off by default; once switched on it says plainly that messages and
 * memories then go to that server, and connects only when asked. The API key stays in this tab's memory.
 */
export function ModelServer({ host, disabled }: { host: ModelHost; disabled: boolean }) {
  const [enabled, setEnabled] = useState(false);
  const [url, setUrl] = useState('http://127.0.0.1:8000/v1');
  const [model, setModel] = useState('');
  const [apiKey, setApiKey] = useState('');
  const [embeddingModel, setEmbeddingModel] = useState('');
  const id = useId();
  const connect = () => {
    let where = '';
    try {
      where = new URL(url).host;
    } catch {
      where = url;
    }
    void host.load(`${model.trim()} on ${where} (model server)`, () => connectModelServer({ url, model, ...(apiKey ? { apiKey } : {}), ...(embeddingModel ? { embeddingModel } : {}) }));
  };
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Model server (optional)</h2>
      <p className="muted small">Instead of a model in this tab: any OpenAI-compatible server (vLLM, Ollama, llama.cpp, OpenAI, memory-r1 serve).</p>
      <label>
        <input type="checkbox" checked={enabled} disabled={disabled} onChange={(e) => setEnabled(e.target.checked)} />
        {' '}Use a model server
      </label>
      {enabled && (
        <>
          <p className="notice error" role="note">
            With a model server, your messages, your memories and your questions are sent to that server: they <strong>leave this browser</strong>. Use only a server you trust, such as one on your own machine.
          </p>
          <div className="form-grid">
            <label htmlFor={`${id}-url`}>Server address</label>
            <input id={`${id}-url`} type="url" value={url} onChange={(e) => setUrl(e.target.value)} />
            <label htmlFor={`${id}-model`}>Model name</label>
            <input id={`${id}-model`} value={model} placeholder="as the server lists it" onChange={(e) => setModel(e.target.value)} />
            <label htmlFor={`${id}-key`}>API key (not saved)</label>
            <input id={`${id}-key`} type="password" autoComplete="off" value={apiKey} onChange={(e) => setApiKey(e.target.value)} />
            <label htmlFor={`${id}-embed`}>Embedding model (optional)</label>
            <input id={`${id}-embed`} value={embeddingModel} onChange={(e) => setEmbeddingModel(e.target.value)} />
          </div>
          <div className="row">
            <button type="button" className="primary" disabled={disabled || !model.trim() || !url.trim()} onClick={connect}>
              Connect
            </button>
          </div>
        </>
      )}
    </section>
  );
}
