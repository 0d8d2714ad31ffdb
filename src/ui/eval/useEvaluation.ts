// Runs the LoCoMo evaluation (src/eval/runner.ts) with the loaded model, keeping its progress in a store
// per set-up (split, turns, model), so running the same set-up again skips what is already answered.
import { useCallback, useRef, useState } from 'react';
import type { ChatModel } from '../../llm/chat-model';
import { conversationsOf, type LocomoConversation, type Split } from '../../eval/locomo';
import { runLocomoEval, type EvalLimits, type EvalProgress, type QuestionResult, type RunIdentity } from '../../eval/runner';
import type { EvaluationApi } from '../engines/services';

export interface EvalSetup {
  split: Split;
  limits: EvalLimits;
}

export interface EvalOutcome {
  results: QuestionResult[];
  /** Answered now, and found answered by an earlier run of this set-up. */
  answered: number;
  skipped: number;
  identity: RunIdentity;
}

export interface Evaluation {
  running: boolean;
  progress: EvalProgress | null;
  outcome: EvalOutcome | null;
  error: string | null;
  run(conversations: readonly LocomoConversation[], setup: EvalSetup, model: ChatModel, modelLabel: string): Promise<void>;
  stop(): void;
  /** Forgets the saved progress of this set-up. */
  startOver(setup: EvalSetup, modelLabel: string): Promise<void>;
}

/** What changes banks or answers; limits only select questions, so a bigger run reuses a smaller one's. */
const identityOf = (setup: EvalSetup, modelLabel: string): RunIdentity => ({ split: setup.split, turns: setup.limits.turns ?? null, model: modelLabel });
const runIdOf = (identity: RunIdentity) => JSON.stringify(identity);

export function useEvaluation(api: EvaluationApi | undefined): Evaluation {
  const [running, setRunning] = useState(false);
  const [progress, setProgress] = useState<EvalProgress | null>(null);
  const [outcome, setOutcome] = useState<EvalOutcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const controller = useRef<AbortController | null>(null);

  const run = useCallback(
    async (all: readonly LocomoConversation[], setup: EvalSetup, model: ChatModel, modelLabel: string) => {
      if (!api) return setError('This page was opened without storage for evaluations.');
      const conversations = conversationsOf(all, setup.split);
      if (conversations.length === 0) return setError(`The file has no conversations in the ${setup.split} split.`);
      const identity = identityOf(setup, modelLabel);
      const abort = (controller.current = new AbortController());
      setRunning(true);
      setError(null);
      setProgress(null);
      try {
        const store = await api.openStore(runIdOf(identity));
        const result = await runLocomoEval({
          conversations,
          model,
          store,
          identity,
          bankKey: modelLabel,
          limits: setup.limits,
          signal: abort.signal,
          onProgress: setProgress,
        });
        setOutcome({ results: result.results, answered: result.answered, skipped: result.skipped, identity });
      } catch (e) {
        const aborted = abort.signal.aborted;
        setError(aborted ? 'Stopped. What was answered is kept: run again to continue.' : e instanceof Error ? e.message : String(e));
      } finally {
        controller.current = null;
        setRunning(false);
      }
    },
    [api],
  );

  const startOver = useCallback(
    async (setup: EvalSetup, modelLabel: string) => {
      if (!api) return;
      await (await api.openStore(runIdOf(identityOf(setup, modelLabel)))).clear();
      setOutcome(null);
      setProgress(null);
      setError(null);
    },
    [api],
  );

  return { running, progress, outcome, error, run, stop: () => controller.current?.abort(), startOver };
}
