import { describe, expect, it } from 'vitest';
import { buildExtractionMessages, buildManagerMessages } from '../agents';
import { ScriptedChatModel } from '../llm/scripted';
import { bankBuilder } from './bank-builder';

describe('a bank builder of two models', () => {
  it('sends extraction to the extractor and every other request to the manager, and embeds with the manager', async () => {
    const extractor = new ScriptedChatModel(() => 'facts', { id: 'oracle' });
    const manager = new ScriptedChatModel(() => 'operations', { id: 'policy', embed: (texts) => texts.map(() => new Float32Array([1])) });
    const builder = bankBuilder(extractor, manager);
    expect((await builder.chat({ messages: buildExtractionMessages({ speaker: 'Anna', text: 'I have a dog.' }) })).text).toBe('facts');
    expect((await builder.chat({ messages: buildManagerMessages({ facts: ['Anna has a dog.'], memories: [] }) })).text).toBe('operations');
    expect((await builder.chat({ messages: [{ role: 'user', content: 'hi' }] })).text).toBe('operations');
    expect(await builder.embed!(['a', 'b'])).toHaveLength(2);
    expect(builder.id).toBe('oracle (extraction) + policy (operations)');
    expect(bankBuilder(extractor, new ScriptedChatModel(() => '', { id: 'plain' })).embed).toBeUndefined();
  });
});
