// What a page that talks to the model is handed (Chat, Demo): the bank it works on, the model host, the
// settings, and what to say when no model is ready.
import type { MemoryStore } from '../../memory';
import type { ModelHost } from '../engines/model-host';
import type { Settings } from '../settings';

export interface ModelPageProps {
  store: MemoryStore;
  bankId: string;
  host: ModelHost;
  settings: Settings;
  /** The model chosen before, offered in one click when none is loaded. */
  quickLoad?: { label: string; load: () => void } | undefined;
  /** The browser has no WebGPU and the engine needs it. */
  noGpu?: boolean;
}
