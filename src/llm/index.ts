// The ChatModel contract and what goes with it. The WebLLM client itself (./webllm) is imported directly
// by whoever loads a model, so code that only needs the contract does not pull WebLLM into its bundle.
export * from './chat-model';
export { ScriptedChatModel, type ScriptReply, type ScriptedOptions } from './scripted';
export * from './webllm-catalogue';
export * from './webllm-errors';
export * from './webllm-progress';
export { probeWebGpu, NO_WEBGPU_ADVICE, type WebGpuSupport } from './webgpu-support';
