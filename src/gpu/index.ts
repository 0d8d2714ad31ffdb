// Public surface of gpu/: device acquisition, tensors and the runtime, and the kernels (each with its
// CPU reference). gpu/ knows nothing of models; model/ composes these.
export { GpuUnavailableError, requestGpuContext, type GpuContext } from './device';
export { BufferPool, sizeClass, type PoolStats } from './pool';
export { getPipeline, grid1d, GpuRuntime, packParams, MAX_WORKGROUPS_PER_DIM, type BindingKind, type KernelSpec, type ParamField, type TensorOptions } from './runtime';
export * from './tensor';
export { addRows, addRowsReference } from './kernels/add-rows';
export { attention, attentionReference, type AttentionArgs } from './kernels/attention';
export {
  add,
  addInPlace,
  addReference,
  copyRows,
  copyRowsReference,
  siluMul,
  siluMulFused,
  siluMulReference,
  type CopyRowsLayout,
} from './kernels/elementwise';
export { embedding, embeddingReference } from './kernels/embedding';
export { linear, linearReference, linearTransposed, matmul, matmulReference, type LinearOptions } from './kernels/linear';
export { loraAdd, loraReference } from './kernels/lora';
export { rmsNorm, rmsNormReference } from './kernels/rmsnorm';
export { llama3InvFreq, rope, ropeInvFreq, ropeReference, type RopeLayout } from './kernels/rope';
export {
  argmax,
  argmaxReference,
  logProbs,
  logProbsReference,
  logSumExpReference,
  sampleTopP,
  softmax,
  softmaxReference,
  topK,
  topKReference,
  type TopPOptions,
} from './kernels/sampling';
