import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { LocomoConversation } from '../../eval/locomo';
import type { MemoryStore } from '../../memory';
import { pipelineFor } from '../chat/turn';
import type { ModelHost } from '../engines/model-host';
import type { Settings } from '../settings';
import { replayTurns, type ReplayTurn } from './replay';

export type ReplayState = 'idle' | 'playing' | 'pausing';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Replays a conversation into a bank turn by turn through the real pipeline. Pausing lets the turn in
 * progress finish (its operations land whole); resetting or leaving aborts it.
 */
export function useReplay({ store, bankId, host, settings }: { store: MemoryStore; bankId: string; host: ModelHost; settings: Settings }) {
  const [conversation, setConversation] = useState<LocomoConversation | null>(null);
  const turns = useMemo<ReplayTurn[]>(() => (conversation ? replayTurns(conversation) : []), [conversation]);
  const [position, setPosition] = useState(0);
  const [state, setState] = useState<ReplayState>('idle');
  const [error, setError] = useState<string | null>(null);
  const [delayMs, setDelayMs] = useState(1000);
  const delay = useRef(delayMs);
  delay.current = delayMs;
  const cursor = useRef(0);
  const pauseWanted = useRef(false);
  const abort = useRef<AbortController | null>(null);
  const settingsRef = useRef(settings);
  settingsRef.current = settings;

  useEffect(() => () => abort.current?.abort(), []);

  const reset = useCallback(async () => {
    abort.current?.abort();
    cursor.current = 0;
    setPosition(0);
    setError(null);
    await store.wipe(bankId);
  }, [store, bankId]);

  const choose = useCallback(
    async (next: LocomoConversation | null) => {
      await reset();
      setConversation(next);
    },
    [reset],
  );

  /** Ingests up to `count` turns (Infinity: to the end), pausing `delayMs` between them. */
  const run = useCallback(
    async (count: number) => {
      const model = host.model;
      if (!model || state !== 'idle') return;
      const controller = new AbortController();
      abort.current = controller;
      pauseWanted.current = false;
      setError(null);
      setState('playing');
      try {
        if (cursor.current === 0) {
          await store.wipe(bankId);
          await store.ensureBank(bankId, 'Demo');
        }
        const pipeline = pipelineFor(model, store, bankId, settingsRef.current);
        for (let done = 0; done < count && cursor.current < turns.length; done++) {
          if (done > 0) await sleep(delay.current);
          if (pauseWanted.current || controller.signal.aborted) break;
          const turn = turns[cursor.current]!;
          await pipeline.ingest({ id: turn.id, speaker: turn.speaker, text: turn.text, ...(turn.date ? { sessionDate: turn.date } : {}) }, { signal: controller.signal });
          cursor.current++;
          setPosition(cursor.current);
        }
      } catch (e) {
        if (!(e instanceof DOMException && e.name === 'AbortError')) setError(`Turn ${cursor.current + 1} failed: ${(e as Error).message}`);
      } finally {
        abort.current = null;
        setState('idle');
      }
    },
    [host, state, store, bankId, turns],
  );

  const pause = useCallback(() => {
    pauseWanted.current = true;
    setState((s) => (s === 'playing' ? 'pausing' : s));
  }, []);

  return { conversation, choose, turns, position, state, error, delayMs, setDelayMs, play: () => run(Infinity), step: () => run(1), pause, reset };
}
