// The model-format layer's public API (browser- and Node-safe; Node-only helpers live in *.node.ts:
// DirectorySource in source.node.ts, writeTinyModel in tiny.node.ts).

export { parseHfConfig, parseMlcChatConfig, ropeInverseFrequencies, MLC_QUANTIZATIONS } from './config';
export type { Architecture, Llama3RopeScaling, ModelConfig, Quantization } from './config';
export { parseSafetensors, parseSafetensorsIndex, safetensorsData, writeSafetensors } from './safetensors';
export type { SafetensorsDtype, SafetensorsFile, SafetensorsInput, SafetensorsTensor } from './safetensors';
export { parseTensorCache, readTensorCache, writeTensorCache } from './mlc';
export type { MlcTensor, TensorCache, TensorCacheRecord, TensorCacheShard } from './mlc';
export { dequantizeQ4, quantizeQ4, Q4_GROUP_SIZE } from './q4';
export type { Q4Data, ScaleDtype } from './q4';
export { concatRows, dequantize, expectedShapes, gateUpSplit, hfTensor, hfTensorNames, qkvSplit, sliceRows, validateWeights } from './weights';
export type { LayerWeights, ModelWeights, WeightData, WeightTensor } from './weights';
export { hfSafetensorsInputs, hfWeights } from './weights-hf';
export { mlcModuleName, mlcTensorsFromWeights, mlcWeights } from './weights-mlc';
export { CacheApiSource, FileListSource, IndexedDbCacheSource, MemorySource, MissingFileError, UrlSource, webllmModelUrl } from './source';
export type { CacheStorageLike, DownloadProgress, IdbFactoryLike, ModelSource, PickedFile } from './source';
export { detectFormat, loadModel } from './load';
export type { LoadedModel, ModelFormat } from './load';
export { ModelTokenizer } from './tokenizer';
export type { ChatMessage } from './tokenizer';
export { ReferenceModel, logSoftmaxAt } from './reference';
export type { LoraAdapters, LoraMatrix, LoraTarget } from './reference';
export { makeTinyModel, randomTinyWeights, tinyConfig } from './tiny';
export type { TinyModelOptions } from './tiny';
export { Engine } from './engine';
export type { EngineModel, EngineOptions, RequestOptions } from './engine';
export type { DecodeSession, TopKResult } from './decode-session';
export { downloadLora, LORA_TARGETS, loraDims, uploadLora } from './lora';
export type { HostLoraAdapter, LoraAdapter, LoraWeights } from './lora';
export { parsePeftAdapter, peftTensorName, readPeftFiles, writePeftAdapter, PEFT_CONFIG, PEFT_WEIGHTS } from './peft';
export type { PeftFiles } from './peft';
