// The Train page's view of the trainer in the engine worker: its status (from the worker, so it survives
// a reload through the latest checkpoint), the metrics history as steps arrive, and the controls.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { StartTrainingRequest, TrainingEvent, TrainingStatus } from '../../hosts/trainer-host';
import type { StepMetrics } from '../../train/trainer';
import type { TrainingApi } from '../engines/services';

export interface Training {
  status: TrainingStatus | null;
  history: StepMetrics[];
  /** A control is waiting for the worker's answer. */
  busy: boolean;
  error: string | null;
  start(request: StartTrainingRequest): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  /** Reloads the model after a lost GPU device, then resumes from the last checkpoint. */
  recover(): Promise<void>;
  refresh(): Promise<void>;
}

export function useTraining(api: TrainingApi | undefined, modelReady: boolean): Training {
  const [status, setStatus] = useState<TrainingStatus | null>(null);
  const [history, setHistory] = useState<StepMetrics[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const mounted = useRef(true);

  const take = useCallback((s: TrainingStatus) => {
    if (!mounted.current) return;
    setStatus(s);
    setHistory(s.history);
  }, []);

  // One listener for the page's life: steps append, status events replace.
  const listener = useCallback(
    (event: TrainingEvent) => {
      if (!mounted.current) return;
      if (event.type === 'status') take(event.status);
      else setHistory((h) => [...h.filter((m) => m.step < event.metrics.step), event.metrics]);
    },
    [take],
  );

  useEffect(() => {
    mounted.current = true;
    return () => void (mounted.current = false);
  }, []);

  const act = useCallback(
    async (work: () => Promise<TrainingStatus | void>) => {
      setBusy(true);
      setError(null);
      try {
        const s = await work();
        if (s) take(s);
      } catch (e) {
        if (mounted.current) setError(e instanceof Error ? e.message : String(e));
      } finally {
        if (mounted.current) setBusy(false);
      }
    },
    [take],
  );

  const refresh = useCallback(async () => {
    if (api) await act(() => api.status());
  }, [api, act]);

  useEffect(() => {
    if (modelReady) void refresh();
  }, [modelReady, refresh]);

  const need = (): TrainingApi => {
    if (!api) throw new Error('Training needs the local engine: open the app with ?engine=local&model=URL.');
    return api;
  };

  return {
    status,
    history,
    busy,
    error,
    start: (request) => act(() => need().start(request, listener)),
    pause: () => act(() => need().pause()),
    resume: () => act(() => need().resume(listener)),
    stop: () => act(() => need().stop()),
    recover: () =>
      act(async () => {
        await need().reloadModel();
        return need().resume(listener);
      }),
    refresh,
  };
}
