// Merging a trained LoRA adapter into its base model, and writing the result as an MLC model folder that
// WebLLM can run with the base model's prebuilt library (same architecture, same quantisation, same
// tensor names; only the values of the adapted matrices change).
//
//   W' = W + scale · B·A   for every targeted module (q/k/v rows of the fused qkv, gate/up rows of gate_up,
//                           o, down), from the dequantised base, then stored back in the base's precision:
//   f32 → f32 (one rounding to f32), or onto the bf16 grid when the base's folder stores f32 as bf16;
//   f16 → f16; q4 → MLC group quantisation of the merged rows (quantizeQ4, same scale dtype).
// Every rounding onto a grid coarser than f32 is stochastic (seeded, so a merge is reproducible). The
// base's weights already lie on that grid, so rounding W + scale·B·A to nearest returns every weight
// whose change is under half a step as it was, and a trained adapter's changes mostly are (a 4-step
// adapter on the 0.5B-shaped test model: ~1e-4 against q4 steps of ~1e-2; merged to nearest, its taught
// token's log-prob went from -0.00 back to -17.3, the base's being -18.8). bf16's step at such weights is
// ~1e-4 too. Stochastic rounding keeps each change in expectation.
// Only the rows of targeted modules are recomputed: q4 rows are independent, so re-quantising just the q
// rows of qkv leaves k and v bit-identical. Untargeted tensors are the base's own objects.

import { parseJsonFile, utf8Encode } from '../model/bytes';
import { parseMlcChatConfig, type ModelConfig, type Quantization } from '../model/config';
import { loadModel } from '../model/load';
import { f32ArrayToF16, roundToBf16Stochastic } from '../model/half';
import { checkHostAdapter, fusedSlice, loraDims, type HostLoraAdapter } from '../model/lora';
import { NDARRAY_CACHE, TENSOR_CACHE, TENSOR_CACHE_NAMES, parseTensorCache, writeTensorCache, type MlcTensor, type TensorCache } from '../model/mlc';
import { Q4_GROUP_SIZE, Q4_PER_WORD, quantizeQ4 } from '../model/q4';
import { createRng, type Rng } from '../model/rng';
import type { LoraMatrix, LoraTarget } from '../model/reference';
import { MissingFileError, type ModelSource } from '../model/source';
import { dequantize, sliceRows, type LayerWeights, type ModelWeights, type WeightData, type WeightTensor } from '../model/weights';
import { mlcTensorsFromWeights } from '../model/weights-mlc';

/** The fused (or plain) layer tensor each LoRA target lands in. */
const HOST: Record<LoraTarget, 'qkv' | 'oProj' | 'gateUp' | 'downProj'> = {
  q: 'qkv',
  k: 'qkv',
  v: 'qkv',
  o: 'oProj',
  gate: 'gateUp',
  up: 'gateUp',
  down: 'downProj',
};

/** scale · B·A for one target, [out, in] in float64 (rank is small: the cost is rank·out·in). */
function loraDelta(m: LoraMatrix, rank: number, out: number, inDim: number, scale: number): Float64Array {
  const delta = new Float64Array(out * inDim);
  for (let o = 0; o < out; o++) {
    const row = o * inDim;
    for (let k = 0; k < rank; k++) {
      const b = scale * m.b[o * rank + k]!;
      if (b === 0) continue;
      const a = k * inDim;
      for (let i = 0; i < inDim; i++) delta[row + i] = delta[row + i]! + b * m.a[a + i]!;
    }
  }
  return delta;
}

/** A copy of the stored data, so row ranges can be overwritten without touching the base. */
function copyData(d: WeightData): WeightData {
  if (d.kind === 'q4') return { kind: 'q4', qWeight: d.qWeight.slice(), qScale: d.qScale.slice(), scaleDtype: d.scaleDtype };
  return d.kind === 'f32' ? { kind: 'f32', data: d.data.slice() } : { kind: 'f16', data: d.data.slice() };
}

/** Overwrites rows [start, start+rows) of `t` (a private copy) with `values` in t's own precision, rounded stochastically with `rng`. */
function storeRows(t: WeightTensor, start: number, rows: number, values: Float32Array, rng: Rng, f32AsBf16: boolean): void {
  const cols = t.shape[1]!;
  const d = t.data;
  if (d.kind === 'f32') d.data.set(f32AsBf16 ? roundToBf16Stochastic(values, rng) : values, start * cols);
  else if (d.kind === 'f16') d.data.set(f32ArrayToF16(values, rng), start * cols);
  else {
    const q = quantizeQ4(values, rows, cols, d.scaleDtype, rng);
    d.qWeight.set(q.qWeight, (start * cols) / Q4_PER_WORD);
    (d.qScale as Float32Array | Uint16Array).set(q.qScale, (start * cols) / Q4_GROUP_SIZE);
  }
}

