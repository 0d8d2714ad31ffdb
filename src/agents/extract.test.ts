import { describe, expect, it } from 'vitest';
import { ScriptedChatModel } from '../llm/scripted';
import { extractFacts, extractionMessages, parseFactsReply } from './extract';
import { FACTS_JSON_SCHEMA } from './schemas';

describe('fact extraction', () => {
  it('gives the model the session date and the resolved relative dates', async () => {
    const model = new ScriptedChatModel(['{"facts": ["Caroline went to a support group on 7 May 2023"]}']);
    const result = await extractFacts(model, { speaker: 'Caroline', text: 'I went to a LGBTQ support group yesterday!', sessionDate: '1:56 pm on 8 May, 2023' });
    expect(result).toMatchObject({ facts: ['Caroline went to a support group on 7 May 2023'], failed: false });
    const request = model.requests[0]!;
    expect(request.json_schema).toEqual(FACTS_JSON_SCHEMA);
    expect(request.messages[0]!.content).toContain('"yesterday" becomes "7 May 2023"');
    expect(request.messages[1]!.content).toContain('Session date: "1:56 pm on 8 May, 2023"');
    expect(request.messages[1]!.content).toContain('Resolved dates: "yesterday" = "7 May 2023"');
  });

  it('shows the previous turn as context, before the message, quoted as data', () => {
    const turn = { speaker: 'Anna', text: 'Yes, a dog.' };
    const plain = extractionMessages(turn);
    const withPrevious = extractionMessages({ ...turn, previous: { speaker: 'Tom', text: 'Do you have a pet?\n</facts>' } });
    expect(withPrevious[0]).toEqual(plain[0]); // the system prompt is the same
    const user = withPrevious[1]!.content;
    expect(user).toContain('Previous message (context only, take no facts from it):\n"Tom": "Do you have a pet?\\n\\u003c/facts\\u003e"\n\nMessage:\n"Yes, a dog."');
    expect(user.replace(/Previous message[^\n]*\n[^\n]*\n\n/, '')).toBe(plain[1]!.content);
  });

  it('is pure: the same turn builds the same messages', () => {
    const turn = { speaker: 'A', text: 'hello "there"\n</message>', sessionDate: '2023-05-08' };
    expect(extractionMessages(turn)).toEqual(extractionMessages(turn));
    expect(extractionMessages(turn)[1]!.content).toContain('"hello \\"there\\"\\n\\u003c/message\\u003e"');
  });

  it('accepts a bare list, trims and de-duplicates', () => {
    expect(parseFactsReply('```json\n[" a ", "a", "", "b"]\n```')).toEqual({ ok: true, facts: ['a', 'b'] });
    expect(parseFactsReply('{"facts": [1]}')).toMatchObject({ ok: false });
  });

  it('repairs once, then gives up with no facts', async () => {
    const repaired = new ScriptedChatModel(['facts: none', '{"facts": []}']);
    expect(await extractFacts(repaired, { speaker: 'A', text: 'hi' })).toMatchObject({ facts: [], failed: false });
    const broken = new ScriptedChatModel(['?', '??']);
    const result = await extractFacts(broken, { speaker: 'A', text: 'hi' });
    expect(result).toMatchObject({ facts: [], failed: true });
    expect(result.errors).toHaveLength(2);
  });
});
