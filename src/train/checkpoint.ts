// Training checkpoints: everything a run needs to continue exactly where it stopped — the adapter (or,
// for full fine-tuning, every trained weight; its frozen reference is the base model loaded again and
// checked by fingerprint: FullParams.restore says why), the AdamW moments and step counts, the PPO value
// head, the config (with the seed: step s draws its samples from stepRng(seed, s), so the sampling
// sequence resumes exactly), the step and the metrics history — in ONE safetensors file: tensors (F32,
// bit-exact) plus a JSON document in its metadata. Storage is a three-method interface: a Node
// directory (checkpoint-storage.node.ts) or IndexedDB in the browser (checkpoint-storage.idb.ts).

import type { HostLoraAdapter } from '../model/lora';
import { LORA_TARGETS } from '../model/lora';
import type { LoraTarget } from '../model/reference';
import { parseSafetensors, safetensorsData, writeSafetensors, type SafetensorsInput } from '../model/safetensors';
import type { OptimizerState } from './optimizer';
import { Trainer, type StepMetrics, type TrainerConfig, type ValueHeadState } from './trainer';
import type { Engine } from '../model/engine';
import type { TaskExample, TrainingTask } from './task';
import type { FullWeights } from './full-weights';

export interface CheckpointStorage {
  /** Stores `bytes` under `name`, replacing any previous one; never leaves a half-written entry. */
  save(name: string, bytes: Uint8Array): Promise<void>;
  /** Throws when there is no such entry. */
  load(name: string): Promise<Uint8Array>;
  list(): Promise<string[]>;
}

export interface Checkpoint {
  step: number;
  config: TrainerConfig;
  task: string;
  /** The LoRA adapter (null for full fine-tuning). */
  adapter: HostLoraAdapter | null;
  /** Full fine-tuning's trained weights (null for LoRA). */
  full: FullWeights | null;
  optimizer: OptimizerState;
  valueHead: ValueHeadState | null;
  history: StepMetrics[];
  /** The validation score of the run's start, before its first step (null: not validated). */
  startScore: number | null;
}

const FORMAT = 'memory-r1.train-checkpoint';
const VERSION = 1;

/** The matrices of an adapter in checkpoint order: [layer, target, 'A'|'B', values]. */
function adapterEntries(adapter: HostLoraAdapter): Array<[number, LoraTarget, 'A' | 'B', ArrayLike<number>]> {
  const out: Array<[number, LoraTarget, 'A' | 'B', ArrayLike<number>]> = [];
  adapter.layers.forEach((layer, i) => {
    for (const t of LORA_TARGETS) {
      const m = layer[t];
      if (m) out.push([i, t, 'A', m.a], [i, t, 'B', m.b]);
    }
  });
  return out;
}

export function encodeCheckpoint(ck: Checkpoint): Uint8Array {
  const tensors: SafetensorsInput[] = [];
  const f32 = (name: string, values: ArrayLike<number>): void => {
    tensors.push({ name, dtype: 'F32', shape: [values.length], data: Float32Array.from(values) });
  };
  const entries = ck.adapter ? adapterEntries(ck.adapter) : [];
  for (const [i, t, which, values] of entries) f32(`lora.${i}.${t}.${which}`, values);
  ck.full?.tensors.forEach((values, k) => tensors.push({ name: `full.${k}`, dtype: 'F32', shape: ck.full!.shapes[k]!, data: values }));
  ck.optimizer.m.forEach((m, k) => f32(`adamw.m.${k}`, m));
  ck.optimizer.v.forEach((v, k) => f32(`adamw.v.${k}`, v));
  const doc = {
    format: FORMAT,
    version: VERSION,
    step: ck.step,
    task: ck.task,
    config: ck.config,
    adapter: ck.adapter && { rank: ck.adapter.rank, alpha: ck.adapter.alpha, scale: ck.adapter.scale, dropout: ck.adapter.dropout ?? 0, baseModel: ck.adapter.baseModel, matrices: entries.map(([i, t, w]) => `${i}.${t}.${w}`) },
    full: ck.full && { shapes: ck.full.shapes, baseFingerprint: ck.full.baseFingerprint },
    optimizer: { step: ck.optimizer.step, skipped: ck.optimizer.skipped, moments: ck.optimizer.m.length },
    // Float64 numbers survive JSON exactly.
    valueHead: ck.valueHead,
    history: ck.history,
    startScore: ck.startScore,
  };
  return writeSafetensors(tensors, { [FORMAT]: JSON.stringify(doc) });
}

