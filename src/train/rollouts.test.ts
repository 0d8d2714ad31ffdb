// Prompts are tokenised as inference tokenises them: one BOS where the model has one (Llama-3's
// <|begin_of_text|>, written by the chat template or added to raw text), none where it has none (Qwen2).
import { describe, expect, it } from 'vitest';
import { loadModel } from '../model/load';
import { MemorySource } from '../model/source';
import { makeTinyModel } from '../model/tiny';
import { completionCap, DEFAULT_COMPLETION_CAP, promptTokens } from './rollouts';

const messages = [
  { role: 'system' as const, content: 'You manage memories.' },
  { role: 'user' as const, content: 'Fact: likes tea' },
];

describe('prompt tokens', () => {
  it('llama: a chat-templated prompt has exactly one <|begin_of_text|>, as inference encodes it; raw text gets one too', async () => {
    const { tokenizer } = await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'llama', seed: 1 }), 'tiny-llama'));
    const bos = tokenizer.tokenId('<|begin_of_text|>')!;
    expect(bos).toBeDefined();
    const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(text.startsWith('<|begin_of_text|>')).toBe(true);
    // The old way doubled it: the template's BOS plus the post-processor's.
    expect(tokenizer.encode(text, { addSpecialTokens: true }).filter((id) => id === bos)).toHaveLength(2);
    const ids = promptTokens(tokenizer, text);
    expect(ids.filter((id) => id === bos)).toHaveLength(1);
    expect(ids).toEqual(tokenizer.encode(text)); // what the local ChatModel feeds the engine
    const raw = promptTokens(tokenizer, 'Memory: (none)\nFact: likes tea');
    expect(raw[0]).toBe(bos);
    expect(raw.filter((id) => id === bos)).toHaveLength(1);
  });

  it('qwen2: no BOS is added, templated or raw', async () => {
    const { tokenizer } = await loadModel(new MemorySource(makeTinyModel({ format: 'hf', arch: 'qwen2', seed: 1 }), 'tiny-qwen2'));
    const text = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(promptTokens(tokenizer, text)).toEqual(tokenizer.encode(text));
    expect(promptTokens(tokenizer, 'Fact: likes tea')).toEqual(tokenizer.encode('Fact: likes tea'));
  });

  it('completion caps: the config overrides the task, the task its agent budget, else the default', () => {
    expect(completionCap({ maxCompletionTokens: null }, { maxCompletionTokens: 1024 })).toBe(1024);
    expect(completionCap({ maxCompletionTokens: 32 }, { maxCompletionTokens: 1024 })).toBe(32);
    expect(completionCap({ maxCompletionTokens: null }, {})).toBe(DEFAULT_COMPLETION_CAP);
  });
});
