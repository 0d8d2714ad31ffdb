import { describe, expect, it } from 'vitest';
import { embedderOf } from './chat-model';
import { ScriptedChatModel } from './scripted';

describe('ScriptedChatModel', () => {
  it('replies from the queue in order, records requests, counts usage', async () => {
    const model = new ScriptedChatModel(['one', (request) => `echo ${request.messages[0]!.content}`]);
    expect((await model.chat({ messages: [{ role: 'user', content: 'a b c' }] })).text).toBe('one');
    const second = await model.chat({ messages: [{ role: 'user', content: 'hi' }], seed: 3 });
    expect(second).toEqual({ text: 'echo hi', usage: { promptTokens: 1, completionTokens: 2 }, finishReason: 'stop' });
    expect(model.requests.map((r) => r.seed)).toEqual([undefined, 3]);
    await expect(model.chat({ messages: [] })).rejects.toThrow(/no reply scripted for call #3/);
  });

  it('streams pieces whose concatenation is the text', async () => {
    const model = new ScriptedChatModel(['**Answer:**  Paris, France']);
    const pieces: string[] = [];
    const reply = await model.chat({ messages: [], onToken: (d) => pieces.push(d) });
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(reply.text);
  });

  it('a function script answers every call; embed only when given', async () => {
    const model = new ScriptedChatModel((_, i) => `call ${i}`);
    expect((await model.chat({ messages: [] })).text).toBe('call 0');
    expect((await model.chat({ messages: [] })).text).toBe('call 1');
    expect(embedderOf(model)).toBeUndefined();
    const embedding = new ScriptedChatModel([], { embed: (texts) => texts.map((t) => Float32Array.of(t.length)) });
    expect(await embedderOf(embedding)!.embed(['ab'])).toEqual([Float32Array.of(2)]);
  });

  it('honours an aborted signal', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new ScriptedChatModel(['x']).chat({ messages: [], signal: controller.signal })).rejects.toThrow(/aborted/);
  });
});
