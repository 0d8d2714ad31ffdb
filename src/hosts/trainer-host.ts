// The trainer as the engine worker runs it (src/hosts/engine-host.ts delegates here): start / pause / resume /
// stop a run of src/train's Trainer on the loaded engine, stream each step's metrics, checkpoint to a
// CheckpointStorage (IndexedDB in the browser) every N steps and on pause / stop / finish, resume from
// the latest checkpoint (after a reload or a lost GPU device), export the adapter as PEFT files (a full
// fine-tuning run: the model as a Hugging Face folder's files), and merge an adapter into an MLC base
// installed as a WebLLM custom model.
// Each step runs as one job of the host's GPU queue, so a chat request waits at most one step.

import type { ModelRecord } from '../llm/webllm-custom-model';
import { isLocomoTask, locomoTrainingTask, runValidation, tupleIdentity, tuplesOnEngine, type LocomoTaskName, type TupleSettings } from '../eval/locomo-task';
import type { LocomoConversation } from '../eval/locomo';
import type { LocomoRunSetup } from '../eval/tuples.idb';
import type { TrainingTuples, TupleCache } from '../eval/tuples';
import type { Engine } from '../model/engine';
import type { HostLoraAdapter } from '../model/lora';
import { writePeftAdapter } from '../model/peft';
import type { ModelSource } from '../model/source';
import { BEST_CHECKPOINT, decodeCheckpoint, latestCheckpoint, resumeTrainer, saveCheckpoint, type Checkpoint, type CheckpointStorage } from '../train/checkpoint';
import { writeHfModel } from '../train/export-hf';
import { hostModelWeights } from '../train/full-weights';
import { mergeIntoMlcFolder } from '../train/merge';
import { fullFineTuneProblem } from '../train/params';
import type { TaskExample, TrainingTask } from '../train/task';
import { syntheticTask } from '../train/tasks/synthetic';
import { bestValidated, Trainer, type Algorithm, type StepMetrics, type TrainerConfig, type TrainerOptions } from '../train/trainer';
import { customModelRecord, installIntoWebLlmCache } from '../llm/webllm-custom-model';

/** The tasks a run can train on: the synthetic memory-operation task, and Memory-R1's two LoCoMo tasks. */
export const TRAINING_TASKS = ['synthetic', 'locomo-manager', 'locomo-answer'] as const;
export type TrainingTaskName = (typeof TRAINING_TASKS)[number];

export interface StartTrainingRequest {
  task: TrainingTaskName;
  options: TrainerOptions;
  /** Save a checkpoint every N steps (and always on pause, stop and at the end). */
  checkpointEvery: number;
  /**
   * LoCoMo tasks: the file's conversations and how to build the tuples: the training one (conv-26) gives
   * the tuples, the validation one (conv-30) scores the policy every options.validateEvery steps.
   */
  locomo?: TupleSettings & { conversations: LocomoConversation[] };
}

/** Where LoCoMo training tuples are kept, and per model the set-up of its latest LoCoMo run (for resume). */
export interface TupleStore extends TupleCache {
  saveRun(model: string, setup: LocomoRunSetup): Promise<void>;
  lastRun(model: string): Promise<LocomoRunSetup | undefined>;
}

export type TrainingState = 'idle' | 'running' | 'pausing' | 'paused' | 'stopping' | 'stopped' | 'finished' | 'failed' | 'device-lost';

export interface CheckpointInfo {
  name: string;
  step: number;
}

export interface TrainingStatus {
  state: TrainingState;
  /** Steps completed by the run (live, or as of the latest checkpoint). */
  step: number;
  totalSteps: number;
  task: string | null;
  algorithm: Algorithm | null;
  config: TrainerConfig | null;
  /** Every step's metrics so far (from the latest checkpoint after a reload). */
  history: StepMetrics[];
  /** This model's checkpoints, oldest first. */
  checkpoints: CheckpointInfo[];
  /** The validation score before the first step (null: the run does not validate). */
  startScore: number | null;
  /** The run's best-validated step (0: the start) and score, and the checkpoint that holds it (null: none saved); null when nothing was validated. */
  best: { step: number; score: number; checkpoint: string | null } | null;
  /** resume() would continue (a paused run, or a checkpoint short of its planned steps). */
  canResume: boolean;
  /** What went wrong, or what to do next. */
  message: string | null;
  /** The loaded model's format (merging into WebLLM needs an MLC base). */
  modelFormat: 'hf' | 'mlc' | null;
  /** Why the loaded model cannot be fully fine-tuned (null: it can, or no model is loaded). */
  fullFineTuneProblem: string | null;
}

