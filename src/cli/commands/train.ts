// `memory-r1 train`: trains a LoRA adapter (or, with --full, every weight) on the GPU (GRPO, PPO or
// SFT), checkpoints under OUT/checkpoints/ and writes the PEFT adapter (or the Hugging Face model) into OUT.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requestNodeGpuContext } from '../../gpu/node-device';
import { Engine } from '../../model/engine';
import { DirectorySource } from '../../model/source.node.js';
import { DirectoryCheckpointStorage } from '../../train/checkpoint-storage.node.js';
import { BEST_CHECKPOINT, decodeCheckpoint, latestCheckpoint, resumeTrainer, saveCheckpoint } from '../../train/checkpoint';
import { FULL_FINETUNE_LR } from '../../train/config';
import { fullFineTuneProblem } from '../../train/params';
import { syntheticTask } from '../../train/tasks/synthetic';
import type { TaskExample, TrainingTask } from '../../train/task';
import { DEFAULT_TRAINER, Trainer, type Algorithm, type StepMetrics, type TrainerConfig, type TrainerOptions } from '../../train/trainer';
import { conversationsOf } from '../../eval/locomo';
import { readLocomoFile } from '../../eval/locomo.node.js';
import { locomoTrainingTask, runValidation, tupleIdentity, tuplesOnEngine } from '../../eval/locomo-task';
import { FileTupleCache } from '../../eval/tuples.node.js';
import type { GpuContext } from '../../gpu/device';
import { openLocomoModels, type LocomoModelPaths } from '../locomo-models';
import { numberOption, parseOptions, progressReporter, requireOption, UsageError, type Command } from '../command';
import { JournaledChatModel } from '../call-journal';
import { ENDPOINT_OPTIONS, openEndpoint, type OpenedEndpoint } from '../endpoint-option';
import { identityKey } from '../../eval/runner';

const ALGORITHMS: Algorithm[] = ['grpo', 'ppo', 'sft'];
const LOSS_TYPES: Array<TrainerConfig['grpo']['lossType']> = ['grpo', 'dapo', 'dr_grpo'];
const TASK_NAMES = ['synthetic', 'locomo-manager', 'locomo-answer'] as const;
type TaskName = (typeof TASK_NAMES)[number];

interface LocomoSettings {
  data: string;
  tuplesPath: string;
  turns: number | undefined;
  maxNewTokens: number | undefined;
  models: LocomoModelPaths;
  /** A model server building the tuples' banks (instead of --bank-model). */
  endpoint?: OpenedEndpoint | undefined;
}

/** The task on this engine; LoCoMo tuples are cached in --tuples (see src/eval/locomo-task.ts). */
async function makeTask(name: TaskName, engine: Engine, modelDir: string, locomo: LocomoSettings, gpu: GpuContext): Promise<TrainingTask<TaskExample>> {
  if (name === 'synthetic') return syntheticTask();
  const all = await readLocomoFile(locomo.data);
  const models = await openLocomoModels(gpu, engine, modelDir, locomo.models);
  const settings = {
    ...locomo,
    ...(models.answerBankModel ? { answerBankModel: models.answerBankModel } : {}),
    ...(models.embedding ? { embedding: models.embedding, embeddingId: locomo.models.embed! } : {}),
  };
  const progress = progressReporter('tuples');
  const identity = tupleIdentity(locomo.endpoint?.identity ?? locomo.models.bankModel ?? modelDir, settings);
  const cache = new FileTupleCache(locomo.tuplesPath);
  // A server's replies are journaled, so a build it fails part-way resumes from them (as export's does).
  const journal = locomo.endpoint ? await JournaledChatModel.open(locomo.endpoint.model, `${locomo.tuplesPath}.calls.jsonl`, identityKey(identity)) : undefined;
  const bankModel = locomo.endpoint?.model ?? models.bankModel;
  const { tuples, cached } = await tuplesOnEngine(engine, conversationsOf(all, 'train'), identity, settings, cache, (p) => progress(p.turn, p.turns, p.sampleId), journal ?? bankModel).finally(() => journal?.close());
  await journal?.discard();
  process.stderr.write(`${cached ? 'read' : 'built'} ${tuples.manager.length} manager and ${tuples.answer.length} answer tuples, evidence recall@60 ${fmt(tuples.recall.mean)} (${locomo.tuplesPath})\n`);
  // --validate-every scores the policy on the validation conversation (conv-30).
  return locomoTrainingTask(name, engine, tuples, settings, runValidation(conversationsOf(all, 'validation'), locomo, bankModel));
}

