// Evaluation results as the paper shows them: one row per method, F1 / BLEU-1 / LLM-as-a-Judge per
// question type (Single Hop, Multi-Hop, Open Domain, Temporal) and overall, with Memory-R1's published
// rows beside ours; as JSON (for programs) and Markdown (for people).
import { CATEGORY_NAMES, EVALUATED_CATEGORIES, type Category } from './locomo';
import { PUBLISHED_ROWS, PUBLISHED_SCALE_ROWS, TABLE_COLUMNS, type PublishedRow, type TableColumn } from './memory-r1-table1';
import type { QuestionResult } from './runner';

export interface MetricMeans {
  count: number;
  /** Means in percent (0-100), as the paper prints them. */
  f1: number;
  bleu1: number;
  /** Null when no judge ran (or not on every question). */
  judge: number | null;
  em: number;
  locomo_f1: number;
  /** Mean evidence recall@60 in percent over the questions with evidence; null when none has it. */
  recall: number | null;
  /** Mean milliseconds and tokens per question (retrieval + answer). */
  ms: number;
  tokens: number;
}

export interface EvalSummary {
  /** Keyed by category number "1".."4". */
  byCategory: Record<string, MetricMeans>;
  overall: MetricMeans;
}

const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0);
const percent = (values: number[]) => Math.round(mean(values) * 10000) / 100;

function recallPercent(results: readonly QuestionResult[]): number | null {
  const values = results.flatMap((r) => (r.evidenceRecall === undefined ? [] : [r.evidenceRecall]));
  return values.length ? percent(values) : null;
}

function means(results: readonly QuestionResult[]): MetricMeans {
  const judged = results.length > 0 && results.every((r) => r.judge !== undefined);
  return {
    count: results.length,
    f1: percent(results.map((r) => r.f1)),
    bleu1: percent(results.map((r) => r.bleu1)),
    judge: judged ? percent(results.map((r) => r.judge ?? 0)) : null,
    em: percent(results.map((r) => r.em)),
    locomo_f1: percent(results.map((r) => r.locomo_f1)),
    recall: recallPercent(results),
    ms: Math.round(mean(results.map((r) => r.ms))),
    tokens: Math.round(mean(results.map((r) => r.tokens.prompt + r.tokens.completion))),
  };
}

/** Per-category and overall means; overall is over all questions (as Memory-R1 and Mem0 report it). */
export function summarize(results: readonly QuestionResult[]): EvalSummary {
  const byCategory: Record<string, MetricMeans> = {};
  for (const category of EVALUATED_CATEGORIES) byCategory[category] = means(results.filter((r) => r.category === category));
  return { byCategory, overall: means(results.filter((r) => EVALUATED_CATEGORIES.includes(r.category))) };
}

/**
 * Whether answers come from the memories: the evaluated questions whose retrieved memories held all of
 * their evidence, and those whose memories held none of it (partial recall and questions without
 * evidence are left out). A model that reads its memories scores far higher on the first; one that
 * answers from priors scores the same on both.
 */
export function readingCheck(results: readonly QuestionResult[]): { found: MetricMeans; missing: MetricMeans } {
  const evaluated = results.filter((r) => EVALUATED_CATEGORIES.includes(r.category));
  return { found: means(evaluated.filter((r) => r.evidenceRecall === 1)), missing: means(evaluated.filter((r) => r.evidenceRecall === 0)) };
}

/** The LoCoMo category behind a column of the paper's table (by Memory-R1's naming). */
export function categoryOfColumn(column: Exclude<TableColumn, 'overall'>): Category {
  const entry = Object.entries(CATEGORY_NAMES).find(([, name]) => name === column);
  return Number(entry![0]) as Category;
}

export interface TableCell {
  f1: number | null;
  b1: number | null;
  j: number | null;
}

export interface TableRow {
  method: string;
  backbone: string | null;
  /** "this run", or where the published numbers come from. */
  source: string;
  values: Record<TableColumn, TableCell>;
}

export interface EvalReport {
  title: string;
  split: string;
  questions: number;
  columns: readonly TableColumn[];
  /** Ours first, then the published rows. */
  rows: TableRow[];
  ours: EvalSummary;
  /** Who judged this run (absent: no judge named). */
  judge?: { name: string; local: boolean };
  notes: string[];
}

export const CATEGORY_NOTE =
  "Categories follow Memory-R1's (and Mem0's) naming: 1 single-hop, 2 temporal, 3 multi-hop, 4 open-domain. LoCoMo's own code and paper name 1 multi-hop and 4 single-hop; the papers' overall scores reproduce only with Memory-R1's naming.";

function ourRow(method: string, backbone: string | null, summary: EvalSummary): TableRow {
  const cell = (m: MetricMeans): TableCell => (m.count ? { f1: m.f1, b1: m.bleu1, j: m.judge } : { f1: null, b1: null, j: null });
  const values = Object.fromEntries(
    TABLE_COLUMNS.map((column) => [column, cell(column === 'overall' ? summary.overall : summary.byCategory[categoryOfColumn(column)]!)]),
  ) as Record<TableColumn, TableCell>;
  return { method, backbone, source: 'this run', values };
}

function publishedRow(row: PublishedRow): TableRow {
  const values = Object.fromEntries(TABLE_COLUMNS.map((column) => {
    const [f1, b1, j] = row.values[column];
    return [column, { f1, b1, j }];
  })) as Record<TableColumn, TableCell>;
  return { method: row.method, backbone: row.backbone, source: row.source, values };
}