/** Row range of a target inside its host tensor. */
function rowRange(c: ModelConfig, target: LoraTarget): { start: number; rows: number } {
  const fused = fusedSlice(c, target);
  return fused ? { start: fused.offset, rows: fused.width } : { start: 0, rows: loraDims(c, target).out };
}

export interface MergeOptions {
  /** Seeds the stochastic rounding: the same seed gives the same bytes. */
  seed?: number;
  /** The base's folder stores f32 tensors as bf16 (as mlc_llm writes q0f32 models), so merged f32 weights go onto bf16's grid. */
  f32AsBf16?: boolean;
}

/**
 * Folds the adapter into the base weights: a new ModelWeights whose adapted matrices are merged copies in
 * the base's precision and whose other tensors are the base's (shared, unchanged).
 */
export function mergeLora(weights: ModelWeights, config: ModelConfig, adapter: HostLoraAdapter, options: MergeOptions = {}): ModelWeights {
  checkHostAdapter(config, adapter, 'LoRA adapter');
  const scale = adapter.scale ?? adapter.alpha / adapter.rank;
  const rng = createRng(options.seed ?? 0);
  const layers = weights.layers.map((layer, li): LayerWeights => {
    const targets = Object.entries(adapter.layers[li] ?? {}) as Array<[LoraTarget, LoraMatrix]>;
    if (targets.length === 0) return layer;
    const merged: LayerWeights = { ...layer };
    const copied = new Set<keyof LayerWeights>();
    for (const [target, m] of targets) {
      const host = HOST[target];
      if (!copied.has(host)) {
        merged[host] = { shape: layer[host].shape, data: copyData(layer[host].data) };
        copied.add(host);
      }
      const t = merged[host];
      const { start, rows } = rowRange(config, target);
      const cols = t.shape[1]!;
      // Dequantise from the base (not the copy): targets never overlap, but this keeps that irrelevant.
      const base = dequantize(sliceRows(layer[host], start, rows));
      const delta = loraDelta(m, adapter.rank, rows, cols, scale);
      const values = new Float32Array(rows * cols);
      for (let i = 0; i < values.length; i++) values[i] = base[i]! + delta[i]!;
      storeRows(t, start, rows, values, rng, options.f32AsBf16 ?? false);
    }
    return merged;
  });
  return { ...weights, layers };
}

// ---- Writing the merged model as an MLC folder -------------------------------------------------------

/**
 * MLC tensors for `w` under `quantization`, keyed by name. Data already in the target form (every tensor
 * of a merge of a base of this quantisation) is passed through untouched, so untargeted tensors keep their
 * exact bytes; anything else is converted (f32 → f16, or quantised to q4).
 */
export function mlcTensorsVerbatim(w: ModelWeights, c: ModelConfig, quantization: Quantization): Map<string, MlcTensor> {
  return new Map(mlcTensorsFromWeights(w, c, quantization).map((t) => [t.name, t]));
}

export interface WriteMergedOptions {
  /** Extra facts recorded in mlc-chat-config.json under "memory_r1_merge" (WebLLM ignores unknown fields). */
  note?: Record<string, unknown>;
  /** Shard size cap; MLC's own is 32 MiB. */
  shardCapBytes?: number;
}

const jsonBytes = (v: unknown): Uint8Array => utf8Encode(JSON.stringify(v, null, 2) + '\n');

async function readRequired(base: ModelSource, path: string): Promise<Uint8Array> {
  try {
    return await base.read(path);
  } catch (e) {
    if (e instanceof MissingFileError) throw new Error(`${path}: missing from the base model (${base.name}). Merging needs the base's MLC folder (mlc-chat-config.json, tensor-cache.json, tokenizer.json).`);
    throw e;
  }
}

async function readBaseCache(base: ModelSource): Promise<{ cacheFile: string; cache: TensorCache }> {
  const cacheFile = (await base.exists(TENSOR_CACHE)) || !(await base.exists(NDARRAY_CACHE)) ? TENSOR_CACHE : NDARRAY_CACHE;
  return { cacheFile, cache: parseTensorCache(parseJsonFile(await readRequired(base, cacheFile), cacheFile), cacheFile) };
}