interface CheckpointDoc {
  format: string;
  version: number;
  step: number;
  task: string;
  config: TrainerConfig;
  adapter: { rank: number; alpha: number; scale: number; dropout: number; baseModel?: string; matrices: string[] } | null;
  /** Absent in checkpoints written before full fine-tuning could checkpoint (all LoRA). */
  full?: { shapes: number[][]; baseFingerprint: string } | null;
  optimizer: { step: number; skipped: number; moments: number };
  valueHead: ValueHeadState | null;
  history: StepMetrics[];
  /** Absent in checkpoints written before the start's score was kept. */
  startScore?: number | null;
}

export function decodeCheckpoint(bytes: Uint8Array, name = 'checkpoint'): Checkpoint {
  const { tensors, metadata } = parseSafetensors(bytes, name);
  const text = metadata[FORMAT];
  if (text === undefined) throw new Error(`${name}: not a memory-r1 training checkpoint (no "${FORMAT}" metadata)`);
  const doc = JSON.parse(text) as CheckpointDoc;
  if (doc.format !== FORMAT || doc.version !== VERSION) throw new Error(`${name}: checkpoint format ${doc.format} v${doc.version}, this build reads v${VERSION}`);
  const tensor = (key: string): Float32Array => {
    const t = tensors.get(key);
    if (!t || t.dtype !== 'F32') throw new Error(`${name}: tensor ${key} is missing or not F32; the checkpoint is damaged`);
    return (safetensorsData(t) as Float32Array).slice();
  };
  const sized = (t: Float32Array, shape: number[], key: string): Float32Array => {
    if (t.length !== shape.reduce((a, b) => a * b, 1)) throw new Error(`${name}: tensor ${key} has ${t.length} values, not [${shape.join(', ')}]; the checkpoint is damaged`);
    return t;
  };
  const moments = (kind: 'm' | 'v'): Float32Array[] => Array.from({ length: doc.optimizer.moments }, (_, k) => tensor(`adamw.${kind}.${k}`));
  const isFull = doc.config.fineTune === 'full';
  if (isFull ? !doc.full : !doc.adapter) throw new Error(`${name}: a ${isFull ? 'full fine-tuning' : 'LoRA'} run's checkpoint without its ${isFull ? 'weights' : 'adapter'}; the checkpoint is damaged`);
  return {
    step: doc.step,
    task: doc.task,
    config: doc.config,
    adapter: doc.adapter ? decodeAdapter(doc.adapter, (key) => tensor(`lora.${key}`)) : null,
    full: doc.full ? { shapes: doc.full.shapes, baseFingerprint: doc.full.baseFingerprint, tensors: doc.full.shapes.map((shape, k) => sized(tensor(`full.${k}`), shape, `full.${k}`)) } : null,
    optimizer: { step: doc.optimizer.step, skipped: doc.optimizer.skipped, m: moments('m'), v: moments('v') },
    valueHead: doc.valueHead,
    history: doc.history,
    startScore: doc.startScore ?? null,
  };
}

function decodeAdapter(doc: NonNullable<CheckpointDoc['adapter']>, tensor: (key: string) => Float32Array): HostLoraAdapter {
  const layers: HostLoraAdapter['layers'] = [];
  for (const key of doc.matrices) {
    const [layer, target, which] = key.split('.') as [string, LoraTarget, 'A' | 'B'];
    const i = Number(layer);
    while (layers.length <= i) layers.push({});
    const m = (layers[i]![target] ??= { a: new Float32Array(0), b: new Float32Array(0) });
    if (which === 'A') m.a = tensor(key);
    else m.b = tensor(key);
  }
  const { rank, alpha, scale, dropout, baseModel } = doc;
  return { rank, alpha, scale, dropout, layers, ...(baseModel !== undefined ? { baseModel } : {}) };
}