export interface ReportOptions {
  /** Our row's name (e.g. "ours: Qwen2.5-0.5B + manager adapter"). */
  method: string;
  backbone?: string;
  split: string;
  published?: readonly PublishedRow[];
  /** Who judged this run's answers (the J column), e.g. a local model's folder; `local` when it ran here. */
  judge?: { name: string; local: boolean };
}

export function buildReport(results: readonly QuestionResult[], options: ReportOptions): EvalReport {
  const ours = summarize(results);
  const notes = [
    CATEGORY_NOTE,
    'F1 is token-set F1 and B1 is BLEU-1 as Memory-R1 and Mem0 compute them; J is LLM-as-a-Judge (CORRECT = 1). All in percent.',
    `Published rows are Memory-R1's Table 1 and its Table 3 (the Qwen-2.5 3B / 7B / 14B rows: the 3B ones are what a laptop-sized model is measured against), on the test split (1307 questions); this run: ${options.split} split, ${ours.overall.count} questions. Compare like with like.`,
  ];
  if (ours.overall.count > 0 && ours.overall.judge === null) notes.push('No judge ran on every question: J is left blank for this run.');
  else if (options.judge?.local) {
    notes.push(`${LOCAL_JUDGE_MARK} This run's J is from a local judge (${options.judge.name}), not the paper's judge model: compare its J with the published rows' only loosely.`);
  } else if (options.judge) notes.push(`This run's J is from ${options.judge.name}.`);
  if (ours.overall.recall !== null) notes.push('Evidence recall@60: the share of a question\'s evidence turns that some retrieved memory (30 per speaker) came from; it measures the bank and retrieval apart from the answer.');
  return {
    title: 'LoCoMo evaluation (Memory-R1 layout)',
    split: options.split,
    questions: ours.overall.count,
    columns: TABLE_COLUMNS,
    rows: [ourRow(options.method, options.backbone ?? null, ours), ...(options.published ?? [...PUBLISHED_ROWS, ...PUBLISHED_SCALE_ROWS]).map(publishedRow)],
    ours,
    ...(options.judge ? { judge: options.judge } : {}),
    notes,
  };
}

/** Marks J values that come from a local judge. */
export const LOCAL_JUDGE_MARK = '†';

const COLUMN_TITLES: Record<TableColumn, string> = {
  'single-hop': 'Single Hop',
  'multi-hop': 'Multi-Hop',
  'open-domain': 'Open Domain',
  temporal: 'Temporal',
  overall: 'Overall',
};

const number = (value: number | null) => (value === null ? '–' : value.toFixed(2));
const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

/** The report as Markdown: the paper's table, then our run's extra metrics per category. */
export function reportMarkdown(report: EvalReport): string {
  const header = ['Backbone', 'Method', ...report.columns.flatMap((c) => [`${COLUMN_TITLES[c]} F1`, 'B1', 'J'])];
  const align = ['---', '---', ...report.columns.flatMap(() => ['---:', '---:', '---:'])];
  const localJ = (row: TableRow, value: number | null) => (row.source === 'this run' && report.judge?.local && value !== null ? `${number(value)}${LOCAL_JUDGE_MARK}` : number(value));
  const rows = report.rows.map((row) =>
    line([row.backbone ?? '', row.source === 'this run' ? `**${row.method}**` : row.method, ...report.columns.flatMap((c) => [number(row.values[c].f1), number(row.values[c].b1), localJ(row, row.values[c].j)])]),
  );
  const categories = EVALUATED_CATEGORIES;
  const extra = [
    line(['', ...categories.map((c) => `${c} ${CATEGORY_NAMES[c]}`), 'overall']),
    line(['---', ...categories.map(() => '---:'), '---:']),
    ...(
      [
        ['questions', (m: MetricMeans) => String(m.count)],
        ['exact match', (m: MetricMeans) => m.em.toFixed(2)],
        ['F1', (m: MetricMeans) => m.f1.toFixed(2)],
        ['BLEU-1', (m: MetricMeans) => m.bleu1.toFixed(2)],
        ['judge', (m: MetricMeans) => number(m.judge)],
        ['LoCoMo F1', (m: MetricMeans) => m.locomo_f1.toFixed(2)],
        ['evidence recall@60', (m: MetricMeans) => number(m.recall)],
        ['ms / question', (m: MetricMeans) => String(m.ms)],
        ['tokens / question', (m: MetricMeans) => String(m.tokens)],
      ] as const
    ).map(([name, value]) => {
      const shown = (m: MetricMeans) => (m.count || name === 'questions' ? value(m) : '–');
      return line([name, ...categories.map((c) => shown(report.ours.byCategory[c]!)), shown(report.ours.overall)]);
    }),
  ];
  const sources = [...new Set(report.rows.filter((r) => r.source !== 'this run').map((r) => r.source))];
  return [
    `# ${report.title}`,
    '',
    `Split: ${report.split}, ${report.questions} questions.`,
    '',
    line(header),
    line(align),
    ...rows,
    '',
    '## This run per category',
    '',
    ...extra,
    '',
    '## Notes',
    '',
    ...report.notes.map((note) => `- ${note}`),
    ...sources.map((source) => `- Published numbers: ${source}.`),
    '',
  ].join('\n');
}
