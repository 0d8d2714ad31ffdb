import { describe, expect, it } from 'vitest';
import { buildAnswerMessages, buildExtractionMessages, buildManagerMessages, buildReplyMessages, FACTS_JSON_SCHEMA, MANAGER_JSON_SCHEMA } from '../../agents';
import { callKind, callSubject, resolveIds, scriptedModel } from './script';

const script = JSON.stringify({
  rules: [
    { call: 'extract', match: 'paris', reply: { facts: ['User lives in Paris'] } },
    { call: 'manage', match: 'Lisbon', reply: { memory: [{ id: '$id(User lives in Paris)', event: 'DELETE', text: '' }] } },
  ],
});

describe('scripted engine', () => {
  it('tells calls apart by the schema they ask for and reads their subject from the prompt', () => {
    const extract = buildExtractionMessages({ speaker: 'User', text: 'I live in Paris' });
    expect(callKind({ messages: extract, json_schema: FACTS_JSON_SCHEMA })).toBe('extract');
    expect(callKind({ messages: extract, json_schema: MANAGER_JSON_SCHEMA })).toBe('manage');
    expect(callKind({ messages: extract })).toBe('answer');
    expect(callSubject('extract', extract[1]!.content)).toBe('I live in Paris');
    const answer = buildAnswerMessages({ question: 'Where do I live?', groups: [] });
    expect(callSubject('answer', answer[1]!.content)).toBe('Where do I live?');
  });

  it('replaces $id(text) by the short id the prompt shows for that memory', () => {
    const manage = buildManagerMessages({ facts: ['User lives in Lisbon'], memories: [{ id: '0', text: 'Likes tea' }, { id: '1', text: 'User lives in <Paris>' }] });
    expect(callSubject('manage', manage[1]!.content)).toBe('User lives in Lisbon');
    expect(resolveIds('$id(user lives in <paris>) $id(nope)', manage[1]!.content)).toBe('1 missing');
  });

  it('answers by rule, then by fallback', async () => {
    const model = scriptedModel(script);
    const facts = await model.chat({ messages: buildExtractionMessages({ speaker: 'User', text: 'Paris!' }), json_schema: FACTS_JSON_SCHEMA });
    expect(JSON.parse(facts.text)).toEqual({ facts: ['User lives in Paris'] });
    const none = await model.chat({ messages: buildExtractionMessages({ speaker: 'User', text: 'hello' }), json_schema: FACTS_JSON_SCHEMA });
    expect(none.text).toBe('{"facts": []}');
    const ops = await model.chat({ messages: buildManagerMessages({ facts: ['User lives in Lisbon'], memories: [{ id: '3', text: 'User lives in Paris' }] }), json_schema: MANAGER_JSON_SCHEMA });
    expect(JSON.parse(ops.text)).toEqual({ memory: [{ id: '3', event: 'DELETE', text: '' }] });
  });

  it('tells the chat reply from the answer agent, matches its message, and pauses before a kind of call', async () => {
    const reply = buildReplyMessages({ message: 'Where is Paris?', speaker: 'User', memories: [{ id: '4', text: 'User lives in Paris' }] });
    expect(callKind({ messages: reply })).toBe('reply');
    expect(callSubject('reply', reply[1]!.content)).toBe('Where is Paris?');
    const model = scriptedModel(
      JSON.stringify({
        rules: [
          { call: 'answer', match: 'paris', reply: 'Memories used: none\n**Answer:** wrong agent' },
          { call: 'reply', match: 'paris', reply: 'In France.\nMemories used: $id(User lives in Paris)' },
        ],
        callDelayMs: { reply: 60 },
      }),
    );
    const started = Date.now();
    expect((await model.chat({ messages: reply })).text).toBe('In France.\nMemories used: 4');
    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    expect((await model.chat({ messages: buildReplyMessages({ message: 'hello', speaker: 'User', memories: [] }) })).text).toMatch(/^I have nothing scripted/);
    expect(() => scriptedModel('{"callDelayMs": {"think": 1}}')).toThrow(/callDelayMs/);
    const failing = scriptedModel('{"rules": [{"call": "reply", "match": "paris", "error": "The GPU was lost"}]}');
    await expect(failing.chat({ messages: reply })).rejects.toThrow('The GPU was lost');
    expect(() => scriptedModel('{"rules": [{"call": "reply", "reply": "x", "error": "y"}]}')).toThrow(/either/);
  });

  it('refuses a script that does not match the format, naming the field', () => {
    expect(() => scriptedModel('{"rules": [{"call": "think", "reply": "x"}]}')).toThrow(/rules\.0\.call/);
    expect(() => scriptedModel('not json')).toThrow(/not JSON/);
  });

  it('embeds with hashed words when the script asks, also when paced', async () => {
    expect(scriptedModel('{}').embed).toBeUndefined();
    for (const script of ['{"embedDimensions": 16}', '{"embedDimensions": 16, "tokenDelayMs": 1}']) {
      const [a, b, c] = await scriptedModel(script).embed!(['Likes green tea', 'likes GREEN tea!', 'Owns a bicycle']);
      expect(a).toHaveLength(16);
      expect(Array.from(b!)).toEqual(Array.from(a!));
      expect(Array.from(c!)).not.toEqual(Array.from(a!));
      expect(a!.reduce((n, x) => n + x, 0)).toBe(3);
    }
    expect(() => scriptedModel('{"embedDimensions": 0}')).toThrow(/embedDimensions/);
  });
});
