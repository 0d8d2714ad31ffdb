// The OpenAI-compatible client (src/llm/openai.ts) against our server (openai-server.ts) on 127.0.0.1,
// over real HTTP, with scripted models behind the server; faults come from a loopback proxy in between.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatRequest } from '../llm/chat-model';
import { EndpointError, OpenAIChatModel, type OpenAIChatModelOptions } from '../llm/openai';
import { ScriptedChatModel } from '../llm/scripted';
import { startFaultyProxy, type Fault, type FaultyProxy } from './faulty-proxy';
import { createOpenAIServer } from './openai-server';

const SCHEMA = { type: 'object', properties: { facts: { type: 'array', items: { type: 'string' } } }, required: ['facts'] };
const KEY = 'sk-test-secret-0123456789';

/** Replies "<model>: <last user message>" (streamed word by word), and keeps each request. */
function echo(name: string, seen: ChatRequest[], inFlight?: { now: number; max: number }) {
  return new ScriptedChatModel(async (request) => {
    seen.push(request);
    if (inFlight) {
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      await new Promise((resolve) => setTimeout(resolve, 30));
      inFlight.now--;
    }
    return `${name} says: ${request.messages.at(-1)!.content}`;
  }, { id: name });
}

describe('OpenAI-compatible client and server on 127.0.0.1', () => {
  const seen: ChatRequest[] = [];
  const inFlight = { now: 0, max: 0 };
  let server: Server;
  let url = '';
  const proxies: FaultyProxy[] = [];
  const noSleep: number[] = [];
  const client = (options: Partial<OpenAIChatModelOptions> = {}) =>
    new OpenAIChatModel({ url, model: 'base', retryBaseMs: 1, sleep: async (ms) => void noSleep.push(ms), ...options });
  /** A client through a proxy whose faults come from `faults` by request index (then pass). */
  const faulty = async (faults: Fault[], options: Partial<OpenAIChatModelOptions> = {}) => {
    const proxy = await startFaultyProxy(url, (i) => faults[i] ?? { kind: 'pass' }, { maxRequests: 20, lifetimeMs: 30_000 });
    proxies.push(proxy);
    return { proxy, model: client({ url: proxy.url, ...options }) };
  };

  beforeAll(async () => {
    server = createOpenAIServer({
      models: new Map([
        ['base', { model: echo('base', seen) }],
        ['adapter-a', { model: echo('adapter-a', seen), parent: 'base' }],
        ['slowpoke', { model: echo('slowpoke', seen, inFlight) }],
      ]),
      embed: async (_model, texts) => ({ vectors: texts.map((t) => Float32Array.from([t.length, 1, -0.5])), tokens: texts.length }),
      checkSchema: (schema) => {
        if ('pattern' in schema) throw new Error('"pattern" is not supported');
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes messages, sampling, stop and the JSON Schema through, and picks the model by name', async () => {
    const reply = await client({ model: 'adapter-a' }).chat({
      messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }],
      temperature: 0.5,
      top_p: 0.9,
      max_tokens: 7,
      seed: 3,
      stop: ['\n\n'],
      json_schema: SCHEMA,
    });
    expect(reply).toEqual({ text: 'adapter-a says: hello there', usage: { promptTokens: 4, completionTokens: 4 }, finishReason: 'stop' });
    expect(seen.at(-1)).toMatchObject({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello there' }], temperature: 0.5, top_p: 0.9, max_tokens: 7, seed: 3, stop: ['\n\n'], json_schema: SCHEMA });
  });

  it('streams: the deltas, in order, are the reply', async () => {
    const deltas: string[] = [];
    const reply = await client().chat({ messages: [{ role: 'user', content: 'one two three' }], onToken: (d) => deltas.push(d) });
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.join('')).toBe('base says: one two three');
    expect(reply.text).toBe('base says: one two three');
    expect(reply.usage.completionTokens).toBe(5);
  });

  it('sends no response_format in json mode none, and json_object in json_object mode', async () => {
    await client({ jsonMode: 'none' }).chat({ messages: [{ role: 'user', content: 'x' }], json_schema: SCHEMA });
    expect(seen.at(-1)!.json_schema).toBeUndefined();
    const refused = await client({ jsonMode: 'json_object', retries: 0 }).chat({ messages: [{ role: 'user', content: 'x' }], json_schema: SCHEMA }).catch((e: Error) => e);
    expect((refused as Error).message).toMatch(/HTTP 400.*enforces JSON through a schema.*; if the server does not take response_format json_object, pass --endpoint-json none$/);
  });

  it('lists models (adapters with their parent) and embeds', async () => {
    const list = (await (await fetch(`${url}/models`)).json()) as { data: { id: string; parent: string | null }[] };
    expect(list.data.map((m) => [m.id, m.parent])).toEqual([['base', null], ['adapter-a', 'base'], ['slowpoke', null]]);
    const vectors = await client({ embeddingModel: 'base' }).embed!(['ab', 'abcd']);
    expect(vectors.map((v) => Array.from(v))).toEqual([[2, 1, -0.5], [4, 1, -0.5]]);
    expect(client().embed).toBeUndefined();
  });

  it('answers bad requests with OpenAI-shaped errors naming the field', async () => {
    const post = async (body: string) => {
      const res = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, body: (await res.json()) as { error: { message: string; type: string; param: string | null; code: string | null } } };
    };
    const messages = [{ role: 'user' as const, content: 'x' }];
    expect(await post('{not json')).toMatchObject({ status: 400, body: { error: { type: 'invalid_request_error', message: expect.stringMatching(/not valid JSON/) } } });
    expect(await post(JSON.stringify({ model: 'nope', messages }))).toMatchObject({ status: 404, body: { error: { code: 'model_not_found', param: 'model', message: expect.stringMatching(/serves: base, adapter-a, slowpoke/) } } });
    expect(await post(JSON.stringify({ model: 'base', messages: [] }))).toMatchObject({ status: 400, body: { error: { param: 'messages' } } });
    expect(await post(JSON.stringify({ model: 'base', messages: [{ role: 'tool', content: 'x' }] }))).toMatchObject({ status: 400, body: { error: { param: 'messages[0].role' } } });
    expect(await post(JSON.stringify({ model: 'base', messages, temperature: 9 }))).toMatchObject({ status: 400, body: { error: { param: 'temperature' } } });
    expect(await post(JSON.stringify({ model: 'base', messages, n: 2 }))).toMatchObject({ status: 400, body: { error: { param: 'n' } } });
    expect(await post(JSON.stringify({ model: 'base', messages, response_format: { type: 'json_schema', json_schema: { schema: { type: 'string', pattern: 'a' } } } }))).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/"pattern" is not supported/) } },
    });
    const notFound = await fetch(`${url}/completions`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    // The client turns them into errors naming the endpoint and the server's words.
    const error = (await client({ model: 'nope' }).chat({ messages }).catch((e: unknown) => e)) as EndpointError;
    expect(error).toBeInstanceOf(EndpointError);
    expect(error.message).toMatch(new RegExp(`^model server ${url.replace(/[/.]/g, '\\$&')}: HTTP 404 .*does not exist.*check the URL`));
  });

  it('reports a streamed request that fails before its first token with a status, not a broken stream', async () => {
    const failing = createOpenAIServer({ models: new Map([['base', { model: new ScriptedChatModel(() => { throw new Error('The prompt has 9000 tokens, but the context holds 4096'); }) }]]) });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const error = (await new OpenAIChatModel({ url: `http://127.0.0.1:${(failing.address() as AddressInfo).port}/v1`, model: 'base', retries: 0 })
      .chat({ messages: [{ role: 'user', content: 'long' }], onToken: () => {} })
      .catch((e: unknown) => e)) as EndpointError;
    await new Promise((resolve) => failing.close(resolve));
    expect(error.problem).toBe('bad-request');
    expect(error.message).toMatch(/HTTP 400, request refused \(the server said: The prompt has 9000 tokens/);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    const model = client({ model: 'slowpoke', concurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, (_, i) => model.chat({ messages: [{ role: 'user', content: `q${i}` }] })));
    expect(inFlight.max).toBe(2);
  });

  it('retries 500s with backoff and 429s after Retry-After', async () => {
    noSleep.length = 0;
    const retries: string[] = [];
    const { model, proxy } = await faulty([{ kind: 'status', status: 500 }, { kind: 'status', status: 429, retryAfter: '2' }], { onRetry: (e) => retries.push(e.problem) });
    expect((await model.chat({ messages: [{ role: 'user', content: 'hi' }] })).text).toBe('base says: hi');
    expect(retries).toEqual(['server', 'rate-limit']);
    expect(noSleep[0]).toBeLessThan(5); // retryBaseMs 1, first backoff
    expect(noSleep[1]).toBe(2000);
    expect(proxy.seen.map((s) => s.fault)).toEqual(['status', 'status', 'pass']);
  });

  it('gives up with what to do: too long a Retry-After, or too many failures', async () => {
    const { model } = await faulty([{ kind: 'status', status: 429, retryAfter: '3600' }]);
    await expect(model.chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/HTTP 429.*asked to wait 3600 s, longer than 60 s: rerun later/);
    const failing = await faulty(Array.from({ length: 3 }, () => ({ kind: 'status', status: 503 }) as Fault), { retries: 2 });
    await expect(failing.model.chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/HTTP 503, the server failed.*check its log.*\(gave up after 3 tries\)/);
    expect(failing.proxy.seen).toHaveLength(3);
  });

  it('sends the key as a bearer token and never shows it: 401 names the variable, echoes are masked', async () => {
    const echoed = JSON.stringify({ error: { message: `invalid key ${KEY}` } });
    const { model, proxy } = await faulty([{ kind: 'status', status: 401, body: echoed }], { apiKey: KEY, apiKeyVariable: 'MY_KEY' });
    const error = (await model.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as EndpointError;
    expect(error.problem).toBe('auth');
    expect(error.message).toMatch(/HTTP 401.*invalid key \*\*\*.*check the API key in \$MY_KEY/);
    expect(error.message).not.toContain(KEY);
    expect(proxy.seen).toHaveLength(1); // not retried
    expect(proxy.seen[0]!.authorization).toBe(`Bearer ${KEY}`);
  });

  it('retries a malformed reply, then says it is not JSON', async () => {
    const { model } = await faulty([{ kind: 'malformed' }, { kind: 'malformed' }], { retries: 1 });
    await expect(model.chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/the reply is not JSON \(it starts "<html>502 Bad Gateway<\/html>"\); is this an OpenAI-compatible API\? \(gave up after 2 tries\)/);
    const recovers = await faulty([{ kind: 'malformed' }]);
    expect((await recovers.model.chat({ messages: [{ role: 'user', content: 'ok' }] })).text).toBe('base says: ok');
  });

  it('retries a cut-off stream without repeating what was already streamed', async () => {
    const { model, proxy } = await faulty([{ kind: 'truncate', bytes: 420 }]);
    const deltas: string[] = [];
    const reply = await model.chat({ messages: [{ role: 'user', content: 'alpha beta gamma delta epsilon zeta eta theta' }], onToken: (d) => deltas.push(d) });
    expect(proxy.seen.map((s) => s.fault)).toEqual(['truncate', 'pass']);
    expect(deltas.join('')).toBe('base says: alpha beta gamma delta epsilon zeta eta theta');
    expect(reply.text).toBe(deltas.join(''));
    // Cut off every time: a clear error.
    const always = await faulty(Array.from({ length: 2 }, () => ({ kind: 'truncate', bytes: 300 }) as Fault), { retries: 1 });
    await expect(always.model.chat({ messages: [{ role: 'user', content: 'a b c d e f g h i j' }], onToken: () => {} })).rejects.toThrow(/cut off|ended after/);
    // A non-streamed reply cut off mid-body too.
    const body = await faulty([{ kind: 'truncate', bytes: 20 }], { retries: 0 });
    await expect(body.model.chat({ messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({ problem: 'truncated' });
  });

  it('times out a slow server, naming the limit', async () => {
    const { model } = await faulty([{ kind: 'slow', ms: 1500 }], { timeoutMs: 150, retries: 0 });
    await expect(model.chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/no answer within 0.15 s; the server may be overloaded: raise --endpoint-timeout/);
  });

  it('says a server that is down is unreachable, after its retries', async () => {
    const { model, proxy } = await faulty([], { retries: 1 });
    await proxy.close();
    const error = (await model.chat({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e)) as EndpointError;
    expect(error.problem).toBe('unreachable');
    expect(error.message).toMatch(/cannot connect \(ECONNREFUSED\); is the server running at this address\? \(gave up after 2 tries\)/);
  });

  it('refuses a reply from another model, without retrying', async () => {
    const { model, proxy } = await faulty([{ kind: 'rename-model', to: 'someone-else' }, { kind: 'rename-model', to: 'someone-else' }]);
    await expect(model.chat({ messages: [{ role: 'user', content: 'hi' }] })).rejects.toThrow(/asked for model "base" but "someone-else" answered; check --endpoint-model/);
    expect(proxy.seen).toHaveLength(1);
    const streamed = await faulty([{ kind: 'rename-model', to: 'someone-else' }]);
    await expect(streamed.model.chat({ messages: [{ role: 'user', content: 'hi' }], onToken: () => {} })).rejects.toMatchObject({ problem: 'wrong-model' });
    const lenient = await faulty([{ kind: 'rename-model', to: 'someone-else' }], { checkModel: false });
    expect((await lenient.model.chat({ messages: [{ role: 'user', content: 'hi' }] })).text).toBe('base says: hi');
  });

  it('stops at once when the caller aborts, without retrying', async () => {
    const { model, proxy } = await faulty([{ kind: 'slow', ms: 2000 }]);
    const controller = new AbortController();
    const pending = model.chat({ messages: [{ role: 'user', content: 'hi' }], signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(proxy.seen).toHaveLength(1);
  });
});
