// Tiny random models for tests: a Qwen2- or Llama-shaped model small enough for the float64 reference,
// in HF or MLC format, with a real byte-level BPE tokenizer and chat template. The weights depend only
// on (arch, seed), never on the format, so the same model can be compared across formats:
// MLC q0f32 equals HF f32 exactly, q0f16 equals HF f16 exactly, q4 is within quantisation error.

import { rng } from '../gpu/testing';
import { utf8Encode } from './bytes';
import { type Architecture, type ModelConfig, type Quantization } from './config';
import { TENSOR_CACHE_NAMES, writeTensorCache } from './mlc';
import { writeSafetensors } from './safetensors';
import { buildTinyTokenizer, type TinyTokenizer } from './tiny-tokenizer';
import { concatRows, hfTensorNames, type LayerWeights, type ModelWeights, type WeightTensor } from './weights';
import { hfExpectedShape, hfSafetensorsInputs } from './weights-hf';
import { mlcTensorsFromWeights } from './weights-mlc';

export interface TinyModelOptions {
  format: 'hf' | 'mlc';
  arch?: Architecture;
  /** MLC quantisation; for HF only q0f32 (F32) and q0f16 (F16) apply. */
  quant?: Quantization;
  seed?: number;
  /**
   * `tiny` (default) or the shape of a real model with random weights, for benchmarks: `qwen2.5-0.5b`
   * (Qwen2.5-0.5B's layer sizes and vocabulary; the tokenizer stays the tiny one, using the first ids).
   */
  shape?: 'tiny' | 'learner' | 'qwen2.5-0.5b';
  /**
   * More text to learn the tokenizer's merges from (besides the built-in English), e.g. the prompts a
   * model will be trained on: with the learner shape's larger vocabulary their words become single tokens.
   */
  tokenizerText?: string;
}

/**
 * A still small shape that can learn a retrieval task on a CPU driver (the proof-of-learning bench):
 * 1.5x the tiny width, 3 layers, and a vocabulary large enough that merges learned from the task's own
 * text shorten its prompts about 2.2x.
 */
const LEARNER = { hiddenSize: 96, intermediateSize: 256, numLayers: 3, numHeads: 4, numKvHeads: 2, headDim: 24, vocabSize: 2048, maxPositionEmbeddings: 4096 };

/** Qwen2.5-0.5B's dimensions (its config.json), for speed measurements on a realistic shape. */
const QWEN25_05B = { hiddenSize: 896, intermediateSize: 4864, numLayers: 24, numHeads: 14, numKvHeads: 2, headDim: 64, vocabSize: 151936, maxPositionEmbeddings: 32768 };

const QWEN2_TEMPLATE =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

const LLAMA3_TEMPLATE =
  "{{- bos_token }}{%- for message in messages %}{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}";

interface ArchSpec {
  specials: string[];
  bos: string | null;
  eos: string;
  /** Extra end-of-sequence ids besides eos (the base model's end of text). */
  alsoEos: string[];
  template: string;
}

const ARCH: Record<Architecture, ArchSpec> = {
  qwen2: { specials: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], bos: null, eos: '<|im_end|>', alsoEos: ['<|endoftext|>'], template: QWEN2_TEMPLATE },
  llama: {
    specials: ['<|begin_of_text|>', '<|end_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
    bos: '<|begin_of_text|>',
    eos: '<|eot_id|>',
    alsoEos: ['<|end_of_text|>'],
    template: LLAMA3_TEMPLATE,
  },
};

const TINY_VOCAB = 512;

// Learning the merges takes tens of milliseconds (seconds for the learner's) and depends only on the
// architecture, vocabulary and text: build once.
const tokenizerCache = new Map<string, TinyTokenizer>();
function tinyTokenizer(arch: Architecture, vocabSize = TINY_VOCAB, extraText = ''): TinyTokenizer {
  const key = `${arch}|${vocabSize}|${extraText}`;
  let t = tokenizerCache.get(key);
  if (!t) {
    const spec = ARCH[arch];
    t = buildTinyTokenizer({ vocabSize, specialTokens: spec.specials, ...(spec.bos ? { bosToken: spec.bos } : {}), ...(extraText ? { extraText } : {}) });
    // The tiny shape's vocabulary is exactly its ids; a larger one may have more ids than its text has merges.
    if (vocabSize === TINY_VOCAB ? t.size !== vocabSize : t.size > vocabSize) throw new Error(`tiny tokenizer has ${t.size} ids, expected ${vocabSize}`);
    tokenizerCache.set(key, t);
  }
  return t;
}

