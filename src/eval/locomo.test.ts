import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CATEGORY_NAMES, conversationsOf, LocomoFormatError, parseLocomo, splitOf } from './locomo';
import { parseLocomoDate } from './locomo-date';
import { locomoStats } from './locomo-stats';

// The shared benchmark file, read in place (never copied: CC BY-NC 4.0); /work/main/../shared/data.
const LOCOMO_PATH = fileURLToPath(new URL('../../../shared/data/locomo10.json', import.meta.url));
const text = readFileSync(LOCOMO_PATH, 'utf8');

describe('the real locomo10.json', () => {
  const conversations = parseLocomo(text);
  const stats = locomoStats(conversations);

  it('has 10 conversations, 272 sessions, 5882 turns', () => {
    expect(conversations.map((c) => c.sampleId)).toEqual(['conv-26', 'conv-30', 'conv-41', 'conv-42', 'conv-43', 'conv-44', 'conv-47', 'conv-48', 'conv-49', 'conv-50']);
    expect([stats.conversations, stats.sessions, stats.turns]).toEqual([10, 272, 5882]);
  });

  it("gives Memory-R1's split: 152 / 81 / 1307 questions", () => {
    expect(conversationsOf(conversations, 'train').map((c) => c.sampleId)).toEqual(['conv-26']);
    expect(conversationsOf(conversations, 'validation').map((c) => c.sampleId)).toEqual(['conv-30']);
    expect(conversationsOf(conversations, 'test')).toHaveLength(8);
    expect([stats.questions.train.total, stats.questions.validation.total, stats.questions.test.total]).toEqual([152, 81, 1307]);
  });

  it('counts categories as the papers do (test 239/258/83/727, all 282/321/96/841)', () => {
    expect(stats.questions.test.byCategory).toEqual({ 1: 239, 2: 258, 3: 83, 4: 727 });
    expect(stats.questions.all.byCategory).toEqual({ 1: 282, 2: 321, 3: 96, 4: 841 });
    expect(stats.questions.all.total).toBe(1540);
    expect(CATEGORY_NAMES[1]).toBe('single-hop');
    expect(CATEGORY_NAMES[4]).toBe('open-domain');
  });

  it('leaves out the 446 adversarial questions unless asked', () => {
    expect(stats.adversarialExcluded).toBe(446);
    const all = locomoStats(parseLocomo(text, { includeAdversarial: true }));
    expect(all.questions.all.total).toBe(1986);
    expect(all.questions.all.byCategory[5]).toBe(446);
  });

  it('tolerates dates without a session and evidence matching no turn, and counts them', () => {
    expect(stats.datesWithoutSession).toBe(16);
    expect(conversations[0]?.datesWithoutSession).toEqual([20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35]);
    expect(stats.unmatchedEvidence).toBe(9);
    expect(conversations[0]?.unmatchedEvidence).toEqual([{ qa: 37, id: 'D8:6; D9:17' }]);
  });

  it('parses sessions, dates, turns and answers', () => {
    const first = conversations[0]!;
    expect([first.speakerA, first.speakerB]).toEqual(['Caroline', 'Melanie']);
    const session = first.sessions[0]!;
    expect(session.index).toBe(1);
    expect(session.date?.text).toBe('1:56 pm on 8 May, 2023');
    expect(session.date?.iso).toBe('2023-05-08T13:56:00');
    expect(session.turns[0]).toEqual({ speaker: 'Caroline', diaId: 'D1:1', text: 'Hey Mel! Good to see you! How have you been?' });
    expect(session.turns[4]?.imgUrls).toEqual(['https://i.redd.it/l7hozpetnhlb1.jpg']);
    expect(session.turns[4]?.blipCaption).toMatch(/^a photo of a dog/);
    expect(first.sessions.map((s) => s.index)).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    // Numeric answers in the file (2022, 2, 3) become strings.
    const numeric = conversations.flatMap((c) => c.qa).filter((q) => /^\d+$/.test(q.answer));
    expect(numeric.length).toBeGreaterThanOrEqual(6);
    expect(conversations.flatMap((c) => c.qa).every((q) => typeof q.answer === 'string' && q.answer !== '')).toBe(true);
  });
});

