// One ModelConfig for the two decoder architectures we run (Qwen2, Llama incl. Llama-3 RoPE scaling),
// parsed from a Hugging Face `config.json` or an MLC `mlc-chat-config.json`.

import { z } from 'zod';

export type Architecture = 'qwen2' | 'llama';

/** Llama-3 ("llama3" rope_type) frequency-dependent RoPE scaling. */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  architecture: Architecture;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (always for Qwen2, never for the Llama we support). */
  attentionBias: boolean;
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
}

const positiveInt = z.number().int().positive();
const tokenIds = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();

const ropeScalingSchema = z
  .object({
    rope_type: z.string().optional(),
    type: z.string().optional(),
    factor: z.number().positive().optional(),
    low_freq_factor: z.number().positive().optional(),
    high_freq_factor: z.number().positive().optional(),
    original_max_position_embeddings: positiveInt.optional(),
  })
  .nullish();

const hfSchema = z.object({
  architectures: z.array(z.string()).min(1),
  model_type: z.string().optional(),
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional(),
  head_dim: positiveInt.nullish(),
  vocab_size: positiveInt,
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().positive().optional(),
  rope_scaling: ropeScalingSchema,
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().optional(),
  hidden_act: z.string().optional(),
  max_position_embeddings: positiveInt,
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
});

// MLC's `model_config` is its own dataclass dump: Llama calls rope_theta `position_embedding_base` and
// both call the context length `context_window_size` (mlc_llm/model/{llama,qwen2}/*_model.py).
const mlcModelConfigSchema = z.object({
  hidden_size: positiveInt,
  intermediate_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: z.number().int().nonnegative().optional(),
  head_dim: z.number().int().nonnegative().optional(),
  vocab_size: positiveInt,
  rms_norm_eps: z.number().positive(),
  rope_theta: z.number().positive().optional(),
  position_embedding_base: z.number().nonnegative().optional(),
  rope_scaling: ropeScalingSchema,
  tie_word_embeddings: z.boolean().optional(),
  hidden_act: z.string().optional(),
  context_window_size: z.number().int().optional(),
  max_position_embeddings: positiveInt.optional(),
});

const mlcChatConfigSchema = z.object({
  model_type: z.string(),
  quantization: z.string(),
  model_config: z.record(z.string(), z.unknown()),
  vocab_size: positiveInt.optional(),
  context_window_size: z.number().int().optional(),
  bos_token_id: tokenIds,
  eos_token_id: tokenIds,
});

/** Turns a zod failure into one message naming the file, the field and what to do. */
function zodError(fileName: string, error: z.ZodError, prefix = ''): Error {
  const lines = error.issues.map((issue) => {
    const field = prefix + issue.path.map(String).join('.');
    return `field "${field}": ${issue.message}`;
  });
  return new Error(`${fileName}: ${lines.join('; ')}. Fix or re-download ${fileName} (it must describe a Qwen2 or Llama model).`);
}

function parseWith<T>(schema: z.ZodType<T>, json: unknown, fileName: string, prefix = ''): T {
  const result = schema.safeParse(json);
  if (!result.success) throw zodError(fileName, result.error, prefix);
  return result.data;
}

const asList = (ids: number | number[] | null | undefined): number[] => (ids == null ? [] : Array.isArray(ids) ? ids : [ids]);

function parseRopeScaling(raw: z.infer<typeof ropeScalingSchema>, fileName: string, field: string): Llama3RopeScaling | null {
  if (raw == null) return null;
  const type = raw.rope_type ?? raw.type;
  if (type === undefined || type === 'default') return null;
  if (type !== 'llama3') {
    throw new Error(`${fileName}: field "${field}" has rope type "${type}", which is not supported (only "llama3" scaling or none). Use a model without this RoPE scaling.`);
  }
  const need = (v: number | undefined, name: string): number => {
    if (v === undefined) throw new Error(`${fileName}: field "${field}.${name}" is missing; llama3 RoPE scaling needs factor, low_freq_factor, high_freq_factor and original_max_position_embeddings.`);
    return v;
  };
  return {
    type: 'llama3',
    factor: need(raw.factor, 'factor'),
    lowFreqFactor: need(raw.low_freq_factor, 'low_freq_factor'),
    highFreqFactor: need(raw.high_freq_factor, 'high_freq_factor'),
    originalMaxPositionEmbeddings: need(raw.original_max_position_embeddings, 'original_max_position_embeddings'),
  };
}

