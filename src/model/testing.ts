// Helpers for model and trainer tests (plain TypeScript, no test framework).
import { rng } from '../gpu/testing';
import type { ModelConfig } from './config';
import { loraDims, LORA_TARGETS, type HostLoraAdapter } from './lora';

/**
 * A random LoRA adapter on every target of every layer, with B non-zero so it visibly moves the logits
 * (A ~ U(±1/√in), B ~ U(±0.3)). `float64` keeps the draws unrounded, for finite-difference checks.
 */
export function randomLoraAdapter(c: ModelConfig, seed: number, options: { rank?: number; alpha?: number; float64?: boolean } = {}): HostLoraAdapter {
  const { rank = 4, alpha = 8, float64 = false } = options;
  const random = rng(seed);
  const uniform = (n: number, amp: number) => {
    const draws = Array.from({ length: n }, () => amp * (2 * random() - 1));
    return float64 ? Float64Array.from(draws) : Float32Array.from(draws);
  };
  const layers = Array.from({ length: c.numLayers }, () => {
    const layer: HostLoraAdapter['layers'][number] = {};
    for (const t of LORA_TARGETS) {
      const d = loraDims(c, t);
      layer[t] = { a: uniform(rank * d.in, 1 / Math.sqrt(d.in)), b: uniform(d.out * rank, 0.3) };
    }
    return layer;
  });
  return { rank, alpha, layers };
}