describe('session dates', () => {
  it('reads "h:mm am|pm on D Month, YYYY"', () => {
    expect(parseLocomoDate('1:56 pm on 8 May, 2023')?.iso).toBe('2023-05-08T13:56:00');
    expect(parseLocomoDate('12:09 am on 13 September, 2023')?.iso).toBe('2023-09-13T00:09:00');
    expect(parseLocomoDate('12:30 pm on 1 January, 2024')?.date.getTime()).toBe(Date.UTC(2024, 0, 1, 12, 30));
  });
  it('rejects other forms and impossible dates', () => {
    for (const bad of ['2023-05-08', '13:56 pm on 8 May, 2023', '1:56 pm on 31 April, 2023', '1:56 pm on 8 Mai, 2023']) {
      expect(parseLocomoDate(bad)).toBeUndefined();
    }
  });
});

describe('splits', () => {
  it('puts every conversation other than conv-26 and conv-30 in test', () => {
    expect([splitOf('conv-26'), splitOf('conv-30'), splitOf('conv-99')]).toEqual(['train', 'validation', 'test']);
  });
});

describe('malformed input', () => {
  const turn = { speaker: 'A', dia_id: 'D1:1', text: 'hi' };
  const item = (overrides: Record<string, unknown> = {}, conversation: Record<string, unknown> = {}) => ({
    sample_id: 'conv-x',
    conversation: { speaker_a: 'A', speaker_b: 'B', session_1_date_time: '1:56 pm on 8 May, 2023', session_1: [turn], ...conversation },
    qa: [{ question: 'q?', answer: 'a', evidence: ['D1:1'], category: 2 }],
    ...overrides,
  });
  const load = (value: unknown) => () => parseLocomo(JSON.stringify(value));

  it('accepts a minimal valid file', () => {
    expect(parseLocomo(JSON.stringify([item()]))[0]?.qa).toHaveLength(1);
  });
  it('rejects text that is not JSON, or not a list', () => {
    expect(() => parseLocomo('{oops')).toThrow(/not JSON.*locomo10\.json/);
    expect(load({ a: 1 })).toThrow(/expected a JSON list of conversations/);
  });
  it('names the conversation and field', () => {
    expect(load([item({}, { session_1: [{ speaker: 'A', dia_id: 'D1:1' }] })])).toThrow(/conversation conv-x: conversation\.session_1\[0\]\.text/);
    expect(load([item({ qa: [{ question: 'q', answer: 'a', evidence: [], category: 9 }] })])).toThrow(/conv-x: qa\[0\]\.category/);
    expect(load([item({ qa: [{ question: 'q', evidence: [], category: 2 }] })])).toThrow(/conv-x: qa\[0\]\.answer: missing/);
    expect(load([item({}, { session_1_date_time: 'yesterday' })])).toThrow(/conv-x: conversation\.session_1_date_time: expected a date like/);
    expect(load([item({}, { session_1: 'nope' })])).toThrow(/conv-x: conversation\.session_1: expected a list of turns/);
    expect(load([item({}, { speaker_b: undefined })])).toThrow(/conv-x: conversation\.speaker_b/);
    expect(load([{ conversation: {}, qa: [] }])).toThrow(/item \[0\]: sample_id/);
    expect(load([item(), item()])).toThrow(/conv-x: sample_id appears twice/);
  });
  it('throws LocomoFormatError with what to do', () => {
    expect(load([item({ qa: 'x' })])).toThrow(LocomoFormatError);
    expect(load([item({ qa: 'x' })])).toThrow(/Load an unmodified locomo10\.json/);
  });
  it('accepts a numeric answer and stringifies it', () => {
    expect(parseLocomo(JSON.stringify([item({ qa: [{ question: 'q', answer: 2022, evidence: [], category: 2 }] })]))[0]?.qa[0]?.answer).toBe('2022');
  });
});
