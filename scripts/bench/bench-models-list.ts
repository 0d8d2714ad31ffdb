// The models the engine and training benchmarks measure: a tiny model, and Qwen2.5-0.5B's shape with
// random weights (~1 GB in f16). Written by bench-models.ts; loaded from disk in Node, over HTTP in Chromium.
export const BENCH_MODELS = [
  { name: 'tiny-qwen2 (hf f32)', folder: 'tiny-qwen2-hf', options: { format: 'hf', arch: 'qwen2', quant: 'q0f32', seed: 1 }, prefill: 64, decode: 32 },
  { name: 'qwen2.5-0.5b shape (hf f16, random)', folder: 'qwen2.5-0.5b-shape-hf', options: { format: 'hf', arch: 'qwen2', quant: 'q0f16', seed: 1, shape: 'qwen2.5-0.5b' }, prefill: 8, decode: 2 },
] as const;
