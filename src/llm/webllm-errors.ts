// WebLLM failures turned into messages that say what happened and what to do. Errors from the worker
// arrive as strings (WebLLM posts `err.toString()`, e.g. "DeviceLostError: The WebGPU device was lost"),
// so classification works on the text, by WebLLM 0.2.79's error names and the browsers' wording.
import { NO_WEBGPU_ADVICE } from './webgpu-support';

export type WebLlmErrorKind =
  | 'no-webgpu'
  | 'shader-f16'
  | 'device-lost'
  | 'out-of-memory'
  | 'storage-full'
  | 'network'
  | 'model-not-found'
  | 'context-too-long'
  | 'aborted'
  | 'unknown';

export type WebLlmPhase = 'load' | 'chat' | 'embed' | 'cache';

export class WebLlmError extends Error {
  override name = 'WebLlmError';
  constructor(
    readonly kind: WebLlmErrorKind,
    message: string,
    /** WebLLM's or the browser's own words, for a details view and bug reports. */
    readonly detail: string,
  ) {
    super(message);
  }
}

export function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error instanceof Error) return error.message.startsWith(error.name) ? error.message : `${error.name}: ${error.message}`;
  try {
    return JSON.stringify(error) ?? String(error);
  } catch {
    return String(error);
  }
}

export interface ErrorContext {
  phase: WebLlmPhase;
  modelId?: string;
  /** GPU memory the model needs, for the out-of-memory advice. */
  vramMB?: number;
  /** First-download size, for the network advice. */
  downloadMB?: number;
}

// First match wins. A lost device comes first: what follows it (an unloaded model, aborted work) is its consequence.
const RULES: readonly { kind: WebLlmErrorKind; test: RegExp }[] = [
  { kind: 'device-lost', test: /DeviceLostError|device (?:was |is )?lost/i },
  // Not "RuntimeError: Aborted()": that is WebLLM's WebAssembly crashing, not a request being stopped.
  { kind: 'aborted', test: /AbortError|(?<!RuntimeError: )aborted|interrupted/i },
  { kind: 'model-not-found', test: /ModelNotFoundError|Cannot find model record|SpecifiedModelNotFoundError/ },
  { kind: 'shader-f16', test: /ShaderF16SupportError|shader-f16/ },
  { kind: 'no-webgpu', test: /WebGPUNotAvailableError|WebGPUNotFoundError|WebGPU is not supported|Cannot find WebGPU|navigator\.gpu|no (?:GPU )?adapter/i },
  { kind: 'out-of-memory', test: /out of memory|OutOfMemory|Failed to allocate|allocation failed|could not allocate|Cannot allocate|OOM/i },
  { kind: 'storage-full', test: /QuotaExceeded|quota/i },
  { kind: 'context-too-long', test: /ContextWindowSizeExceededError|exceed context window/i },
  {
    kind: 'network',
    test: /Failed to fetch|NetworkError|network error|Network response was not ok|Load failed|fetch failed|Cannot fetch|Request failed|net::ERR|ERR_INTERNET|ERR_NAME_NOT_RESOLVED|failed to fetch|status(?: code)? (?:4|5)\d\d/i,
  },
];

export function classify(detail: string): WebLlmErrorKind {
  return RULES.find((rule) => rule.test.test(detail))?.kind ?? 'unknown';
}

function advice(kind: WebLlmErrorKind, context: ErrorContext, detail: string): string {
  const model = context.modelId ? `"${context.modelId}"` : 'the model';
  switch (kind) {
    case 'no-webgpu':
      return `This browser cannot run ${model}: WebGPU is not available. ${NO_WEBGPU_ADVICE}`;
    case 'shader-f16':
      return `${model} needs 16-bit float GPU shaders (shader-f16), which this GPU or browser lacks. Choose the q4f32_1 variant of the model (the app picks it automatically when it detects this).`;
    case 'device-lost':
      return `The GPU stopped working while running ${model} (device lost), most often because it ran out of GPU memory. Close other GPU-heavy tabs and apps, reload the page, and load the model again, or choose a smaller model (e.g. Qwen2.5 0.5B).`;
    case 'out-of-memory':
      return `Not enough memory to ${context.phase === 'load' ? 'load' : 'run'} ${model}${context.vramMB ? ` (it needs about ${Math.ceil(context.vramMB / 100) / 10} GB of GPU memory)` : ''}. Close other tabs and apps, or choose a smaller model.`;
    case 'storage-full':
      return `The browser has no room left to store ${model}'s files. Delete models you no longer use on the Models page, or free disk space, then try again.`;
    case 'network':
      return `Could not download ${model}: a request for its files failed (no connection, or the server lacks one of them). Check your connection and try again${context.downloadMB ? ` (the first load downloads about ${context.downloadMB >= 1000 ? `${Math.round(context.downloadMB / 100) / 10} GB` : `${context.downloadMB} MB`})` : ''}. Once downloaded, the model is cached and works offline.`;
    case 'model-not-found':
      return `${model} is not a model this version of WebLLM knows. Choose a model from the list on the Models page.`;
    case 'context-too-long':
      return `The prompt is longer than ${model} can read at once. Retrieve fewer memories per question, or use a shorter message.`;
    case 'aborted':
      return `The request to ${model} was stopped.`;
    case 'unknown':
      return `WebLLM failed (${context.phase}) with ${model}: ${detail}`;
  }
}

/** Any error from WebLLM or the worker as a WebLlmError with advice; a WebLlmError passes through. */
export function toWebLlmError(error: unknown, context: ErrorContext): WebLlmError {
  if (error instanceof WebLlmError) return error;
  const detail = errorText(error);
  const kind = classify(detail);
  return new WebLlmError(kind, advice(kind, context, detail), detail);
}
