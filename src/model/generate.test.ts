import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MANAGER_JSON_SCHEMA } from '../agents/schemas';
import { utf8Decode } from './bytes';
import { FakeSession, preferring, type LogitsFn } from './fake-session';
import { generate } from './generate';
import { instanceArb, schemaArb, validRaw, type RawSchema } from './json-arbitraries';
import { JsonConstraint } from './json-constraint';
import { createRng } from './rng';
import { makeTinyModel } from './tiny';
import { tokenBytesOf } from './token-bytes';
import { ModelTokenizer } from './tokenizer';

function tinyTokenizer(): ModelTokenizer {
  const files = makeTinyModel({ format: 'hf', arch: 'qwen2' });
  const read = (name: string): unknown => JSON.parse(utf8Decode(files.get(name)!));
  const config = read('config.json') as { eos_token_id: number | number[] };
  return new ModelTokenizer(read('tokenizer.json'), read('tokenizer_config.json') as Record<string, unknown>, [config.eos_token_id].flat());
}

const tok = tinyTokenizer();
const V = tok.size;
const EOS = tok.tokenId('<|im_end|>')!;
const prompt = tok.encode('The user said');

/** Deterministic pseudo-random logits per context (a hash of it), for sampling tests. */
function randomLogits(seed = 1): LogitsFn {
  return (ctx) => {
    const rng = createRng(ctx.reduce((h, id) => Math.imul(h ^ id, 0x01000193) >>> 0, seed));
    return Float32Array.from({ length: V }, () => 4 * rng());
  };
}

/** Emits `script` token by token, then EOS forever. */
function scripted(script: readonly number[], promptLength: number): LogitsFn {
  return (ctx) => preferring(V, { [script[ctx.length - promptLength] ?? EOS]: 10 });
}

