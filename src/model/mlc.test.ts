import { describe, expect, it } from 'vitest';
import { MLC_QUANTIZATIONS } from './config';
import { bf16ToF32, f16ToF32, f32ToBf16 } from './half';
import { parseTensorCache, readTensorCache, writeTensorCache, type MlcTensor } from './mlc';
import { dequantizeQ4, quantizeQ4 } from './q4';
import { randomTinyWeights, tinyConfig } from './tiny';
import { dequantize, hfTensor, hfTensorNames } from './weights';
import { mlcTensorsFromWeights, mlcWeights } from './weights-mlc';

const specials = { '<|endoftext|>': 509, '<|im_start|>': 510, '<|im_end|>': 511 };

async function roundTrip(tensors: MlcTensor[], options?: Parameters<typeof writeTensorCache>[1]): Promise<Map<string, MlcTensor>> {
  const { cache, files } = writeTensorCache(tensors, options);
  const parsed = parseTensorCache(JSON.parse(JSON.stringify(cache)));
  return readTensorCache(parsed, async (p) => files.get(p)!);
}

describe('q4 packing (MLC group quantisation)', () => {
  it('packs element 8j+r in bits 4r..4r+3 of word j, value = (nibble - 7) · scale', () => {
    // One row of 32: max |x| = 7 → scale 1, so x + 7 is the nibble.
    const row = Array.from({ length: 32 }, (_, i) => (i % 15) - 7);
    const q = quantizeQ4(row, 1, 32, 'f32');
    expect(q.qScale[0]).toBe(1);
    for (let i = 0; i < 32; i++) expect((q.qWeight[i >> 3]! >>> (4 * (i % 8))) & 0xf).toBe(row[i]! + 7);
    expect(Array.from(dequantizeQ4(q, 1, 32))).toEqual(row);
  });

  it('dequantises within half a step of the original (f16 and f32 scales)', () => {
    const rows = 3;
    const cols = 64;
    const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 5)));
    for (const scaleDtype of ['f16', 'f32'] as const) {
      const q = quantizeQ4(values, rows, cols, scaleDtype);
      const back = dequantizeQ4(q, rows, cols);
      for (let i = 0; i < values.length; i++) {
        const s = q.qScale[Math.floor(i / 32)]!;
        const scale = scaleDtype === 'f16' ? f16ToF32(s) : s;
        expect(Math.abs(back[i]! - values[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-3 * scale);
      }
    }
  });
});

