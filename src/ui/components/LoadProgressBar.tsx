import type { LoadProgress } from '../../llm/webllm-progress';
import { formatSeconds } from '../format';

/** A model load as one bar: percent, megabytes when known, and time left estimated from the time so far. */
export function LoadProgressBar({ label, progress }: { label: string; progress: LoadProgress | null }) {
  const fraction = progress?.fraction ?? 0;
  const percent = Math.floor(fraction * 100);
  // Time left assumes the rest goes as fast as what is done; meaningless until a little is done.
  const left = progress && fraction > 0.02 && fraction < 1 ? (progress.elapsedS * (1 - fraction)) / fraction : undefined;
  const parts = [`${percent}%`];
  if (progress?.megabytes !== undefined) parts.push(`${progress.megabytes} MB`);
  if (progress) parts.push(`${formatSeconds(progress.elapsedS)} so far`);
  if (left !== undefined) parts.push(`about ${formatSeconds(left)} left`);
  return (
    <div className="load-progress">
      <progress max={100} value={percent} aria-label={`Loading ${label}`} />
      <p className="small">
        <span>{parts.join(' · ')}</span>
        {progress?.text && <span className="muted"> — {progress.text}</span>}
      </p>
    </div>
  );
}
