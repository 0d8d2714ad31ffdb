// The local ChatModel on the real engine (tiny random model): chat template, usage, streaming, an
// adapter chosen per model, and json_schema replies that always parse.
import { beforeAll, describe, expect, it } from 'vitest';
import { FactsSchema, FACTS_JSON_SCHEMA } from '../agents/schemas';
import { useGpuRuntime } from '../gpu/test-runtime';
import { Engine } from '../model/engine';
import { loadModel } from '../model/load';
import { loraDims, LORA_TARGETS, type HostLoraAdapter } from '../model/lora';
import { MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import { LocalChatModel } from './local';

describe('LocalChatModel on the GPU engine', () => {
  const rt = useGpuRuntime();
  let engine: Engine;

  beforeAll(async () => {
    engine = await Engine.create(await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'llama', seed: 5 }))), rt(), { maxTokens: 160 });
    const c = engine.config;
    let x = 7;
    const fill = (n: number): Float32Array => Float32Array.from({ length: n }, () => ((x = (x * 48271) % 2147483647) / 2147483647 - 0.5) * 0.8);
    const adapter: HostLoraAdapter = { rank: 2, alpha: 4, layers: Array.from({ length: c.numLayers }, () => Object.fromEntries(LORA_TARGETS.map((t) => [t, { a: fill(2 * loraDims(c, t).in), b: fill(loraDims(c, t).out * 2) }]))) };
    engine.addAdapter('tuned', adapter);
  }, 60_000);

  const messages = [{ role: 'user' as const, content: 'I moved to Berlin.' }];

  it('chats with and without an adapter, streaming and counting tokens', async () => {
    const base = new LocalChatModel(engine);
    const deltas: string[] = [];
    const a = await base.chat({ messages, temperature: 0, max_tokens: 5, onToken: (d) => deltas.push(d) });
    expect(deltas.join('')).toBe(a.text);
    const prompt = engine.tokenizer.encode(engine.tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }));
    expect(a.usage.promptTokens).toBe(prompt.length);
    expect(a.usage.completionTokens).toBeGreaterThan(0);
    expect(a.usage.completionTokens).toBeLessThanOrEqual(5);
    const tuned = await new LocalChatModel(engine, { adapter: 'tuned' }).chat({ messages, temperature: 0, max_tokens: 5 });
    expect(tuned.text).not.toBe(a.text); // the adapter moves the logits
  });

  it('answers json_schema requests with valid JSON', async () => {
    const model = new LocalChatModel(engine, { adapter: 'tuned', topK: 8 });
    for (const seed of [1]) {
      const r = await model.chat({ messages, temperature: 1, seed, max_tokens: 16, json_schema: FACTS_JSON_SCHEMA });
      expect(FactsSchema.safeParse(JSON.parse(r.text)).success, r.text).toBe(true);
    }
  });
});
