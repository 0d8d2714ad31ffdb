// When a model that can embed is loaded, memories stored without an embedding (before any embedding
// model, or under one of another size) get one in the background, so meaning-based search covers the
// whole bank. Reports progress for the status bar; a failure only means those memories stay word-searched.
import { useEffect, useState } from 'react';
import type { MemoryStore } from '../../memory';
import type { ModelState } from './model-host';

export type Backfill = { done: number; total: number } | null;

export function useEmbeddingBackfill(store: MemoryStore, bankId: string, model: ModelState): Backfill {
  const [progress, setProgress] = useState<Backfill>(null);
  const chat = model.status === 'ready' ? model.model : undefined;
  useEffect(() => {
    if (!chat?.embed) return;
    const controller = new AbortController();
    void store
      .embedMissing(bankId, { signal: controller.signal, onProgress: (done, total) => setProgress(done < total ? { done, total } : null) })
      .catch(() => undefined)
      .finally(() => setProgress(null));
    return () => controller.abort();
  }, [store, bankId, chat]);
  return progress;
}
