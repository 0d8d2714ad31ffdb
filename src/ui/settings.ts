// The app's settings: one schema (validated on every read, so a stale or hand-edited value falls back to
// the default instead of breaking the app), persisted in the bank's database.
import { useCallback, useEffect, useState } from 'react';
import { z } from 'zod';
import type { MemoryStore } from '../memory';

export const SettingsSchema = z.object({
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  /** How the user is named in memories ("Ana lives in Lisbon"); the extractor writes facts about this name. */
  userName: z.string().trim().min(1).max(60).catch('User').default('User'),
  /** Catalogue key (webllm-catalogue.ts) of the chat model; empty until the user picks one. */
  chatModel: z.string().max(200).default(''),
  /** WebLLM embedding model id; empty = lexical retrieval only. */
  embeddingModel: z.string().max(200).default(''),
  /** Memories retrieved per speaker for answering (Memory-R1 uses 30 + 30). */
  perSpeaker: z.number().int().min(1).max(200).default(30),
  temperature: z.number().min(0).max(2).default(0),
  managerTemperature: z.number().min(0).max(2).default(0),
});
export type Settings = z.infer<typeof SettingsSchema>;
export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({});

const KEY = 'app-settings';

export function useSettings(store: MemoryStore): [Settings, (patch: Partial<Settings>) => void] {
  const [settings, setSettings] = useState<Settings>(DEFAULT_SETTINGS);
  useEffect(() => {
    void store.settings.get(KEY, SettingsSchema, DEFAULT_SETTINGS).then(setSettings);
  }, [store]);
  const update = useCallback(
    (patch: Partial<Settings>) =>
      setSettings((current) => {
        const next = SettingsSchema.parse({ ...current, ...patch });
        void store.settings.set(KEY, SettingsSchema, next);
        return next;
      }),
    [store],
  );
  return [settings, update];
}
