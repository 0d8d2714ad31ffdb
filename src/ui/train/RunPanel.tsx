// The run's controls and where it stands: start / pause / resume / stop, the step count with its ETA,
// and the latest step's numbers (with the validation score, when the run validates).
import { useState } from 'react';
import type { TrainingStatus } from '../../hosts/trainer-host';
import type { StepMetrics } from '../../train/trainer';
import { formatSeconds } from '../format';
import { isPausedRun } from './run-settings';

interface Props {
  status: TrainingStatus | null;
  latest: StepMetrics | undefined;
  busy: boolean;
  /** A model is loaded and a run can start. */
  ready: boolean;
  /** Why a run cannot start now, said beside the controls (null when it can). */
  blocked?: string | null;
  onStart: () => void;
  onPause: () => void;
  onResume: () => void;
  onStop: () => void;
  onRecover: () => void;
}

const STATE_TEXT: Record<TrainingStatus['state'], string> = {
  idle: 'Not running',
  running: 'Training',
  pausing: 'Pausing after this step…',
  paused: 'Paused',
  stopping: 'Stopping after this step…',
  stopped: 'Stopped',
  finished: 'Finished',
  failed: 'Stopped by an error',
  'device-lost': 'GPU lost',
};

const percent = (score: number) => `${(score * 100).toFixed(1)} %`;
const num = (v: number | null, digits = 3) => (v === null || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export function RunPanel({ status, latest, busy, ready, blocked = null, onStart, onPause, onResume, onStop, onRecover }: Props) {
  const state = status?.state ?? 'idle';
  const active = state === 'running' || state === 'pausing' || state === 'stopping';
  const total = status?.totalSteps ?? 0;
  const step = latest?.step ?? status?.step ?? 0;
  const hasRun = (status?.checkpoints.length ?? 0) > 0 || (status?.history.length ?? 0) > 0;
  const checkpoints = status?.checkpoints.length ?? 0;
  // After a reload the worker is idle, but a run short of its steps waits in its checkpoint: that is a pause.
  const paused = isPausedRun(status);
  const canResume = !active && !!status?.canResume && state !== 'device-lost';
  const [confirming, setConfirming] = useState(false);
  const best = status?.best ?? null;
  const lastScored = [...(status?.history ?? [])].reverse().find((m) => m.validation !== undefined);
  const start = () => (checkpoints > 0 ? setConfirming(true) : onStart());
  return (
    <>
      <div className="row run-controls">
        {canResume && (
          <button type="button" className="primary" disabled={!ready || busy} onClick={onResume}>
            Resume
          </button>
        )}
        {!active && !confirming && (
          <button type="button" className={canResume ? undefined : 'primary'} disabled={!ready || busy} aria-describedby={blocked ? 'run-why' : undefined} onClick={start}>
            {hasRun ? 'Start a new run…' : 'Start training'}
          </button>
        )}
        {state === 'running' && (
          <button type="button" disabled={busy} onClick={onPause}>
            Pause
          </button>
        )}
        {state === 'device-lost' && (
          <button type="button" className="primary" disabled={busy} onClick={onRecover}>
            Reload the model and resume
          </button>
        )}
        {(state === 'running' || state === 'paused') && (
          <button type="button" className="danger" disabled={busy} onClick={onStop}>
            Stop
          </button>
        )}
      </div>
      {blocked && !active && (
        <p id="run-why" className="muted small">
          {blocked}
        </p>
      )}
      {confirming && !active && (
        <div role="group" aria-labelledby="new-run-question" className="confirm-box">
          <p id="new-run-question">
            A new run replaces this model&rsquo;s {checkpoints} saved checkpoint{checkpoints === 1 ? '' : 's'}
            {paused ? ` and the paused run at step ${status?.step ?? 0} of ${total}` : ''}. Start a new run?
          </p>
          <div className="row">
            <button
              type="button"
              className="danger"
              autoFocus
              onClick={() => {
                setConfirming(false);
                onStart();
              }}
            >
              Replace them and start
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </div>
        </div>
      )}
      <p role="status" className="run-state">
        <strong>{paused ? 'Paused' : STATE_TEXT[state]}</strong>
        {total > 0 && ` · step ${step} of ${total}`}
        {active && latest && ` · ${latest.seconds.toFixed(1)} s per step · about ${formatSeconds(latest.etaSeconds)} left`}
        {paused && state === 'idle' && ' · saved in this browser; Resume continues it'}
      </p>
      {total > 0 && <progress className="replay-progress" max={total} value={step} aria-label="Training progress" />}
      {status?.message && (
        <p role={state === 'failed' || state === 'device-lost' ? 'alert' : undefined} className={`notice ${state === 'failed' || state === 'device-lost' ? 'error' : 'info'}`}>
          {status.message}
        </p>
      )}
      {latest && (
        <dl className="facts step-facts" aria-label="Latest step">
          <dt>Reward</dt>
          <dd>{latest.rewardMean === null ? '– (SFT)' : `${num(latest.rewardMean, 3)} ± ${num(latest.rewardStd, 3)}`}</dd>
          <dt>KL</dt>
          <dd>{num(latest.kl, 4)}</dd>
          <dt>Loss</dt>
          <dd>{num(latest.loss, 4)}</dd>
          <dt>Clipped</dt>
          <dd>{(latest.clipFraction * 100).toFixed(1)} % of tokens</dd>
          <dt>Grad norm</dt>
          <dd>{num(latest.gradNorm, 3)}</dd>
          <dt>Skipped</dt>
          <dd>{latest.skippedSteps} updates (non-finite gradients)</dd>
          <dt>Throughput</dt>
          <dd>{latest.tokensPerSecond.toFixed(0)} tokens/s</dd>
          <dt>Time left</dt>
          <dd>{formatSeconds(latest.etaSeconds)}</dd>
          {best && (
            <>
              <dt>Validation</dt>
              <dd>
                {lastScored && `${percent(lastScored.validation!)} after step ${lastScored.step} · `}
                best {percent(best.score)} {best.step === 0 ? 'before training' : `after step ${best.step}`}
              </dd>
            </>
          )}
        </dl>
      )}
    </>
  );
}
