// The app's opt-in "model server": the agents' calls go to an OpenAI-compatible server (vLLM, Ollama,
// llama.cpp, OpenAI, memory-r1 serve) instead of running in the tab. Connecting first asks the server
// which models it serves, so a wrong address, a page the server does not allow (CORS) or a wrong model
// name fails here, with what to do, rather than on the first chat message.
import { apiBase, OpenAIChatModel } from '../../llm/openai';
import type { LoadedModel } from './model-host';

export interface ModelServerSettings {
  url: string;
  model: string;
  /** Kept in memory for this tab only: never stored. */
  apiKey?: string;
  embeddingModel?: string;
}

export async function connectModelServer(settings: ModelServerSettings, fetcher: typeof fetch = fetch.bind(globalThis)): Promise<LoadedModel> {
  const base = apiBase(settings.url.trim());
  const model = settings.model.trim();
  if (!model) throw new Error('Give the model name the server serves (its /v1/models list).');
  const headers: Record<string, string> = settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {};
  let response: Response;
  try {
    response = await fetcher(`${base}/models`, { headers });
  } catch {
    throw new Error(
      `Cannot reach ${base} from this page. Is the server running, and does it allow this page's address (${location.origin})? ` +
        'vLLM: --allowed-origins (any by default); Ollama: OLLAMA_ORIGINS; memory-r1 serve: --allow-origin.',
    );
  }
  if (response.status === 401 || response.status === 403) throw new Error(`${base} refused the request (HTTP ${response.status}): check the API key.`);
  if (!response.ok) throw new Error(`${base}/models answered HTTP ${response.status}: check the address (it usually ends in /v1).`);
  const list = (await response.json().catch(() => ({}))) as { data?: { id?: unknown }[] };
  const names = (list.data ?? []).map((m) => m.id).filter((id): id is string => typeof id === 'string');
  if (names.length > 0 && !names.includes(model)) throw new Error(`${base} does not serve "${model}"; it serves: ${names.join(', ')}.`);
  return new OpenAIChatModel({
    url: base,
    model,
    ...(settings.apiKey ? { apiKey: settings.apiKey } : {}),
    ...(settings.embeddingModel?.trim() ? { embeddingModel: settings.embeddingModel.trim() } : {}),
    concurrency: 2,
  });
}
