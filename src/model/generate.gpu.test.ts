// Generation on the real GPU engine with a tiny random model: greedy decoding through the KV cache
// agrees with a full recompute, seeded sampling repeats, and constrained decoding always yields JSON
// matching the schema even though random weights have no idea what JSON is. topK is small: the topK
// kernel costs O(k·V) and SwiftShader is slow.
import { beforeAll, describe, expect, it } from 'vitest';
import { MANAGER_JSON_SCHEMA, ManagerOutputSchema } from '../agents/schemas';
import { useGpuRuntime } from '../gpu/test-runtime';
import { Engine } from './engine';
import { generate } from './generate';
import { loadModel } from './load';
import { MemorySource } from './source';
import { makeTinyModel } from './tiny';

describe('generate on the GPU engine (tiny model)', () => {
  const rt = useGpuRuntime();
  let engine: Engine;
  let prompt: number[];

  beforeAll(async () => {
    engine = await Engine.create(await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 11 }))), rt(), { maxTokens: 128 });
    prompt = engine.tokenizer.encode('The user said that they moved to Berlin');
  }, 60_000);

  const run = async (options: { temperature?: number; seed?: number; maxTokens?: number; jsonSchema?: Record<string, unknown> }) => {
    const session = engine.session({ maxTokens: 64 });
    try {
      return await generate(session, engine.tokenizer, { promptIds: prompt, maxTokens: options.maxTokens ?? 6, eosIds: [], topK: 8, ...options });
    } finally {
      session.dispose();
    }
  };

  it('greedy decoding is deterministic and equals the argmax of a full recompute', async () => {
    const a = await run({});
    expect(a.ids.length).toBe(6);
    expect((await run({})).ids).toEqual(a.ids);
    const V = engine.config.vocabSize;
    const logits = await engine.logits([...prompt, ...a.ids]);
    a.ids.forEach((id, t) => {
      const row = logits.subarray((prompt.length - 1 + t) * V, (prompt.length + t) * V);
      const max = row.reduce((m, v) => Math.max(m, v), -Infinity);
      expect(row[id]!).toBeGreaterThan(max - 1e-4); // the incremental pick is the argmax (up to f32 rounding)
    });
    expect(a.text).toBe(engine.tokenizer.decode(a.ids));
  });

  it('repeats a sampled text for the same seed', async () => {
    const a = await run({ temperature: 1, seed: 42 });
    expect((await run({ temperature: 1, seed: 42 })).ids).toEqual(a.ids);
    expect((await run({ temperature: 1, seed: 43 })).ids).not.toEqual(a.ids);
  });

  it("always writes JSON matching the manager's schema", async () => {
    for (const [temperature, seed] of [[0, 0], [1.5, 2]] as const) {
      const r = await run({ temperature, seed, maxTokens: 20, jsonSchema: MANAGER_JSON_SCHEMA });
      const parsed = ManagerOutputSchema.safeParse(JSON.parse(r.text));
      expect(parsed.success, r.text).toBe(true);
      expect(r.ids.length).toBeLessThanOrEqual(20);
    }
  });
});
