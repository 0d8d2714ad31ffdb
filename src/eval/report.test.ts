import { describe, expect, it } from 'vitest';
import { buildReport, CATEGORY_NOTE, categoryOfColumn, reportMarkdown, summarize } from './report';
import { PUBLISHED_ROWS, PUBLISHED_SCALE_ROWS, TABLE_COLUMNS } from './memory-r1-table1';
import type { QuestionResult } from './runner';
import type { Category } from './locomo';

function result(category: Category, em: number, judge?: number): QuestionResult {
  return {
    sampleId: 'conv-1',
    qaIndex: 0,
    question: 'q',
    gold: 'g',
    prediction: em ? 'g' : 'x',
    category,
    em,
    f1: em,
    bleu1: em / 2,
    locomo_f1: em,
    ...(judge === undefined ? {} : { judge }),
    usedMemories: [],
    retrieved: 60,
    ms: 10,
    tokens: { prompt: 90, completion: 10 },
  };
}

describe('report', () => {
  it('maps the paper columns to Memory-R1 category numbers', () => {
    expect(TABLE_COLUMNS).toEqual(['single-hop', 'multi-hop', 'open-domain', 'temporal', 'overall']);
    expect((['single-hop', 'multi-hop', 'open-domain', 'temporal'] as const).map(categoryOfColumn)).toEqual([1, 3, 4, 2]);
  });

  it('summarises per category and overall (over all questions), in percent', () => {
    const summary = summarize([result(1, 1, 1), result(1, 0, 0), result(2, 1, 1), result(4, 0, 1)]);
    expect(summary.byCategory['1']).toMatchObject({ count: 2, f1: 50, bleu1: 25, judge: 50, em: 50, ms: 10, tokens: 100 });
    expect(summary.byCategory['3']).toMatchObject({ count: 0, judge: null });
    expect(summary.overall).toMatchObject({ count: 4, f1: 50, em: 50, judge: 75 });
    expect(summarize([result(1, 1), result(2, 1, 1)]).overall.judge).toBeNull(); // not every answer judged
  });

  it('lays out ours and the published rows as the paper does, in Markdown and JSON', () => {
    const report = buildReport([result(1, 1, 1), result(2, 0, 0), result(3, 1, 1), result(4, 1, 0)], { method: 'ours: test', split: 'test' });
    expect(report.rows[0]).toMatchObject({ method: 'ours: test', source: 'this run' });
    expect(report.rows[0]!.values['single-hop']).toEqual({ f1: 100, b1: 50, j: 100 });
    expect(report.rows[0]!.values.temporal).toEqual({ f1: 0, b1: 0, j: 0 });
    expect(report.rows[0]!.values.overall).toEqual({ f1: 75, b1: 37.5, j: 50 });
    expect(report.rows).toHaveLength(1 + PUBLISHED_ROWS.length + PUBLISHED_SCALE_ROWS.length);
    const grpo = report.rows.find((r) => r.method === 'Memory-R1-GRPO' && r.backbone === 'LLaMA-3.1-8B-Instruct')!;
    expect(grpo.values.overall).toEqual({ f1: 45.02, b1: 37.51, j: 62.74 });
    expect(grpo.values['multi-hop']).toEqual({ f1: 35.65, b1: 30.77, j: 53.01 });
    expect(report.notes).toContain(CATEGORY_NOTE);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);

    const markdown = reportMarkdown(report);
    const lines = markdown.split('\n');
    const header = lines.find((l) => l.startsWith('| Backbone'))!;
    expect(header).toBe('| Backbone | Method | Single Hop F1 | B1 | J | Multi-Hop F1 | B1 | J | Open Domain F1 | B1 | J | Temporal F1 | B1 | J | Overall F1 | B1 | J |');
    expect(lines[lines.indexOf(header) + 2]).toBe('|  | **ours: test** | 100.00 | 50.00 | 100.00 | 100.00 | 50.00 | 100.00 | 100.00 | 50.00 | 0.00 | 0.00 | 0.00 | 0.00 | 75.00 | 37.50 | 50.00 |');
    expect(markdown).toContain('| Qwen-2.5-7B-Instruct | Memory-R1-GRPO | 33.64 | 26.06 | 62.34 |');
    expect(markdown).toContain('1 single-hop, 2 temporal, 3 multi-hop, 4 open-domain');
  });

  it('leaves J blank without a judge', () => {
    const markdown = reportMarkdown(buildReport([result(1, 1)], { method: 'ours', split: 'train' }));
    expect(markdown).toContain('| **ours** | 100.00 | 50.00 | – | – | – | – |');
    expect(markdown).toContain('No judge ran');
  });

  it("carries Table 3's Qwen-2.5 3B / 7B / 14B rows as the paper prints them, named by table", () => {
    const markdown = reportMarkdown(buildReport([result(1, 1)], { method: 'ours', split: 'test' }));
    expect(markdown).toContain('| Qwen-2.5-3B-Instruct | BASE | 19.82 | 15.78 | 46.44 | 11.57 |');
    expect(markdown).toContain('| Qwen-2.5-3B-Instruct | Memory-R1-GRPO | 30.10 | 20.00 | 49.37 |');
    expect(markdown).toContain('Memory-R1 (arXiv 2508.19828v5) Table 3');
    const grpo14 = PUBLISHED_SCALE_ROWS.find((r) => r.backbone === 'Qwen-2.5-14B-Instruct' && r.method === 'Memory-R1-GRPO')!;
    expect(grpo14.values.overall).toEqual([44.4, 37.32, 63.5]);
    expect(PUBLISHED_SCALE_ROWS.map((r) => `${r.backbone} ${r.method}`)).toHaveLength(9);
  });

  it('publishes only full rows of 15 numbers', () => {
    for (const row of [...PUBLISHED_ROWS, ...PUBLISHED_SCALE_ROWS]) for (const column of TABLE_COLUMNS) expect(row.values[column].every((v) => v >= 0 && v <= 100)).toBe(true);
  });
});
