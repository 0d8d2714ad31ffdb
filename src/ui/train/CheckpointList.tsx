// The model's checkpoints in this browser, latest first (the latest few are kept, and the best-validated
// step's after them), each downloadable as a PEFT adapter (a run that trained every weight: as a Hugging Face model).
import type { CheckpointInfo, TrainingStatus } from '../../hosts/trainer-host';

interface Props {
  checkpoints: readonly CheckpointInfo[];
  best: TrainingStatus['best'];
  totalSteps: number;
  busy: boolean;
  /** The run trained every weight. */
  full: boolean;
  onExport: (name: string) => void;
}

export function CheckpointList({ checkpoints, best, totalSteps, busy, full, onExport }: Props) {
  const kind = full ? 'model' : 'PEFT';
  const kept = best?.checkpoint ? { name: best.checkpoint, step: best.step, score: best.score } : null;
  if (checkpoints.length === 0 && !kept) return <p className="empty">No checkpoints yet: one is saved every few steps, and on pause and stop.</p>;
  const of = totalSteps > 0 ? ` of ${totalSteps}` : '';
  return (
    <ul className="checkpoints" aria-label="Checkpoints">
      {[...checkpoints].reverse().map((c, i) => (
        <li key={c.name}>
          <span>
            Step {c.step}
            {of}
            {i === 0 && <span className="badge">latest</span>}
          </span>
          <button type="button" className="small-button" disabled={busy} onClick={() => onExport(c.name)} aria-label={`Export step ${c.step} as ${kind}`}>
            Export as {kind}
          </button>
        </li>
      ))}
      {kept && (
        <li key={kept.name}>
          <span>
            Step {kept.step}
            {of}
            <span className="badge">best validated · {(kept.score * 100).toFixed(1)} %</span>
          </span>
          <button type="button" className="small-button" disabled={busy} onClick={() => onExport(kept.name)} aria-label={`Export the best-validated step (${kept.step}) as ${kind}`}>
            Export as {kind}
          </button>
        </li>
      )}
    </ul>
  );
}
