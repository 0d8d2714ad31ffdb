// Using the trained adapter elsewhere: PEFT files to download (Hugging Face PEFT, vLLM, ...), or merged
// into the MLC base and installed as a WebLLM custom model. A run that trained every weight offers its
// Hugging Face model folder's files instead (nothing to merge).
import { useEffect, useState } from 'react';
import { downloadLink, formatBytes, revoke, type DownloadLink } from '../download';

interface Props {
  links: readonly DownloadLink[];
  /** Which adapter the links hold ("step 3"). */
  linksLabel: string | null;
  canExport: boolean;
  busy: boolean;
  modelFormat: 'hf' | 'mlc' | null;
  /** The run trained every weight: its result is a whole model, not an adapter. */
  full: boolean;
  defaultName: string;
  onExport: () => void;
  onMerge: (name: string) => Promise<string>;
}

export function ExportPanel({ links, linksLabel, canExport, busy, modelFormat, full, defaultName, onExport, onMerge }: Props) {
  const [name, setName] = useState(defaultName);
  const [merging, setMerging] = useState(false);
  const [outcome, setOutcome] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => setName(defaultName), [defaultName]);

  const merge = async () => {
    setMerging(true);
    setOutcome(null);
    try {
      setOutcome({ ok: true, text: await onMerge(name.trim()) });
    } catch (error) {
      setOutcome({ ok: false, text: error instanceof Error ? error.message : String(error) });
    } finally {
      setMerging(false);
    }
  };

  return (
    <>
      <h3>{full ? 'Hugging Face model' : 'PEFT adapter'}</h3>
      <p className="muted small">
        {full
          ? 'config.json, model.safetensors (float32) and the base model’s tokenizer files: put them in one folder and load it with transformers’ from_pretrained, serve it with vLLM, or open it here as a model folder.'
          : 'adapter_config.json and adapter_model.safetensors, as Hugging Face PEFT saves them: load with PeftModel.from_pretrained, or serve with vLLM.'}
      </p>
      <div className="row">
        <button type="button" disabled={!canExport || busy} onClick={onExport}>
          {full ? 'Export model' : 'Export PEFT adapter'}
        </button>
      </div>
      {links.length > 0 && (
        <ul className="downloads" aria-label={full ? 'Model files' : 'PEFT files'}>
          {links.map((link) => (
            <li key={link.href}>
              <a href={link.href} download={link.name}>
                Download {link.name}
              </a>{' '}
              <span className="muted small">
                {formatBytes(link.bytes)}
                {linksLabel && `, ${linksLabel}`}
              </span>
            </li>
          ))}
        </ul>
      )}
      {!full && <MergeSection {...{ name, setName, merging, outcome, modelFormat, disabled: !canExport || busy, merge }} />}
    </>
  );
}

interface MergeProps {
  name: string;
  setName: (name: string) => void;
  merging: boolean;
  outcome: { ok: boolean; text: string } | null;
  modelFormat: 'hf' | 'mlc' | null;
  disabled: boolean;
  merge: () => Promise<void>;
}

function MergeSection({ name, setName, merging, outcome, modelFormat, disabled, merge }: MergeProps) {
  return (
    <>
      <h3>Merge into WebLLM</h3>
      <p className="muted small">
        Folds the adapter into the base weights and installs the result in WebLLM&rsquo;s cache as a custom model, so WebLLM can run it without the adapter.
        {modelFormat === 'hf' && ' This needs an MLC build of a WebLLM prebuilt model as the base; this model is a Hugging Face folder, so download the PEFT adapter instead.'}
      </p>
      <div className="row">
        <label htmlFor="merge-name">Name in WebLLM</label>
        <input id="merge-name" value={name} onChange={(e) => setName(e.target.value)} disabled={merging} spellCheck={false} />
        <button type="button" disabled={disabled || merging || !name.trim()} onClick={() => void merge()}>
          {merging ? 'Merging…' : 'Merge into WebLLM'}
        </button>
      </div>
      {outcome && (
        <p role={outcome.ok ? 'status' : 'alert'} className={`notice ${outcome.ok ? 'info' : 'error'}`}>
          {outcome.text}
        </p>
      )}
    </>
  );
}

/** Makes download links for exported files, freeing the previous ones. */
export function useDownloadLinks(): [DownloadLink[], (files: readonly { name: string; bytes: Uint8Array }[]) => void] {
  const [links, setLinks] = useState<DownloadLink[]>([]);
  useEffect(() => () => revoke(links), [links]);
  return [links, (files) => setLinks(files.map((f) => downloadLink(f.name, f.bytes, f.name.endsWith('.json') ? 'application/json' : 'application/octet-stream')))];
}
