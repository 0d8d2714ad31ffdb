// The learning table's arithmetic and layout (the runs themselves are `npm run bench -- learn`).
import { describe, expect, it } from 'vitest';
import { learnMarkdown, learnTable, meanStd, type SeedResult } from './learn';
import { summarize } from './report';
import type { QuestionResult } from './runner';

const result = (category: 1 | 2 | 3 | 4, em: number): QuestionResult => ({
  sampleId: 'gen-2', qaIndex: 0, question: 'q', gold: 'g', prediction: 'p', category, em, f1: em, bleu1: em, locomo_f1: em, usedMemories: [], retrieved: 0, ms: 0, tokens: { prompt: 0, completion: 0 },
});
const seed = (seed: number, grpoEm: number): SeedResult => ({
  seed,
  stages: {
    BASE: summarize([result(1, 0), result(2, 0), result(3, 0), result(4, 0)]),
    SFT: summarize([result(1, 1), result(2, 0), result(3, 0), result(4, 0)]),
    GRPO: summarize([result(1, 1), result(2, grpoEm), result(3, 0), result(4, 0)]),
  },
  curves: { sftLoss: [], grpoReward: [], validation: [] },
  bestStep: null,
  tokensPerSecond: { sft: 0, grpo: 0 },
});

describe('the learning table', () => {
  it('gives mean and sample std over seeds per stage, column and metric', () => {
    expect(meanStd([1, 2, 3])).toEqual({ mean: 2, std: 1 });
    expect(meanStd([5])).toEqual({ mean: 5, std: 0 });
    const table = learnTable([seed(0, 1), seed(1, 0), seed(2, 1)]);
    expect(table.SFT['single-hop']!.em).toEqual({ mean: 100, std: 0 });
    expect(table.GRPO.temporal!.em.mean).toBeCloseTo(200 / 3, 10);
    expect(table.GRPO.temporal!.em.std).toBeCloseTo(Math.sqrt(((100 - 200 / 3) ** 2 * 2 + (200 / 3) ** 2) / 2), 10);
    expect(table.GRPO.overall!.f1.mean).toBeCloseTo((50 + 25 + 50) / 3, 10);
    const markdown = learnMarkdown([seed(0, 1), seed(1, 0), seed(2, 1)], 'tiny');
    expect(markdown.split('\n')[0]).toBe('| Model | Method | single-hop F1 | B1 | EM | multi-hop F1 | B1 | EM | open-domain F1 | B1 | EM | temporal F1 | B1 | EM | overall F1 | B1 | EM |');
    expect(markdown).toContain('| tiny | Memory-SFT | 100.0 ± 0.0 | 100.0 ± 0.0 | 100.0 ± 0.0 | 0.0 ± 0.0 |');
    expect(markdown).toContain('Seeds: 0, 1, 2; held-out questions per category 1: 1, 2: 1, 3: 1, 4: 1');
    // A category with no held-out question shows dashes.
    const only = { ...seed(0, 1), stages: { BASE: summarize([result(1, 0)]), SFT: summarize([result(1, 1)]), GRPO: summarize([result(1, 1)]) } };
    expect(learnMarkdown([only], 'tiny')).toContain('| tiny | Memory-SFT | 100.0 ± 0.0 | 100.0 ± 0.0 | 100.0 ± 0.0 | – | – | – |');
  });
});
