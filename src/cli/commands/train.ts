// `memory-r1 train`: trains a LoRA adapter on the GPU (GRPO, PPO or SFT), checkpoints under
// OUT/checkpoints/ and writes the PEFT adapter into OUT.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requestNodeGpuContext } from '../../gpu/node-device';
import { Engine } from '../../model/engine';
import { DirectorySource } from '../../model/source.node.js';
import { DirectoryCheckpointStorage } from '../../train/checkpoint-storage.node.js';
import { decodeCheckpoint, latestCheckpoint, resumeTrainer, saveCheckpoint } from '../../train/checkpoint';
import { syntheticTask } from '../../train/tasks/synthetic';
import type { TaskExample, TrainingTask } from '../../train/task';
import { DEFAULT_TRAINER, Trainer, type Algorithm, type StepMetrics, type TrainerOptions } from '../../train/trainer';
import { conversationsOf } from '../../eval/locomo';
import { readLocomoFile } from '../../eval/locomo.node.js';
import { locomoTrainingTask, tupleIdentity, tuplesOnEngine } from '../../eval/locomo-task';
import { FileTupleCache } from '../../eval/tuples.node.js';
import { numberOption, parseOptions, progressReporter, requireOption, UsageError, type Command } from '../command';

const ALGORITHMS: Algorithm[] = ['grpo', 'ppo', 'sft'];
const TASK_NAMES = ['synthetic', 'locomo-manager', 'locomo-answer'] as const;
type TaskName = (typeof TASK_NAMES)[number];

interface LocomoSettings {
  data: string;
  tuplesPath: string;
  turns: number | undefined;
  maxNewTokens: number | undefined;
}

/** The task on this engine; LoCoMo tuples are cached in --tuples (see src/eval/locomo-task.ts). */
async function makeTask(name: TaskName, engine: Engine, modelDir: string, locomo: LocomoSettings): Promise<TrainingTask<TaskExample>> {
  if (name === 'synthetic') return syntheticTask();
  const conversations = conversationsOf(await readLocomoFile(locomo.data), 'train');
  const progress = progressReporter('tuples');
  const { tuples, cached } = await tuplesOnEngine(engine, conversations, tupleIdentity(modelDir, locomo), locomo, new FileTupleCache(locomo.tuplesPath), (p) =>
    progress(p.turn, p.turns, p.sampleId),
  );
  process.stderr.write(`${cached ? 'read' : 'built'} ${tuples.manager.length} manager and ${tuples.answer.length} answer tuples (${locomo.tuplesPath})\n`);
  return locomoTrainingTask(name, engine, tuples, locomo);
}

const fmt = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));

