// `npm run bench -- train`: the long learning run (GRPO on the synthetic memory-operation task, tiny
// model, 60 steps: the reward curve) and training throughput (forward + backward tokens per second) for
// the tiny model and for a random model of Qwen2.5-0.5B's shape (SFT steps on the same task).
import { requestNodeGpuContext } from '../../src/gpu/node-device';
import { Engine } from '../../src/model/engine';
import { DirectorySource } from '../../src/model/source.node.js';
import { syntheticTask } from '../../src/train/tasks/synthetic';
import { Trainer } from '../../src/train/trainer';
import { ensureBenchModels } from './bench-models';
import { BENCH_MODELS } from './bench-models-list';

const gpu = await requestNodeGpuContext();
const dirs = await ensureBenchModels();
const log = (text: string) => console.error(`[train] ${text}`);
const [tinyModel, bigModel] = BENCH_MODELS;

const tiny = await Engine.load(new DirectorySource(dirs[tinyModel.name]!), gpu);
const grpo = new Trainer(tiny, { algorithm: 'grpo', totalSteps: 60, promptsPerStep: 8, groupSize: 16, grpo: { beta: 0 }, lora: { rank: 8, alpha: 16 }, optimizer: { lr: 3e-3 }, adapterName: 'grpo' }, syntheticTask());
const curve = await grpo.run({ onProgress: (m) => log(`grpo step ${m.step}: reward ${m.rewardMean?.toFixed(3)} ${m.tokensPerSecond.toFixed(0)} tok/s`) });
grpo.dispose();
tiny.dispose();

const big = await Engine.load(new DirectorySource(dirs[bigModel.name]!), gpu);
const sft = new Trainer(big, { algorithm: 'sft', totalSteps: 2, promptsPerStep: 1, lora: { rank: 16, alpha: 32 }, adapterName: 'sft' }, syntheticTask());
const bigSteps = await sft.run({ onProgress: (m) => log(`0.5b-shape sft step ${m.step}: ${m.tokens} tokens, ${m.tokensPerSecond.toFixed(2)} tok/s`) });
sft.dispose();
big.dispose();

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
console.log(
  JSON.stringify({
    adapter: gpu.adapterInfo,
    grpo_tiny: {
      reward_curve: curve.map((m) => +(m.rewardMean ?? 0).toFixed(3)),
      first5_mean: +mean(curve.slice(0, 5).map((m) => m.rewardMean ?? 0)).toFixed(3),
      last5_mean: +mean(curve.slice(-5).map((m) => m.rewardMean ?? 0)).toFixed(3),
      training_tokens_per_s: +mean(curve.map((m) => m.tokensPerSecond)).toFixed(1),
    },
    qwen25_05b_shape_sft: { steps: bigSteps.length, training_tokens_per_s: +mean(bigSteps.map((m) => m.tokensPerSecond)).toFixed(3), seconds_per_step: +mean(bigSteps.map((m) => m.seconds)).toFixed(1) },
  }),
);
gpu.device.destroy();
