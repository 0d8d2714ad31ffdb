// The model's checkpoints in this browser (the latest few are kept), each downloadable as a PEFT adapter
// (a run that trained every weight: as a Hugging Face model).
import type { CheckpointInfo } from '../../hosts/trainer-host';

interface Props {
  checkpoints: readonly CheckpointInfo[];
  totalSteps: number;
  busy: boolean;
  /** The run trained every weight. */
  full: boolean;
  onExport: (name: string) => void;
}

export function CheckpointList({ checkpoints, totalSteps, busy, full, onExport }: Props) {
  const kind = full ? 'model' : 'PEFT';
  if (checkpoints.length === 0) return <p className="empty">No checkpoints yet: one is saved every few steps, and on pause and stop.</p>;
  return (
    <ul className="checkpoints" aria-label="Checkpoints">
      {[...checkpoints].reverse().map((c, i) => (
        <li key={c.name}>
          <span>
            Step {c.step}
            {totalSteps > 0 && ` of ${totalSteps}`}
            {i === 0 && <span className="badge">latest</span>}
          </span>
          <button type="button" className="small-button" disabled={busy} onClick={() => onExport(c.name)} aria-label={`Export step ${c.step} as ${kind}`}>
            Export as {kind}
          </button>
        </li>
      ))}
    </ul>
  );
}
