// Gradient check of the whole-model backward: the GPU's LoRA gradients of L = Σ_t g_t·logp_t (random g,
// the shape every objective hands the backward) against central finite differences of the float64
// reference model (ReferenceModel.logProbs with the same LoRA), on tiny models of both architectures
// (qwen2: qkv bias, tied embeddings; llama: untied lm_head, Llama-3 RoPE scaling), with adapters on all
// seven targets of every layer. The reference shares only the weights with the GPU path.
import { describe, expect, it } from 'vitest';
import { report, sampledGradCheck } from '../gpu/kernels/backward/gradcheck';
import { useGpuRuntime } from '../gpu/test-runtime';
import { rng } from '../gpu/testing';
import type { Architecture, ModelConfig } from '../model/config';
import { Engine } from '../model/engine';
import { loadModel } from '../model/load';
import { loraDims, LORA_TARGETS, uploadLora, type HostLoraAdapter } from '../model/lora';
import { ReferenceModel, type LoraTarget } from '../model/reference';
import { MemorySource } from '../model/source';
import { randomLoraAdapter } from '../model/testing';
import { makeTinyModel } from '../model/tiny';
import { SequencePass, zeroLoraGrads } from './backprop';

// Max-norm relative error per matrix over the checked entries (f32 GPU vs float64 FD; FD error ~1e-10; observed ≤ 5e-6).
const BOUND = 1e-4;


describe('LoRA backprop through the whole model vs float64 finite differences', () => {
  const gpu = useGpuRuntime();

  for (const arch of ['qwen2', 'llama'] as Architecture[]) {
    it(`${arch}: gradients of Σ g·logp for q,k,v,o,gate,up,down in every layer`, async () => {
      const model = await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch, seed: 11 }), `tiny-${arch}`));
      const engine = await Engine.create(model, gpu());
      const c = model.config;
      const random = rng(arch === 'qwen2' ? 5 : 6);
      const T = 9;
      const P = 4;
      const ids = Array.from({ length: T }, () => Math.floor(random() * c.vocabSize));
      const g = Array.from({ length: T - P }, () => 2 * random() - 1);
      const host = randomLoraAdapter(c, arch === 'qwen2' ? 21 : 22, { rank: 2, alpha: 4, float64: true });
      const adapter = uploadLora(engine.runtime, c, host);
      const ref = new ReferenceModel(c, model.weights);

      const pass = await SequencePass.forward(engine, adapter, { ids, promptLength: P });
      const want = ref.logProbs(ids, P, host);
      pass.logp.forEach((v, t) => expect(Math.abs(v - want[t]!)).toBeLessThan(1e-4));
      const grads = zeroLoraGrads(engine.runtime, adapter);
      pass.backward([g], grads);

      const loss = (): number => ref.logProbs(ids, P, host).reduce((s, v, t) => s + g[t]! * v, 0);
      const h = 1e-5;
      let worst = 0;
      for (let layer = 0; layer < c.numLayers; layer++) {
        for (const t of LORA_TARGETS as LoraTarget[]) {
          for (const which of ['A', 'B'] as const) {
            const got = await engine.runtime.download(grads[layer]![t]![which]);
            const values = host.layers[layer]![t]![which === 'A' ? 'a' : 'b'] as Float64Array;
            // 10 random entries per matrix (all of them would take minutes of float64 forwards).
            const picks = Array.from({ length: 10 }, () => Math.floor(random() * values.length));
            const { diff, scale } = sampledGradCheck(loss, values, got, picks, h);
            expect(scale, `${layer}.${t}.${which} has a non-zero gradient`).toBeGreaterThan(1e-4);
            const error = report(`${arch} layer ${layer} ${t}.${which}`, diff / scale, BOUND);
            worst = Math.max(worst, error);
            expect(error, `${layer}.${t}.${which}`).toBeLessThanOrEqual(BOUND);
          }
        }
      }
      report(`${arch} worst over all matrices`, worst, BOUND);
      engine.addAdapter('checked', adapter); // the engine frees it
      engine.dispose();
    }, 120_000);
  }

  it('branches sharing a prefix: one pass equals the sum over the separate sequences (qwen2)', async () => {
    const model = await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 11 }), 'tiny-qwen2'));
    const engine = await Engine.create(model, gpu());
    const c = model.config;
    const random = rng(9);
    const prefix = Array.from({ length: 7 }, () => Math.floor(random() * c.vocabSize));
    const P = 5; // completions are prefix[5], prefix[6], then one of three last tokens
    const lastTokens = [17, 301, 17 + 256];
    const g = lastTokens.map(() => Array.from({ length: 3 }, () => 2 * random() - 1));
    const host = randomLoraAdapter(c, 23, { rank: 2, alpha: 4, float64: true });
    const adapter = uploadLora(engine.runtime, c, host);
    const ref = new ReferenceModel(c, model.weights);
    const pass = await SequencePass.forward(engine, adapter, { prefix, promptLength: P, lastTokens });
    lastTokens.forEach((last, b) => {
      const want = ref.logProbs([...prefix, last], P, host);
      pass.logps[b]!.forEach((v, t) => expect(Math.abs(v - want[t]!)).toBeLessThan(1e-4));
    });
    const grads = zeroLoraGrads(engine.runtime, adapter);
    pass.backward(g, grads);
    const loss = (): number => lastTokens.reduce((s, last, b) => s + ref.logProbs([...prefix, last], P, host).reduce((a, v, t) => a + g[b]![t]! * v, 0), 0);
    const h = 1e-5;
    for (const [layer, t] of [[0, 'q'], [1, 'down'], [1, 'o']] as Array<[number, LoraTarget]>) {
      for (const which of ['A', 'B'] as const) {
        const got = await engine.runtime.download(grads[layer]![t]![which]);
        const values = host.layers[layer]![t]![which === 'A' ? 'a' : 'b'] as Float64Array;
        const picks = Array.from({ length: 8 }, () => Math.floor(random() * values.length));
        const { diff, scale } = sampledGradCheck(loss, values, got, picks, h);
        expect(report(`branched layer ${layer} ${t}.${which}`, diff / scale, BOUND)).toBeLessThanOrEqual(BOUND);
      }
    }
    engine.addAdapter('checked', adapter);
    engine.dispose();
  }, 120_000);
});
