// `memory-r1 metrics`: every answer metric for one prediction against one gold answer.
import { scoreAnswer } from '../../eval/metrics';
import { numberOption, parseOptions, UsageError, type Command } from '../command';

export const metrics: Command = {
  name: 'metrics',
  summary: 'score one answer: exact match, F1, BLEU-1 (Memory-R1 / Mem0) and LoCoMo F1',
  usage: `usage: memory-r1 metrics --pred TEXT --gold TEXT [--category 1|2|3|4|5] [--json]

Scores a predicted answer against a gold answer:
  em         exact match after lowercasing and removing punctuation and a/an/the (Memory-R1's reward)
  f1         token-set F1 as Memory-R1 and Mem0 report it
  bleu1      BLEU-1 as Memory-R1 and Mem0 report it (NLTK sentence_bleu, smoothing method1)
  locomo_f1  LoCoMo's own F1 (Porter-stemmed); --category picks its rule: 1 multi-part answers split on
             commas, 3 gold cut at the first ';', 2 and 4 plain (default 4)
An empty --pred is allowed (it scores 0). Values starting with '-' need --pred=VALUE.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      pred: { type: 'string' },
      gold: { type: 'string' },
      category: { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    if (values.pred === undefined) throw new UsageError('missing --pred');
    if (values.gold === undefined) throw new UsageError('missing --gold');
    const category = numberOption(values.category, '--category', 4, { integer: true, min: 1 });
    if (category > 5) throw new UsageError(`--category must be 1-5, got ${category}`);
    const scores = scoreAnswer(values.pred, values.gold, category);
    if (values.json) console.log(JSON.stringify(scores));
    else for (const [name, value] of Object.entries(scores)) console.log(`${name.padEnd(9)} ${value.toFixed(4)}`);
    return 0;
  },
};
