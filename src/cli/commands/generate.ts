// `memory-r1 generate`: text from a model folder on the GPU engine, greedy or sampled, optionally with a
// LoRA adapter, a chat template and JSON-Schema-constrained output.
import { readFile } from 'node:fs/promises';
import { generate as generateText } from '../../model/generate';
import { JsonConstraint } from '../../model/json-constraint';
import { numberOption, parseOptions, requireOption, UsageError, type Command } from '../command';
import { withEngine } from '../engine';
import { ENDPOINT_OPTIONS, ENDPOINT_USAGE, oneModelSource, openEndpoint, type OpenedEndpoint } from '../endpoint-option';

/** The prompt as one user message to a model server (chat completions), printed as it streams. */
async function generateOnEndpoint(endpoint: OpenedEndpoint, prompt: string, schemaPath: string | undefined, sampling: { maxTokens: number; temperature: number; topP: number; seed: number; stop: string[] }, json: boolean): Promise<number> {
  let schema: Record<string, unknown> | undefined;
  if (schemaPath !== undefined) {
    try {
      schema = JSON.parse(await readFile(schemaPath, 'utf8')) as Record<string, unknown>;
    } catch (e) {
      throw new UsageError(`--json-schema ${schemaPath}: cannot read it as JSON (${(e as Error).message})`);
    }
  }
  const reply = await endpoint.model.chat({
    messages: [{ role: 'user', content: prompt }],
    max_tokens: sampling.maxTokens,
    temperature: sampling.temperature,
    top_p: sampling.topP,
    seed: sampling.seed,
    ...(sampling.stop.length ? { stop: sampling.stop } : {}),
    ...(schema ? { json_schema: schema } : {}),
    ...(json ? {} : { onToken: (delta: string) => void process.stdout.write(delta) }),
  });
  if (json) console.log(JSON.stringify({ text: reply.text, finishReason: reply.finishReason ?? null, usage: reply.usage }));
  else process.stdout.write('\n');
  return 0;
}

/** Reads and compiles a schema file, with errors that name the file and the problem. */
async function readSchema(path: string): Promise<JsonConstraint> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UsageError(`--json-schema ${path}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--json-schema ${path}: not valid JSON (${(e as Error).message})`);
  }
  try {
    return new JsonConstraint(schema);
  } catch (e) {
    throw new UsageError(`--json-schema ${path}: ${(e as Error).message}`);
  }
}

export const generate: Command = {
  name: 'generate',
  summary: 'generate text from a prompt (greedy or sampled, chat template, LoRA adapter, JSON schema)',
  usage: `usage: memory-r1 generate (--model DIR | --endpoint URL --endpoint-model NAME) --prompt TEXT [--adapter DIR] [--chat] [--max-tokens N]
                          [--temperature T] [--top-p P] [--top-k K] [--seed S] [--stop STR ...] [--json-schema FILE] [--json]

Runs the model (a Hugging Face or MLC folder) on the GPU and prints the generated text as it comes.
  --chat              wrap the prompt as a user message in the model's chat template (default: raw text)
  --adapter DIR       a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)
  --max-tokens N      most tokens to generate (default 128)
  --temperature T     0 = greedy, deterministic (default 0)
  --top-p P           nucleus sampling mass (default 1)
  --top-k K           candidates considered per step when sampling or constraining (default 64)
  --seed S            sampling seed: the same seed gives the same text (default 0)
  --stop STR          end before this text (repeatable; not with --json-schema)
  --json-schema FILE  constrain the output to JSON matching this JSON Schema (see src/model/json-schema.ts
                      for the supported subset); the output is always complete, valid JSON
  --json              print {"text", "ids", "finishReason", "usage"} instead of the text
Generation ends at an end-of-sequence token, a stop string, a finished JSON value, or --max-tokens.
Values starting with '-' need --prompt=VALUE.
With --endpoint the prompt is sent as one user message (chat completions; --chat is implied, --adapter
and --top-k do not apply: name an adapter with --endpoint-model), and ids are not printed.

${ENDPOINT_USAGE}`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      model: { type: 'string' },
      adapter: { type: 'string' },
      prompt: { type: 'string' },
      chat: { type: 'boolean', default: false },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      'top-p': { type: 'string' },
      'top-k': { type: 'string' },
      seed: { type: 'string' },
      stop: { type: 'string', multiple: true },
      'json-schema': { type: 'string' },
      json: { type: 'boolean', default: false },
      ...ENDPOINT_OPTIONS,
    });
    oneModelSource(values);
    const endpoint = openEndpoint(values);
    const modelDir = endpoint ? '' : requireOption(values.model, '--model');
    const prompt = values.prompt;
    if (prompt === undefined) throw new UsageError('missing --prompt');
    const maxTokens = numberOption(values['max-tokens'], '--max-tokens', 128, { integer: true, min: 0 });
    const temperature = numberOption(values.temperature, '--temperature', 0, { min: 0 });
    const topP = numberOption(values['top-p'], '--top-p', 1);
    if (!(topP > 0 && topP <= 1)) throw new UsageError(`--top-p must be in (0, 1], got "${values['top-p']}"`);
    const topK = numberOption(values['top-k'], '--top-k', 64, { integer: true, min: 1 });
    const seed = numberOption(values.seed, '--seed', 0, { integer: true });
    const stop = values.stop ?? [];
    if (endpoint) {
      for (const flag of ['adapter', 'top-k'] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to --endpoint (name an adapter with --endpoint-model)`);
      if (values['json-schema'] !== undefined && stop.length > 0) throw new UsageError('--stop cannot be combined with --json-schema');
      return generateOnEndpoint(endpoint, prompt, values['json-schema'], { maxTokens, temperature, topP, seed, stop }, values.json);
    }
    // Everything that can be checked without the GPU fails first.
    const constraint = values['json-schema'] === undefined ? undefined : await readSchema(values['json-schema']);
    if (constraint && stop.length > 0) throw new UsageError('--stop cannot be combined with --json-schema (the JSON value decides where the output ends)');
    return withEngine(modelDir, values.adapter, async (engine, adapter) => {
      const tok = engine.tokenizer;
      const promptIds = values.chat ? tok.encode(tok.applyChatTemplate([{ role: 'user', content: prompt }], { addGenerationPrompt: true })) : tok.encode(prompt, { addSpecialTokens: true });
      if (promptIds.length === 0) throw new UsageError('--prompt gives no tokens; there is nothing to continue from');
      if (promptIds.length >= engine.maxTokens) throw new Error(`the prompt has ${promptIds.length} tokens; the model's context holds ${engine.maxTokens}`);
      const session = engine.session({ ...adapter, maxTokens: Math.min(engine.maxTokens, promptIds.length + Math.max(1, maxTokens)) });
      try {
        const result = await generateText(session, tok, {
          promptIds,
          maxTokens,
          temperature,
          topP,
          topK,
          seed,
          stop,
          jsonSchema: constraint,
          onToken: values.json ? undefined : (delta) => process.stdout.write(delta),
        });
        if (values.json) console.log(JSON.stringify({ text: result.text, ids: result.ids, finishReason: result.finishReason, usage: result.usage }));
        else process.stdout.write('\n');
      } finally {
        session.dispose();
      }
      return 0;
    });
  },
};
