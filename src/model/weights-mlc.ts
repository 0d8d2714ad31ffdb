// MLC parameter names ↔ ModelWeights. MLC keeps q/k/v fused as `self_attn.c_attn` (Qwen2, with bias)
// or `self_attn.qkv_proj` (Llama, no bias), and gate/up as `mlp.gate_up_proj` (gate rows first), the
// layout ModelWeights uses. Under q4 quantisation every Linear and the embedding become
// `<module>.q_weight` + `<module>.q_scale` (mlc_llm/quantization/group_quantization.py quantises
// nn.Linear and nn.Embedding; lm_head too since quantize_final_fc is true); norms and biases stay in
// the model dtype (f16 for q4f16_1 and q0f16, f32 for q4f32_1 and q0f32).

import type { ModelConfig, Quantization } from './config';
import { shapeString } from './bytes';
import { f32ArrayToF16 } from './half';
import type { MlcTensor } from './mlc';
import { Q4_GROUP_SIZE, Q4_PER_WORD, quantizeQ4, type ScaleDtype } from './q4';
import { dequantize, expectedShapes, validateWeights, type LayerWeights, type ModelWeights, type WeightTensor } from './weights';

const isQ4 = (q: Quantization): boolean => q.startsWith('q4');
const modelDtype = (q: Quantization): 'float16' | 'float32' => (q === 'q0f32' || q === 'q4f32_1' ? 'float32' : 'float16');

/** MLC module name of each ModelWeights field. */
export function mlcModuleName(c: ModelConfig, field: keyof LayerWeights | 'embedTokens' | 'norm' | 'lmHead', layer?: number): string {
  const p = `model.layers.${layer ?? 0}`;
  const qkv = c.architecture === 'qwen2' ? 'c_attn' : 'qkv_proj';
  switch (field) {
    case 'embedTokens':
      return 'model.embed_tokens';
    case 'norm':
      return 'model.norm';
    case 'lmHead':
      return 'lm_head';
    case 'inputLayernorm':
      return `${p}.input_layernorm`;
    case 'postAttentionLayernorm':
      return `${p}.post_attention_layernorm`;
    case 'qkv':
    case 'qkvBias':
      return `${p}.self_attn.${qkv}`;
    case 'oProj':
      return `${p}.self_attn.o_proj`;
    case 'gateUp':
      return `${p}.mlp.gate_up_proj`;
    case 'downProj':
      return `${p}.mlp.down_proj`;
  }
}

