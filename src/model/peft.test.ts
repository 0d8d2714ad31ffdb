// PEFT adapter files: parsing checks against the base model, errors naming file + tensor, export round trip.
import { describe, expect, it } from 'vitest';
import { utf8Encode } from './bytes';
import type { ModelConfig } from './config';
import { loraDims, LORA_TARGETS, type HostLoraAdapter } from './lora';
import { parsePeftAdapter, peftTensorName, readPeftFiles, writePeftAdapter, type PeftFiles } from './peft';
import { writeSafetensors, type SafetensorsInput } from './safetensors';
import { MemorySource } from './source';
import { tinyConfig } from './tiny';

const config: ModelConfig = tinyConfig('qwen2', { '<|endoftext|>': 0, '<|im_start|>': 1, '<|im_end|>': 2 });

function adapter(c: ModelConfig, rank = 2): HostLoraAdapter {
  let x = 0;
  const fill = (n: number): Float32Array => Float32Array.from({ length: n }, () => ((x = (x * 7 + 3) % 101) - 50) / 100);
  return {
    rank,
    alpha: 16,
    layers: Array.from({ length: c.numLayers }, () => Object.fromEntries(LORA_TARGETS.map((t) => [t, { a: fill(rank * loraDims(c, t).in), b: fill(loraDims(c, t).out * rank) }]))),
  };
}

function files(tensors: SafetensorsInput[], cfg: Record<string, unknown> = {}): PeftFiles {
  return { config: utf8Encode(JSON.stringify({ peft_type: 'LORA', r: 2, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'], ...cfg })), weights: writeSafetensors(tensors) };
}

const pair = (layer: number, aShape: number[], bShape: number[], target: 'q' | 'v' = 'q'): SafetensorsInput[] => [
  { name: peftTensorName(layer, target, 'A'), dtype: 'F32', shape: aShape, data: new Float32Array(aShape[0]! * aShape[1]!) },
  { name: peftTensorName(layer, target, 'B'), dtype: 'F32', shape: bShape, data: new Float32Array(bShape[0]! * bShape[1]!) },
];

describe('PEFT adapters', () => {
  it('round-trips through writePeftAdapter / parsePeftAdapter (plain and rsLoRA scale)', () => {
    const a = adapter(config);
    for (const scale of [16 / 2, 16 / Math.SQRT2]) {
      const out = writePeftAdapter({ ...a, scale, dropout: 0.05 }, config, { baseModel: 'Qwen/tiny' });
      const back = parsePeftAdapter({ config: out.get('adapter_config.json')!, weights: out.get('adapter_model.safetensors')! }, config);
      expect(back.rank).toBe(2);
      expect(back.scale).toBeCloseTo(scale, 12);
      expect(back.dropout).toBeCloseTo(0.05);
      expect(back.baseModel).toBe('Qwen/tiny');
      expect(Array.from(back.layers[1]!.down!.b)).toEqual(Array.from(a.layers[1]!.down!.b));
      expect(Array.from(back.layers[0]!.k!.a)).toEqual(Array.from(a.layers[0]!.k!.a));
    }
  });

  it('names the file, the tensor and the reason for mismatched adapters', () => {
    expect(() => parsePeftAdapter(files(pair(0, [2, 96], [64, 2])), config)).toThrow(
      "adapter_model.safetensors: base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight has shape [2, 96], the base model's q_proj takes 64 inputs: this adapter was trained for another base model",
    );
    expect(() => parsePeftAdapter(files(pair(0, [2, 64], [96, 2])), config)).toThrow(/q_proj\.lora_B\.weight has shape \[96, 2\], the base model's q_proj has 64 outputs/);
    expect(() => parsePeftAdapter(files(pair(5, [2, 64], [64, 2])), config)).toThrow(/layers\.5\.self_attn\.q_proj\.lora_A\.weight belongs to layer 5, but the base model has 2 layers/);
    expect(() => parsePeftAdapter(files(pair(0, [2, 64], [32, 3], 'v')), config)).toThrow(/v_proj\.lora_B\.weight has shape \[32, 3\], but adapter_config\.json says r = 2/);
    expect(() => parsePeftAdapter(files(pair(0, [2, 64], [64, 2]).slice(0, 1)), config)).toThrow(/q_proj\.lora_A\.weight has no matching lora_B/);
    expect(() => parsePeftAdapter(files([...pair(0, [2, 64], [64, 2]), { name: 'base_model.model.lm_head.weight', dtype: 'F32', shape: [1], data: new Float32Array(1) }]), config)).toThrow(
      /lm_head\.weight is not a LoRA matrix/,
    );
    expect(() => parsePeftAdapter(files(pair(0, [2, 64], [64, 2]), { use_dora: true }), config)).toThrow(/adapter_config\.json: field "use_dora"/);
    expect(() => parsePeftAdapter(files(pair(0, [2, 64], [64, 2]), { target_modules: ['embed_tokens'] }), config)).toThrow(/adapter_config\.json: field "target_modules" has "embed_tokens"/);
    expect(() => parsePeftAdapter(files(pair(0, [2, 64], [64, 2]), { r: 0 }), config)).toThrow(/adapter_config\.json: field "r"/);
  });

  it('names a missing file and what the folder needs', async () => {
    const cfg = files(pair(0, [2, 64], [64, 2])).config;
    await expect(readPeftFiles(new MemorySource(new Map([['adapter_config.json', cfg]]), 'my-adapter'))).rejects.toThrow(
      /adapter_model\.safetensors: missing from my-adapter\. A PEFT LoRA adapter folder needs adapter_config\.json and adapter_model\.safetensors/,
    );
    await expect(readPeftFiles(new MemorySource(new Map([['adapter_config.json', cfg], ['adapter_model.bin', new Uint8Array(1)]]), 'my-adapter'))).rejects.toThrow(/safe_serialization=True/);
    await expect(readPeftFiles(new MemorySource(new Map(), 'empty'))).rejects.toThrow(/adapter_config\.json: missing from empty/);
  });
});
