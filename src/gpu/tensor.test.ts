import { describe, expect, it } from 'vitest';
import { packParams, sizeClass } from './index';
import { dequantizeQ4, f16BitsToF32, f32ToF16Bits, packF16, quantizeQ4, roundToF16, unpackF16 } from './tensor';
import { randomArray, rng } from './testing';

// Host-side pieces of gpu/ that need no device (the unit project runs these).
describe('gpu host helpers', () => {
  it('packs uniform params at 4-byte offsets, padded to 16 bytes', () => {
    const data = packParams([{ u32: 7 }, { f32: 0.5 }, { i32: -3 }, { u32: 1 }, { u32: 2 }]);
    expect(data.byteLength).toBe(32);
    const view = new DataView(data);
    expect([view.getUint32(0, true), view.getFloat32(4, true), view.getInt32(8, true), view.getUint32(16, true)]).toEqual([7, 0.5, -3, 2]);
    expect(sizeClass(1)).toBe(256);
    expect(sizeClass(400)).toBe(448);
  });

  it('converts f16 like IEEE round-to-nearest-even', () => {
    expect(f32ToF16Bits(1)).toBe(0x3c00);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(70000)).toBe(0x7c00);
    expect(f32ToF16Bits(2 ** -24)).toBe(1);
    expect(f16BitsToF32(f32ToF16Bits(0.1))).toBe(0.0999755859375);
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    const values = Float32Array.from([1.5, -2.25, 3]);
    expect(Array.from(roundToF16(values))).toEqual([1.5, -2.25, 3]);
    expect(packF16(values)[0]).toBe(((0xc080 << 16) | 0x3e00) >>> 0);
  });

  it('unpackF16 inverts packF16 on f16-representable values', () => {
    const values = roundToF16(randomArray(rng(3), 9, -100, 100));
    expect(Array.from(unpackF16(packF16(values), 9))).toEqual(Array.from(values));
  });

  it('q4 quantisation: MLC layout, error at most half a step per group', () => {
    const [n, k] = [3, 64];
    const w = randomArray(rng(8), n * k);
    const q = quantizeQ4(w, n, k);
    expect(q.qWeight.length).toBe((n * k) / 8);
    expect(q.qScale.length).toBe((n * k) / 32);
    const back = dequantizeQ4(q, n, k);
    for (let i = 0; i < n * k; i++) {
      const scale = q.qScale[Math.floor(i / 32)]!;
      expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(scale / 2 + 1e-7);
    }
    // element 8j+r sits in bits 4r..4r+3 of word j: a hand-built word decodes as (nibble - 7) * scale
    const hand = dequantizeQ4({ qWeight: Uint32Array.from([0x76543210, 0xfedcba98, 0, 0]), qScale: Float32Array.from([0.5]) }, 1, 32);
    expect(Array.from(hand.subarray(0, 16))).toEqual([-3.5, -3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4]);
    expect(() => quantizeQ4(new Float32Array(40), 1, 40)).toThrow(/multiple of 32/);
  });
});
