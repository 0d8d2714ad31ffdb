// Small helpers for turning file bytes into typed arrays and JSON. Every format we read (safetensors,
// MLC shards) is little-endian, as are all the hosts we run on, so typed-array views are used directly.

if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new Error('This code assumes a little-endian host (all browsers and Node on x86/ARM are).');
}

type TypedArrayCtor<T> = { new (buffer: ArrayBuffer, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** A typed view of `bytes`; copied only when the offset is not aligned to the element size. */
function viewOrCopy<T>(Ctor: TypedArrayCtor<T>, bytes: Uint8Array): T {
  const size = Ctor.BYTES_PER_ELEMENT;
  if (bytes.byteLength % size !== 0) throw new Error(`byte length ${bytes.byteLength} is not a multiple of ${size}`);
  if (bytes.byteOffset % size === 0 && bytes.buffer instanceof ArrayBuffer) {
    return new Ctor(bytes.buffer, bytes.byteOffset, bytes.byteLength / size);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Ctor(copy.buffer, 0, bytes.byteLength / size);
}

export const asFloat32 = (b: Uint8Array): Float32Array => viewOrCopy(Float32Array, b);
export const asUint16 = (b: Uint8Array): Uint16Array => viewOrCopy(Uint16Array, b);
export const asUint32 = (b: Uint8Array): Uint32Array => viewOrCopy(Uint32Array, b);
export const asInt32 = (b: Uint8Array): Int32Array => viewOrCopy(Int32Array, b);

/** The bytes behind a typed array (a view, no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

export const utf8Encode = (s: string): Uint8Array => new TextEncoder().encode(s);
export const utf8Decode = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: false }).decode(b);

/** Parses a JSON file, naming it in the error. */
export function parseJsonFile(bytes: Uint8Array, fileName: string): unknown {
  try {
    return JSON.parse(utf8Decode(bytes));
  } catch (e) {
    throw new Error(`${fileName}: not valid JSON (${(e as Error).message}). Re-download or regenerate the file.`);
  }
}

export const product = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export const shapeString = (shape: readonly number[]): string => `[${shape.join(', ')}]`;
