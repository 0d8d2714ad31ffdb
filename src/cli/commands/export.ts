// `memory-r1 export`: Memory-R1's LoCoMo training tuples (built as `train` builds them, cached) written
// as the datasets cluster trainers read: TRL's conversational prompt dataset (JSON lines) or verl's RL
// dataset (Parquet). Their rewards come from `memory-r1 reward-server`, which reads the same tuples.
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { requestNodeGpuContext } from '../../gpu/node-device';
import { LOCOMO_TASKS, isLocomoTask, type LocomoTaskName } from '../../eval/locomo-task';
import { trlRows, verlRows } from '../../eval/trainer-datasets';
import { LocalChatModel } from '../../llm/local';
import { Engine } from '../../model/engine';
import { DirectorySource } from '../../model/source.node.js';
import { numberOption, parseOptions, requireOption, UsageError, type Command } from '../command';
import { ENDPOINT_OPTIONS, ENDPOINT_USAGE, oneModelSource, openEndpoint } from '../endpoint-option';
import { buildOrReadTuples } from '../tuple-source';
import { verlParquet } from '../verl-parquet';

const FORMATS = ['trl', 'verl'] as const;
type Format = (typeof FORMATS)[number];

async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, data);
  await rename(temporary, path);
}

export const exportData: Command = {
  name: 'export',
  summary: 'write the LoCoMo training tuples as a TRL (JSONL) or verl (Parquet) dataset',
  usage: `usage: memory-r1 export --task locomo-manager|locomo-answer --format trl|verl --data FILE
                        (--model DIR | --endpoint URL --endpoint-model NAME) --out DIR [options]

Builds Memory-R1's training tuples from LoCoMo's training conversation (conv-26) with the base model,
exactly as \`memory-r1 train\` does (same cache: --tuples), and writes one row per tuple:
  --format trl   OUT/<task>.trl.jsonl: {"prompt": [{role, content}...], "task", "tuple_id", "ground_truth"},
                 TRL's conversational prompt dataset (extra columns reach reward functions as kwargs)
  --format verl  OUT/<task>.verl.parquet: data_source, prompt, ability, reward_model {style, ground_truth},
                 extra_info {index, sample_id, split, tuple_id, questions}: verl's RL dataset columns
Rewards: \`memory-r1 reward-server --tuples OUT/tuples.json\` scores completions by tuple_id (see examples/).
  --data FILE          locomo10.json
  --tuples FILE        the tuple cache (default OUT/tuples.json)
  --turns N            build from the first N turns only (smoke runs)
  --max-new-tokens N   cap the base model's replies while building
  --json               print {"file", "rows", ...} as JSON
A build that fails part-way (e.g. the model server goes away) keeps the replies it had: run the same
command again and it resumes from them.

${ENDPOINT_USAGE}`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      task: { type: 'string' },
      format: { type: 'string' },
      data: { type: 'string' },
      model: { type: 'string' },
      out: { type: 'string' },
      tuples: { type: 'string' },
      turns: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      json: { type: 'boolean', default: false },
      ...ENDPOINT_OPTIONS,
    });
    const task = requireOption(values.task, '--task');
    if (!isLocomoTask(task)) throw new UsageError(`--task must be one of ${LOCOMO_TASKS.join(', ')}, got "${task}"`);
    const format = requireOption(values.format, '--format') as Format;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, got "${values.format}"`);
    const data = requireOption(values.data, '--data');
    const out = requireOption(values.out, '--out');
    oneModelSource(values);
    const endpoint = openEndpoint(values);
    if (!endpoint && values.model === undefined) throw new UsageError('missing --model DIR or --endpoint URL (the base model that builds the tuples)');
    const settings = {
      turns: values.turns === undefined ? undefined : numberOption(values.turns, '--turns', 0, { integer: true, min: 1 }),
      maxNewTokens: values['max-new-tokens'] === undefined ? undefined : numberOption(values['max-new-tokens'], '--max-new-tokens', 0, { integer: true, min: 1 }),
    };
    const tuplesPath = values.tuples ?? join(out, 'tuples.json');

    const build = async (model: LocalChatModel | NonNullable<typeof endpoint>['model'], modelIdentity: string) =>
      buildOrReadTuples({ data, model, modelIdentity, tuplesPath, settings });
    let result: Awaited<ReturnType<typeof build>>;
    if (endpoint) result = await build(endpoint.model, endpoint.identity);
    else {
      const gpu = await requestNodeGpuContext();
      try {
        const engine = await Engine.load(new DirectorySource(resolve(values.model!)), gpu);
        try {
          // The identity is the folder as given, as `train` keys its tuples, so both share one cache.
          result = await build(new LocalChatModel(engine), values.model!);
        } finally {
          engine.dispose();
        }
      } finally {
        gpu.device.destroy();
      }
    }
    const { tuples } = result;
    const name = task as LocomoTaskName;
    const count = name === 'locomo-answer' ? tuples.answer.length : tuples.manager.length;
    if (count === 0) {
      throw new Error(
        name === 'locomo-manager'
          ? `no manager tuples: the base model found no facts in the ${tuples.linkedTurnsWithoutFacts} turns questions point to; use more turns, a larger --max-new-tokens, or a stronger model`
          : 'no answer tuples: the training conversation has no questions within the turns used',
      );
    }
    await mkdir(out, { recursive: true });
    const file = join(out, `${name}.${format}.${format === 'trl' ? 'jsonl' : 'parquet'}`);
    if (format === 'trl') await writeAtomically(file, trlRows(name, tuples).map((row) => `${JSON.stringify(row)}\n`).join(''));
    else await writeAtomically(file, verlParquet(verlRows(name, tuples)));
    const summary = { task: name, format, file, rows: count, tuples: tuplesPath, cached: result.cached, replayed: result.replayed, asked: result.asked };
    if (values.json) console.log(JSON.stringify(summary));
    else console.log(`wrote ${count} rows to ${file} (tuples ${result.cached ? 'read from' : 'built into'} ${tuplesPath})`);
    return 0;
  },
};