describe('tensor cache', () => {
  it('round-trips raw tensors across shards and decodes f32-to-bf16', async () => {
    const tensors: MlcTensor[] = [
      { name: 'a', shape: [2, 2], dtype: 'float32', data: new Float32Array([1, 2.5, -3, 1 / 3]) },
      { name: 'b', shape: [3], dtype: 'float16', data: new Uint16Array([1, 2, 3]) },
      { name: 'c', shape: [1], dtype: 'uint32', data: new Uint32Array([0xffffffff]) },
    ];
    const { cache, files } = writeTensorCache(tensors, { shardCapBytes: 16 });
    expect(cache.records.length).toBeGreaterThan(1);
    expect([...files.keys()][0]).toBe('params_shard_0.bin');
    const back = await roundTrip(tensors, { shardCapBytes: 16 });
    for (const t of tensors) expect(back.get(t.name)).toEqual(t);
    const bf = await roundTrip(tensors, { f32ToBf16: true });
    expect(Array.from(bf.get('a')!.data)).toEqual([1, 2.5, -3, 0.333984375]); // 1/3 rounded to bf16
    expect(bf.get('b')!.data).toEqual(tensors[1]!.data); // non-f32 tensors unaffected by the format
  });

  it('rejects records that do not fit their shard, naming file and tensor', async () => {
    const { cache, files } = writeTensorCache([{ name: 'w', shape: [4], dtype: 'float32', data: new Float32Array(4) }]);
    const broken = structuredClone(cache);
    broken.records[0]!.records[0]!.shape = [5];
    await expect(readTensorCache(broken, async (p) => files.get(p)!)).rejects.toThrow(/tensor-cache\.json: tensor "w" in params_shard_0\.bin: float32 \[5\] \(raw\) needs 20 bytes but the record says 16/);
    await expect(readTensorCache(cache, async () => new Uint8Array(3))).rejects.toThrow(/params_shard_0\.bin: 3 bytes but tensor-cache\.json says 16/);
    expect(() => parseTensorCache({ records: [{ dataPath: 'x.bin', format: 'raw-shard', nbytes: 0, records: [{ name: 'w' }] }] })).toThrow(/tensor-cache\.json: field "records\.0\.records\.0\.shape"/);
    expect(() => parseTensorCache({ records: [{ dataPath: '../x.bin', format: 'raw-shard', nbytes: 0, records: [] }] })).toThrow(/plain relative file name/);
  });

  for (const quant of MLC_QUANTIZATIONS) {
    for (const arch of ['qwen2', 'llama'] as const) {
      it(`round-trips a ${arch} model in ${quant}`, async () => {
        const config = tinyConfig(arch, { ...specials, '<|begin_of_text|>': 507, '<|end_of_text|>': 508, '<|eot_id|>': 511 });
        const original = randomTinyWeights(config, 7);
        const tensors = mlcTensorsFromWeights(original, config, quant);
        const names = tensors.map((t) => t.name);
        const qkv = arch === 'qwen2' ? 'c_attn' : 'qkv_proj';
        expect(names).toContain(`model.layers.1.self_attn.${qkv}.${quant.startsWith('q4') ? 'q_weight' : 'weight'}`);
        expect(names.includes(`model.layers.0.self_attn.${qkv}.bias`)).toBe(arch === 'qwen2');
        expect(names.some((n) => n.startsWith('lm_head'))).toBe(arch === 'llama');
        const loaded = mlcWeights(await roundTrip(tensors), config, quant, 'tensor-cache.json');
        // Worst error relative to what each quantisation allows (≤ 1 passes), one assertion per tensor.
        for (const name of hfTensorNames(config)) {
          const a = dequantize(hfTensor(original, config, name));
          const b = dequantize(hfTensor(loaded, config, name));
          const isMatrix = hfTensor(original, config, name).shape.length === 2;
          let worst = 0;
          for (let g = 0; g < a.length; g += 32) {
            const group = a.subarray(g, g + 32);
            let maxAbs = 0;
            for (const x of group) maxAbs = Math.max(maxAbs, Math.abs(x));
            for (let i = g; i < Math.min(g + 32, a.length); i++) {
              const err = Math.abs(a[i]! - b[i]!);
              // q4: half a step (scale = max|group| / 7, itself rounded); else f16 rounding of the value.
              const allowed = quant === 'q0f32' || (quant === 'q4f32_1' && !isMatrix) ? 0 : quant.startsWith('q4') && isMatrix ? (maxAbs / 7) * (0.5 + 2e-3) : Math.max(Math.abs(a[i]!) * 2 ** -11, 2 ** -25);
              worst = Math.max(worst, allowed === 0 ? (err === 0 ? 0 : Infinity) : err / allowed);
            }
          }
          expect(worst, name).toBeLessThanOrEqual(1);
        }
      });
    }
  }

  it('reads a q0f32 model stored as f32-to-bf16 (as mlc_llm writes f32 models): every weight is the bf16 rounding of the original, as float32', async () => {
    const config = tinyConfig('qwen2', specials);
    const original = randomTinyWeights(config, 3);
    const loaded = mlcWeights(await roundTrip(mlcTensorsFromWeights(original, config, 'q0f32'), { f32ToBf16: true }), config, 'q0f32', 'tensor-cache.json');
    for (const name of hfTensorNames(config)) {
      const got = hfTensor(loaded, config, name);
      expect(got.data.kind, name).toBe('f32');
      const want = Float32Array.from(dequantize(hfTensor(original, config, name)), (x) => bf16ToF32(f32ToBf16(x)));
      expect(dequantize(got), name).toEqual(want);
    }
  });
});
