// `memory-r1 data stats`: what a LoCoMo file holds, counted the way Memory-R1 splits and names it.
import { readLocomoFile } from '../../eval/locomo.node.js';
import { formatStats, locomoStats } from '../../eval/locomo-stats';
import { parseOptions, requireOption, UsageError, type Command } from '../command';

const SUBCOMMANDS = ['stats'] as const;

export const data: Command = {
  name: 'data',
  summary: 'LoCoMo data: question counts per split and category (data stats)',
  usage: `usage: memory-r1 data stats --data FILE [--json] [--include-adversarial]

Loads and validates a LoCoMo file (locomo10.json) and prints: conversations, sessions, turns; questions
per Memory-R1 split (train conv-26, validation conv-30, test the other 8) and per category (1 single-hop,
2 temporal, 3 multi-hop, 4 open-domain, as Memory-R1 / Mem0 tables name them; LoCoMo's own code swaps
the names of 1 and 4); session dates without a session; evidence ids that match no turn.
Category 5 (adversarial) is left out, as Memory-R1 and Mem0 do, unless --include-adversarial.

  --data FILE              the LoCoMo JSON file (e.g. ../shared/data/locomo10.json)
  --json                   print the counts as JSON
  --include-adversarial    count category-5 questions too`,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === undefined || sub.startsWith('-')) throw new UsageError(`missing sub-command: ${SUBCOMMANDS.join(', ')}`);
    if (!(SUBCOMMANDS as readonly string[]).includes(sub)) throw new UsageError(`unknown sub-command "${sub}" (expected ${SUBCOMMANDS.join(', ')})`);
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
