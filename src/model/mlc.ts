// MLC's tensor cache (`tensor-cache.json`; TVM before 2025 called it `ndarray-cache.json`), the format
// WebLLM downloads. Layout as written by tvm.contrib.tvmjs.dump_tensor_cache:
//   { metadata: {ParamSize, ParamBytes, BitsPerParam},
//     records: [ { dataPath: "params_shard_0.bin", format: "raw-shard", nbytes, md5sum?,
//                  records: [ { name, shape, dtype, format: "raw" | "f32-to-bf16", nbytes, byteOffset } ] } ] }
// `format: "f32-to-bf16"` only changes float32 tensors: they are stored as bf16 (2 bytes each) and widen
// on load. MLC's converter sets that format on every record, so it must be ignored for other dtypes.

import { z } from 'zod';
import { asFloat32, asUint16, asUint32, bytesOf, product, shapeString } from './bytes';
import { bf16ArrayToF32, f32ArrayToBf16 } from './half';

export const TENSOR_CACHE = 'tensor-cache.json';
export const NDARRAY_CACHE = 'ndarray-cache.json';
/**
 * The names a written tensor cache goes under: both, because WebLLM up to 0.2.79 (its TVM runtime)
 * fetches only ndarray-cache.json and 0.2.80+ only tensor-cache.json.
 */
export const TENSOR_CACHE_NAMES = [TENSOR_CACHE, NDARRAY_CACHE] as const;

export type MlcDtype = 'float32' | 'float16' | 'bfloat16' | 'uint32';
const DTYPE_SIZE: Record<MlcDtype, number> = { float32: 4, float16: 2, bfloat16: 2, uint32: 4 };

const recordSchema = z.object({
  name: z.string().min(1),
  shape: z.array(z.number().int().nonnegative()),
  dtype: z.string(),
  format: z.enum(['raw', 'f32-to-bf16']),
  nbytes: z.number().int().nonnegative(),
  byteOffset: z.number().int().nonnegative(),
});
const shardSchema = z.object({
  dataPath: z.string().min(1),
  format: z.literal('raw-shard'),
  nbytes: z.number().int().nonnegative(),
  records: z.array(recordSchema),
  md5sum: z.string().optional(),
});
const cacheSchema = z.object({ metadata: z.record(z.string(), z.unknown()).optional(), records: z.array(shardSchema) });

export type TensorCacheRecord = z.infer<typeof recordSchema>;
export type TensorCacheShard = z.infer<typeof shardSchema>;
export type TensorCache = z.infer<typeof cacheSchema>;

export function parseTensorCache(json: unknown, fileName = TENSOR_CACHE): TensorCache {
  const result = cacheSchema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new Error(`${fileName}: field "${issue.path.map(String).join('.')}": ${issue.message}. The tensor cache is malformed; re-download the model.`);
  }
  for (const shard of result.data.records) {
    if (shard.dataPath.includes('..') || shard.dataPath.startsWith('/')) {
      throw new Error(`${fileName}: shard path "${shard.dataPath}" must be a plain relative file name.`);
    }
  }
  return result.data;
}

export interface MlcTensor {
  name: string;
  shape: number[];
  /** The logical dtype (float32 even when the file stored it as bf16). */
  dtype: MlcDtype;
  /** float32 → Float32Array; float16 → Uint16Array (f16 bits); bfloat16 → Float32Array (widened); uint32 → Uint32Array. */
  data: Float32Array | Uint16Array | Uint32Array;
}

