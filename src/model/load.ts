// Loads a model folder (HF or MLC, detected by its files) from any ModelSource.

import { parseJsonFile } from './bytes';
import { parseHfConfig, parseMlcChatConfig, type ModelConfig, type Quantization } from './config';
import { NDARRAY_CACHE, TENSOR_CACHE, parseTensorCache, readTensorCache } from './mlc';
import { SAFETENSORS_INDEX, parseSafetensors, parseSafetensorsIndex } from './safetensors';
import { MissingFileError, type ModelSource } from './source';
import { ModelTokenizer } from './tokenizer';
import type { ModelWeights } from './weights';
import { hfWeights, type HfSourceTensor } from './weights-hf';
import { mlcWeights } from './weights-mlc';

export type ModelFormat = 'hf' | 'mlc';

export interface LoadedModel {
  config: ModelConfig;
  weights: ModelWeights;
  tokenizer: ModelTokenizer;
  /** The Jinja chat template, when tokenizer_config.json has one. */
  chatTemplate: string | null;
  format: ModelFormat;
  /** MLC's quantisation name; HF checkpoints report q0f16 when stored as f16, else q0f32 (bf16 is widened). */
  quantization: Quantization;
}

const EXPECTED_FILES =
  'A Hugging Face folder needs config.json, model.safetensors (or model.safetensors.index.json and its shards), tokenizer.json and tokenizer_config.json; ' +
  'an MLC folder needs mlc-chat-config.json, tensor-cache.json (or ndarray-cache.json) with its params_shard_*.bin files, and tokenizer.json.';

/** Reads a file the folder must have, with an error saying what the folder should contain. */
async function required(source: ModelSource, path: string, format: ModelFormat | null): Promise<Uint8Array> {
  try {
    return await source.read(path);
  } catch (e) {
    if (e instanceof MissingFileError) {
      const kind = format === 'hf' ? 'This Hugging Face model folder' : format === 'mlc' ? 'This MLC model folder' : 'The model folder';
      throw new Error(`${path}: missing from ${source.name}. ${kind} is incomplete. ${EXPECTED_FILES}`);
    }
    throw e;
  }
}

export async function detectFormat(source: ModelSource): Promise<ModelFormat> {
  if (await source.exists('mlc-chat-config.json')) return 'mlc';
  if (await source.exists('config.json')) return 'hf';
  throw new Error(`${source.name}: neither config.json nor mlc-chat-config.json found; this is not a model folder. ${EXPECTED_FILES}`);
}

async function loadTokenizer(source: ModelSource, format: ModelFormat, eosIds: number[]): Promise<ModelTokenizer> {
  const tokenizerJson = parseJsonFile(await required(source, 'tokenizer.json', format), 'tokenizer.json');
  const tokenizerConfig = (await source.exists('tokenizer_config.json'))
    ? (parseJsonFile(await source.read('tokenizer_config.json'), 'tokenizer_config.json') as Record<string, unknown>)
    : {};
  return new ModelTokenizer(tokenizerJson, tokenizerConfig, eosIds);
}

async function loadHf(source: ModelSource): Promise<Omit<LoadedModel, 'tokenizer' | 'chatTemplate'>> {
  const config = parseHfConfig(parseJsonFile(await required(source, 'config.json', 'hf'), 'config.json'));
  const tensors = new Map<string, HfSourceTensor>();
  let mainFile = 'model.safetensors';
  const files: string[] = [];
  if (await source.exists(SAFETENSORS_INDEX)) {
    mainFile = SAFETENSORS_INDEX;
    const index = parseSafetensorsIndex(parseJsonFile(await source.read(SAFETENSORS_INDEX), SAFETENSORS_INDEX));
    files.push(...new Set(index.values()));
  } else {
    files.push('model.safetensors');
  }
  for (const file of files) {
    const parsed = parseSafetensors(await required(source, file, 'hf'), file);
    for (const [name, tensor] of parsed.tensors) tensors.set(name, { tensor, file });
  }
  const weights = hfWeights(tensors, config, mainFile);
  return { config, weights, format: 'hf', quantization: weights.embedTokens.data.kind === 'f16' ? 'q0f16' : 'q0f32' };
}

async function loadMlc(source: ModelSource): Promise<Omit<LoadedModel, 'tokenizer' | 'chatTemplate'>> {
  const { config, quantization } = parseMlcChatConfig(parseJsonFile(await required(source, 'mlc-chat-config.json', 'mlc'), 'mlc-chat-config.json'));
  const cacheFile = (await source.exists(TENSOR_CACHE)) || !(await source.exists(NDARRAY_CACHE)) ? TENSOR_CACHE : NDARRAY_CACHE;
  const cache = parseTensorCache(parseJsonFile(await required(source, cacheFile, 'mlc'), cacheFile), cacheFile);
  const tensors = await readTensorCache(cache, (path) => required(source, path, 'mlc'), cacheFile);
  return { config, weights: mlcWeights(tensors, config, quantization, cacheFile), format: 'mlc', quantization };
}

/** Loads config, weights and tokenizer; throws errors that name the file (and tensor) at fault. */
export async function loadModel(source: ModelSource): Promise<LoadedModel> {
  const format = await detectFormat(source);
  const model = format === 'mlc' ? await loadMlc(source) : await loadHf(source);
  const tokenizer = await loadTokenizer(source, format, model.config.eosTokenIds);
  return { ...model, tokenizer, chatTemplate: tokenizer.chatTemplate };
}