const storesF32AsBf16 = (cache: TensorCache): boolean =>
  cache.records.some((shard) => shard.records.some((r) => r.dtype === 'float32' && r.format === 'f32-to-bf16'));


/** mlc_llm gen_config's sampling defaults; WebLLM 0.2.79 aborts when one is absent from the config. */
const PENALTY_DEFAULTS = { repetition_penalty: 1, presence_penalty: 0, frequency_penalty: 0 };

/**
 * The merged model as an MLC folder (file name → bytes): params shards and the tensor cache (under both
 * its names, tensor-cache.json and ndarray-cache.json) with the base's tensor names in the base's order,
 * the base's mlc-chat-config.json (plus a note, and the penalty defaults WebLLM needs if the base lacks
 * them), and the base's tokenizer files. Float32 tensors are stored as the base stored them: "raw" (exact)
 * or "f32-to-bf16" (what mlc_llm writes for f32 models; WebLLM cannot load very large raw f32 tensors).
 */
export async function writeMergedMlcModel(base: ModelSource, merged: ModelWeights, name: string, options: WriteMergedOptions = {}): Promise<Map<string, Uint8Array>> {
  const chatConfigJson = parseJsonFile(await readRequired(base, 'mlc-chat-config.json'), 'mlc-chat-config.json') as Record<string, unknown>;
  const { config, quantization } = parseMlcChatConfig(chatConfigJson);
  const { cacheFile, cache: baseCache } = await readBaseCache(base);

  const tensors = mlcTensorsVerbatim(merged, config, quantization);
  const baseNames = baseCache.records.flatMap((shard) => shard.records.map((r) => r.name));
  const unknown = baseNames.filter((n) => !tensors.has(n));
  if (unknown.length > 0 || baseNames.length !== tensors.size) {
    const missing = [...tensors.keys()].filter((n) => !baseNames.includes(n));
    throw new Error(
      `${cacheFile}: the base model's tensors do not match a ${quantization} ${config.architecture} model ` +
        `(${unknown.length ? `unexpected: ${unknown.slice(0, 3).join(', ')}` : ''}${missing.length ? ` absent: ${missing.slice(0, 3).join(', ')}` : ''}); this base cannot be merged into.`,
    );
  }
  // The model library binds parameters by name, but keep the base's order anyway (it is MLC's order).
  const ordered = baseNames.map((n) => tensors.get(n)!);
  const paramBytes = ordered.reduce((n, t) => n + t.data.byteLength, 0);
  const f32ToBf16 = storesF32AsBf16(baseCache);
  const { cache, files: shards } = writeTensorCache(ordered, {
    ...(options.shardCapBytes !== undefined ? { shardCapBytes: options.shardCapBytes } : {}),
    f32ToBf16,
    metadata: { ...(baseCache.metadata ?? {}), ParamBytes: paramBytes },
  });

  const files = new Map<string, Uint8Array>();
  files.set('mlc-chat-config.json', jsonBytes({ ...PENALTY_DEFAULTS, ...chatConfigJson, memory_r1_merge: { name, ...options.note } }));
  for (const file of TENSOR_CACHE_NAMES) files.set(file, jsonBytes(cache));
  for (const [path, bytes] of shards) files.set(path, bytes);
  files.set('tokenizer.json', await readRequired(base, 'tokenizer.json'));
  const listed = Array.isArray(chatConfigJson.tokenizer_files) ? chatConfigJson.tokenizer_files.filter((f): f is string => typeof f === 'string') : [];
  for (const file of new Set([...listed, 'tokenizer_config.json'])) {
    if (files.has(file) || file.includes('/') || file.includes('..')) continue;
    if (await base.exists(file)) files.set(file, await base.read(file));
  }
  return files;
}

/**
 * The whole merge: the MLC folder at `base` with `adapter` folded in, as the files of a new MLC folder
 * named `name`, each weight on the grid the base stores it on.
 */
export async function mergeIntoMlcFolder(base: ModelSource, adapter: HostLoraAdapter, name: string, options: WriteMergedOptions & Pick<MergeOptions, 'seed'> = {}): Promise<Map<string, Uint8Array>> {
  const model = await loadModel(base);
  const f32AsBf16 = storesF32AsBf16((await readBaseCache(base)).cache);
  const merged = mergeLora(model.weights, model.config, adapter, { ...(options.seed !== undefined ? { seed: options.seed } : {}), f32AsBf16 });
  return writeMergedMlcModel(base, merged, name, options);
}
