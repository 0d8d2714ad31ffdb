// Models merged from trained adapters (Train page → Merge into WebLLM): chosen like the catalogue's chat
// models, deleted from WebLLM's cache here.
import { useCallback, useEffect, useState } from 'react';
import type { TrainedModel, WebLlmApi } from '../engines/services';
import { TRAINED_PREFIX } from '../engines/webllm-choice';
import { formatMegabytes } from '../format';

interface Props {
  webllm: WebLlmApi;
  chosen: string;
  disabled: boolean;
  onChoose: (chatModel: string) => void;
  /** Frees the model first when it is the one loaded. */
  beforeDelete: (name: string) => Promise<void>;
}

export function TrainedModels({ webllm, chosen, disabled, onChoose, beforeDelete }: Props) {
  const [models, setModels] = useState<TrainedModel[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = useCallback(async () => {
    try {
      setModels(await webllm.trainedModels());
    } catch (error) {
      setProblem(`Could not read WebLLM's cache: ${(error as Error).message}`);
      setModels([]);
    }
  }, [webllm]);
  useEffect(() => void refresh(), [refresh]);

  const remove = async (name: string) => {
    setProblem(null);
    try {
      await beforeDelete(name);
      await webllm.deleteTrainedModel(name);
      if (chosen === TRAINED_PREFIX + name) onChoose('');
    } catch (error) {
      setProblem(`Could not delete ${name}: ${(error as Error).message}`);
    }
    await refresh();
  };

  return (
    <section className="panel" aria-labelledby="trained-title">
      <h2 id="trained-title">Trained models</h2>
      <p className="muted small">Base models with a trained adapter merged in (Train page, then Merge into WebLLM). They live in this browser only.</p>
      {models === null ? (
        <p className="muted">Looking in the cache…</p>
      ) : models.length === 0 ? (
        <p className="muted">None yet.</p>
      ) : (
        <fieldset className="model-list" disabled={disabled}>
          <legend className="visually-hidden">Trained models</legend>
          {models.map((m) => {
            const key = TRAINED_PREFIX + m.name;
            return (
              <div key={m.name} className={`model-option${chosen === key ? ' chosen' : ''}`}>
                <input type="radio" id={`trained-${m.name}`} name="chat-model" checked={chosen === key} onChange={() => onChoose(key)} />
                <label htmlFor={`trained-${m.name}`}>
                  <strong>{m.name}</strong>
                  <span className="model-facts small muted">
                    {m.bytes < 1e6 ? `${Math.max(1, Math.round(m.bytes / 1e3))} kB` : formatMegabytes(m.bytes / 1e6)} · merged {new Date(m.installedAt).toLocaleString()}
                  </span>
                </label>
                <button type="button" className="small-button" onClick={() => void remove(m.name)} aria-label={`Delete ${m.name}`}>
                  Delete
                </button>
              </div>
            );
          })}
        </fieldset>
      )}
      {problem && (
        <p role="alert" className="notice error">
          {problem}
        </p>
      )}
    </section>
  );
}