/** Builds ModelWeights from a tensor cache's tensors; errors name `cacheFile` and the MLC tensor. */
export function mlcWeights(tensors: ReadonlyMap<string, MlcTensor>, c: ModelConfig, quantization: Quantization, cacheFile: string): ModelWeights {
  const missing = (name: string): never => {
    throw new Error(`${cacheFile}: tensor "${name}" is missing. A ${quantization} ${c.architecture} model must contain it; re-download the model or check mlc-chat-config.json.`);
  };
  const plain = (name: string, expected: number[]): WeightTensor => {
    const t = tensors.get(name) ?? missing(name);
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new Error(`${cacheFile}: tensor "${name}" has shape ${shapeString(t.shape)} but mlc-chat-config.json needs ${shapeString(expected)}. The weights do not match the config; re-download the model.`);
    }
    if (t.dtype === 'float32') return { shape: t.shape, data: { kind: 'f32', data: t.data as Float32Array } };
    if (t.dtype === 'float16') return { shape: t.shape, data: { kind: 'f16', data: t.data as Uint16Array } };
    throw new Error(`${cacheFile}: tensor "${name}" has dtype ${t.dtype}; expected float32 or float16.`);
  };
  /** A matrix: `.weight` unquantised, `.q_weight` + `.q_scale` under q4. */
  const matrix = (module: string, expected: number[]): WeightTensor => {
    if (!isQ4(quantization)) return plain(`${module}.weight`, expected);
    const [rows, cols] = expected as [number, number];
    const qw = tensors.get(`${module}.q_weight`) ?? missing(`${module}.q_weight`);
    const qs = tensors.get(`${module}.q_scale`) ?? missing(`${module}.q_scale`);
    const wantW = [rows, cols / Q4_PER_WORD];
    const wantS = [rows, cols / Q4_GROUP_SIZE];
    for (const [t, want, dtypes] of [[qw, wantW, ['uint32']], [qs, wantS, ['float16', 'float32']]] as const) {
      if (t.shape.length !== 2 || t.shape[0] !== want[0] || t.shape[1] !== want[1]) {
        throw new Error(`${cacheFile}: tensor "${t.name}" has shape ${shapeString(t.shape)} but ${shapeString(expected)} quantised needs ${shapeString(want)}. The weights do not match the config; re-download the model.`);
      }
      if (!(dtypes as readonly string[]).includes(t.dtype)) throw new Error(`${cacheFile}: tensor "${t.name}" has dtype ${t.dtype}; expected ${dtypes.join(' or ')}.`);
    }
    const scaleDtype: ScaleDtype = qs.dtype === 'float16' ? 'f16' : 'f32';
    return { shape: expected, data: { kind: 'q4', qWeight: qw.data as Uint32Array, qScale: qs.data as Float32Array | Uint16Array, scaleDtype } };
  };
  const s = expectedShapes(c);
  const layers: LayerWeights[] = [];
  for (let i = 0; i < c.numLayers; i++) {
    const m = (field: keyof LayerWeights): string => mlcModuleName(c, field, i);
    layers.push({
      inputLayernorm: plain(`${m('inputLayernorm')}.weight`, s.layer.inputLayernorm),
      qkv: matrix(m('qkv'), s.layer.qkv),
      qkvBias: c.attentionBias ? plain(`${m('qkvBias')}.bias`, s.layer.qkvBias) : null,
      oProj: matrix(m('oProj'), s.layer.oProj),
      postAttentionLayernorm: plain(`${m('postAttentionLayernorm')}.weight`, s.layer.postAttentionLayernorm),
      gateUp: matrix(m('gateUp'), s.layer.gateUp),
      downProj: matrix(m('downProj'), s.layer.downProj),
    });
  }
  const weights: ModelWeights = {
    embedTokens: matrix('model.embed_tokens', s.embedTokens),
    layers,
    norm: plain('model.norm.weight', s.norm),
    lmHead: c.tieWordEmbeddings ? null : matrix('lm_head', s.lmHead),
  };
  validateWeights(weights, c, (field, layer) => `${cacheFile}: ${mlcModuleName(c, field as keyof LayerWeights, layer)}`);
  return weights;
}

/**
 * ModelWeights (any kinds) → MLC tensors in the given quantisation, in MLC's parameter order. Data already
 * in the target form (f16 for a float16 model, q4 with the target's scale type) passes through untouched.
 */
export function mlcTensorsFromWeights(w: ModelWeights, c: ModelConfig, quantization: Quantization): MlcTensor[] {
  const dtype = modelDtype(quantization);
  const scaleDtype: ScaleDtype = dtype === 'float16' ? 'f16' : 'f32';
  const out: MlcTensor[] = [];
  const plain = (name: string, t: WeightTensor): void => {
    const f32 = dequantize(t);
    if (dtype === 'float32') out.push({ name, shape: t.shape, dtype, data: f32 });
    else out.push({ name, shape: t.shape, dtype, data: t.data.kind === 'f16' ? t.data.data : f32ArrayToF16(f32) });
  };
  const matrix = (module: string, t: WeightTensor): void => {
    if (!isQ4(quantization)) return plain(`${module}.weight`, t);
    const [rows, cols] = t.shape as [number, number];
    const q = t.data.kind === 'q4' && t.data.scaleDtype === scaleDtype ? t.data : quantizeQ4(dequantize(t), rows, cols, scaleDtype);
    out.push({ name: `${module}.q_weight`, shape: [rows, cols / Q4_PER_WORD], dtype: 'uint32', data: q.qWeight });
    out.push({ name: `${module}.q_scale`, shape: [rows, cols / Q4_GROUP_SIZE], dtype, data: q.qScale });
  };
  matrix('model.embed_tokens', w.embedTokens);
  w.layers.forEach((layer, i) => {
    const m = (field: keyof LayerWeights): string => mlcModuleName(c, field, i);
    plain(`${m('inputLayernorm')}.weight`, layer.inputLayernorm);
    matrix(m('qkv'), layer.qkv);
    if (layer.qkvBias) plain(`${m('qkvBias')}.bias`, layer.qkvBias);
    matrix(m('oProj'), layer.oProj);
    plain(`${m('postAttentionLayernorm')}.weight`, layer.postAttentionLayernorm);
    matrix(m('gateUp'), layer.gateUp);
    matrix(m('downProj'), layer.downProj);
  });
  plain('model.norm.weight', w.norm);
  if (w.lmHead) matrix('lm_head', w.lmHead);
  return out;
}
