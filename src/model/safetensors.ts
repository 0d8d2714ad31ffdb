// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
// ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}),
// then the data section; offsets are relative to its start. Untrusted input: every entry is checked.

import { asFloat32, asInt32, asUint16, asUint32, bytesOf, product, shapeString, utf8Decode, utf8Encode } from './bytes';

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'U32' | 'I32';

const DTYPE_SIZE: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, U32: 4, I32: 4 };

/** Dtypes other libraries write that we recognise but do not load. */
const KNOWN_UNSUPPORTED = ['F64', 'I64', 'U64', 'I16', 'U16', 'I8', 'U8', 'BOOL', 'F8_E4M3', 'F8_E5M2'];

// The reference implementation refuses headers over 100 MB; so do we (a corrupt length would otherwise
// make us allocate gigabytes).
const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** The tensor's bytes: a view into the file buffer. */
  bytes: Uint8Array;
}

export interface SafetensorsFile {
  metadata: Record<string, string>;
  tensors: Map<string, SafetensorsTensor>;
}

/** Parses and validates a safetensors file held in memory; `fileName` is used in error messages. */
export function parseSafetensors(file: Uint8Array, fileName: string): SafetensorsFile {
  const fail = (what: string): never => {
    throw new Error(`${fileName}: ${what}. The file is not a valid safetensors file; re-download or re-export it.`);
  };
  if (file.byteLength < 8) fail(`only ${file.byteLength} bytes, too short for the 8-byte header length`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength > MAX_HEADER_BYTES) fail(`header length ${headerLength} is implausibly large`);
  if (8 + headerLength > file.byteLength) {
    fail(`header says ${headerLength} bytes of JSON but the file has only ${file.byteLength - 8} after the length (truncated?)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(utf8Decode(file.subarray(8, 8 + headerLength)));
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');

  const data = file.subarray(8 + headerLength);
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, SafetensorsTensor>();
  const spans: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null) fail('"__metadata__" is not an object');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`"__metadata__.${k}" is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor "${name}"`;
    if (typeof entry !== 'object' || entry === null) fail(`${where}: entry is not an object`);
    const { dtype, shape, data_offsets: offsets } = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof dtype !== 'string') fail(`${where}: missing "dtype"`);
    if (!(dtype as string in DTYPE_SIZE)) {
      const known = KNOWN_UNSUPPORTED.includes(dtype as string) ? 'is not supported here' : 'is unknown';
      fail(`${where}: dtype "${dtype as string}" ${known} (supported: ${Object.keys(DTYPE_SIZE).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${where}: "shape" must be an array of non-negative integers`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${where}: "data_offsets" must be [begin, end] non-negative integers`);
    }
    const [begin, end] = offsets as [number, number];
    const size = DTYPE_SIZE[dtype as SafetensorsDtype];
    const expected = product(shape as number[]) * size;
    if (end < begin) fail(`${where}: data_offsets [${begin}, ${end}] end before begin`);
    if (end - begin !== expected) {
      fail(`${where}: ${dtype as string} ${shapeString(shape as number[])} needs ${expected} bytes but data_offsets span ${end - begin}`);
    }
    if (end > data.byteLength) {
      fail(`${where}: data_offsets end ${end} is past the data section (${data.byteLength} bytes; truncated file?)`);
    }
    spans.push([begin, end, name]);
    tensors.set(name, { name, dtype: dtype as SafetensorsDtype, shape: shape as number[], bytes: data.subarray(begin, end) });
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    const [prevBegin, prevEnd, prevName] = spans[i - 1]!;
    const [begin, , name] = spans[i]!;
    if (begin < prevEnd && prevEnd > prevBegin) fail(`tensors "${prevName}" and "${name}" overlap`);
  }
  return { metadata, tensors };
}

export type SafetensorsArray = Float32Array | Uint16Array | Uint32Array | Int32Array;

/** The tensor's elements in their stored form: F32 → Float32Array, F16/BF16 → Uint16Array bit patterns. */
export function safetensorsData(t: SafetensorsTensor): SafetensorsArray {
  switch (t.dtype) {
    case 'F32':
      return asFloat32(t.bytes);
    case 'F16':
    case 'BF16':
      return asUint16(t.bytes);
    case 'U32':
      return asUint32(t.bytes);
    case 'I32':
      return asInt32(t.bytes);
  }
}

export interface SafetensorsInput {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  data: SafetensorsArray;
}

/** Serialises tensors (in the given order) with optional string metadata; the header is padded to 8 bytes. */
export function writeSafetensors(tensors: readonly SafetensorsInput[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    const nbytes = product(t.shape) * DTYPE_SIZE[t.dtype];
    if (t.data.byteLength !== nbytes) {
      throw new Error(`writeSafetensors: tensor "${t.name}" ${t.dtype} ${shapeString(t.shape)} needs ${nbytes} bytes, got ${t.data.byteLength}`);
    }
    if (t.name in header) throw new Error(`writeSafetensors: duplicate tensor name "${t.name}"`);
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + nbytes] };
    offset += nbytes;
  }
  let json = JSON.stringify(header);
  // Pad with spaces so the data section starts 8-byte aligned (what the Rust writer does too).
  const encodedLength = utf8Encode(json).byteLength;
  json += ' '.repeat((8 - (encodedLength % 8)) % 8);
  const headerBytes = utf8Encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let at = 8 + headerBytes.byteLength;
  for (const t of tensors) {
    out.set(bytesOf(t.data), at);
    at += t.data.byteLength;
  }
  return out;
}

export const SAFETENSORS_INDEX = 'model.safetensors.index.json';

/** The shard file names of a sharded model, from `model.safetensors.index.json`'s `weight_map`. */
export function parseSafetensorsIndex(json: unknown, fileName = SAFETENSORS_INDEX): Map<string, string> {
  const weightMap = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof weightMap !== 'object' || weightMap === null) {
    throw new Error(`${fileName}: missing "weight_map" (tensor name → shard file). Re-download the model's index file.`);
  }
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    if (typeof shard !== 'string' || shard.includes('..')) {
      throw new Error(`${fileName}: weight_map["${name}"] must be a shard file name, got ${JSON.stringify(shard)}`);
    }
    map.set(name, shard);
  }
  return map;
}
