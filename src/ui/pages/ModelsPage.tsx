import { useMemo, useState } from 'react';
import { CHAT_MODELS, EMBEDDING_MODELS } from '../../llm/webllm-catalogue';
import { LoadProgressBar } from '../components/LoadProgressBar';
import { useModelState } from '../engines/model-host';
import { engineLabel, type Engines } from '../engines/services';
import { chosenModel, loadChoice, quantisationFor, TRAINED_PREFIX } from '../engines/webllm-choice';
import { formatMegabytes } from '../format';
import type { GpuSupport } from '../gpu-support';
import { CacheBadge } from '../models/CacheBadge';
import { GpuCapability } from '../models/GpuCapability';
import { ModelServer } from '../models/ModelServer';
import { TrainedModels } from '../models/TrainedModels';
import { useCacheStatus } from '../models/useCacheStatus';
import type { Settings } from '../settings';

interface Props {
  engines: Engines;
  support: GpuSupport;
  settings: Settings;
  onChange: (patch: Partial<Settings>) => void;
}

/** Choose, download, load and delete models; see what this browser's GPU can do. */
export function ModelsPage({ engines, support, settings, onChange }: Props) {
  const state = useModelState(engines.host);
  const f16 = support.state === 'ready' && support.f16;
  const quantisation = quantisationFor(f16);
  const ids = useMemo(() => [...CHAT_MODELS.map((e) => e.ids[quantisation]), ...EMBEDDING_MODELS.map((e) => e.id)], [quantisation]);
  const [cache, refreshCache] = useCacheStatus(engines.webllm, ids);
  const [problem, setProblem] = useState<string | null>(null);
  const loading = state.status === 'loading';
  const choice = chosenModel(settings, f16);
  const trained = settings.chatModel.startsWith(TRAINED_PREFIX); // installed by a merge: nothing to download
  const canRun = support.state === 'ready' && engines.choice.kind === 'webllm';

  const load = async () => {
    if (!choice) return;
    setProblem(null);
    await loadChoice(engines, choice);
    void refreshCache();
  };
  const unloadIfLoaded = async (modelId: string) => {
    if (state.status === 'ready' && state.model.id === modelId) await engines.host.unload();
  };
  const remove = async (modelId: string) => {
    setProblem(null);
    try {
      await unloadIfLoaded(modelId);
      await engines.webllm.deleteCached(modelId);
    } catch (error) {
      setProblem((error as Error).message);
    }
    void refreshCache();
  };

  return (
    <div className="page models-page">
      <GpuCapability support={support} />
      {engines.choice.kind !== 'webllm' && (
        <p className="notice info">
          This tab runs on the <strong>{engineLabel(engines.choice)}</strong> (set by the page address), not WebLLM. Open the app without <code>?engine=</code> to choose a WebLLM model here.
        </p>
      )}

      <section className="panel" aria-labelledby="loaded-title">
        <h2 id="loaded-title">Loaded model</h2>
        {state.status === 'none' && <p className="muted">None. Choose a chat model below and load it.</p>}
        {state.status === 'loading' && (
          <>
            <p>Loading {state.label}…</p>
            <LoadProgressBar label={state.label} progress={state.progress} />
          </>
        )}
        {state.status === 'ready' && (
          <p className="row">
            <span>
              <strong>{state.label}</strong> is ready.
            </span>
            <button type="button" onClick={() => void engines.host.unload()}>
              Unload
            </button>
          </p>
        )}
        {state.status === 'error' && (
          <p role="alert" className="notice error">
            {state.label}: {state.message}
          </p>
        )}
        {state.status !== 'loading' && state.status !== 'ready' && (
          <div className="row">
            <button type="button" className="primary" disabled={!choice || !canRun} onClick={() => void load()}>
              {choice && (trained || cache[choice.modelId] === 'cached') ? 'Load' : 'Download and load'} {choice ? choice.label : 'a model'}
            </button>
            {!choice && <span className="muted small">Choose a chat model below first.</span>}
          </div>
        )}
        {state.status === 'ready' && choice && engines.choice.kind === 'webllm' && state.label !== choice.label && (
          <div className="row">
            <button type="button" className="primary" disabled={!canRun} onClick={() => void load()}>
              Switch to {choice.label}
            </button>
          </div>
        )}
        {problem && (
          <p role="alert" className="notice error">
            {problem}
          </p>
        )}
      </section>

      <section className="panel" aria-labelledby="chat-models-title">
        <h2 id="chat-models-title">Chat model</h2>
        <p className="muted small">Runs the memory manager and the answer agent. Downloaded once, then kept by the browser for offline use.</p>
        <fieldset className="model-list" disabled={loading}>
          <legend className="visually-hidden">Chat model</legend>
          {CHAT_MODELS.map((entry) => {
            const id = entry.ids[quantisation];
            return (
              <div key={entry.key} className={`model-option${settings.chatModel === entry.key ? ' chosen' : ''}`}>
                <input type="radio" id={`model-${entry.key}`} name="chat-model" checked={settings.chatModel === entry.key} onChange={() => onChange({ chatModel: entry.key })} />
                <label htmlFor={`model-${entry.key}`}>
                  <strong>{entry.label}</strong> <span className="muted small">{quantisation}</span>
                  <span className="model-facts small muted">
                    ~{formatMegabytes(entry.approxDownloadMB)} download · {formatMegabytes(entry.vramMB[quantisation])} GPU memory · {entry.note}
                  </span>
                </label>
                <CacheBadge status={cache[id]} label={entry.label} disabled={loading} onDelete={() => void remove(id)} />
              </div>
            );
          })}
        </fieldset>
      </section>

      {engines.choice.kind === 'webllm' && <ModelServer host={engines.host} disabled={loading} />}

      <TrainedModels webllm={engines.webllm} chosen={settings.chatModel} disabled={loading} onChoose={(chatModel) => onChange({ chatModel })} beforeDelete={unloadIfLoaded} />

      <section className="panel" aria-labelledby="embedding-title">
        <h2 id="embedding-title">Embedding model (optional)</h2>
        <p className="muted small">Adds meaning-based search to the word-based one when memories are retrieved. Loaded beside the chat model.</p>
        <fieldset className="model-list" disabled={loading}>
          <legend className="visually-hidden">Embedding model</legend>
          <div className={`model-option${settings.embeddingModel === '' ? ' chosen' : ''}`}>
            <input type="radio" id="embedding-none" name="embedding-model" checked={settings.embeddingModel === ''} onChange={() => onChange({ embeddingModel: '' })} />
            <label htmlFor="embedding-none">
              <strong>None</strong> <span className="model-facts small muted">word-based retrieval (BM25) only</span>
            </label>
          </div>
          {EMBEDDING_MODELS.map((entry) => (
            <div key={entry.key} className={`model-option${settings.embeddingModel === entry.id ? ' chosen' : ''}`}>
              <input type="radio" id={`embedding-${entry.key}`} name="embedding-model" checked={settings.embeddingModel === entry.id} onChange={() => onChange({ embeddingModel: entry.id })} />
              <label htmlFor={`embedding-${entry.key}`}>
                <strong>{entry.label}</strong>
                <span className="model-facts small muted">
                  ~{formatMegabytes(entry.approxDownloadMB)} download · {formatMegabytes(entry.vramMB)} GPU memory · {entry.dimensions} dimensions
                </span>
              </label>
              <CacheBadge status={cache[entry.id]} label={entry.label} disabled={loading} onDelete={() => void remove(entry.id)} />
            </div>
          ))}
        </fieldset>
      </section>

    </div>
  );
}
