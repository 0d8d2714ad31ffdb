import { useEffect, useMemo, useState } from 'react';
import type { LocomoConversation } from '../../eval/locomo';
import { buildReport, reportMarkdown } from '../../eval/report';
import { ModelNotice } from '../components/ModelNotice';
import { SourcePicker } from '../demo/SourcePicker';
import { downloadLink, revoke, type DownloadLink } from '../download';
import { useModelState, type ModelHost } from '../engines/model-host';
import type { EvaluationApi } from '../engines/services';
import { EvalSetupForm, parseLimits, type SetupDraft } from '../eval/EvalSetupForm';
import { ReportTable } from '../eval/ReportTable';
import { useEvaluation } from '../eval/useEvaluation';
import { formatSeconds } from '../format';

interface Props {
  host: ModelHost;
  evaluation: EvaluationApi | undefined;
  quickLoad?: { label: string; load: () => void } | undefined;
  noGpu: boolean;
}

/** The LoCoMo benchmark with the loaded model, scored and laid out as in the Memory-R1 paper. */
export function EvaluatePage({ host, evaluation, quickLoad, noGpu }: Props) {
  const model = useModelState(host);
  const run = useEvaluation(evaluation);
  const [file, setFile] = useState<{ name: string; conversations: LocomoConversation[] } | null>(null);
  const [draft, setDraft] = useState<SetupDraft>({ split: 'test', conversations: '', questions: '', turns: '' });
  const [problem, setProblem] = useState<string | null>(null);
  const modelLabel = model.status === 'ready' ? model.label : null;

  const start = () => {
    const parsed = parseLimits(draft);
    if ('problem' in parsed) return setProblem(parsed.problem);
    setProblem(null);
    if (!file || model.status !== 'ready') return;
    void run.run(file.conversations, { split: draft.split, limits: parsed.limits }, model.model, model.label);
  };

  const report = useMemo(
    () => (run.outcome ? buildReport(run.outcome.results, { method: `ours: ${String(run.outcome.identity.model)}`, split: String(run.outcome.identity.split) }) : null),
    [run.outcome],
  );

  return (
    <div className="page evaluate-page">
      <section className="panel intro">
        <h2>Evaluate on LoCoMo</h2>
        <p className="muted">
          Each conversation is remembered turn by turn into its own bank, then every question is answered from it and scored against the gold answer with F1 and BLEU-1, as in the
          Memory-R1 paper. Progress is kept in this browser: running the same set-up again continues where it stopped.
        </p>
      </section>
      <ModelNotice state={model} quickLoad={quickLoad} noGpu={noGpu} />
      <SourcePicker
        idPrefix="eval-"
        title="Benchmark data"
        pick={false}
        disabled={run.running}
        chosen={null}
        onChoose={() => undefined}
        onLoaded={(name, conversations) => {
          setFile({ name, conversations });
          const splits = new Set(conversations.map((c) => c.split));
          if (!splits.has(draft.split)) setDraft((d) => ({ ...d, split: conversations[0]!.split }));
        }}
      />
      <section className="panel" aria-labelledby="eval-run-title">
        <h2 id="eval-run-title">Run</h2>
        {file ? (
          <p className="muted small">
            {file.name}: {file.conversations.length} conversation{file.conversations.length === 1 ? '' : 's'}.
          </p>
        ) : (
          <p className="muted small">Load locomo10.json above first.</p>
        )}
        <EvalSetupForm draft={draft} onChange={setDraft} conversations={file?.conversations ?? []} disabled={run.running} />
        <div className="row">
          {run.running ? (
            <button type="button" onClick={run.stop}>
              Stop
            </button>
          ) : (
            <button type="button" className="primary" disabled={!file || !modelLabel} onClick={start}>
              Run the evaluation
            </button>
          )}
          {modelLabel && !run.running && (
            <button type="button" onClick={() => void run.startOver({ split: draft.split, limits: {} }, modelLabel)} disabled={!evaluation}>
              Forget saved progress
            </button>
          )}
          {modelLabel && <span className="muted small">with {modelLabel}</span>}
        </div>
        {(problem ?? run.error) && (
          <p role="alert" className="notice error">
            {problem ?? run.error}
          </p>
        )}
        <EvalProgressBar progress={run.progress} running={run.running} />
        {run.outcome && !run.running && (
          <p className="muted small" role="status">
            Done: {run.outcome.results.length} questions ({run.outcome.answered} answered now, {run.outcome.skipped} from earlier runs of this set-up).
          </p>
        )}
      </section>
      {report && (
        <section className="panel" aria-labelledby="eval-results-title">
          <h2 id="eval-results-title">Results</h2>
          <ReportTable report={report} />
          <ul className="notes small muted">
            {report.notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
          <ResultDownloads json={JSON.stringify({ report, results: run.outcome!.results }, null, 2)} markdown={reportMarkdown(report)} />
        </section>
      )}
    </div>
  );
}

function EvalProgressBar({ progress, running }: { progress: ReturnType<typeof useEvaluation>['progress']; running: boolean }) {
  if (!progress) return running ? <p className="muted small">Starting…</p> : null;
  const what = progress.phase === 'ingest' ? `remembering ${progress.sampleId}, turn ${progress.turn} of ${progress.turns}` : `answering ${progress.sampleId}`;
  return (
    <div className="eval-progress">
      <p className="small" role="status">
        Questions {progress.questionsDone} of {progress.questionsTotal} · {what}
        {progress.etaMs !== undefined && running && ` · about ${formatSeconds(progress.etaMs / 1000)} left`}
      </p>
      <progress className="replay-progress" max={Math.max(1, progress.questionsTotal)} value={progress.questionsDone} aria-label="Evaluation progress" />
    </div>
  );
}

function ResultDownloads({ json, markdown }: { json: string; markdown: string }) {
  const [links, setLinks] = useState<DownloadLink[]>([]);
  // Made in the effect that frees them, so a remount (StrictMode's too) never leaves revoked links.
  useEffect(() => {
    const made = [downloadLink('locomo-eval.json', json, 'application/json'), downloadLink('locomo-eval.md', markdown, 'text/markdown')];
    setLinks(made);
    return () => revoke(made);
  }, [json, markdown]);
  return (
    <div className="row">
      {links.map((link) => (
        <a key={link.name} className="file-button" href={link.href} download={link.name}>
          Download {link.name.endsWith('.md') ? 'Markdown' : 'JSON'}
        </a>
      ))}
    </div>
  );
}
