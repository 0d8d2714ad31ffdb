// The real path end to end: the agents' pipeline on our own WebGPU engine (a tiny random model loaded
// through the real loader), with JSON-Schema-constrained decoding, into an in-memory bank. The words are
// random; what is checked is that every stage runs and the bank ends consistent with what was applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestNodeGpuContext } from '../gpu/node-device';
import type { GpuContext } from '../gpu/device';
import { LocalChatModel } from '../llm/local';
import { InMemoryBank } from '../memory/bank';
import { Engine } from '../model/engine';
import { MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import { MemoryPipeline, MemoryQueue } from './pipeline';
import { seededBank } from './test-helpers';

describe('the pipeline on the local engine (tiny model)', () => {
  let gpu: GpuContext;
  let engine: Engine;
  beforeAll(async () => {
    gpu = await requestNodeGpuContext();
    engine = await Engine.load(new MemorySource(makeTinyModel({ format: 'mlc', arch: 'qwen2', quant: 'q4f16_1', seed: 5 })), gpu, { maxTokens: 1024 });
  });
  afterAll(() => {
    engine?.dispose();
    gpu?.device.destroy();
  });

  it('ingests a turn and answers a question through every stage', async () => {
    const bank = new InMemoryBank('conv');
    const pipeline = new MemoryPipeline({
      model: new LocalChatModel(engine),
      bank,
      sampling: { extract: { temperature: 0, max_tokens: 40 }, manage: { temperature: 0, max_tokens: 60 }, answer: { temperature: 0, max_tokens: 16 } },
    });
    const ingest = await pipeline.ingest({ id: 'D1:1', speaker: 'Ana', text: 'I adopted a cat called Miso yesterday.', sessionDate: '1:56 pm on 8 May, 2023' });
    expect(ingest.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['extract']));
    // Constrained decoding: the extraction always parses, so facts is an array (possibly empty).
    expect(Array.isArray(ingest.facts)).toBe(true);
    const stored = await bank.list();
    expect(stored.length).toBe(ingest.applied.filter((op) => op.event === 'ADD').length);
    expect(bank.history.length).toBe(ingest.applied.length + ingest.rejected.length);

    const answer = await pipeline.ask('What is the name of Ana’s cat?');
    expect(typeof answer.answer).toBe('string');
    expect(answer.answer.length).toBeGreaterThan(0);
    expect(answer.steps.map((s) => s.step)).toEqual(['retrieve', 'answer']);
  });

  it('replies to a chat message first, streaming exactly the kept text, then remembers it', async () => {
    const { bank } = await seededBank([{ text: 'Ana has a cat named Miso', speaker: 'Ana' }]);
    // Sampled (temperature 1, seeded): greedy decoding of the random model repeats one token.
    const pipeline = new MemoryPipeline({
      model: new LocalChatModel(engine),
      bank,
      sampling: { reply: { temperature: 1, seed: 7, max_tokens: 24 }, extract: { temperature: 0, max_tokens: 40 }, manage: { temperature: 0, max_tokens: 60 } },
    });
    const pieces: string[] = [];
    const reply = await pipeline.reply('What is my cat called?', { speaker: 'Ana', history: [{ role: 'user', text: 'Hi!' }, { role: 'assistant', text: 'Hello Ana.' }], onToken: (d) => pieces.push(d), date: '8 May 2023' });
    expect(reply.steps.map((s) => s.step)).toEqual(['retrieve', 'reply']);
    expect(reply.retrieved).toBe(1);
    expect(reply.usage.completionTokens).toBeGreaterThan(0);
    expect(reply.raw.length).toBeGreaterThan(0);
    expect(pieces.join('')).toBe(reply.text);
    expect(reply.text).not.toMatch(/memories used/i);
    expect(reply.stopped).toBe(false);
    const ingest = await new MemoryQueue().run('conversation', () => pipeline.ingest({ id: 'chat-1', speaker: 'Ana', text: 'What is my cat called?', sessionDate: '8 May 2023' }));
    expect(ingest.turnId).toBe('chat-1');
    expect(bank.history.length).toBe(1 + ingest.applied.length + ingest.rejected.length);
  });
});
