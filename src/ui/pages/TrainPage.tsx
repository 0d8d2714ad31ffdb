import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { LocomoConversation } from '../../eval/locomo';
import type { TrainingStatus } from '../../hosts/trainer-host';
import { ModelNotice } from '../components/ModelNotice';
import { SourcePicker } from '../demo/SourcePicker';
import { useModelState, type ModelHost } from '../engines/model-host';
import type { EngineChoice, TrainingApi } from '../engines/services';
import { CheckpointList } from '../train/CheckpointList';
import { ExportPanel, useDownloadLinks } from '../train/ExportPanel';
import { initialSettings, toRequest } from '../train/form';
import { RunPanel } from '../train/RunPanel';
import { settingsOfRun } from '../train/run-settings';
import { TrainingCharts } from '../train/TrainingCharts';
import { TrainSetup } from '../train/TrainSetup';
import { useTraining } from '../train/useTraining';

interface Props {
  host: ModelHost;
  choice: EngineChoice;
  training: TrainingApi | undefined;
  noGpu: boolean;
}

/** What a loaded LoCoMo file gives the LoCoMo tasks: its training conversations, and the one validation scores. */
function trainingSummary({ name, conversations }: { name: string; conversations: LocomoConversation[] }): string {
  const training = conversations.filter((c) => c.split === 'train');
  if (training.length === 0) return `${name} has no training conversation (conv-26): load locomo10.json.`;
  const questions = training.reduce((n, c) => n + c.qa.length, 0);
  const validation = conversations.filter((c) => c.split === 'validation');
  const validates = validation.length > 0 ? ` “Validate every” scores the policy on ${validation.map((c) => c.sampleId).join(', ')}.` : ' It has no validation conversation (conv-30), so no validation.';
  return `${name}: training on ${training.map((c) => c.sampleId).join(', ')} (${questions} questions).${validates}`;
}

/** How an exported checkpoint is named beside its download links. */
function checkpointLabel(name: string, status: TrainingStatus | null): string {
  const best = status?.best;
  if (best && name === best.checkpoint) return `best-validated checkpoint (step ${best.step})`;
  return `checkpoint step ${Number(/\d+/.exec(name)?.[0] ?? 0)}`;
}