const fmt = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(digits));

export const train: Command = {
  name: 'train',
  summary: 'train a LoRA adapter or all weights (GRPO, PPO or SFT) on the GPU; export PEFT or a Hugging Face model',
  usage: `usage: memory-r1 train --model DIR --task synthetic|locomo-manager|locomo-answer --algo grpo|ppo|sft --steps N --out DIR [options]

Trains a LoRA adapter on the model (a Hugging Face or MLC folder) and writes it to OUT as a PEFT adapter
(adapter_config.json + adapter_model.safetensors); with --full, trains every weight and writes OUT as a
Hugging Face model folder (config.json, model.safetensors, tokenizer files). A checkpoint is saved under
OUT/checkpoints/ every --checkpoint-every steps and at the end; --resume continues from the latest one
there (same config, samples and metrics as an uninterrupted run).
  --full               fine-tune all weights, as the paper does (its actor lr 1e-6, the default here
                       with --full); LoRA is our default, for laptops. Needs a float32 Hugging Face
                       folder; memory about five times the weights (weights, frozen reference copy,
                       gradients, two AdamW moments), each checkpoint three times. --resume of a full
                       run needs the same base folder (its starting weights are the KL reference)
  --task synthetic     the memory-operation choice task (4 answers A/N/U/D, exact reward)
  --task locomo-manager | locomo-answer
                       Memory-R1's tasks on LoCoMo's training conversation (conv-26, 152 questions):
                       the manager (reward: the frozen base answer agent's exact match after its
                       operations) or the answer agent (reward: exact match); need --data
  --data FILE          locomo10.json (e.g. ../shared/data/locomo10.json)
  --tuples FILE        where the training tuples are cached (default OUT/tuples.json)
  --turns N            build tuples from the first N turns only (smoke runs)
  --max-new-tokens N   cap the base model's replies while building tuples and scoring the manager
  --bank-model DIR     build the tuples' memory banks with this model instead of the one trained (the
                       paper builds them with a strong model)
  --endpoint URL --endpoint-model NAME
                       build the banks on a model server instead (the --endpoint-* options of
                       \`memory-r1 eval --help\`); its replies are kept until the tuples are, so a
                       failed build resumes; \`memory-r1 export\` with the same flags shares the tuples
  --answer-bank-adapter DIR  build the answer tuples' banks with this trained manager adapter on --model
                       (the paper's Algorithm 2)
  --embed DIR          embed memories and questions (hybrid retrieval) in the tuples and the manager's
                       reward; --model's own folder embeds with the base model's hidden states
  --max-completion-tokens N  longest sampled completion (default: the task's own inference budget:
                       manager 1024, answer agent 256; Dr. GRPO divides by it); rollouts are decoded
                       under the agent's JSON Schema as at inference, and cut ones are counted
  --algo               grpo (default), ppo or sft
  --group-size G       completions per prompt (default ${DEFAULT_TRAINER.groupSize}, ours)
  --prompts P          prompts per micro-batch (default ${DEFAULT_TRAINER.promptsPerStep})
  --grad-accum K       micro-batches per optimiser update (default ${DEFAULT_TRAINER.gradientAccumulation}); the paper's
                       batch of 128 is e.g. --prompts 16 --grad-accum 8
  --dynamic-sampling   drop groups whose rewards are all equal (they teach nothing) and draw more
                       prompts, up to --max-sampling-rounds batches per micro-batch (default ${DEFAULT_TRAINER.maxSamplingRounds})
  --loss-type T        grpo (default), dapo or dr_grpo (how token losses are averaged)
  --temperature T      sampling temperature; log-probs are taken at the same T (default ${DEFAULT_TRAINER.temperature})
  --lr X               peak actor learning rate (default ${DEFAULT_TRAINER.optimizer.lr}, ours for LoRA; with --full
                       ${FULL_FINETUNE_LR}, the paper's; the tiny synthetic runs use ~5e-3)
  --critic-lr X        PPO value head learning rate (default ${DEFAULT_TRAINER.valueLr}, the paper's critic lr)
  --beta B             KL weight to the base model, in GRPO's loss and PPO's reward (default
                       ${DEFAULT_TRAINER.grpo.beta}, ours; 0 skips the reference pass)
  --epsilon E          ratio clip range (default ${DEFAULT_TRAINER.grpo.epsilonLow}, ours)
  --rank R --alpha A   LoRA rank and alpha (default ${DEFAULT_TRAINER.lora.rank} / ${DEFAULT_TRAINER.lora.alpha}, ours), on q,k,v,o,gate,up,down
  --validate-every N   score the policy on the task's held-out set every N steps (default 0 = never);
                       the best step is kept as OUT/checkpoints/${BEST_CHECKPOINT}
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
      'grad-accum': { type: 'string' },
      'dynamic-sampling': { type: 'boolean', default: false },
      'max-sampling-rounds': { type: 'string' },
      'loss-type': { type: 'string' },
      temperature: { type: 'string' },
      'critic-lr': { type: 'string' },
      'validate-every': { type: 'string' },
      'bank-model': { type: 'string' },
      ...ENDPOINT_OPTIONS,
      'answer-bank-adapter': { type: 'string' },
      embed: { type: 'string' },
      algo: { type: 'string', default: 'grpo' },
      steps: { type: 'string' },
      out: { type: 'string' },
      resume: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
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
      models: { bankModel: values['bank-model'], answerBankAdapter: values['answer-bank-adapter'], embed: values.embed },
      endpoint: openEndpoint(values),
    };
    if (locomo.endpoint && values['bank-model'] !== undefined) throw new UsageError('give --bank-model DIR or --endpoint URL, not both');
    const d = DEFAULT_TRAINER;
    const lossType = (values['loss-type'] ?? d.grpo.lossType) as TrainerConfig['grpo']['lossType'];
    if (!LOSS_TYPES.includes(lossType)) throw new UsageError(`--loss-type must be one of ${LOSS_TYPES.join(', ')}, got "${values['loss-type']}"`);
    const epsilon = numberOption(values.epsilon, '--epsilon', d.grpo.epsilonLow, { min: 0 });
    const fineTune = values.full ? 'full' : 'lora';
    const options: TrainerOptions = {
      algorithm,
      fineTune,
      totalSteps: steps,
      groupSize: numberOption(values['group-size'], '--group-size', d.groupSize, { integer: true, min: 1 }),
      promptsPerStep: numberOption(values.prompts, '--prompts', d.promptsPerStep, { integer: true, min: 1 }),
      seed: numberOption(values.seed, '--seed', d.seed, { integer: true, min: 0 }),
      gradientAccumulation: numberOption(values['grad-accum'], '--grad-accum', d.gradientAccumulation, { integer: true, min: 1 }),
      dynamicSampling: values['dynamic-sampling'],
      maxSamplingRounds: numberOption(values['max-sampling-rounds'], '--max-sampling-rounds', d.maxSamplingRounds, { integer: true, min: 1 }),
      temperature: numberOption(values.temperature, '--temperature', d.temperature, { min: 1e-6 }),
      valueLr: numberOption(values['critic-lr'], '--critic-lr', d.valueLr, { min: 1e-12 }),
      validateEvery: numberOption(values['validate-every'], '--validate-every', d.validateEvery, { integer: true, min: 0 }),
      // One β: GRPO's KL term and PPO's per-token KL penalty (resolveConfig passes it on).
      grpo: { beta: numberOption(values.beta, '--beta', d.grpo.beta, { min: 0 }), epsilonLow: epsilon, epsilonHigh: epsilon, lossType },
      ppo: { epsilon },
      lora: { rank: numberOption(values.rank, '--rank', d.lora.rank, { integer: true, min: 1 }), alpha: numberOption(values.alpha, '--alpha', d.lora.alpha, { min: 0 }) },
      // Without --lr the config picks the actor lr of the kind of run (LoRA's, or full fine-tuning's).
      ...(values.lr !== undefined ? { optimizer: { lr: numberOption(values.lr, '--lr', d.optimizer.lr, { min: 0 }) } } : {}),
      maxCompletionTokens: values['max-completion-tokens'] === undefined ? null : numberOption(values['max-completion-tokens'], '--max-completion-tokens', 0, { integer: true, min: 1 }),
    };
    const every = numberOption(values['checkpoint-every'], '--checkpoint-every', 10, { integer: true, min: 1 });
    const storage = new DirectoryCheckpointStorage(join(outDir, 'checkpoints'));
    const latest = values.resume ? await latestCheckpoint(storage) : null;
    if (values.resume && !latest) throw new UsageError(`--resume: no checkpoint in ${storage.dir}`);

    const gpu = await requestNodeGpuContext();
    try {
      const engine = await Engine.load(new DirectorySource(modelDir), gpu);
      const problem = values.full ? fullFineTuneProblem(engine.weights) : null;
      if (problem) throw new UsageError(`--full: ${modelDir}: ${problem}`);
      // The trained model is written as a Hugging Face folder, from the base folder's config and tokenizer.
      if (values.full && engine.format === 'mlc') throw new UsageError(`--full: ${modelDir} is an MLC build; full fine-tuning exports a Hugging Face folder and needs one as the base: give the model’s float32 Hugging Face folder (config.json, model.safetensors), or drop --full to train a LoRA adapter`);
      const ck = latest ? decodeCheckpoint(await storage.load(latest), latest) : null;
      const saved = ck?.config.fineTune ?? 'lora';
      if (ck && saved !== fineTune) {
        throw new UsageError(`--resume: ${storage.dir} holds a ${saved === 'full' ? 'full fine-tuning' : 'LoRA'} run; ${saved === 'full' ? 'add' : 'drop'} --full to resume it, or start a new run in another --out`);
      }
      const task = await makeTask(taskName, engine, modelDir, locomo, gpu);
      const trainer = ck ? await resumeTrainer(engine, ck, task, { totalSteps: steps, fineTune }) : new Trainer(engine, options, task);
      if (latest) process.stderr.write(`resuming from ${latest} (step ${trainer.stepsDone})\n`);
      const progress = progressReporter(`train ${algorithm}`);
      const show = (m: StepMetrics): string =>
        `reward ${fmt(m.rewardMean)} kl ${fmt(m.kl, 4)} loss ${fmt(m.loss, 4)}${m.truncated ? ` truncated ${m.truncated}` : ''}${m.groupsDropped ? ` dropped ${m.groupsDropped}` : ''}${m.validation !== undefined ? ` validation ${fmt(m.validation)}` : ''} ${m.tokensPerSecond.toFixed(0)} tok/s eta ${Math.round(m.etaSeconds)}s`;
      await trainer.run({
        steps,
        onBest: async (best) => {
          if (best.step === 0 && !values.json) process.stderr.write(`validation of the starting policy: ${fmt(best.score)}\n`);
          await saveCheckpoint(storage, trainer, BEST_CHECKPOINT);
        },
        onProgress: async (m) => {
          if (values.json) console.log(JSON.stringify(m));
          progress(m.step, steps, show(m));
          if (m.step % every === 0 && m.step < steps) await saveCheckpoint(storage, trainer);
        },
      });
      await saveCheckpoint(storage, trainer);
      await mkdir(outDir, { recursive: true });
      const files = fineTune === 'full' ? await trainer.exportHf(new DirectorySource(modelDir)) : await trainer.exportPeft(modelDir);
      for (const [name, bytes] of files) await writeFile(join(outDir, name), bytes);
      trainer.dispose();
      engine.dispose();
      if (!values.json) process.stderr.write(`${fineTune === 'full' ? 'model' : 'adapter'} written to ${outDir} (${[...files.keys()].join(', ')})\n`);
      return 0;
    } finally {
      gpu.device.destroy();
    }
  },
};
