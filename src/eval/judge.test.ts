import { describe, expect, it } from 'vitest';
import { JUDGE_JSON_SCHEMA, judgeAnswer, judgeMessages, parseJudgeReply, type JudgeChatModel } from './judge';

describe('judge prompt', () => {
  it('carries the question, gold and generated answers and asks for the JSON label', () => {
    const messages = judgeMessages({ question: 'When did she go?', gold: '7 May 2023', prediction: 'May 7th' });
    const user = messages.at(-1)?.content ?? '';
    expect(user).toContain('Question: When did she go?');
    expect(user).toContain('Gold answer: 7 May 2023');
    expect(user).toContain('Generated answer: May 7th');
    expect(user).toContain('{"label": "CORRECT"}');
  });
  it('has a JSON schema allowing only the two labels', () => {
    expect(JSON.stringify(JUDGE_JSON_SCHEMA)).toContain('"enum":["CORRECT","WRONG"]');
  });
});

describe('parseJudgeReply', () => {
  it.each([
    ['{"label": "CORRECT"}', 'CORRECT'],
    ['{"label":"WRONG"}', 'WRONG'],
    ['```json\n{"label": "correct"}\n```', 'CORRECT'],
    ["Reasoning: same date. {'label': 'WRONG'}", 'WRONG'],
    ['The answer matches the topic.\n{"label": "CORRECT", "why": "same"}', 'CORRECT'],
    ['label: wrong', 'WRONG'],
    ['CORRECT', 'CORRECT'],
    ['It is WRONG.', 'WRONG'],
  ])('%j → %s', (reply, label) => {
    expect(parseJudgeReply(reply)).toBe(label);
  });
  it.each(['', 'maybe', 'CORRECT or WRONG', '{"label": "PARTIAL"}', 'INCORRECT'])('%j → undefined', (reply) => {
    expect(parseJudgeReply(reply)).toBeUndefined();
  });
});

describe('judgeAnswer', () => {
  it('asks at temperature 0 with the schema and scores CORRECT as 1', async () => {
    const requests: Parameters<JudgeChatModel['chat']>[0][] = [];
    const model: JudgeChatModel = {
      async chat(request) {
        requests.push(request);
        return { text: '{"label": "CORRECT"}' };
      },
    };
    const result = await judgeAnswer(model, { question: 'q', gold: 'g', prediction: 'p' });
    expect(result).toEqual({ label: 'CORRECT', score: 1, reply: '{"label": "CORRECT"}' });
    expect(requests[0]?.temperature).toBe(0);
    expect(requests[0]?.json_schema).toBe(JUDGE_JSON_SCHEMA);
  });
  it('scores an unreadable reply 0 and says so', async () => {
    const model: JudgeChatModel = { chat: async () => ({ text: 'hmm' }) };
    expect(await judgeAnswer(model, { question: 'q', gold: 'g', prediction: 'p' })).toEqual({ label: undefined, score: 0, reply: 'hmm' });
  });
});