/** Cross-field checks shared by both formats. */
function validate(c: ModelConfig, fileName: string): ModelConfig {
  const problem = (msg: string): never => {
    throw new Error(`${fileName}: ${msg}. Fix or re-download ${fileName}.`);
  };
  if (c.numHeads % c.numKvHeads !== 0) problem(`num_attention_heads (${c.numHeads}) is not a multiple of num_key_value_heads (${c.numKvHeads})`);
  if (c.headDim % 2 !== 0) problem(`head_dim (${c.headDim}) must be even for rotary embeddings`);
  if (c.ropeScaling && c.ropeScaling.highFreqFactor <= c.ropeScaling.lowFreqFactor) {
    problem('rope_scaling.high_freq_factor must be larger than low_freq_factor');
  }
  return c;
}

const HF_ARCHITECTURES: Record<string, Architecture> = { Qwen2ForCausalLM: 'qwen2', LlamaForCausalLM: 'llama' };

/** Parses a Hugging Face `config.json` (already JSON-decoded). */
export function parseHfConfig(json: unknown, fileName = 'config.json'): ModelConfig {
  const raw = parseWith(hfSchema, json, fileName);
  const archName = raw.architectures[0]!;
  const architecture = HF_ARCHITECTURES[archName];
  if (!architecture) {
    throw new Error(`${fileName}: field "architectures" is ["${archName}"], which is not supported. Use a Qwen2ForCausalLM or LlamaForCausalLM model (e.g. Qwen2.5-0.5B-Instruct, Llama-3.2-1B-Instruct).`);
  }
  if (raw.hidden_act !== undefined && raw.hidden_act !== 'silu') {
    throw new Error(`${fileName}: field "hidden_act" is "${raw.hidden_act}"; only "silu" is supported.`);
  }
  if (architecture === 'llama' && (raw.attention_bias || raw.mlp_bias)) {
    throw new Error(`${fileName}: field "${raw.attention_bias ? 'attention_bias' : 'mlp_bias'}" is true; Llama models with biases are not supported (MLC cannot run them either).`);
  }
  if (architecture === 'qwen2' && raw.rope_scaling != null && (raw.rope_scaling.rope_type ?? raw.rope_scaling.type) !== 'default') {
    throw new Error(`${fileName}: field "rope_scaling" is set; RoPE scaling is not supported for Qwen2. Remove it (most Qwen2 models ship with null).`);
  }
  const numHeads = raw.num_attention_heads;
  return validate(
    {
      architecture,
      hiddenSize: raw.hidden_size,
      intermediateSize: raw.intermediate_size,
      numLayers: raw.num_hidden_layers,
      numHeads,
      numKvHeads: raw.num_key_value_heads ?? numHeads,
      headDim: raw.head_dim ?? raw.hidden_size / numHeads,
      vocabSize: raw.vocab_size,
      rmsNormEps: raw.rms_norm_eps,
      ropeTheta: raw.rope_theta ?? 10000,
      ropeScaling: architecture === 'llama' ? parseRopeScaling(raw.rope_scaling, fileName, 'rope_scaling') : null,
      tieWordEmbeddings: raw.tie_word_embeddings ?? false,
      attentionBias: architecture === 'qwen2',
      maxPositionEmbeddings: raw.max_position_embeddings,
      bosTokenId: asList(raw.bos_token_id)[0] ?? null,
      eosTokenIds: asList(raw.eos_token_id),
    },
    fileName,
  );
}