export type TrainingEvent = { type: 'step'; metrics: StepMetrics } | { type: 'status'; status: TrainingStatus };

export type TrainingListener = (event: TrainingEvent) => void;

export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
}

export interface MergeResult {
  name: string;
  files: string[];
  bytes: number;
}

export interface TrainerHostApi {
  startTraining(request: StartTrainingRequest, listener?: TrainingListener): Promise<TrainingStatus>;
  /** Stops after the step under way and saves a checkpoint; resolves once paused. */
  pauseTraining(): Promise<TrainingStatus>;
  /** Continues a paused run, or the latest checkpoint's run (after a reload or a device loss). */
  resumeTraining(listener?: TrainingListener): Promise<TrainingStatus>;
  /** Ends the run after the step under way, with a checkpoint; the adapter stays for export. */
  stopTraining(): Promise<TrainingStatus>;
  trainingStatus(): Promise<TrainingStatus>;
  /**
   * The run's result as files: a LoRA run's PEFT adapter, a full run's Hugging Face model (config.json,
   * model.safetensors, tokenizer files); the live run's, else the named (or latest) checkpoint's.
   */
  exportAdapter(checkpoint?: string): Promise<ExportedFile[]>;
  /**
   * Merges the adapter into the loaded MLC base and installs it in WebLLM's cache under `name`, with the
   * base's prebuilt WebLLM record (null when the base is not a prebuilt model: then it says what to do).
   */
  mergeIntoWebLlm(name: string, baseRecord: ModelRecord | null): Promise<MergeResult>;
}

/** What the trainer host needs from the engine host. */
export interface TrainerHostDeps {
  /** The loaded engine (throws when none is). */
  engine(): Engine;
  /** URL of the loaded model's folder (names its checkpoints, and is the PEFT base_model). */
  modelUrl(): string;
  /** The model folder as a ModelSource (the merge reads the base's files again). */
  modelSource(): ModelSource;
  /** Runs one GPU job after the ones queued before it. */
  serial<T>(job: () => Promise<T>): Promise<T>;
  /** The checkpoint storage of a model (one per model URL). */
  storage(modelUrl: string): Promise<CheckpointStorage & { remove(name: string): Promise<void> }>;
  /** Where LoCoMo training tuples are kept. */
  tuples(): Promise<TupleStore>;
}

/**
 * How many checkpoints of a model are kept: each holds the adapter and two AdamW moments, or for a full
 * run the whole model three times over (weights and moments), so then only the latest.
 */
const KEEP_CHECKPOINTS = { lora: 3, full: 1 };

/** A finished run's message. A full run trained the engine's own weights, which chat and the agents share until the next run restores the base. */
const finishedMessage = (t: Trainer<TaskExample>): string =>
  t.adapter
    ? `Finished ${t.stepsDone} steps. Export the adapter below.`
    : `Finished ${t.stepsDone} steps. Chat and the agents now run on the trained weights, until the model is reloaded or another run starts. Export the model below.`;

const stepOf = (name: string): number => Number(/^step-(\d+)\.ckpt$/.exec(name)?.[1] ?? NaN);

export interface TrainerHost extends TrainerHostApi {
  /** The GPU device is gone: the run's GPU state is lost; its last checkpoint is not. */
  deviceLost(reason: string): void;
  /** The model is being unloaded or replaced: stop the run (with a checkpoint) first. */
  beforeUnload(): Promise<void>;
}

