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
// Backward kernels (training LoRA adapters) and the optimizer; see kernels/backward/README.md.
export {
  adamw,
  adamwReference,
  clipFactor,
  gradNormSquared,
  nonFiniteFlag,
  scaleInPlace,
  sumSquaresReference,
  type AdamWOptions,
  type AdamWState,
} from './kernels/adamw';
export {
  attentionBackward,
  attentionBackwardReference,
  fusedQkvAttentionBackward,
  attentionForward64,
  type AttentionBackwardArgs,
  type AttentionDims,
} from './kernels/backward/attention';
export { logProbsForward64, logSoftmaxBackward, logSoftmaxBackwardReference, type LogSoftmaxBackwardOptions } from './kernels/backward/cross-entropy';
export { type RowLayout } from './kernels/backward/layout';
export {
  loraBackward,
  loraBackwardReference,
  loraForward64,
  matmulStrided,
  type LoraBackwardArgs,
  type LoraDims,
  type MatrixView,
} from './kernels/backward/lora';
export { rmsNormBackward, rmsNormBackwardReference, rmsNormForward64 } from './kernels/backward/rmsnorm';
export { ropeBackward, ropeBackwardReference, ropeForward64 } from './kernels/backward/rope';
export {
  siluMulBackward,
  siluMulBackwardReference,
  siluMulForward64,
  siluMulFusedBackward,
  type SiluMulBackwardOptions,
} from './kernels/backward/swiglu';
