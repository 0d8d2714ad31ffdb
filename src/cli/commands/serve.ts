// `memory-r1 serve`: an OpenAI-compatible server over our engine. The base model and each --adapter are
// served under their own names, and the request's `model` picks one (vLLM's multi-LoRA serving does
// the same), so anything that speaks the OpenAI API (our own --endpoint, TRL/verl tooling, curl) can
// use a model and its trained adapters. Bound to 127.0.0.1 unless --host says otherwise.
import { basename, resolve } from 'node:path';
import { requestNodeGpuContext } from '../../gpu/node-device';
import type { ChatModel, ChatRequest, ChatResponse } from '../../llm/chat-model';
import { LocalChatModel } from '../../llm/local';
import { Engine } from '../../model/engine';
import { JsonConstraint } from '../../model/json-constraint';
import { readPeftFiles } from '../../model/peft';
import { DirectorySource } from '../../model/source.node.js';
import { numberOption, parseOptions, requireOption, UsageError, type Command } from '../command';
import { embedOnEngine } from '../engine-embeddings';
import { createOpenAIServer, type ServedModel } from '../openai-server';
import { serveUntilStopped } from '../serve-until-stopped';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

/** Parses `NAME=DIR` pairs, refusing duplicate or ill-formed names. */
export function adapterPairs(pairs: readonly string[], baseName: string): [string, string][] {
  const out: [string, string][] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at);
    const dir = pair.slice(at + 1);
    if (at <= 0 || !dir) throw new UsageError(`--adapter takes NAME=DIR, got "${pair}"`);
    if (!NAME.test(name)) throw new UsageError(`--adapter ${name}: a name is letters, digits and . _ : / - (it is what requests put in "model")`);
    if (name === baseName || out.some(([n]) => n === name)) throw new UsageError(`--adapter ${name}: that name is already served`);
    out.push([name, dir]);
  }
  return out;
}

/** One GPU queue: requests to the base model and to adapters take turns rather than interleave. */
function serialised(model: ChatModel, lock: { tail: Promise<unknown> }): ChatModel {
  return {
    id: model.id,
    chat(request: ChatRequest): Promise<ChatResponse> {
      const run = lock.tail.then(() => model.chat(request));
      lock.tail = run.catch(() => undefined);
      return run;
    },
  };
}

export const serve: Command = {
  name: 'serve',
  summary: 'serve a model and its LoRA adapters over an OpenAI-compatible HTTP API',
  usage: `usage: memory-r1 serve --model DIR [--adapter NAME=DIR ...] [--port P] [--host 127.0.0.1] [--served-model-name NAME]

An OpenAI-compatible server over our WebGPU engine (node:http):
  POST /v1/chat/completions   messages, temperature, top_p, max_tokens, seed, stop, stream (server-sent
                              events), response_format json_schema (our constrained decoding)
  POST /v1/embeddings         mean-pooled final hidden states, unit length (a decoder model's, see README)
  GET  /v1/models             the base model and each adapter (with its parent), by name
The request's "model" picks the base model (--served-model-name, default the folder's name) or an
adapter by its NAME, as vLLM's --lora-modules serving does.
  --model DIR             a Hugging Face or MLC model folder
  --adapter NAME=DIR      a PEFT LoRA adapter served as NAME (repeatable)
  --port P                port (default 8000; 0 = any free port, printed)
  --host H                address to listen on (default 127.0.0.1: this machine only)
  --max-tokens N          longest session, prompt + reply (default: the model's, at most 4096)
  --allow-origin ORIGIN   let web pages from ORIGIN (e.g. http://localhost:5173) call the server from a
                          browser, as the app's "Model server" does (repeatable; default: none)
  --json                  print {"url", "models"} as one JSON line once listening
Stops on Ctrl-C or SIGTERM.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      model: { type: 'string' },
      adapter: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      'served-model-name': { type: 'string' },
      'max-tokens': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      json: { type: 'boolean', default: false },
    });
    const modelDir = resolve(requireOption(values.model, '--model'));
    const port = numberOption(values.port, '--port', 8000, { integer: true, min: 0 });
    if (port > 65535) throw new UsageError(`--port must be at most 65535, got ${port}`);
    const baseName = values['served-model-name'] ?? basename(modelDir);
    const adapters = adapterPairs(values.adapter ?? [], baseName);
    const maxTokens = values['max-tokens'] === undefined ? undefined : numberOption(values['max-tokens'], '--max-tokens', 0, { integer: true, min: 2 });
    // Adapter files are read first: a bad folder fails before the GPU is touched.
    const peft = await Promise.all(adapters.map(async ([name, dir]) => [name, await readPeftFiles(new DirectorySource(resolve(dir)))] as const));

    const gpu = await requestNodeGpuContext();
    const engine = await Engine.load(new DirectorySource(modelDir), gpu, maxTokens ? { maxTokens } : {});
    for (const [name, files] of peft) engine.addAdapter(name, files);
    const lock = { tail: Promise.resolve() as Promise<unknown> };
    const models = new Map<string, ServedModel>([[baseName, { model: serialised(new LocalChatModel(engine, { id: baseName }), lock) }]]);
    for (const [name] of adapters) models.set(name, { model: serialised(new LocalChatModel(engine, { adapter: name, id: name }), lock), parent: baseName });
    const server = createOpenAIServer({
      models,
      embed: (_name, texts) => {
        const run = lock.tail.then(() => embedOnEngine(engine, texts));
        lock.tail = run.catch(() => undefined);
        return run;
      },
      checkSchema: (schema) => void new JsonConstraint(schema),
      allowOrigins: values['allow-origin'] ?? [],
      log: (line) => process.stderr.write(`${line}\n`),
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(new Error(error.code === 'EADDRINUSE' ? `port ${port} on ${values.host} is in use: pick another with --port` : `cannot listen on ${values.host}:${port} (${error.message})`)),
      );
      server.listen(port, values.host, () => resolveListen());
    });
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const host = values.host.includes(':') ? `[${values.host}]` : values.host;
    const url = `http://${host}:${actualPort}/v1`;
    if (values.json) console.log(JSON.stringify({ url, models: [...models.keys()] }));
    else console.log(`serving ${[...models.keys()].join(', ')} at ${url}`);
    if (values.host !== '127.0.0.1' && values.host !== 'localhost' && values.host !== '::1') {
      process.stderr.write(`warning: listening on ${values.host}: other machines can reach this server, and it has no authentication\n`);
    }
    await serveUntilStopped(server);
    engine.dispose();
    gpu.device.destroy();
    return 0;
  },
};
