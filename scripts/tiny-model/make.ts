// Developer script: write a tiny random model folder.
//   npx tsx scripts/tiny-model/make.ts --out tmp/tiny-qwen --format hf|mlc [--arch qwen2|llama] [--quant q0f32|q0f16|q4f16_1|q4f32_1] [--seed N]
// (The product CLI's `memory-r1 make-tiny-model` calls the same writeTinyModel.)

import { parseArgs } from 'node:util';
import { MLC_QUANTIZATIONS, type Quantization } from '../../src/model/config';
import { writeTinyModel } from '../../src/model/tiny.node.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string' },
    format: { type: 'string', default: 'hf' },
    arch: { type: 'string', default: 'qwen2' },
    quant: { type: 'string', default: 'q0f32' },
    seed: { type: 'string', default: '0' },
  },
});
const fail = (msg: string): never => {
  console.error(`${msg}\nusage: make.ts --out DIR --format hf|mlc [--arch qwen2|llama] [--quant ${MLC_QUANTIZATIONS.join('|')}] [--seed N]`);
  process.exit(2);
};
if (!values.out) fail('--out is required');
if (values.format !== 'hf' && values.format !== 'mlc') fail(`--format must be hf or mlc, got ${values.format}`);
if (values.arch !== 'qwen2' && values.arch !== 'llama') fail(`--arch must be qwen2 or llama, got ${values.arch}`);
if (!(MLC_QUANTIZATIONS as readonly string[]).includes(values.quant)) fail(`--quant must be one of ${MLC_QUANTIZATIONS.join(', ')}`);
const seed = Number(values.seed);
if (!Number.isSafeInteger(seed)) fail(`--seed must be an integer, got ${values.seed}`);

try {
  const files = await writeTinyModel(values.out!, {
    format: values.format as 'hf' | 'mlc',
    arch: values.arch as 'qwen2' | 'llama',
    quant: values.quant as Quantization,
    seed,
  });
  console.log(JSON.stringify({ out: values.out, files }));
} catch (e) {
  fail((e as Error).message);
}