export const train: Command = {
  name: 'train',
  summary: 'train a LoRA adapter (GRPO, PPO or SFT) on the GPU and export it as PEFT',
  usage: `usage: memory-r1 train --model DIR --task synthetic|locomo-manager|locomo-answer --algo grpo|ppo|sft --steps N --out DIR [options]

Trains a LoRA adapter on the model (a Hugging Face or MLC folder) and writes it to OUT as a PEFT adapter
(adapter_config.json + adapter_model.safetensors). A checkpoint is saved under OUT/checkpoints/ every
--checkpoint-every steps and at the end; --resume continues from the latest one there (same config,
samples and metrics as an uninterrupted run).
  --task synthetic     the memory-operation choice task (4 answers A/N/U/D, exact reward)
  --task locomo-manager | locomo-answer
                       Memory-R1's tasks on LoCoMo's training conversation (conv-26, 152 questions):
                       the manager (reward: the frozen base answer agent's exact match after its
                       operations) or the answer agent (reward: exact match); need --data
  --data FILE          locomo10.json (e.g. ../shared/data/locomo10.json)
  --tuples FILE        where the training tuples are cached (default OUT/tuples.json)
  --turns N            build tuples from the first N turns only (smoke runs)
  --max-new-tokens N   cap the base model's replies while building tuples and scoring the manager
  --max-completion-tokens N  longest sampled completion (default ${DEFAULT_TRAINER.maxCompletionTokens})
  --algo               grpo (default), ppo or sft
  --group-size G       completions per prompt (default ${DEFAULT_TRAINER.groupSize})
  --prompts P          prompts per step (default ${DEFAULT_TRAINER.promptsPerStep})
  --lr X               peak learning rate (default ${DEFAULT_TRAINER.optimizer.lr}; the tiny synthetic runs use ~5e-3)
  --beta B             KL weight to the base model (default ${DEFAULT_TRAINER.grpo.beta}; 0 skips the reference pass)
  --epsilon E          ratio clip range (default ${DEFAULT_TRAINER.grpo.epsilonLow})
  --rank R --alpha A   LoRA rank and alpha (default ${DEFAULT_TRAINER.lora.rank} / ${DEFAULT_TRAINER.lora.alpha}), on q,k,v,o,gate,up,down
  --seed S             seed of the adapter init and of the sampling (default 0)
  --checkpoint-every N (default 10)
  --json               print each step's metrics as one JSON line on stdout
Progress (reward, KL, loss, tokens/s) goes to stderr.`,
  async run(argv) {
    const { values } = parseOptions(argv, {
      model: { type: 'string' },
      task: { type: 'string', default: 'synthetic' },
      data: { type: 'string' },
      tuples: { type: 'string' },
      turns: { type: 'string' },
      'max-new-tokens': { type: 'string' },
      'max-completion-tokens': { type: 'string' },
      algo: { type: 'string', default: 'grpo' },
      steps: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      'group-size': { type: 'string' },
      prompts: { type: 'string' },
      lr: { type: 'string' },
      beta: { type: 'string' },
      epsilon: { type: 'string' },
      rank: { type: 'string' },
      alpha: { type: 'string' },
      seed: { type: 'string' },
      'checkpoint-every': { type: 'string' },
      json: { type: 'boolean', default: false },
    });
    const modelDir = requireOption(values.model, '--model');
    const outDir = requireOption(values.out, '--out');
    const steps = numberOption(requireOption(values.steps, '--steps'), '--steps', 0, { integer: true, min: 1 });
    const algorithm = values.algo as Algorithm;
    if (!ALGORITHMS.includes(algorithm)) throw new UsageError(`--algo must be one of ${ALGORITHMS.join(', ')}, got "${values.algo}"`);
    const taskName = values.task as TaskName;
    if (!TASK_NAMES.includes(taskName)) throw new UsageError(`--task must be one of ${TASK_NAMES.join(', ')}, got "${values.task}"`);
    if (taskName === 'locomo-manager' && algorithm === 'sft') throw new UsageError('--task locomo-manager has no reference operations to imitate: use --algo grpo or ppo');
    const locomo: LocomoSettings = {
      data: taskName === 'synthetic' ? '' : requireOption(values.data, '--data'),
      tuplesPath: values.tuples ?? join(outDir, 'tuples.json'),
      turns: values.turns === undefined ? undefined : numberOption(values.turns, '--turns', 0, { integer: true, min: 1 }),
      maxNewTokens: values['max-new-tokens'] === undefined ? undefined : numberOption(values['max-new-tokens'], '--max-new-tokens', 0, { integer: true, min: 1 }),
    };
    const d = DEFAULT_TRAINER;
    const epsilon = numberOption(values.epsilon, '--epsilon', d.grpo.epsilonLow, { min: 0 });
    const options: TrainerOptions = {
      algorithm,
      totalSteps: steps,
      groupSize: numberOption(values['group-size'], '--group-size', d.groupSize, { integer: true, min: 1 }),
      promptsPerStep: numberOption(values.prompts, '--prompts', d.promptsPerStep, { integer: true, min: 1 }),
      seed: numberOption(values.seed, '--seed', d.seed, { integer: true, min: 0 }),
      grpo: { beta: numberOption(values.beta, '--beta', d.grpo.beta, { min: 0 }), epsilonLow: epsilon, epsilonHigh: epsilon },
      ppo: { epsilon },
      lora: { rank: numberOption(values.rank, '--rank', d.lora.rank, { integer: true, min: 1 }), alpha: numberOption(values.alpha, '--alpha', d.lora.alpha, { min: 0 }) },
      optimizer: { lr: numberOption(values.lr, '--lr', d.optimizer.lr, { min: 0 }) },
      maxCompletionTokens: numberOption(values['max-completion-tokens'], '--max-completion-tokens', d.maxCompletionTokens, { integer: true, min: 1 }),
    };
    const every = numberOption(values['checkpoint-every'], '--checkpoint-every', 10, { integer: true, min: 1 });
    const storage = new DirectoryCheckpointStorage(join(outDir, 'checkpoints'));
    const latest = values.resume ? await latestCheckpoint(storage) : null;
    if (values.resume && !latest) throw new UsageError(`--resume: no checkpoint in ${storage.dir}`);

    const gpu = await requestNodeGpuContext();
    try {
      const engine = await Engine.load(new DirectorySource(modelDir), gpu);
      const task = await makeTask(taskName, engine, modelDir, locomo);
      const trainer = latest ? resumeTrainer(engine, decodeCheckpoint(await storage.load(latest), latest), task, { totalSteps: steps }) : new Trainer(engine, options, task);
      if (latest) process.stderr.write(`resuming from ${latest} (step ${trainer.stepsDone})\n`);
      const progress = progressReporter(`train ${algorithm}`);
      const show = (m: StepMetrics): string =>
        `reward ${fmt(m.rewardMean)} kl ${fmt(m.kl, 4)} loss ${fmt(m.loss, 4)} ${m.tokensPerSecond.toFixed(0)} tok/s eta ${Math.round(m.etaSeconds)}s`;
      await trainer.run({
        steps,
        onProgress: async (m) => {
          if (values.json) console.log(JSON.stringify(m));
          progress(m.step, steps, show(m));
          if (m.step % every === 0 && m.step < steps) await saveCheckpoint(storage, trainer);
        },
      });
      await saveCheckpoint(storage, trainer);
      await mkdir(outDir, { recursive: true });
      for (const [name, bytes] of await trainer.exportPeft(modelDir)) await writeFile(join(outDir, name), bytes);
      trainer.dispose();
      engine.dispose();
      if (!values.json) process.stderr.write(`adapter written to ${outDir}\n`);
      return 0;
    } finally {
      gpu.device.destroy();
    }
  },
};
