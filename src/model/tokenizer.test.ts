import { describe, expect, it } from 'vitest';
import { utf8Decode } from './bytes';
import { makeTinyModel } from './tiny';
import { ModelTokenizer } from './tokenizer';

function tinyTokenizer(arch: 'qwen2' | 'llama', withConfig = true): ModelTokenizer {
  const files = makeTinyModel({ format: 'hf', arch });
  const read = (name: string): unknown => JSON.parse(utf8Decode(files.get(name)!));
  const config = read('config.json') as { eos_token_id: number | number[] };
  return new ModelTokenizer(read('tokenizer.json'), withConfig ? (read('tokenizer_config.json') as Record<string, unknown>) : {}, [config.eos_token_id].flat());
}

describe('ModelTokenizer on the tiny byte-level BPE', () => {
  const qwen = tinyTokenizer('qwen2');
  const llama = tinyTokenizer('llama');

  it('round-trips ASCII, accented text, CJK and emoji', () => {
    for (const text of ['Hello World, the user said 2024!', 'naïve café — déjà vu', '日本語のテキスト', 'emoji 😀👍🏽 and 🇩🇪 flags', '  spaces\n\nand\ttabs  ', '']) {
      const ids = qwen.encode(text);
      expect(ids.every((id) => id >= 0 && id < 512)).toBe(true);
      expect(qwen.decode(ids)).toBe(text);
      expect(llama.decode(llama.encode(text))).toBe(text);
    }
  });

  it('uses learned merges (common words are single tokens)', () => {
    const ids = qwen.encode(' the user');
    expect(ids.map((id) => qwen.tokenString(id))).toEqual(['Ġthe', 'Ġuser']);
    expect(qwen.tokenString(10)).toBe('Ċ'); // byte-level form of "\n"
    expect(qwen.tokenString(99999)).toBeUndefined();
  });

  it('encodes special tokens atomically and adds BOS only when asked (Llama-3)', () => {
    const imStart = qwen.tokenId('<|im_start|>')!;
    expect(qwen.encode('<|im_start|>user')[0]).toBe(imStart);
    expect(qwen.decode(qwen.encode('<|im_start|>hi<|im_end|>'), { skipSpecialTokens: true })).toBe('hi');
    const bos = llama.tokenId('<|begin_of_text|>')!;
    expect(llama.encode('Hi', { addSpecialTokens: true })[0]).toBe(bos);
    expect(llama.encode('Hi')).not.toContain(bos);
    expect(qwen.encode('Hi', { addSpecialTokens: true })).toEqual(qwen.encode('Hi')); // Qwen2 has no BOS
  });

  it('knows its stop ids', () => {
    expect(qwen.stopIds).toEqual([qwen.tokenId('<|endoftext|>'), qwen.tokenId('<|im_end|>')].sort((a, b) => a! - b!));
    expect(llama.stopIds).toEqual(expect.arrayContaining([llama.tokenId('<|eot_id|>'), llama.tokenId('<|end_of_text|>')]));
    expect(qwen.size).toBe(512);
  });

  it('renders the chat templates', () => {
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi 😀' },
    ];
    expect(qwen.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi 😀<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(qwen.applyChatTemplate(messages)).not.toContain('assistant');
    expect(llama.applyChatTemplate(messages, { addGenerationPrompt: true })).toBe(
      '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi 😀<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
    );
    const rendered = qwen.applyChatTemplate(messages, { addGenerationPrompt: true });
    expect(qwen.decode(qwen.encode(rendered))).toBe(rendered);
  });

  it('explains a missing chat template and a bad tokenizer.json', () => {
    expect(() => tinyTokenizer('qwen2', false).applyChatTemplate([{ role: 'user', content: 'x' }])).toThrow(/no chat template \(tokenizer_config\.json has no "chat_template"\)/);
    expect(() => new ModelTokenizer({ version: '1.0' })).toThrow(/tokenizer\.json: not a Hugging Face tokenizer\.json/);
  });
});