export function createTrainerHost(deps: TrainerHostDeps): TrainerHost {
  let trainer: Trainer<TaskExample> | null = null;
  let every = 10;
  let state: TrainingState = 'idle';
  let message: string | null = null;
  let listener: TrainingListener | undefined;
  let request: 'pause' | 'stop' | null = null;
  let loop: Promise<void> | null = null;
  /** A new run's task is being made (LoCoMo tuples can take a while to build). */
  let preparing = false;
  /** Bumped by a device loss, so a loop still awaiting a dead step ends quietly. */
  let epoch = 0;

  const emit = (event: TrainingEvent): void => {
    try {
      void Promise.resolve(listener?.(event)).catch(() => undefined);
    } catch {
      // A listener from a closed page: training carries on.
    }
  };

  const stored = async (): Promise<string[]> => (await deps.storage(deps.modelUrl())).list();
  const stepCheckpoints = (names: readonly string[]): CheckpointInfo[] =>
    names
      .filter((n) => Number.isFinite(stepOf(n)))
      .sort()
      .map((name) => ({ name, step: stepOf(name) }));
  const checkpoints = async (): Promise<CheckpointInfo[]> => stepCheckpoints(await stored());

  const latest = async (): Promise<Checkpoint | null> => {
    const storage = await deps.storage(deps.modelUrl());
    const name = await latestCheckpoint(storage);
    return name ? decodeCheckpoint(await storage.load(name), name) : null;
  };

  /** Why the engine's model cannot be fully fine-tuned here (null: it can). */
  const fullProblem = (engine: Engine): string | null =>
    fullFineTuneProblem(engine.weights) ??
    (engine.format === 'mlc' ? 'Full fine-tuning saves the model as a Hugging Face folder, so it needs one as the base: load the model’s float32 Hugging Face folder (config.json, model.safetensors), or train a LoRA adapter.' : null);

  const status = async (): Promise<TrainingStatus> => {
    const names = await stored().catch((): string[] => []);
    const list = stepCheckpoints(names);
    const bestOf = (best: { step: number; score: number } | null) => best && { step: best.step, score: best.score, checkpoint: names.includes(BEST_CHECKPOINT) ? BEST_CHECKPOINT : null };
    let format: TrainingStatus['modelFormat'] = null;
    let full: string | null = null;
    try {
      const engine = deps.engine();
      format = engine.format ?? null;
      full = fullProblem(engine);
    } catch {
      format = null;
    }
    const base = { state, message, checkpoints: list, modelFormat: format, fullFineTuneProblem: full };
    if (trainer) {
      const c = trainer.config;
      const canResume = (state === 'paused' || state === 'stopped' || state === 'failed') && trainer.stepsDone < c.totalSteps;
      return { ...base, startScore: trainer.startScore, best: bestOf(trainer.best), step: trainer.stepsDone, totalSteps: c.totalSteps, task: trainer.task.name, algorithm: c.algorithm, config: c, history: [...trainer.history], canResume };
    }
    const ck = list.length ? await latest().catch(() => null) : null;
    if (!ck) return { ...base, startScore: null, best: null, step: 0, totalSteps: 0, task: null, algorithm: null, config: null, history: [], canResume: false };
    return { ...base, startScore: ck.startScore, best: bestOf(bestValidated(ck.startScore, ck.history)), step: ck.step, totalSteps: ck.config.totalSteps, task: ck.task, algorithm: ck.config.algorithm, config: ck.config, history: ck.history, canResume: ck.step < ck.config.totalSteps };
  };

  const announce = async (): Promise<TrainingStatus> => {
    const s = await status();
    emit({ type: 'status', status: s });
    return s;
  };

  const checkpoint = async (t: Trainer<TaskExample>): Promise<void> => {
    const storage = await deps.storage(deps.modelUrl());
    await deps.serial(() => saveCheckpoint(storage, t));
    const names = (await storage.list()).filter((n) => Number.isFinite(stepOf(n))).sort();
    const keep = KEEP_CHECKPOINTS[t.adapter ? 'lora' : 'full'];
    for (const old of names.slice(0, Math.max(0, names.length - keep))) await storage.remove(old);
  };

  /**
   * Replaces the engine's adapter of that name (a previous run's) so a new Trainer can add its own, and
   * frees the KV caches kept for chat prefixes: training needs the GPU memory more.
   */
  const freeAdapter = (engine: Engine, name: string): void => {
    if (engine.adapterNames.includes(name)) engine.removeAdapter(name);
    engine.clearPrefixCache();
  };

  const run = (t: Trainer<TaskExample>): void => {
    const myEpoch = epoch;
    request = null;
    state = 'running';
    message = null;
    loop = (async () => {
      let savedAt = -1;
      try {
        void announce();
        const saveBest = async (): Promise<void> => {
          const storage = await deps.storage(deps.modelUrl());
          await deps.serial(() => saveCheckpoint(storage, t, BEST_CHECKPOINT));
        };
        if (await deps.serial(() => t.validateStart())) {
          if (myEpoch !== epoch) return;
          await saveBest();
        }
        while (t.stepsDone < t.config.totalSteps && request === null) {
          const metrics = await deps.serial(() => t.step());
          if (myEpoch !== epoch) return;
          if (t.bestIsNew) await saveBest();
          emit({ type: 'step', metrics });
          if (metrics.step % every === 0 && metrics.step < t.config.totalSteps) {
            await checkpoint(t);
            savedAt = metrics.step;
            await announce();
          }
        }
        if (savedAt !== t.stepsDone) await checkpoint(t);
        state = request === 'pause' ? 'paused' : request === 'stop' ? 'stopped' : 'finished';
        message = state === 'finished' ? finishedMessage(t) : null;
      } catch (error) {
        if (myEpoch !== epoch) return;
        state = 'failed';
        message = `Training stopped: ${error instanceof Error ? error.message : String(error)}. The last checkpoint is kept; resume from it when the problem is fixed.`;
      } finally {
        if (myEpoch === epoch) {
          request = null;
          loop = null;
          await announce();
        }
      }
    })();
  };

  /** A new LoCoMo run's tuples: kept ones of the same set-up, else built with the base model (progress in the status). */
  const newRunTuples = async (engine: Engine, start: NonNullable<StartTrainingRequest['locomo']>): Promise<{ tuples: TrainingTuples; setup: LocomoRunSetup }> => {
    const training = start.conversations.filter((c) => c.split === 'train');
    if (training.length === 0) throw new Error('The LoCoMo file has no training conversation (conv-26): load locomo10.json.');
    const store = await deps.tuples();
    const setup = {
      identity: tupleIdentity(deps.modelUrl(), start),
      settings: { turns: start.turns, maxNewTokens: start.maxNewTokens },
      validation: start.conversations.filter((c) => c.split === 'validation'),
    };
    let shown = 0;
    const { tuples } = await deps.serial(() =>
      tuplesOnEngine(engine, training, setup.identity, start, store, (p) => {
        if (Date.now() - shown < 500 && p.turn < p.turns) return;
        shown = Date.now();
        message = `Building the training tuples with the base model: ${p.sampleId}, turn ${p.turn} of ${p.turns}.`;
        void announce();
      }),
    );
    await store.saveRun(deps.modelUrl(), setup);
    return { tuples, setup };
  };

  /** The tuples of the model's latest LoCoMo run, to resume it after a reload (without the file). */
  const keptRunTuples = async (): Promise<{ tuples: TrainingTuples; setup: LocomoRunSetup }> => {
    const store = await deps.tuples();
    const setup = await store.lastRun(deps.modelUrl());
    const tuples = setup && (await store.load(setup.identity));
    if (!setup || !tuples) throw new Error('The training tuples of this run are no longer in this browser: start a new run (with the LoCoMo file).');
    return { tuples, setup };
  };

  const locomoTask = async (name: LocomoTaskName, engine: Engine, start?: StartTrainingRequest['locomo']): Promise<TrainingTask<TaskExample>> => {
    const { tuples, setup } = start ? await newRunTuples(engine, start) : await keptRunTuples();
    message = null;
    const validation = setup.validation?.length ? runValidation(setup.validation, setup.settings) : undefined;
    return locomoTrainingTask(name, engine, tuples, setup.settings, validation);
  };

  const taskOf = async (name: string, engine: Engine, start?: StartTrainingRequest['locomo']): Promise<TrainingTask<TaskExample>> => {
    if (name === 'synthetic') return withValidationNotice(syntheticTask());
    if (isLocomoTask(name)) return withValidationNotice(await locomoTask(name, engine, start));
    throw new Error(`Unknown training task "${name}"; available: ${TRAINING_TASKS.join(', ')}.`);
  };

  /** The task whose validation says in the status that it is under way (on conv-30 it takes minutes with a real model). */
  const withValidationNotice = (task: TrainingTask<TaskExample>): TrainingTask<TaskExample> => {
    const validate = task.validate;
    if (!validate) return task;
    const where = isLocomoTask(task.name) ? 'the validation conversation (conv-30)' : 'the held-out prompts';
    return {
      ...task,
      validate: async (context) => {
        message = `Scoring the policy ${context.step === 0 ? 'before the first step' : `after step ${context.step}`} on ${where}…`;
        void announce();
        try {
          return await validate(context);
        } finally {
          message = null;
        }
      },
    };
  };

  const setListener = (l: TrainingListener | undefined): void => {
    if (l) listener = l;
  };

  const busy = (): boolean => state === 'running' || state === 'pausing' || state === 'stopping';

  /** The named (or latest) checkpoint. */
  const chosenCheckpoint = async (name: string | undefined): Promise<Checkpoint> => {
    const storage = await deps.storage(deps.modelUrl());
    const chosen = name ?? (await latestCheckpoint(storage));
    if (!chosen) throw new Error('There is nothing to export yet: start a training run first.');
    return decodeCheckpoint(await storage.load(chosen), chosen);
  };

  const adapterForExport = async (name: string | undefined): Promise<{ adapter: HostLoraAdapter; step: number }> => {
    const fullRun = new Error('This run fine-tuned every weight, so there is no adapter to merge: export the model (a Hugging Face folder) instead.');
    if (trainer && name === undefined) {
      const t = trainer;
      if (!t.adapter) throw fullRun;
      return { adapter: await deps.serial(() => t.downloadAdapter()), step: t.stepsDone };
    }
    const ck = await chosenCheckpoint(name);
    if (!ck.adapter) throw fullRun;
    return { adapter: ck.adapter, step: ck.step };
  };

  /** A full run's model as Hugging Face files: the live run's weights, else the checkpoint's. */
  const fullModelFiles = async (ck: Checkpoint | null): Promise<Map<string, Uint8Array>> => {
    const engine = deps.engine();
    if (!ck) {
      const t = trainer!;
      return deps.serial(() => t.exportHf(deps.modelSource()));
    }
    return writeHfModel(hostModelWeights(engine.weights, ck.full!.tensors), engine.config, deps.modelSource());
  };

  /**
   * Frees the current trainer before another takes the engine; a full run's trained weights give way to
   * the starting ones first, so the next run starts from the base model.
   */
  const discardTrainer = (): void => {
    trainer?.resetWeights();
    trainer?.dispose();
    trainer = null;
  };

  return {
    async startTraining(req, l) {
      if (busy() || preparing) throw new Error('A training run is under way: pause or stop it before starting another.');
      if (isLocomoTask(req.task) && !req.locomo) throw new Error(`The ${req.task} task trains on LoCoMo: load locomo10.json first.`);
      if (req.task === 'locomo-manager' && req.options.algorithm === 'sft') throw new Error('The LoCoMo manager task has no reference operations to imitate: use GRPO or PPO.');
      // Refused before the tuples are built (minutes with a real model), not after.
      if (req.locomo && (req.options.validateEvery ?? 0) > 0 && !req.locomo.conversations.some((c) => c.split === 'validation')) {
        throw new Error('Validation scores the policy on the validation conversation (conv-30), which the loaded file lacks: load locomo10.json, or set “Validate every” to 0.');
      }
      setListener(l);
      every = Math.max(1, Math.floor(req.checkpointEvery));
      const engine = deps.engine();
      preparing = true;
      let task: TrainingTask<TaskExample>;
      try {
        task = await taskOf(req.task, engine, req.locomo);
      } catch (error) {
        message = error instanceof Error ? error.message : String(error);
        throw error;
      } finally {
        preparing = false;
      }
      const storage = await deps.storage(deps.modelUrl());
      // A new run replaces this model's previous run: its checkpoints would otherwise mix with ours.
      for (const { name } of await checkpoints()) await storage.remove(name);
      if ((await storage.list()).includes(BEST_CHECKPOINT)) await storage.remove(BEST_CHECKPOINT);
      const created = await deps.serial(async () => {
        discardTrainer();
        freeAdapter(engine, req.options.adapterName ?? 'train');
        return new Trainer<TaskExample>(engine, req.options, task);
      });
      trainer = created;
      run(created);
      return status();
    },

    async pauseTraining() {
      if (state === 'running') {
        request = 'pause';
        state = 'pausing';
        void announce();
      }
      await loop;
      return status();
    },

    async resumeTraining(l) {
      if (busy()) throw new Error('The run is already going.');
      setListener(l);
      if (trainer && trainer.stepsDone < trainer.config.totalSteps) {
        run(trainer);
        return status();
      }
      const ck = await latest();
      if (!ck) throw new Error('There is no checkpoint to resume from: start a run first.');
      if (ck.step >= ck.config.totalSteps) throw new Error(`The run in the latest checkpoint finished all its ${ck.config.totalSteps} steps; start a new run to train more.`);
      const engine = deps.engine();
      const task = await taskOf(ck.task, engine);
      const resumed = await deps.serial(async () => {
        discardTrainer();
        freeAdapter(engine, ck.config.adapterName);
        return await resumeTrainer<TaskExample>(engine, ck, task);
      });
      trainer = resumed;
      run(resumed);
      return status();
    },

    async stopTraining() {
      if (state === 'running' || state === 'pausing') {
        request = 'stop';
        state = 'stopping';
        void announce();
        await loop;
      } else if (state === 'paused') {
        state = 'stopped';
      }
      return announce();
    },

    trainingStatus: () => status(),

    async exportAdapter(name) {
      const engine = deps.engine();
      const live = trainer && name === undefined ? trainer : null;
      const ck = live ? null : await chosenCheckpoint(name);
      const adapter = live ? (live.adapter ? await deps.serial(() => live.downloadAdapter()) : null) : ck!.adapter;
      const files = adapter ? writePeftAdapter(adapter, engine.config, { baseModel: deps.modelUrl() }) : await fullModelFiles(ck);
      return [...files].map(([file, bytes]) => ({ name: file, bytes }));
    },

    async mergeIntoWebLlm(name, baseRecord) {
      const engine = deps.engine();
      if (engine.format !== 'mlc') {
        throw new Error(
          'Merging into WebLLM needs an MLC base model (mlc-chat-config.json, tensor-cache.json): WebLLM runs MLC builds only. This model is a Hugging Face folder: download the PEFT adapter instead, ' +
            'merge it with PEFT (merge_and_unload) and convert the result with mlc_llm; or train on the MLC build of the same model.',
        );
      }
      if (!baseRecord) {
        throw new Error(
          `${deps.modelUrl()} is not one of WebLLM's prebuilt models, so there is no model library (.wasm) to run a merge of it. ` +
            'Train on the base loaded from its Hugging Face address (e.g. ?engine=local&model=https://huggingface.co/mlc-ai/Qwen2.5-0.5B-Instruct-q4f16_1-MLC/resolve/main/), or download the PEFT adapter instead.',
        );
      }
      const { adapter, step } = await adapterForExport(undefined);
      const files = await mergeIntoMlcFolder(deps.modelSource(), adapter, name, { note: { base: deps.modelUrl(), step } });
      const entry = await installIntoWebLlmCache(files, customModelRecord(baseRecord, name));
      return { name: entry.name, files: entry.files, bytes: entry.bytes };
    },

    deviceLost(reason) {
      epoch++;
      trainer = null; // its GPU tensors went with the device
      loop = null;
      request = null;
      state = 'device-lost';
      message = `The GPU stopped responding (${reason}), so training stopped. The last checkpoint is safe in this browser: reload the model, then resume from it.`;
      void announce();
    },

    async beforeUnload() {
      if (busy()) {
        request = 'stop';
        await loop;
      }
      trainer?.dispose();
      trainer = null;
      if (state !== 'device-lost') state = 'idle';
    },
  };
}
