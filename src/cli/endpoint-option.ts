// `--endpoint URL --endpoint-model NAME` and the settings that go with them, shared by every command
// that chooses a model, so each takes a model server the same way. The API key is read from the
// environment variable named by --endpoint-key-env (default OPENAI_API_KEY), never from a flag: flags
// end up in shell histories and process lists.
import { JSON_MODES, OpenAIChatModel, type JsonMode } from '../llm/openai';
import { numberOption, UsageError } from './command';

export const ENDPOINT_OPTIONS = {
  endpoint: { type: 'string' },
  'endpoint-model': { type: 'string' },
  'endpoint-key-env': { type: 'string' },
  'endpoint-embedding-model': { type: 'string' },
  'endpoint-json': { type: 'string' },
  'endpoint-timeout': { type: 'string' },
  'endpoint-retries': { type: 'string' },
  'endpoint-concurrency': { type: 'string' },
  'endpoint-any-model': { type: 'boolean' },
} as const;

export const ENDPOINT_USAGE = `A model server instead of a model folder (any OpenAI-compatible API: vLLM, Ollama, llama.cpp's
llama-server, OpenAI, memory-r1 serve):
  --endpoint URL              the API's base URL, e.g. http://127.0.0.1:8000/v1
  --endpoint-model NAME       the model name the server knows (an adapter's name on vLLM or memory-r1 serve)
  --endpoint-key-env VAR      environment variable holding the API key (default OPENAI_API_KEY; unset = none)
  --endpoint-embedding-model NAME  embeddings from this model for vector retrieval (default: lexical only)
  --endpoint-json MODE        json_schema (default: the server enforces our schemas), json_object, or none
                              (plain text; the agents parse and repair replies)
  --endpoint-timeout S        seconds to wait for an answer (for a stream: between chunks; default 120)
  --endpoint-retries N        retries of a busy, failing or cut-off request, with backoff (default 4)
  --endpoint-concurrency N    requests in flight at once (default 4)
  --endpoint-any-model        accept replies under another model name (servers that ignore the name)`;

export type EndpointValues = { [K in keyof typeof ENDPOINT_OPTIONS]?: (typeof ENDPOINT_OPTIONS)[K]['type'] extends 'boolean' ? boolean : string };

export interface OpenedEndpoint {
  model: OpenAIChatModel;
  /** What identifies the model in run identities and caches: its name (not its address, which may move). */
  identity: string;
}

/** True when any --endpoint-* option was given. */
export function wantsEndpoint(values: EndpointValues): boolean {
  return values.endpoint !== undefined || values['endpoint-model'] !== undefined;
}

/** The model server the options name, or undefined when there is no --endpoint. `modelName` overrides --endpoint-model (e.g. a judge). */
export function openEndpoint(values: EndpointValues, env: NodeJS.ProcessEnv = process.env, modelName?: string, urlOverride?: string): OpenedEndpoint | undefined {
  const url = urlOverride ?? values.endpoint;
  if (url === undefined) {
    if (values['endpoint-model'] !== undefined) throw new UsageError('--endpoint-model needs --endpoint URL');
    return undefined;
  }
  const model = modelName ?? values['endpoint-model'];
  if (!model) throw new UsageError('--endpoint needs --endpoint-model NAME (the names the server lists at URL/models)');
  const jsonMode = (values['endpoint-json'] ?? 'json_schema') as JsonMode;
  if (!JSON_MODES.includes(jsonMode)) throw new UsageError(`--endpoint-json must be one of ${JSON_MODES.join(', ')}, got "${values['endpoint-json']}"`);
  const keyVariable = values['endpoint-key-env'] ?? 'OPENAI_API_KEY';
  if (values['endpoint-key-env'] !== undefined && !env[keyVariable]) throw new UsageError(`--endpoint-key-env ${keyVariable}: that environment variable is not set`);
  const apiKey = env[keyVariable] || undefined;
  const timeout = numberOption(values['endpoint-timeout'], '--endpoint-timeout', 120, { min: 0.001 });
  const retries = numberOption(values['endpoint-retries'], '--endpoint-retries', 4, { integer: true, min: 0 });
  const concurrency = numberOption(values['endpoint-concurrency'], '--endpoint-concurrency', 4, { integer: true, min: 1 });
  let opened: OpenAIChatModel;
  try {
    opened = new OpenAIChatModel({
      url,
      model,
      ...(apiKey ? { apiKey, apiKeyVariable: keyVariable } : {}),
      ...(values['endpoint-embedding-model'] ? { embeddingModel: values['endpoint-embedding-model'] } : {}),
      jsonMode,
      timeoutMs: timeout * 1000,
      retries,
      concurrency,
      checkModel: !values['endpoint-any-model'],
      onRetry: (error, attempt, waitMs) => process.stderr.write(`${error.message}; retry ${attempt}/${retries} in ${(waitMs / 1000).toFixed(1)} s\n`),
    });
  } catch (error) {
    throw new UsageError(`--endpoint: ${(error as Error).message}`);
  }
  const embedding = values['endpoint-embedding-model'] ? `+${values['endpoint-embedding-model']}` : '';
  return { model: opened, identity: `endpoint:${model}${embedding}|json=${jsonMode}` };
}

/** Refuses a command line that names both a model folder and a model server. */
export function oneModelSource(values: EndpointValues & { model?: string | undefined }): void {
  if (values.model !== undefined && values.endpoint !== undefined) throw new UsageError('give --model DIR or --endpoint URL, not both');
}