describe('generate: decoding', () => {
  it('greedy takes the argmax, ties going to the lowest id', async () => {
    const fn: LogitsFn = (ctx) => preferring(V, { 300: 5, [200 + (ctx.length % 7)]: 5, 100: 4 });
    const session = new FakeSession(fn);
    const r = await generate(session, tok, { promptIds: prompt, maxTokens: 6, eosIds: [] });
    expect(r.ids).toEqual([0, 1, 2, 3, 4, 5].map((i) => 200 + ((prompt.length + i) % 7)));
    expect(r.finishReason).toBe('length');
    expect(r.usage).toEqual({ promptTokens: prompt.length, completionTokens: 6 });
    expect(session.calls.append).toBe(6); // prompt + every token but the last
  });

  it('samples reproducibly with a seed, and differently with another', async () => {
    const run = async (seed: number) => (await generate(new FakeSession(randomLogits()), tok, { promptIds: prompt, maxTokens: 20, temperature: 1, seed, eosIds: [] })).ids;
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
    // A tiny top_p keeps only the best candidate: sampling becomes greedy.
    const greedy = (await generate(new FakeSession(randomLogits()), tok, { promptIds: prompt, maxTokens: 20, eosIds: [] })).ids;
    expect((await generate(new FakeSession(randomLogits()), tok, { promptIds: prompt, maxTokens: 20, temperature: 1, topP: 1e-9, seed: 3, eosIds: [] })).ids).toEqual(greedy);
  });

  it('draws tokens with their probabilities', async () => {
    // Two tokens at logits log(3) and 0: p = 0.75 / 0.25 (the other 510 at -1e9 do not count).
    const row = new Float32Array(V).fill(-1e9);
    row[65] = Math.log(3);
    row[66] = 0;
    let a = 0;
    const n = 2000;
    const r = await generate(new FakeSession(() => row), tok, { promptIds: prompt, maxTokens: n, temperature: 1, seed: 1, eosIds: [] });
    for (const id of r.ids) if (id === 65) a++;
    expect(a / n).toBeGreaterThan(0.72);
    expect(a / n).toBeLessThan(0.78);
  });

  it('stops at EOS without emitting it', async () => {
    const script = tok.encode(' the user');
    const r = await generate(new FakeSession(scripted(script, prompt.length)), tok, { promptIds: prompt, maxTokens: 50 });
    expect(r).toMatchObject({ ids: script, text: ' the user', finishReason: 'eos' });
  });

  it('never overruns the session', async () => {
    const session = new FakeSession(randomLogits(), prompt.length + 3);
    const r = await generate(session, tok, { promptIds: prompt, maxTokens: 50, eosIds: [] });
    expect(r.ids.length).toBe(4); // 3 appended + the last, which needs no room
    await expect(generate(new FakeSession(randomLogits(), 2), tok, { promptIds: prompt, maxTokens: 5 })).rejects.toThrow(/does not fit/);
  });

  it('decodes UTF-8 characters split across byte tokens', async () => {
    const script = tok.encode('é😀 ok');
    expect(script.length).toBeGreaterThan(3); // the tiny vocabulary has no merges for these: one token per byte
    const deltas: string[] = [];
    const r = await generate(new FakeSession(scripted(script, prompt.length)), tok, { promptIds: prompt, maxTokens: 50, onToken: (d) => deltas.push(d) });
    expect(r.text).toBe('é😀 ok');
    expect(deltas.join('')).toBe(r.text);
    expect(deltas.some((d) => d.includes('\ufffd'))).toBe(false);
  });

  it('ends before a stop string and never streams any part of it', async () => {
    const script = tok.encode('Hello ENDING there');
    const deltas: string[] = [];
    const r = await generate(new FakeSession(scripted(script, prompt.length)), tok, { promptIds: prompt, maxTokens: 50, stop: ['xyz', 'END'], onToken: (d) => deltas.push(d) });
    expect(r.text).toBe('Hello ');
    expect(r.finishReason).toBe('stop');
    expect(deltas.join('')).toBe('Hello ');
    // Text that only looked like a stop string is released at the end.
    const r2 = await generate(new FakeSession(scripted(tok.encode('Hello EN'), prompt.length)), tok, { promptIds: prompt, maxTokens: 50, stop: ['END'] });
    expect(r2).toMatchObject({ text: 'Hello EN', finishReason: 'eos' });
  });

  it('rejects with an AbortError once aborted', async () => {
    const controller = new AbortController();
    let n = 0;
    const p = generate(new FakeSession(randomLogits()), tok, { promptIds: prompt, maxTokens: 100, eosIds: [], onToken: () => ++n === 3 && controller.abort(), signal: controller.signal });
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('checks its options', async () => {
    const s = new FakeSession(randomLogits());
    await expect(generate(s, tok, { promptIds: prompt, maxTokens: 1, temperature: -1 })).rejects.toThrow(/temperature/);
    await expect(generate(s, tok, { promptIds: prompt, maxTokens: 1, topP: 0 })).rejects.toThrow(/top_p/);
    await expect(generate(s, tok, { promptIds: [], maxTokens: 1 })).rejects.toThrow(/nothing to continue/);
  });
});

describe('generate: JSON-schema-constrained', () => {
  const table = tokenBytesOf(tok);

  /** Logits that rank every token the constraint forbids (and EOS, and specials) above every allowed one. */
  function hostile(schema: RawSchema, promptLength: number, seed = 1): LogitsFn {
    const c = new JsonConstraint(schema);
    const noise = randomLogits(seed);
    return (ctx) => {
      const row = noise(ctx);
      const bytes = ctx.slice(promptLength).flatMap((id) => [...table.bytes(id)]);
      const state = c.advance(c.initial, bytes);
      for (let id = 0; id < V; id++) {
        const ok = state !== null && table.bytes(id).length > 0 && c.advance(state, table.bytes(id)) !== null;
        if (!ok) row[id]! += 100;
      }
      return row;
    };
  }

  function parsesAndMatches(schema: RawSchema, text: string): void {
    const value: unknown = JSON.parse(text);
    expect(validRaw(schema, value)).toBe(true);
  }

  it('writes valid manager operations even when the model prefers invalid tokens', async () => {
    for (const temperature of [0, 1]) {
      const session = new FakeSession(hostile(MANAGER_JSON_SCHEMA, prompt.length));
      const r = await generate(session, tok, { promptIds: prompt, maxTokens: 60, temperature, seed: 5, jsonSchema: MANAGER_JSON_SCHEMA });
      parsesAndMatches(MANAGER_JSON_SCHEMA, r.text);
      expect(session.calls.logits).toBeGreaterThan(0); // the top-k never had a valid token: full scans
      expect(tok.decode(r.ids)).toBe(r.text);
    }
  });

  it('always ends in valid JSON for random schemas, logits and budgets', async () => {
    await fc.assert(
      fc.asyncProperty(schemaArb(2), fc.integer({ min: 1, max: 40 }), fc.constantFrom(0, 0.7), fc.nat(), fc.boolean(), async (schema, maxTokens, temperature, seed, isHostile) => {
        const fn = isHostile ? hostile(schema, prompt.length, seed) : randomLogits(seed);
        const r = await generate(new FakeSession(fn), tok, { promptIds: prompt, maxTokens, temperature, seed, jsonSchema: schema, topK: 16 });
        parsesAndMatches(schema, r.text);
        const c = new JsonConstraint(schema);
        const shortest = tok.encode(new TextDecoder().decode(c.completion(c.initial))).length;
        if (maxTokens >= shortest) expect(r.ids.length).toBeLessThanOrEqual(maxTokens);
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('follows a model that wants valid JSON and stops as soon as the value is complete', async () => {
    await fc.assert(
      fc.asyncProperty(
        schemaArb(2).chain((s) => fc.tuple(fc.constant(s), instanceArb(s))),
        async ([schema, instance]) => {
          const text = JSON.stringify(instance);
          if (typeof instance === 'number') return; // a bare number never knows it is finished
          const script = tok.encode(text);
          // The tokenizer normalises (NFC: U+F900 becomes U+8C48), so a scripted model can only say what survives it.
          if (tok.decode(script) !== text) return;
          const session = new FakeSession(scripted([...script, ...tok.encode(' trailing')], prompt.length));
          const r = await generate(session, tok, { promptIds: prompt, maxTokens: script.length + 200, jsonSchema: schema });
          expect(r.text).toBe(text);
          expect(r.finishReason).toBe('stop');
          expect(session.calls.logits).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it('closes the value when tokens run out, without running the model when the reply is forced', async () => {
    const session = new FakeSession(randomLogits());
    const r = await generate(session, tok, { promptIds: prompt, maxTokens: 3, jsonSchema: MANAGER_JSON_SCHEMA });
    expect(r.finishReason).toBe('length');
    expect(r.text).toBe('{"memory":[]}');
    expect(session.calls).toEqual({ append: 0, topK: 0, logits: 0 });
  });
});