/** The tiny config of an architecture (Qwen2: tied, biased; Llama: untied, Llama-3 RoPE scaling). */
export function tinyConfig(arch: Architecture, specialIds: Record<string, number>): ModelConfig {
  const spec = ARCH[arch];
  const common = {
    architecture: arch,
    hiddenSize: 64,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 16,
    vocabSize: TINY_VOCAB,
    rmsNormEps: 1e-6,
    maxPositionEmbeddings: 2048,
    bosTokenId: spec.bos === null ? null : specialIds[spec.bos]!,
    eosTokenIds: [specialIds[spec.eos]!, ...spec.alsoEos.map((t) => specialIds[t]!)],
  };
  if (arch === 'qwen2') {
    return { ...common, intermediateSize: 128, ropeTheta: 1_000_000, ropeScaling: null, tieWordEmbeddings: true, attentionBias: true };
  }
  return {
    ...common,
    intermediateSize: 192,
    ropeTheta: 500_000,
    // Llama-3.1's values, with a short original context so all three frequency bands occur at head_dim 16.
    ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 256 },
    tieWordEmbeddings: false,
    attentionBias: false,
  };
}

/** Uniform in [-1, 1), from the tests' seeded mulberry32 (the same draws as always: models stay as generated). */
function uniformRng(seed: number): () => number {
  const next = rng(seed);
  return () => next() * 2 - 1;
}

/**
 * Random f32 weights, drawn tensor by tensor in HF name order. Scales keep activations and logits
 * moderate: matrices ~ std 1/√in, embeddings std ≈ 0.25 (logits std ≈ 2), norms ≈ 1, biases ≈ 0.1.
 */
export function randomTinyWeights(c: ModelConfig, seed: number): ModelWeights {
  const next = uniformRng(seed);
  const byName = new Map<string, WeightTensor>();
  for (const name of hfTensorNames(c)) {
    const shape = hfExpectedShape(c, name);
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = name.endsWith('norm.weight');
    const isBias = name.endsWith('.bias');
    const isEmbedding = name === 'model.embed_tokens.weight' || name === 'lm_head.weight';
    const std = isNorm ? 0.1 : isBias ? 0.1 : isEmbedding ? 0.25 : 1 / Math.sqrt(shape[1]!);
    const amplitude = std * Math.sqrt(3); // uniform[-a, a) has std a/√3
    for (let i = 0; i < n; i++) data[i] = (isNorm ? 1 : 0) + amplitude * next();
    byName.set(name, { shape, data: { kind: 'f32', data } });
  }
  const get = (name: string): WeightTensor => byName.get(name)!;
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const p = `model.layers.${i}`;
    const attn = (m: string, kind: string): WeightTensor => get(`${p}.self_attn.${m}.${kind}`);
    layers.push({
      inputLayernorm: get(`${p}.input_layernorm.weight`),
      qkv: concatRows(['q_proj', 'k_proj', 'v_proj'].map((m) => attn(m, 'weight'))),
      qkvBias: c.attentionBias ? concatRows(['q_proj', 'k_proj', 'v_proj'].map((m) => attn(m, 'bias'))) : null,
      oProj: get(`${p}.self_attn.o_proj.weight`),
      postAttentionLayernorm: get(`${p}.post_attention_layernorm.weight`),
      gateUp: concatRows([get(`${p}.mlp.gate_proj.weight`), get(`${p}.mlp.up_proj.weight`)]),
      downProj: get(`${p}.mlp.down_proj.weight`),
    });
  }
  return {
    embedTokens: get('model.embed_tokens.weight'),
    layers,
    norm: get('model.norm.weight'),
    lmHead: c.tieWordEmbeddings ? null : get('lm_head.weight'),
  };
}

