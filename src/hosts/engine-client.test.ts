// The engine worker's API end to end over a real MessageChannel and Comlink (what the browser does with
// a Worker), against a fake engine: progress, streaming, abort, scoring and adapters cross intact.
import { expose } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { FACTS_JSON_SCHEMA, FactsSchema } from '../agents/schemas';
import { utf8Decode } from '../model/bytes';
import { FakeSession, preferring } from '../model/fake-session';
import type { PeftFiles } from '../model/peft';
import { makeTinyModel } from '../model/tiny';
import { ModelTokenizer } from '../model/tokenizer';
import { EngineClient } from './engine-client';
import { createEngineHost, type EngineLoadProgress, type HostEngine } from './engine-host';

const files = makeTinyModel({ format: 'hf', arch: 'qwen2' });
const read = (name: string): unknown => JSON.parse(utf8Decode(files.get(name)!));
const tokenizer = new ModelTokenizer(read('tokenizer.json'), read('tokenizer_config.json') as Record<string, unknown>, [509, 511]);
const V = tokenizer.size;

/** Answers "Hello there" (as many times as `repeat`), then EOS; records adapters and scores. */
function fakeEngine(repeat = 1): HostEngine & { disposed: boolean; sessionsFor: Array<string | undefined> } {
  const script = tokenizer.encode(' Hello there'.repeat(repeat));
  const adapters: string[] = [];
  const e = {
    tokenizer,
    maxTokens: 512,
    config: { architecture: 'qwen2' as const, vocabSize: V },
    disposed: false,
    sessionsFor: [] as Array<string | undefined>,
    get adapterNames() {
      return [...adapters];
    },
    session(options: { adapter?: string; maxTokens?: number }) {
      e.sessionsFor.push(options.adapter);
      let start = -1;
      const session = new FakeSession((ctx) => {
        if (start < 0) start = ctx.length;
        return preferring(V, { [script[ctx.length - start] ?? 511]: 10 });
      }, options.maxTokens);
      // A real GPU step yields to the event loop (where a cancel message arrives); so does this one.
      const append = session.append.bind(session);
      session.append = async (ids) => {
        await new Promise((r) => setTimeout(r, 1));
        return append(ids);
      };
      return session;
    },
    async score(_p: readonly number[], c: readonly number[]) {
      return Float32Array.from(c, () => -0.5);
    },
    addAdapter(name: string, _files: PeftFiles) {
      adapters.push(name);
    },
    removeAdapter(name: string) {
      if (!adapters.includes(name)) throw new Error(`no adapter named "${name}"`);
      adapters.splice(adapters.indexOf(name), 1);
    },
    dispose() {
      e.disposed = true;
    },
  };
  return e;
}

const channels: MessageChannel[] = [];
afterEach(() => {
  for (const c of channels.splice(0)) {
    c.port1.close();
    c.port2.close();
  }
});

function connect(engine: HostEngine): EngineClient {
  const channel = new MessageChannel();
  channels.push(channel);
  expose(
    createEngineHost(async (_url, onProgress) => {
      onProgress({ phase: 'download', path: 'model.safetensors', loaded: 10, total: 10 });
      onProgress({ phase: 'upload' });
      return engine;
    }),
    channel.port1,
  );
  return new EngineClient(channel.port2, () => channel.port2.close());
}

const messages = [{ role: 'user' as const, content: 'Hi' }];

describe('EngineClient ↔ engine host over Comlink', () => {
  it('loads with progress, then chats with streaming and adapters', async () => {
    const engine = fakeEngine();
    const client = connect(engine);
    const progress: EngineLoadProgress[] = [];
    const info = await client.load('/models/tiny/', { onProgress: (p) => progress.push(p) });
    expect(info).toMatchObject({ architecture: 'qwen2', vocabSize: V, hasChatTemplate: true, adapters: [] });
    await new Promise((r) => setTimeout(r, 10)); // progress messages are one-way; let them land
    expect(progress.map((p) => p.phase)).toEqual(['download', 'upload', 'ready']);

    const deltas: string[] = [];
    const reply = await client.chatModel().chat({ messages, temperature: 0, onToken: (d) => deltas.push(d) });
    expect(reply.text).toBe(' Hello there');
    await new Promise((r) => setTimeout(r, 10));
    expect(deltas.join('')).toBe(' Hello there');
    expect(reply.usage.completionTokens).toBe(tokenizer.encode(' Hello there').length);

    expect(await client.addAdapter('tuned', { config: new Uint8Array(1), weights: new Uint8Array(1) })).toEqual(['tuned']);
    const tuned = client.chatModel('tuned');
    expect(tuned.id).toBe('local:tuned');
    const json = await tuned.chat({ messages, temperature: 0, max_tokens: 20, json_schema: FACTS_JSON_SCHEMA });
    expect(FactsSchema.safeParse(JSON.parse(json.text)).success).toBe(true);
    expect(engine.sessionsFor).toEqual([undefined, 'tuned']);
    expect(await client.removeAdapter('tuned')).toEqual([]);
    await expect(client.removeAdapter('tuned')).rejects.toThrow(/no adapter named "tuned"/);

    const scored = await client.score({ prompt: 'The cat', completion: ' sat' });
    expect(scored.completionIds).toEqual(tokenizer.encode(' sat'));
    expect(scored.logprobs).toBeInstanceOf(Float32Array);
    expect(scored.total).toBeCloseTo(-0.5 * scored.completionIds.length);

    await client.unload();
    expect(engine.disposed).toBe(true);
    await expect(client.chatModel().chat({ messages })).rejects.toThrow(/No model is loaded/);
  });

  it('aborts a chat under way', async () => {
    const client = connect(fakeEngine(200));
    await client.load('/models/tiny/');
    const controller = new AbortController();
    let n = 0;
    const reply = client.chatModel().chat({ messages, temperature: 0, max_tokens: 400, signal: controller.signal, onToken: () => ++n === 2 && controller.abort() });
    await expect(reply).rejects.toMatchObject({ name: 'AbortError' });
  });
});
