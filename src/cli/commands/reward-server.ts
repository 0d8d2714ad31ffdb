// `memory-r1 reward-server`: Memory-R1's rewards over HTTP for trainers elsewhere (TRL, verl), scoring
// completions against the exported tuples; the manager's frozen answer agent runs on a model server
// (--endpoint) or on the local engine (--model).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { requestNodeGpuContext } from '../../gpu/node-device';
import { TUPLES_VERSION, type TrainingTuples } from '../../eval/tuples';
import type { ChatModel } from '../../llm/chat-model';
import { LocalChatModel } from '../../llm/local';
import { Engine } from '../../model/engine';
import { DirectorySource } from '../../model/source.node.js';
import { numberOption, parseOptions, requireOption, UsageError, type Command } from '../command';
import { ENDPOINT_OPTIONS, ENDPOINT_USAGE, oneModelSource, openEndpoint } from '../endpoint-option';
import { createRewardServer } from '../reward-service';
import { serveUntilStopped } from '../serve-until-stopped';

async function readTuples(path: string): Promise<TrainingTuples> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`--tuples ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); \`memory-r1 export\` writes OUT/tuples.json`);
  }
  let value: Partial<TrainingTuples>;
  try {
    value = JSON.parse(text) as Partial<TrainingTuples>;
  } catch {
    throw new UsageError(`--tuples ${path}: not JSON`);
  }
  if (value?.version !== TUPLES_VERSION || !Array.isArray(value.manager) || !Array.isArray(value.answer)) {
    throw new UsageError(`--tuples ${path}: not a tuple file of version ${TUPLES_VERSION} (the one \`memory-r1 export\` writes)`);
  }
  return value as TrainingTuples;
}

export const rewardServer: Command = {
  name: 'reward-server',
  summary: "serve Memory-R1's rewards over HTTP for TRL / verl training (batched)",
  usage: `usage: memory-r1 reward-server --tuples FILE [--endpoint URL --endpoint-model NAME | --model DIR] [--port P] [--host H]

Answers POST /reward {"items": [{"tuple_id": ID, "completion": TEXT}, ...]} with {"rewards": [...]}, one
reward per item in order (tuple ids are the exported rows' tuple_id / extra_info.tuple_id):
  answer tuples   exact match of the answer after **Answer:** with the gold answer
  manager tuples  the completion's operations applied to the tuple's bank snapshot, then the frozen
                  answer agent (--endpoint or --model: the base model, no adapter) answers the questions
                  linked to the turn; the mean exact match (Memory-R1's manager reward)
Errors: 400 for a bad item, 404 for an unknown tuple id, 503 when the frozen model's server fails.
  --tuples FILE          the tuples \`memory-r1 export\` wrote (OUT/tuples.json)
  --model DIR            the frozen answer agent on this machine's GPU
  --max-new-tokens N     cap the frozen answer agent's replies (as train --max-new-tokens does)
  --concurrency N        items of a request scored at once (default 8)
  --port P               port (default 8001; 0 = any free port, printed)
  --host H               address to listen on (default 127.0.0.1)
  --json                 print {"url"} as one JSON line once listening

${ENDPOINT_USAGE}`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      tuples: { type: 'string' },
      model: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      concurrency: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string', default: '127.0.0.1' },
      json: { type: 'boolean', default: false },
      ...ENDPOINT_OPTIONS,
    });
    const tuples = await readTuples(requireOption(values.tuples, '--tuples'));
    oneModelSource(values);
    const port = numberOption(values.port, '--port', 8001, { integer: true, min: 0 });
    const cap = values['max-new-tokens'] === undefined ? undefined : numberOption(values['max-new-tokens'], '--max-new-tokens', 0, { integer: true, min: 1 });
    const concurrency = numberOption(values.concurrency, '--concurrency', 8, { integer: true, min: 1 });
    const endpoint = openEndpoint(values);
    let frozen: ChatModel | undefined = endpoint?.model;
    let close = () => {};
    if (!frozen && values.model !== undefined) {
      const gpu = await requestNodeGpuContext();
      const engine = await Engine.load(new DirectorySource(resolve(values.model)), gpu);
      frozen = new LocalChatModel(engine);
      close = () => {
        engine.dispose();
        gpu.device.destroy();
      };
    }
    if (!frozen && tuples.manager.length > 0) process.stderr.write('note: no --endpoint or --model, so manager tuples cannot be scored (answer tuples can)\n');
    const server = createRewardServer(
      { tuples, ...(frozen ? { frozen } : {}), ...(cap ? { rewardOptions: { sampling: { temperature: 0, top_p: 1, max_tokens: cap } } } : {}), concurrency },
      (line) => process.stderr.write(`${line}\n`),
    );
    await new Promise<void>((ok, fail) => {
      server.once('error', (error: NodeJS.ErrnoException) => fail(new Error(error.code === 'EADDRINUSE' ? `port ${port} is in use: pick another with --port` : error.message)));
      server.listen(port, values.host, () => ok());
    });
    const address = server.address();
    const url = `http://${values.host}:${typeof address === 'object' && address ? address.port : port}`;
    if (values.json) console.log(JSON.stringify({ url, answer: tuples.answer.length, manager: tuples.manager.length }));
    else console.log(`rewards for ${tuples.answer.length} answer and ${tuples.manager.length} manager tuples at ${url}/reward`);
    await serveUntilStopped(server);
    close();
    return 0;
  },
};