/** Decodes one record from its shard bytes, checking sizes against dtype and shape. */
function decodeRecord(rec: TensorCacheRecord, shard: Uint8Array, where: string): MlcTensor {
  const fail = (what: string): never => {
    throw new Error(`${where}: ${what}. The tensor cache does not match its shards; re-download the model.`);
  };
  if (!(rec.dtype in DTYPE_SIZE)) fail(`dtype "${rec.dtype}" is not supported (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
  const dtype = rec.dtype as MlcDtype;
  const count = product(rec.shape);
  const asBf16 = dtype === 'float32' && rec.format === 'f32-to-bf16';
  const stored = count * (asBf16 ? 2 : DTYPE_SIZE[dtype]);
  if (rec.nbytes !== stored) fail(`${dtype} ${shapeString(rec.shape)} (${rec.format}) needs ${stored} bytes but the record says ${rec.nbytes}`);
  if (rec.byteOffset + rec.nbytes > shard.byteLength) {
    fail(`bytes ${rec.byteOffset}..${rec.byteOffset + rec.nbytes} are past the end of the shard (${shard.byteLength} bytes)`);
  }
  const bytes = shard.subarray(rec.byteOffset, rec.byteOffset + rec.nbytes);
  let data: MlcTensor['data'];
  if (asBf16 || dtype === 'bfloat16') data = bf16ArrayToF32(asUint16(bytes));
  else if (dtype === 'float32') data = asFloat32(bytes);
  else if (dtype === 'float16') data = asUint16(bytes);
  else data = asUint32(bytes);
  return { name: rec.name, shape: rec.shape, dtype: dtype === 'bfloat16' ? 'float32' : dtype, data };
}

/** Reads every tensor of a cache, fetching each shard once through `readShard`. */
export async function readTensorCache(
  cache: TensorCache,
  readShard: (dataPath: string) => Promise<Uint8Array>,
  fileName = TENSOR_CACHE,
): Promise<Map<string, MlcTensor>> {
  const tensors = new Map<string, MlcTensor>();
  for (const shard of cache.records) {
    const bytes = await readShard(shard.dataPath);
    if (bytes.byteLength !== shard.nbytes) {
      throw new Error(`${shard.dataPath}: ${bytes.byteLength} bytes but ${fileName} says ${shard.nbytes} (truncated or stale download?). Re-download the model.`);
    }
    for (const rec of shard.records) {
      if (tensors.has(rec.name)) throw new Error(`${fileName}: tensor "${rec.name}" appears twice.`);
      tensors.set(rec.name, decodeRecord(rec, bytes, `${fileName}: tensor "${rec.name}" in ${shard.dataPath}`));
    }
  }
  return tensors;
}

export interface WriteTensorCacheOptions {
  /** Start a new shard when the current one would exceed this (MLC uses 32 MiB). */
  shardCapBytes?: number;
  /** Store float32 tensors as bf16 like MLC's converter does (lossy); default false (exact). */
  f32ToBf16?: boolean;
  metadata?: Record<string, unknown>;
}

/** Writes tensors as a tensor cache: returns the JSON and the shard files (name → bytes). */
export function writeTensorCache(tensors: readonly MlcTensor[], options: WriteTensorCacheOptions = {}): { cache: TensorCache; files: Map<string, Uint8Array> } {
  const cap = options.shardCapBytes ?? 32 * 1024 * 1024;
  const format = options.f32ToBf16 ? 'f32-to-bf16' : 'raw';
  const shards: TensorCacheShard[] = [];
  const files = new Map<string, Uint8Array>();
  let pending: { rec: TensorCacheRecord; bytes: Uint8Array }[] = [];
  let pendingBytes = 0;
  const commit = (): void => {
    if (pending.length === 0) return;
    const dataPath = `params_shard_${shards.length}.bin`;
    const out = new Uint8Array(pendingBytes);
    for (const p of pending) out.set(p.bytes, p.rec.byteOffset);
    files.set(dataPath, out);
    shards.push({ dataPath, format: 'raw-shard', nbytes: pendingBytes, records: pending.map((p) => p.rec) });
    pending = [];
    pendingBytes = 0;
  };
  let paramBytes = 0;
  for (const t of tensors) {
    const count = product(t.shape);
    if (t.data.length !== count) throw new Error(`writeTensorCache: "${t.name}" has ${t.data.length} values for shape ${shapeString(t.shape)}`);
    const bytes = t.dtype === 'float32' && options.f32ToBf16 ? bytesOf(f32ArrayToBf16(t.data)) : bytesOf(t.data);
    paramBytes += t.data.byteLength;
    if (pendingBytes > 0 && pendingBytes + bytes.byteLength > cap) commit();
    pending.push({ rec: { name: t.name, shape: t.shape, dtype: t.dtype, format, nbytes: bytes.byteLength, byteOffset: pendingBytes }, bytes });
    pendingBytes += bytes.byteLength;
  }
  commit();
  const metadata = options.metadata ?? { ParamSize: tensors.length, ParamBytes: paramBytes };
  return { cache: { metadata, records: shards }, files };
}
