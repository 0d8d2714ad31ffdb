import { describe, expect, it } from 'vitest';
import { parseHfConfig, parseMlcChatConfig, ropeInverseFrequencies, type ModelConfig } from './config';

// Qwen2.5-0.5B-Instruct's config.json (abridged to the fields that matter).
const qwenHf = {
  architectures: ['Qwen2ForCausalLM'],
  bos_token_id: 151643,
  eos_token_id: 151645,
  hidden_act: 'silu',
  hidden_size: 896,
  intermediate_size: 4864,
  max_position_embeddings: 32768,
  model_type: 'qwen2',
  num_attention_heads: 14,
  num_hidden_layers: 24,
  num_key_value_heads: 2,
  rms_norm_eps: 1e-6,
  rope_scaling: null,
  rope_theta: 1000000.0,
  sliding_window: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
  use_sliding_window: false,
  vocab_size: 151936,
};

// Llama-3.2-1B-Instruct's config.json (abridged).
const llamaHf = {
  architectures: ['LlamaForCausalLM'],
  attention_bias: false,
  bos_token_id: 128000,
  eos_token_id: [128001, 128008, 128009],
  head_dim: 64,
  hidden_act: 'silu',
  hidden_size: 2048,
  intermediate_size: 8192,
  max_position_embeddings: 131072,
  mlp_bias: false,
  num_attention_heads: 32,
  num_hidden_layers: 16,
  num_key_value_heads: 8,
  rms_norm_eps: 1e-5,
  rope_scaling: { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192, rope_type: 'llama3' },
  rope_theta: 500000.0,
  tie_word_embeddings: true,
  vocab_size: 128256,
};

describe('HF config.json', () => {
  it('parses Qwen2 and Llama-3 configs', () => {
    const q = parseHfConfig(qwenHf);
    expect(q).toMatchObject({ architecture: 'qwen2', headDim: 64, numKvHeads: 2, attentionBias: true, tieWordEmbeddings: true, ropeScaling: null, bosTokenId: 151643, eosTokenIds: [151645] });
    const l = parseHfConfig(llamaHf);
    expect(l).toMatchObject({ architecture: 'llama', headDim: 64, attentionBias: false, eosTokenIds: [128001, 128008, 128009], maxPositionEmbeddings: 131072 });
    expect(l.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
  });

  it('names the file, the field and the fix on bad input', () => {
    expect(() => parseHfConfig({ ...qwenHf, architectures: ['MistralForCausalLM'] })).toThrow(/config\.json: field "architectures" is \["MistralForCausalLM"\], which is not supported\. Use a Qwen2ForCausalLM or LlamaForCausalLM/);
    const { hidden_size: _, ...noHidden } = qwenHf;
    expect(() => parseHfConfig(noHidden)).toThrow(/config\.json: field "hidden_size": .*Fix or re-download config\.json/);
    expect(() => parseHfConfig({ ...qwenHf, num_key_value_heads: 3 })).toThrow(/not a multiple of num_key_value_heads/);
    expect(() => parseHfConfig({ ...llamaHf, rope_scaling: { rope_type: 'yarn', factor: 4 } })).toThrow(/field "rope_scaling" has rope type "yarn"/);
    expect(() => parseHfConfig({ ...llamaHf, attention_bias: true })).toThrow(/field "attention_bias" is true/);
    expect(() => parseHfConfig({ ...llamaHf, rope_scaling: { rope_type: 'llama3', factor: 8 } }, 'x/config.json')).toThrow(/x\/config\.json: field "rope_scaling\.low_freq_factor" is missing/);
  });
});

describe('mlc-chat-config.json', () => {
  it('parses Qwen2 and Llama model_config (position_embedding_base, context_window_size)', () => {
    const q = parseMlcChatConfig({
      model_type: 'qwen2',
      quantization: 'q4f16_1',
      model_config: { hidden_act: 'silu', hidden_size: 896, intermediate_size: 4864, num_attention_heads: 14, num_hidden_layers: 24, num_key_value_heads: 2, rms_norm_eps: 1e-6, rope_theta: 1000000, vocab_size: 151936, tie_word_embeddings: true, context_window_size: 32768, head_dim: 64 },
      vocab_size: 151936,
      context_window_size: 4096,
      bos_token_id: 151643,
      eos_token_id: [151645, 151643],
    });
    expect(q.quantization).toBe('q4f16_1');
    expect(q.config).toEqual({ ...parseHfConfig(qwenHf), maxPositionEmbeddings: 4096, eosTokenIds: [151645, 151643] } satisfies ModelConfig);
    const l = parseMlcChatConfig({
      model_type: 'llama',
      quantization: 'q4f32_1',
      model_config: { hidden_size: 2048, intermediate_size: 8192, num_attention_heads: 32, num_hidden_layers: 16, rms_norm_eps: 1e-5, vocab_size: 128256, tie_word_embeddings: true, position_embedding_base: 500000, rope_scaling: llamaHf.rope_scaling, context_window_size: 131072, num_key_value_heads: 8, head_dim: 64 },
      bos_token_id: 128000,
      eos_token_id: [128001, 128008, 128009],
    });
    expect(l.config).toEqual(parseHfConfig(llamaHf));
  });

  it('rejects unsupported model types and quantisations by name', () => {
    const base = { model_type: 'qwen2', quantization: 'q0f16', model_config: {} };
    expect(() => parseMlcChatConfig({ ...base, model_type: 'phi3' })).toThrow(/mlc-chat-config\.json: field "model_type" is "phi3"/);
    expect(() => parseMlcChatConfig({ ...base, quantization: 'q3f16_1' })).toThrow(/field "quantization" is "q3f16_1"/);
    expect(() => parseMlcChatConfig(base)).toThrow(/mlc-chat-config\.json: field "model_config\.hidden_size"/);
  });
});

describe('ropeInverseFrequencies', () => {
  it('is θ^(-2i/d) without scaling', () => {
    const inv = ropeInverseFrequencies(parseHfConfig(qwenHf));
    expect(inv.length).toBe(32);
    expect(inv[0]).toBe(1);
    expect(inv[16]).toBeCloseTo(1e6 ** -0.5, 15);
  });

  it('applies Llama-3 scaling by wavelength band', () => {
    const config = parseHfConfig(llamaHf);
    const plain = ropeInverseFrequencies({ ...config, ropeScaling: null });
    const scaled = ropeInverseFrequencies(config);
    const bands = { high: 0, medium: 0, low: 0 };
    for (let i = 0; i < plain.length; i++) {
      const wavelen = (2 * Math.PI) / plain[i]!;
      if (wavelen < 8192 / 4) {
        expect(scaled[i]).toBe(plain[i]);
        bands.high++;
      } else if (wavelen > 8192 / 1) {
        expect(scaled[i]).toBeCloseTo(plain[i]! / 32, 18);
        bands.low++;
      } else {
        // In between: a blend; here checked against the formula worked by hand for this index.
        const smooth = (8192 / wavelen - 1) / (4 - 1);
        expect(scaled[i]).toBeCloseTo((1 - smooth) * (plain[i]! / 32) + smooth * plain[i]!, 15);
        expect(scaled[i]!).toBeLessThan(plain[i]!);
        expect(scaled[i]!).toBeGreaterThan(plain[i]! / 32);
        bands.medium++;
      }
      if (i > 0) expect(scaled[i]!).toBeLessThan(scaled[i - 1]!);
    }
    expect(bands.high).toBeGreaterThan(0);
    expect(bands.medium).toBeGreaterThan(0);
    expect(bands.low).toBeGreaterThan(0);
  });
});