/**
 * A real-shaped model keeps the tiny tokenizer, so ids past its last one have no text. Their embedding
 * (and output) rows are zero: their logits are exactly 0, below the real tokens' best, so greedy
 * decoding (ours and WebLLM's) only picks tokens that decode, as with a real model's padded vocabulary.
 */
function silenceUnusedVocab(w: ModelWeights, tokens: number): void {
  for (const t of [w.embedTokens, w.lmHead]) {
    if (t && t.data.kind === 'f32' && t.shape[0]! > tokens) t.data.data.fill(0, tokens * t.shape[1]!);
  }
}

function hfConfigJson(c: ModelConfig, dtype: string): Record<string, unknown> {
  const s = c.ropeScaling;
  return {
    architectures: [c.architecture === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    model_type: c.architecture,
    hidden_act: 'silu',
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    vocab_size: c.vocabSize,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: s
      ? { rope_type: 'llama3', factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositionEmbeddings }
      : null,
    tie_word_embeddings: c.tieWordEmbeddings,
    ...(c.architecture === 'llama' ? { attention_bias: false, mlp_bias: false } : { use_sliding_window: false }),
    max_position_embeddings: c.maxPositionEmbeddings,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds.length === 1 ? c.eosTokenIds[0] : c.eosTokenIds,
    torch_dtype: dtype,
  };
}

/** mlc-chat-config.json as mlc_llm gen_config writes it (the fields we and WebLLM read). */
function mlcChatConfigJson(c: ModelConfig, quant: Quantization, spec: ArchSpec, ids: Record<string, number>): Record<string, unknown> {
  const s = c.ropeScaling;
  const modelConfig: Record<string, unknown> = {
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_attention_heads: c.numHeads,
    num_hidden_layers: c.numLayers,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    vocab_size: c.vocabSize,
    tie_word_embeddings: c.tieWordEmbeddings,
    context_window_size: c.maxPositionEmbeddings,
    prefill_chunk_size: c.maxPositionEmbeddings,
    tensor_parallel_shards: 1,
    max_batch_size: 1,
  };
  if (c.architecture === 'qwen2') Object.assign(modelConfig, { hidden_act: 'silu', rope_theta: c.ropeTheta, dtype: 'float32' });
  else {
    Object.assign(modelConfig, {
      position_embedding_base: c.ropeTheta,
      rope_scaling: s && { rope_type: 'llama3', factor: s.factor, low_freq_factor: s.lowFreqFactor, high_freq_factor: s.highFreqFactor, original_max_position_embeddings: s.originalMaxPositionEmbeddings },
    });
  }
  const chatml = {
    name: 'chatml',
    system_template: '<|im_start|>system\n{system_message}<|im_end|>\n',
    system_message: 'You are a helpful assistant.',
    roles: { user: '<|im_start|>user', assistant: '<|im_start|>assistant' },
    seps: ['<|im_end|>\n'],
    role_content_sep: '\n',
    role_empty_sep: '\n',
    stop_str: ['<|im_end|>'],
    stop_token_ids: c.eosTokenIds,
    system_prefix_token_ids: null,
    add_role_after_system_message: true,
  };
  const llama3 = {
    name: 'llama-3',
    system_template: '<|start_header_id|>system<|end_header_id|>\n\n{system_message}<|eot_id|>',
    system_message: 'You are a helpful assistant.',
    roles: { user: '<|start_header_id|>user', assistant: '<|start_header_id|>assistant' },
    seps: ['<|eot_id|>'],
    role_content_sep: '<|end_header_id|>\n\n',
    role_empty_sep: '<|end_header_id|>\n\n',
    stop_str: [],
    stop_token_ids: c.eosTokenIds,
    system_prefix_token_ids: c.bosTokenId === null ? null : [c.bosTokenId],
    add_role_after_system_message: true,
  };
  return {
    version: '0.1.0',
    model_type: c.architecture,
    quantization: quant,
    model_config: modelConfig,
    vocab_size: c.vocabSize,
    context_window_size: c.maxPositionEmbeddings,
    sliding_window_size: -1,
    prefill_chunk_size: c.maxPositionEmbeddings,
    attention_sink_size: -1,
    tensor_parallel_shards: 1,
    pipeline_parallel_stages: 1,
    temperature: 1,
    top_p: 1,
    // mlc_llm gen_config's defaults: WebLLM 0.2.79 aborts on an absent one.
    repetition_penalty: 1,
    presence_penalty: 0,
    frequency_penalty: 0,
    tokenizer_files: ['tokenizer.json', 'tokenizer_config.json'],
    // A byte-level BPE: WebLLM's JSON mode maps its token strings back to bytes with this (default: raw).
    tokenizer_info: { token_postproc_method: 'byte_level', prepend_space_in_encode: false, strip_space_in_decode: false },
    conv_template: c.architecture === 'qwen2' ? chatml : llama3,
    pad_token_id: ids[spec.specials[0]!],
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenIds,
  };
}

function tokenizerConfigJson(spec: ArchSpec, ids: Record<string, number>): Record<string, unknown> {
  const decoder: Record<string, unknown> = {};
  for (const t of spec.specials) decoder[String(ids[t])] = { content: t, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  return {
    added_tokens_decoder: decoder,
    bos_token: spec.bos,
    eos_token: spec.eos,
    pad_token: spec.specials[0],
    chat_template: spec.template,
    clean_up_tokenization_spaces: false,
    model_max_length: 2048,
    tokenizer_class: 'PreTrainedTokenizerFast',
  };
}

const jsonBytes = (v: unknown): Uint8Array => utf8Encode(JSON.stringify(v, null, 2) + '\n');

/** Builds a tiny model folder in memory: file name → bytes. */
export function makeTinyModel(options: TinyModelOptions): Map<string, Uint8Array> {
  const arch = options.arch ?? 'qwen2';
  const quant = options.quant ?? 'q0f32';
  const seed = options.seed ?? 0;
  const spec = ARCH[arch];
  const learner = options.shape === 'learner';
  const tokenizer = tinyTokenizer(arch, learner ? LEARNER.vocabSize : TINY_VOCAB, options.tokenizerText);
  const tiny = tinyConfig(arch, tokenizer.specialIds);
  const config = options.shape === 'qwen2.5-0.5b' ? { ...tiny, ...QWEN25_05B } : learner ? { ...tiny, ...LEARNER } : tiny;
  const weights = randomTinyWeights(config, seed);
  silenceUnusedVocab(weights, tokenizer.size);

  const files = new Map<string, Uint8Array>();
  files.set('tokenizer.json', jsonBytes(tokenizer.json));
  files.set('tokenizer_config.json', jsonBytes(tokenizerConfigJson(spec, tokenizer.specialIds)));
  if (options.format === 'hf') {
    if (quant !== 'q0f32' && quant !== 'q0f16') throw new Error(`--quant ${quant} applies to MLC models only; HF tiny models are q0f32 (F32) or q0f16 (F16).`);
    const dtype = quant === 'q0f16' ? 'F16' : 'F32';
    files.set('config.json', jsonBytes(hfConfigJson(config, dtype === 'F16' ? 'float16' : 'float32')));
    files.set('model.safetensors', writeSafetensors(hfSafetensorsInputs(weights, config, dtype), { format: 'pt' }));
  } else {
    files.set('mlc-chat-config.json', jsonBytes(mlcChatConfigJson(config, quant, spec, tokenizer.specialIds)));
    // Small shard cap so tiny models still exercise multi-shard reading. A real-shaped f32 model stores
    // its floats as bf16, as mlc_llm's converter does (WebLLM 0.2.79 cannot load a 544 MB raw f32 tensor).
    const f32ToBf16 = options.shape === 'qwen2.5-0.5b' && quant === 'q0f32';
    const { cache, files: shards } = writeTensorCache(mlcTensorsFromWeights(weights, config, quant), { shardCapBytes: 64 * 1024, f32ToBf16 });
    for (const name of TENSOR_CACHE_NAMES) files.set(name, jsonBytes(cache));
    for (const [path, bytes] of shards) files.set(path, bytes);
  }
  return files;
}
