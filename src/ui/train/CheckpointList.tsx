// The model's checkpoints in this browser (the latest few are kept), each downloadable as a PEFT adapter.
import type { CheckpointInfo } from '../../hosts/trainer-host';

interface Props {
  checkpoints: readonly CheckpointInfo[];
  totalSteps: number;
  busy: boolean;
  onExport: (name: string) => void;
}

export function CheckpointList({ checkpoints, totalSteps, busy, onExport }: Props) {
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
          <button type="button" className="small-button" disabled={busy} onClick={() => onExport(c.name)} aria-label={`Export step ${c.step} as PEFT`}>
            Export as PEFT
          </button>
        </li>
      ))}
    </ul>
  );
}