/** Training a LoRA adapter on the local engine: settings, live charts, checkpoints and export. */
export function TrainPage({ host, choice, training, noGpu }: Props) {
  const model = useModelState(host);
  const ready = model.status === 'ready' && training !== undefined;
  const run = useTraining(training, ready);
  const [settings, setSettings] = useState(initialSettings);
  const [locomo, setLocomo] = useState<{ name: string; conversations: LocomoConversation[] } | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [links, setLinks] = useDownloadLinks();
  const [linksLabel, setLinksLabel] = useState<string | null>(null);
  const state = run.status?.state ?? 'idle';
  const active = state === 'running' || state === 'pausing' || state === 'stopping';
  const latest = run.history.at(-1);
  const hasAdapter = (run.status?.checkpoints.length ?? 0) > 0 || run.history.length > 0;
  const fullProblem = run.status?.fullFineTuneProblem ?? null;
  /** The run the worker holds trained every weight (its result is a model, not an adapter). */
  const fullRun = run.status?.config?.fineTune === 'full';

  // The form shows the settings of the run the worker holds (after a reload: its checkpoint's), once per run.
  const shownRun = useRef<string | null>(null);
  useEffect(() => {
    const status = run.status;
    if (!status?.config || active) return;
    const key = JSON.stringify([status.task, status.config]);
    if (shownRun.current === key) return;
    shownRun.current = key;
    setSettings((current) => settingsOfRun(status, current));
  }, [run.status, active]);

  const start = () => {
    const parsed = toRequest(settings);
    if ('problem' in parsed) return setProblem(parsed.problem);
    const { request, limits } = parsed;
    if (settings.fineTune === 'full' && fullProblem) return setProblem(fullProblem);
    if (request.task !== 'synthetic') {
      if (!locomo) return setProblem('Load LoCoMo (locomo10.json) under “LoCoMo data” first.');
      if (!locomo.conversations.some((c) => c.split === 'train')) return setProblem('That file has no training conversation (conv-26): load locomo10.json.');
      // The training conversation gives the tuples, the validation one scores the policy; the test split stays out.
      request.locomo = { conversations: locomo.conversations.filter((c) => c.split !== 'test'), ...limits };
    }
    setProblem(null);
    void run.start(request);
  };

  const exportPeft = async (checkpoint?: string) => {
    if (!training) return;
    try {
      const files = await training.exportAdapter(checkpoint);
      setLinks(files);
      setLinksLabel(checkpoint ? checkpointLabel(checkpoint, run.status) : `step ${latest?.step ?? run.status?.step ?? 0}`);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    }
  };

  const merge = async (name: string) => {
    if (!training) throw new Error('Training needs the local engine.');
    const result = await training.merge(name);
    return `Installed "${result.name}" in WebLLM's cache (${result.files.length} files, ${(result.bytes / 1e6).toFixed(1)} MB). Open the app without ?engine=local to run it with WebLLM.`;
  };

  const folder = training?.modelUrl.replace(/\/+$/, '').split('/').at(-1) ?? 'model';
  return (
    <div className="page train-page">
      <section className="panel intro">
        <h2>Train: teach the model to manage memory</h2>
        <p className="muted">
          Reinforcement learning on this computer&rsquo;s GPU: the model tries several answers to each prompt, gets a reward for the right memory operation, and a small LoRA adapter
          (or, for a float32 model, every weight) learns from the comparison. Nothing leaves the browser; checkpoints are kept here so a run can continue after a reload.
        </p>
      </section>
      <ModelSection choice={choice} training={training} />
      {training && <ModelNotice state={model} noGpu={noGpu} />}
      <section className="panel" aria-labelledby="train-setup-title">
        <h2 id="train-setup-title">Run</h2>
        <TrainSetup settings={settings} onChange={setSettings} disabled={active || run.busy || !training} fullProblem={fullProblem} />
        {settings.task !== 'synthetic' && (
          <SourcePicker
            idPrefix="train-"
            title="LoCoMo data"
            pick={false}
            disabled={active || run.busy}
            chosen={null}
            onChoose={() => undefined}
            onLoaded={(name, conversations) => {
              setLocomo({ name, conversations });
              setProblem(null);
            }}
          />
        )}
        {settings.task !== 'synthetic' && locomo && <p className="muted small">{trainingSummary(locomo)}</p>}
        {(problem ?? run.error) && (
          <p role="alert" className="notice error">
            {problem ?? run.error}
          </p>
        )}
        <RunPanel
          status={run.status}
          latest={latest}
          busy={run.busy}
          ready={ready}
          blocked={
            !training
              ? 'Training needs the local engine: open the app with a model folder (see Model, above).'
              : model.status === 'loading'
                ? 'Waiting for the model to load.'
                : model.status !== 'ready'
                  ? 'The model is not loaded (see the notice above).'
                  : null
          }
          onStart={start}
          onPause={() => void run.pause()}
          onResume={() => void run.resume()}
          onStop={() => void run.stop()}
          onRecover={() => void run.recover()}
        />
      </section>
      <section className="panel" aria-labelledby="train-charts-title">
        <h2 id="train-charts-title">Progress</h2>
        <TrainingCharts history={run.history} startScore={run.status?.startScore ?? null} />
      </section>
      <div className="two-columns">
        <section className="panel" aria-labelledby="train-checkpoints-title">
          <h2 id="train-checkpoints-title">Checkpoints</h2>
          <CheckpointList checkpoints={run.status?.checkpoints ?? []} best={run.status?.best ?? null} totalSteps={run.status?.totalSteps ?? 0} busy={run.busy || !ready} full={fullRun} onExport={(name) => void exportPeft(name)} />
        </section>
        <section className="panel" aria-labelledby="train-export-title">
          <h2 id="train-export-title">{fullRun ? 'Use the model' : 'Use the adapter'}</h2>
          <ExportPanel
            links={links}
            linksLabel={linksLabel}
            canExport={ready && hasAdapter}
            busy={run.busy}
            modelFormat={run.status?.modelFormat ?? null}
            full={fullRun}
            defaultName={`${folder}-memory-r1-step-${latest?.step ?? run.status?.step ?? 0}`.replace(/[^A-Za-z0-9._-]/g, '-')}
            onExport={() => void exportPeft()}
            onMerge={merge}
          />
        </section>
      </div>
    </div>
  );
}

/** Which model trains: the local engine's; without it, how to open the app with one. */
function ModelSection({ choice, training }: { choice: EngineChoice; training: TrainingApi | undefined }) {
  const [url, setUrl] = useState('');
  const open = (event: FormEvent) => {
    event.preventDefault();
    const target = new URL(window.location.href);
    target.search = `?engine=local&model=${encodeURIComponent(url.trim())}`;
    target.hash = '#/train';
    window.location.assign(target.href);
  };
  return (
    <section className="panel" aria-labelledby="train-model-title">
      <h2 id="train-model-title">Model</h2>
      {training ? (
        <p>
          Training runs on our own WebGPU engine with the model at <code className="url">{training.modelUrl}</code>.
        </p>
      ) : (
        <p>
          Training runs on our own WebGPU engine{choice.kind === 'local' ? '' : `, not ${choice.kind === 'webllm' ? 'WebLLM' : 'scripted replies'}`}. Open the app with{' '}
          <code>?engine=local&amp;model=URL</code>, where URL is a Hugging Face or MLC model folder (for example{' '}
          <code className="url">https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC/resolve/main/</code>), or enter it here.
        </p>
      )}
      <form className="row" onSubmit={open}>
        <label htmlFor="train-model-url">{training ? 'Train another model' : 'Model folder URL'}</label>
        <input id="train-model-url" type="text" inputMode="url" value={url} onChange={(e) => setUrl(e.target.value)} placeholder="https://…/resolve/main/" spellCheck={false} />
        <button type="submit" disabled={!url.trim()}>
          Open with this model
        </button>
      </form>
    </section>
  );
}
