// Engine.embed: the mean of the final normed hidden states, checked against the float64 reference through
// the output projection (which is linear: W·mean(h) = mean(W·h), so W·embedding is parallel to the mean
// of the reference's logit rows), and unit length, deterministic, adapter-aware, capped in length.
import { describe, expect, it } from 'vitest';
import { useGpuRuntime } from '../gpu/test-runtime';
import { embedderOf } from '../llm/chat-model';
import { LocalChatModel } from '../llm/local';
import { EMBED_MAX_TOKENS, Engine } from './engine';
import { loadModel } from './load';
import { ReferenceModel } from './reference';
import { MemorySource } from './source';
import { randomLoraAdapter } from './testing';
import { makeTinyModel } from './tiny';

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

describe('Engine.embed (mean-pooled hidden states)', () => {
  const gpu = useGpuRuntime();

  it('matches the reference forward pass through the tied output projection', async () => {
    const model = await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 5 }), 'tiny'));
    const engine = await Engine.create(model, gpu());
    const c = model.config;
    const W = model.weights.embedTokens.data;
    if (W.kind !== 'f32') throw new Error('expected f32 weights');
    const reference = new ReferenceModel(c, model.weights);
    for (const text of ['Anna has a dog.', 'Tom moved to Oslo on 3 May 2023, and he likes it there a lot.']) {
      const e = await engine.embed(text);
      expect(e).toHaveLength(c.hiddenSize);
      expect(Math.hypot(...e)).toBeCloseTo(1, 5);
      const rows = reference.forward(model.tokenizer.encode(text));
      const meanLogits = Array.from({ length: c.vocabSize }, (_, v) => rows.reduce((s, r) => s + r[v]!, 0) / rows.length);
      const projected = Array.from({ length: c.vocabSize }, (_, v) => {
        let s = 0;
        for (let i = 0; i < c.hiddenSize; i++) s += W.data[v * c.hiddenSize + i]! * e[i]!;
        return s;
      });
      expect(cosine(projected, meanLogits)).toBeGreaterThan(0.9999);
      expect(await engine.embed(text)).toEqual(e); // deterministic
    }
    // Different texts differ; the empty text is the zero vector; long texts read the first tokens only.
    expect(cosine(await engine.embed('Anna has a dog.'), await engine.embed('The weather was great.'))).toBeLessThan(0.999);
    expect([...(await engine.embed(''))].every((x) => x === 0)).toBe(true);
    const long = 'memory '.repeat(EMBED_MAX_TOKENS * 2);
    expect(await engine.embed(long)).toEqual(await engine.embed(long + ' and then something else entirely'));
    // A named adapter is used (and the base model's vector stays the base model's).
    engine.addAdapter('a', randomLoraAdapter(c, 3));
    const base = await engine.embed('Anna has a dog.');
    expect(cosine(await engine.embed('Anna has a dog.', { adapter: 'a' }), base)).toBeLessThan(0.9999);
    expect(await engine.embed('Anna has a dog.')).toEqual(base);
    engine.dispose();
  }, 120_000);

  it('gives the local ChatModel embeddings only when asked, computed by the embedding engine', async () => {
    const chat = await Engine.create(await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 5 }), 'chat')), gpu());
    const embedding = await Engine.create(await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'llama', seed: 6 }), 'embed')), gpu());
    expect(embedderOf(new LocalChatModel(chat))).toBeUndefined();
    const model = new LocalChatModel(chat, { embedding });
    const [a, b] = await model.embed!(['Anna has a dog.', 'Tom lives in Oslo.']);
    expect(a).toEqual(await embedding.embed('Anna has a dog.'));
    expect(b).toEqual(await embedding.embed('Tom lives in Oslo.'));
    chat.dispose();
    embedding.dispose();
  }, 120_000);
});
