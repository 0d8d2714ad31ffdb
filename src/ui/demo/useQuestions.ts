import { useCallback, useRef, useState } from 'react';
import type { LocomoConversation } from '../../eval/locomo';
import { scoreAnswer } from '../../eval/metrics';
import type { Memory, MemoryStore } from '../../memory';
import { pipelineFor } from '../chat/turn';
import type { ModelHost } from '../engines/model-host';
import type { Settings } from '../settings';
import { lastDate } from './replay';

export interface QaResult {
  question: string;
  gold: string;
  answer: string;
  f1: number;
  category: number;
  used: Memory[];
}

/** Asks the benchmark's questions of the replayed bank, one at a time, scoring each answer against the gold one. */
export function useQuestions({ store, bankId, host, settings }: { store: MemoryStore; bankId: string; host: ModelHost; settings: Settings }) {
  const [results, setResults] = useState<QaResult[]>([]);
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const stop = useRef(false);

  const ask = useCallback(
    async (conversation: LocomoConversation, count: number) => {
      const model = host.model;
      if (!model) return;
      setAsking(true);
      setError(null);
      setResults([]);
      stop.current = false;
      const pipeline = pipelineFor(model, store, bankId, settings);
      const date = lastDate(conversation);
      try {
        for (const qa of conversation.qa.slice(0, count)) {
          if (stop.current) break;
          const report = await pipeline.ask(qa.question, date ? { date } : {});
          const f1 = scoreAnswer(report.answer, qa.answer, qa.category).f1;
          setResults((r) => [...r, { question: qa.question, gold: qa.answer, answer: report.answer, f1, category: qa.category, used: report.usedMemories }]);
        }
      } catch (e) {
        setError(`A question failed: ${(e as Error).message}`);
      } finally {
        setAsking(false);
      }
    },
    [host, store, bankId, settings],
  );

  const clear = useCallback(() => setResults([]), []);
  return { results, asking, error, ask, stop: () => void (stop.current = true), clear };
}
