import { describe, expect, it } from 'vitest';
import { MANAGER_JSON_SCHEMA, ManagerOutputSchema } from '../agents/schemas';
import { utf8Decode } from '../model/bytes';
import { FakeSession, preferring, type LogitsFn } from '../model/fake-session';
import { makeTinyModel } from '../model/tiny';
import { ModelTokenizer } from '../model/tokenizer';
import { LocalChatModel, type LocalEngine } from './local';

const files = makeTinyModel({ format: 'hf', arch: 'qwen2' });
const read = (name: string): unknown => JSON.parse(utf8Decode(files.get(name)!));
const tokenizer = new ModelTokenizer(read('tokenizer.json'), read('tokenizer_config.json') as Record<string, unknown>, [509, 511]);
const V = tokenizer.size;
const EOS = tokenizer.tokenId('<|im_end|>')!;

/** An engine whose sessions answer `reply` (then EOS) after any prompt, recording what they saw. */
function fakeEngine(reply: string, maxTokens = 256): LocalEngine & { sessions: FakeSession[]; adapters: Array<string | undefined> } {
  const script = tokenizer.encode(reply);
  const sessions: FakeSession[] = [];
  const adapters: Array<string | undefined> = [];
  return {
    tokenizer,
    maxTokens,
    sessions,
    adapters,
    session(options) {
      let promptLength = -1;
      const fn: LogitsFn = (ctx) => {
        if (promptLength < 0) promptLength = ctx.length;
        return preferring(V, { [script[ctx.length - promptLength] ?? EOS]: 10 });
      };
      const s = new FakeSession(fn, options.maxTokens);
      sessions.push(s);
      adapters.push(options.adapter);
      return s;
    },
  };
}

const messages = [
  { role: 'system' as const, content: 'Be brief.' },
  { role: 'user' as const, content: 'Where do I live?' },
];

describe('LocalChatModel', () => {
  it('renders the chat template, generates and reports usage', async () => {
    const engine = fakeEngine('In Berlin.');
    const model = new LocalChatModel(engine, { adapter: 'manager' });
    const deltas: string[] = [];
    const r = await model.chat({ messages, temperature: 0, max_tokens: 20, onToken: (d) => deltas.push(d) });
    expect(r.text).toBe('In Berlin.');
    expect(r.finishReason).toBe('stop');
    expect(deltas.join('')).toBe(r.text);
    const prompt = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(prompt.endsWith('<|im_start|>assistant\n')).toBe(true);
    expect(engine.sessions[0]!.context.slice(0, r.usage.promptTokens)).toEqual(tokenizer.encode(prompt));
    expect(r.usage.completionTokens).toBe(tokenizer.encode('In Berlin.').length);
    expect(engine.adapters).toEqual(['manager']);
    expect(engine.sessions[0]!.disposed).toBe(true);
    expect(model.id).toBe('local:manager');
  });

  it('stops at max_tokens and at stop strings', async () => {
    const model = new LocalChatModel(fakeEngine('one two three'));
    expect(await model.chat({ messages, temperature: 0, max_tokens: 2 })).toMatchObject({ finishReason: 'length', usage: { completionTokens: 2 } });
    expect(await model.chat({ messages, temperature: 0, stop: [' two'] })).toMatchObject({ text: 'one', finishReason: 'stop' });
  });

  it('answers json_schema requests with JSON that matches, whatever the model prefers', async () => {
    const model = new LocalChatModel(fakeEngine('Sure! Here is some text that is not JSON at all.'));
    const r = await model.chat({ messages, temperature: 0, max_tokens: 40, json_schema: MANAGER_JSON_SCHEMA });
    expect(ManagerOutputSchema.safeParse(JSON.parse(r.text)).success).toBe(true);
    const sampled = await model.chat({ messages, temperature: 1, seed: 3, max_tokens: 40, json_schema: MANAGER_JSON_SCHEMA });
    expect(ManagerOutputSchema.safeParse(JSON.parse(sampled.text)).success).toBe(true);
  });

  it('runs requests one at a time and refuses prompts longer than the context', async () => {
    const engine = fakeEngine('ok');
    const model = new LocalChatModel(engine);
    const replies = await Promise.all([1, 2, 3].map(() => model.chat({ messages, temperature: 0 })));
    expect(replies.map((r) => r.text)).toEqual(['ok', 'ok', 'ok']);
    const tiny = new LocalChatModel(fakeEngine('ok', 8));
    await expect(tiny.chat({ messages })).rejects.toThrow(/context holds 8/);
  });

  it('rejects with an AbortError when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(new LocalChatModel(fakeEngine('ok')).chat({ messages, signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
