import { describe, expect, it } from 'vitest';
import { utf8Encode } from './bytes';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half';
import { parseSafetensors, parseSafetensorsIndex, safetensorsData, writeSafetensors } from './safetensors';

/** A file with the given header object and data section, for crafting corrupt inputs. */
function rawFile(header: unknown, dataBytes: number, declaredLength?: number): Uint8Array {
  const json = utf8Encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(declaredLength ?? json.byteLength), true);
  out.set(json, 8);
  return out;
}

describe('half floats', () => {
  it('round-trips f16 and bf16 values and rounds to nearest even', () => {
    for (const x of [0, -0, 1, -2.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.1]) {
      expect(f16ToF32(f32ToF16(x))).toBeCloseTo(x, 3);
    }
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00); // halfway between 1 and next: ties to even (1)
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f16ToF32(f32ToF16(1e6))).toBe(Infinity);
    expect(bf16ToF32(f32ToBf16(3.140625))).toBe(3.140625);
    expect(bf16ToF32(f32ToBf16(1 + 2 ** -8))).toBe(1); // tie → even
  });
});

describe('safetensors', () => {
  it('round-trips tensors of every supported dtype with metadata', () => {
    const f32 = new Float32Array([1, -2, 3.5, 4, 5, 6]);
    const f16 = Uint16Array.from([0.5, -1, 2], f32ToF16);
    const bf16 = Uint16Array.from([0.25, 8], f32ToBf16);
    const u32 = new Uint32Array([0xdeadbeef]);
    const i32 = new Int32Array([-7, 9]);
    const file = writeSafetensors(
      [
        { name: 'a', dtype: 'F32', shape: [2, 3], data: f32 },
        { name: 'b', dtype: 'F16', shape: [3], data: f16 },
        { name: 'c', dtype: 'BF16', shape: [2, 1], data: bf16 },
        { name: 'd', dtype: 'U32', shape: [1], data: u32 },
        { name: 'e', dtype: 'I32', shape: [2], data: i32 },
        { name: 'empty', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      ],
      { format: 'pt' },
    );
    expect(new DataView(file.buffer).getBigUint64(0, true) % 8n).toBe(0n); // data section aligned
    const parsed = parseSafetensors(file, 'x.safetensors');
    expect(parsed.metadata).toEqual({ format: 'pt' });
    expect([...parsed.tensors.keys()]).toEqual(['a', 'b', 'c', 'd', 'e', 'empty']);
    expect(parsed.tensors.get('a')!.shape).toEqual([2, 3]);
    expect(safetensorsData(parsed.tensors.get('a')!)).toEqual(f32);
    expect(safetensorsData(parsed.tensors.get('b')!)).toEqual(f16);
    expect(safetensorsData(parsed.tensors.get('c')!)).toEqual(bf16);
    expect(safetensorsData(parsed.tensors.get('d')!)).toEqual(u32);
    expect(safetensorsData(parsed.tensors.get('e')!)).toEqual(i32);
  });

  it('reads tensors at unaligned offsets (copying) ', () => {
    const header = { x: { dtype: 'U32', shape: [1], data_offsets: [1, 5] }, pad: { dtype: 'F16', shape: [0], data_offsets: [0, 0] } };
    const file = rawFile(header, 5);
    const dataStart = file.byteLength - 5;
    file.set([0x78, 0x56, 0x34, 0x12], dataStart + 1);
    expect(safetensorsData(parseSafetensors(file, 'u.safetensors').tensors.get('x')!)[0]).toBe(0x12345678);
  });

  it('rejects truncated and corrupt files with the file and tensor named', () => {
    const good = writeSafetensors([{ name: 'w', dtype: 'F32', shape: [4], data: new Float32Array(4) }]);
    expect(() => parseSafetensors(good.subarray(0, 5), 'm.safetensors')).toThrow(/m\.safetensors: only 5 bytes/);
    expect(() => parseSafetensors(good.subarray(0, 20), 'm.safetensors')).toThrow(/m\.safetensors: header says \d+ bytes.*truncated/);
    expect(() => parseSafetensors(good.subarray(0, good.byteLength - 4), 'm.safetensors')).toThrow(/tensor "w": data_offsets end 16 is past the data section \(12 bytes/);
    expect(() => parseSafetensors(rawFile({}, 0, 2 ** 40), 'big.safetensors')).toThrow(/implausibly large/);
    expect(() => parseSafetensors(rawFile('nope', 0), 'n.safetensors')).toThrow(/not a JSON object/);
    const garbage = rawFile({}, 0);
    garbage[8] = 0x7b; // "{" then invalid
    garbage[9] = 0x7b;
    expect(() => parseSafetensors(garbage, 'g.safetensors')).toThrow(/g\.safetensors: header is not valid JSON/);
    expect(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 12] } }, 16), 'm.safetensors')).toThrow(
      /tensor "w": F32 \[4\] needs 16 bytes but data_offsets span 12/,
    );
    expect(() => parseSafetensors(rawFile({ w: { dtype: 'Q7', shape: [1], data_offsets: [0, 1] } }, 1), 'm.safetensors')).toThrow(/tensor "w": dtype "Q7" is unknown/);
    expect(() => parseSafetensors(rawFile({ w: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }, 8), 'm.safetensors')).toThrow(/dtype "F64" is not supported/);
    expect(() => parseSafetensors(rawFile({ w: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), 'm.safetensors')).toThrow(/tensor "w": "shape"/);
    expect(() =>
      parseSafetensors(rawFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12), 'o.safetensors'),
    ).toThrow(/tensors "a" and "b" overlap/);
  });

  it('parses a sharded index and rejects a bad one', () => {
    const map = parseSafetensorsIndex({ metadata: { total_size: 8 }, weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' } });
    expect(map.get('b')).toBe('model-00002-of-00002.safetensors');
    expect(() => parseSafetensorsIndex({})).toThrow(/model\.safetensors\.index\.json: missing "weight_map"/);
    expect(() => parseSafetensorsIndex({ weight_map: { a: '../x' } })).toThrow(/weight_map\["a"\]/);
  });
});
