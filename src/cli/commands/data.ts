// `memory-r1 data stats`: what a LoCoMo file holds, counted the way Memory-R1 splits and names it.
// `memory-r1 data generate`: a seeded LoCoMo-format file small enough for a tiny model (src/eval/generate.ts).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateLocomoText } from '../../eval/generate';
import { parseLocomo } from '../../eval/locomo';
import { readLocomoFile } from '../../eval/locomo.node.js';
import { formatStats, locomoStats } from '../../eval/locomo-stats';
import { numberOption, parseOptions, requireOption, UsageError, type Command } from '../command';

const SUBCOMMANDS = ['stats', 'generate'] as const;

const GENERATE_USAGE = `usage: memory-r1 data generate --out FILE --conversations N --seed S [--sessions N] [--trips N] [--json]

Writes N seeded conversations in locomo10.json's format: two speakers, dated sessions, facts stated,
refined (a pet's name), contradicted (a move, a new job), told in answer to a question, and trips with
relative dates; questions of categories 1-4 with gold answers and evidence dia_ids. The first is conv-26
(the training split, with twice the trips), the second conv-30 (validation), the rest the test split,
so every LoCoMo command (train, eval, data stats) reads the file as it reads locomo10.json.
  --out FILE           where to write (atomically)
  --conversations N    how many (≥ 1; 3 gives one of each split)
  --seed S             the same seed gives the same file
  --sessions N         sessions per conversation (default 3, ≥ 2)
  --trips N            trips per speaker in a test conversation (default 1)
  --json               print the file's counts as JSON`;

async function generate(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, {
    out: { type: 'string' },
    conversations: { type: 'string' },
    seed: { type: 'string' },
    sessions: { type: 'string' },
    trips: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const out = requireOption(values.out, '--out');
  const conversations = numberOption(requireOption(values.conversations, '--conversations'), '--conversations', 0, { integer: true, min: 1 });
  const seed = numberOption(requireOption(values.seed, '--seed'), '--seed', 0, { integer: true, min: 0 });
  const sessions = numberOption(values.sessions, '--sessions', 3, { integer: true, min: 2 });
  const trips = numberOption(values.trips, '--trips', 1, { integer: true, min: 0 });
  const text = generateLocomoText({ conversations, seed, sessions, trips });
  const stats = locomoStats(parseLocomo(text)); // the real loader: what is written is what LoCoMo commands read
  await mkdir(dirname(out), { recursive: true });
  const temporary = `${out}.${process.pid}.tmp`;
  await writeFile(temporary, text);
  await rename(temporary, out);
  console.log(values.json ? JSON.stringify({ out, ...stats }, null, 2) : `wrote ${out}\n${formatStats(stats)}`);
  return 0;
}

export const data: Command = {
  name: 'data',
  summary: 'LoCoMo data: question counts per split and category (data stats), seeded generated files (data generate)',
  usage: `usage: memory-r1 data stats --data FILE [--json] [--include-adversarial]

Loads and validates a LoCoMo file (locomo10.json) and prints: conversations, sessions, turns; questions
per Memory-R1 split (train conv-26, validation conv-30, test the other 8) and per category (1 single-hop,
2 temporal, 3 multi-hop, 4 open-domain, as Memory-R1 / Mem0 tables name them; LoCoMo's own code swaps
the names of 1 and 4); session dates without a session; evidence ids that match no turn.
Category 5 (adversarial) is left out, as Memory-R1 and Mem0 do, unless --include-adversarial.

  --data FILE              the LoCoMo JSON file (e.g. ../shared/data/locomo10.json)
  --json                   print the counts as JSON
  --include-adversarial    count category-5 questions too

${GENERATE_USAGE}`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub.startsWith('-')) throw new UsageError(`missing sub-command: ${SUBCOMMANDS.join(', ')}`);
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`unknown sub-command "${sub}" (expected ${SUBCOMMANDS.join(', ')})`);
    if (sub === 'generate') return generate(rest);
    const { values } = parseOptions(rest, {
      data: { type: 'string' },
      json: { type: 'boolean', default: false },
      'include-adversarial': { type: 'boolean', default: false },
    });
    const path = requireOption(values.data, '--data');
    const conversations = await readLocomoFile(path, { includeAdversarial: values['include-adversarial'] });
    const stats = locomoStats(conversations);
    console.log(values.json ? JSON.stringify(stats, null, 2) : formatStats(stats));
    return 0;
  },
};