/** The trainer's full state as a checkpoint. */
export async function checkpointOf<E extends TaskExample>(trainer: Trainer<E>): Promise<Checkpoint> {
  return {
    step: trainer.stepsDone,
    config: trainer.config,
    task: trainer.task.name,
    adapter: trainer.adapter ? await trainer.downloadAdapter() : null,
    full: trainer.adapter ? null : await trainer.fullWeights(),
    optimizer: await trainer.optimizerState(),
    valueHead: trainer.valueHeadState(),
    history: [...trainer.history],
    startScore: trainer.startScore,
  };
}

/** Name of the checkpoint at `step`: sorts by step. */
export const checkpointName = (step: number): string => `step-${String(step).padStart(7, '0')}.ckpt`;

/** The checkpoint of the best-validated step (kept beside the step-N ones, never pruned with them). */
export const BEST_CHECKPOINT = 'best.ckpt';

/** Saves the trainer's state as `name` (default: the step's name). */
export async function saveCheckpoint<E extends TaskExample>(storage: CheckpointStorage, trainer: Trainer<E>, name = checkpointName(trainer.stepsDone)): Promise<string> {
  await storage.save(name, encodeCheckpoint(await checkpointOf(trainer)));
  return name;
}

/** The latest checkpoint's name, or null. */
export async function latestCheckpoint(storage: CheckpointStorage): Promise<string | null> {
  const names = (await storage.list()).filter((n) => /^step-\d+\.ckpt$/.test(n)).sort();
  return names.at(-1) ?? null;
}

const kindOf = (fineTune: TrainerConfig['fineTune'] | undefined): string => (fineTune === 'full' ? 'full fine-tuning (every weight)' : 'LoRA');

/**
 * A trainer continuing from a checkpoint: the same config (overrides for e.g. totalSteps), adapter or
 * trained weights, optimiser, value head, step and history. The task must be the one the run was
 * started with, and the engine the model it was trained on (for full fine-tuning: freshly loaded from
 * the same base folder). `fineTune`, when given, must be the checkpoint's.
 */
export async function resumeTrainer<E extends TaskExample>(engine: Engine, ck: Checkpoint, task: TrainingTask<E>, overrides: Partial<Pick<TrainerConfig, 'totalSteps' | 'fineTune'>> = {}): Promise<Trainer<E>> {
  if (ck.task !== task.name) throw new Error(`checkpoint was trained on task "${ck.task}", not "${task.name}"`);
  const saved = ck.config.fineTune ?? 'lora';
  if (overrides.fineTune !== undefined && overrides.fineTune !== saved) throw new Error(`the checkpoint is of a ${kindOf(saved)} run; it cannot be resumed as ${kindOf(overrides.fineTune)}: resume it as it was trained, or start a new run`);
  const config = { ...ck.config, fineTune: saved, ...overrides };
  let trainer: Trainer<E>;
  try {
    trainer = new Trainer(engine, config, task, ck.adapter ?? undefined);
  } catch (error) {
    if (ck.adapter) throw new Error(`the checkpoint's adapter does not fit this model (${(error as Error).message}): resume it on the model it was trained from`);
    throw error;
  }
  try {
    if (ck.full) await trainer.restoreWeights(ck.full);
    trainer.restoreState({ step: ck.step, optimizer: ck.optimizer, valueHead: ck.valueHead, history: ck.history, startScore: ck.startScore });
  } catch (error) {
    trainer.dispose();
    throw error;
  }
  return trainer;
}

/** Checkpoints in memory (tests; a tab that does not persist). */
export class MemoryCheckpointStorage implements CheckpointStorage {
  private readonly entries = new Map<string, Uint8Array>();
  async save(name: string, bytes: Uint8Array): Promise<void> {
    this.entries.set(name, bytes.slice());
  }
  async load(name: string): Promise<Uint8Array> {
    const bytes = this.entries.get(name);
    if (!bytes) throw new Error(`no checkpoint named "${name}"`);
    return bytes.slice();
  }
  async list(): Promise<string[]> {
    return [...this.entries.keys()];
  }
}