const MLC_MODEL_TYPES: Record<string, Architecture> = { qwen2: 'qwen2', llama: 'llama' };

export const MLC_QUANTIZATIONS = ['q0f32', 'q0f16', 'q4f16_1', 'q4f32_1'] as const;
export type Quantization = (typeof MLC_QUANTIZATIONS)[number];

/** Parses MLC's `mlc-chat-config.json`: the architecture from `model_type`, sizes from `model_config`. */
export function parseMlcChatConfig(json: unknown, fileName = 'mlc-chat-config.json'): { config: ModelConfig; quantization: Quantization } {
  const top = parseWith(mlcChatConfigSchema, json, fileName);
  const architecture = MLC_MODEL_TYPES[top.model_type];
  if (!architecture) {
    throw new Error(`${fileName}: field "model_type" is "${top.model_type}", which is not supported. Use an MLC build of a Qwen2 ("qwen2") or Llama ("llama") model.`);
  }
  if (!(MLC_QUANTIZATIONS as readonly string[]).includes(top.quantization)) {
    throw new Error(`${fileName}: field "quantization" is "${top.quantization}"; supported: ${MLC_QUANTIZATIONS.join(', ')}. Pick a build with one of these.`);
  }
  const m = parseWith(mlcModelConfigSchema, top.model_config, fileName, 'model_config.');
  const numHeads = m.num_attention_heads;
  const theta = architecture === 'llama' ? m.position_embedding_base || m.rope_theta : m.rope_theta;
  const context = top.context_window_size && top.context_window_size > 0 ? top.context_window_size : m.context_window_size && m.context_window_size > 0 ? m.context_window_size : m.max_position_embeddings;
  if (theta === undefined) {
    throw new Error(`${fileName}: field "model_config.${architecture === 'llama' ? 'position_embedding_base' : 'rope_theta'}" is missing. Regenerate the config with mlc_llm gen_config.`);
  }
  if (context === undefined) {
    throw new Error(`${fileName}: field "model_config.context_window_size" is missing. Regenerate the config with mlc_llm gen_config.`);
  }
  return {
    quantization: top.quantization as Quantization,
    config: validate(
      {
        architecture,
        hiddenSize: m.hidden_size,
        intermediateSize: m.intermediate_size,
        numLayers: m.num_hidden_layers,
        numHeads,
        numKvHeads: m.num_key_value_heads || numHeads,
        headDim: m.head_dim || m.hidden_size / numHeads,
        vocabSize: m.vocab_size,
        rmsNormEps: m.rms_norm_eps,
        ropeTheta: theta,
        ropeScaling: architecture === 'llama' ? parseRopeScaling(m.rope_scaling, fileName, 'model_config.rope_scaling') : null,
        tieWordEmbeddings: m.tie_word_embeddings ?? false,
        attentionBias: architecture === 'qwen2',
        maxPositionEmbeddings: context,
        bosTokenId: asList(top.bos_token_id)[0] ?? null,
        eosTokenIds: asList(top.eos_token_id),
      },
      fileName,
    ),
  };
}

/**
 * RoPE inverse frequencies θ^(-2i/d) for i < headDim/2, with Llama-3 scaling applied when configured:
 * long wavelengths (> original context / low_freq_factor) are divided by `factor`, short ones
 * (< original context / high_freq_factor) kept, and those in between interpolated smoothly.
 */
export function ropeInverseFrequencies(config: ModelConfig): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / config.ropeTheta ** ((2 * i) / config.headDim);
  const s = config.ropeScaling;
  if (!s) return inv;
  const lowFreqWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const f = inv[i]!;
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highFreqWavelen) continue; // high frequency: unchanged
    if (wavelen > lowFreqWavelen) {
      inv[i] = f / s.factor; // low frequency: fully scaled
      continue;
    }
    const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    inv[i] = (1 - smooth) * (f / s.factor) + smooth * f;
  }
  return inv;
}
