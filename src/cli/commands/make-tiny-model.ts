import { MLC_QUANTIZATIONS, type Quantization } from '../../model/config';
import { writeTinyModel } from '../../model/tiny.node.js';
import { numberOption, parseOptions, requireOption, UsageError, type Command } from '../command';

export const makeTinyModel: Command = {
  name: 'make-tiny-model',
  summary: 'write a tiny random model (HF or MLC folder) for tests and experiments',
  usage: `usage: memory-r1 make-tiny-model --out DIR --format hf|mlc [--arch qwen2|llama] [--quant ${MLC_QUANTIZATIONS.join('|')}] [--seed N]

Writes a small model with random weights (seeded), a byte-level BPE tokenizer and a chat template.
The same --arch and --seed give the same weights in both formats. HF folders take q0f32 or q0f16.
--shape qwen2.5-0.5b gives Qwen2.5-0.5B's layer sizes and vocabulary (random weights, ~1 GB in f16) for benchmarks.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      out: { type: 'string' },
      format: { type: 'string', default: 'hf' },
      arch: { type: 'string', default: 'qwen2' },
      quant: { type: 'string', default: 'q0f32' },
      seed: { type: 'string' },
      shape: { type: 'string', default: 'tiny' },
    });
    const out = requireOption(values.out, '--out');
    const format = values.format;
    if (format !== 'hf' && format !== 'mlc') throw new UsageError(`--format must be hf or mlc, got "${format}"`);
    if (values.arch !== 'qwen2' && values.arch !== 'llama') throw new UsageError(`--arch must be qwen2 or llama, got "${values.arch}"`);
    if (!(MLC_QUANTIZATIONS as readonly string[]).includes(values.quant)) throw new UsageError(`--quant must be one of ${MLC_QUANTIZATIONS.join(', ')}`);
    const seed = numberOption(values.seed, '--seed', 0, { integer: true, min: 0 });
    if (values.shape !== 'tiny' && values.shape !== 'qwen2.5-0.5b') throw new UsageError(`--shape must be tiny or qwen2.5-0.5b, got "${values.shape}"`);
    const files = await writeTinyModel(out, { format, arch: values.arch, quant: values.quant as Quantization, seed, shape: values.shape });
    console.log(`wrote ${files.length} files to ${out}: ${files.join(', ')}`);
    return 0;
  },
};
