// Counts over a loaded LoCoMo dataset: what `memory-r1 data stats` prints, and a check that a file is the
// benchmark the papers used (152 / 81 / 1307 questions in Memory-R1's split).
import { CATEGORY_NAMES, EVALUATED_CATEGORIES, SPLITS, type LocomoConversation, type Split } from './locomo';

export interface QuestionCounts {
  total: number;
  /** Keyed by category number ("1".."4", and "5" when adversarial questions were loaded). */
  byCategory: Record<string, number>;
}

export interface LocomoStats {
  conversations: number;
  sessions: number;
  turns: number;
  /** `session_N_date_time` keys without a `session_N`. */
  datesWithoutSession: number;
  /** Evidence ids (of the loaded questions) that match no turn. */
  unmatchedEvidence: number;
  adversarialExcluded: number;
  questions: Record<'all' | Split, QuestionCounts>;
  /** Category number → name as Memory-R1 / Mem0 tables use it. */
  categoryNames: Record<string, string>;
}

function countQuestions(conversations: readonly LocomoConversation[]): QuestionCounts {
  const byCategory: Record<string, number> = Object.fromEntries(EVALUATED_CATEGORIES.map((c) => [String(c), 0]));
  let total = 0;
  for (const qa of conversations.flatMap((c) => c.qa)) {
    byCategory[qa.category] = (byCategory[qa.category] ?? 0) + 1;
    total++;
  }
  return { total, byCategory };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

export function locomoStats(conversations: readonly LocomoConversation[]): LocomoStats {
  const splitCounts = Object.fromEntries(SPLITS.map((s) => [s, countQuestions(conversations.filter((c) => c.split === s))])) as Record<Split, QuestionCounts>;
  return {
    conversations: conversations.length,
    sessions: sum(conversations.map((c) => c.sessions.length)),
    turns: sum(conversations.map((c) => sum(c.sessions.map((s) => s.turns.length)))),
    datesWithoutSession: sum(conversations.map((c) => c.datesWithoutSession.length)),
    unmatchedEvidence: sum(conversations.map((c) => c.unmatchedEvidence.length)),
    adversarialExcluded: sum(conversations.map((c) => c.adversarialExcluded)),
    questions: { all: countQuestions(conversations), ...splitCounts },
    categoryNames: { ...CATEGORY_NAMES },
  };
}

/** A plain-text table of the stats for people. */
export function formatStats(stats: LocomoStats): string {
  const categories = Object.keys(stats.questions.all.byCategory).sort();
  const header = ['split', 'questions', ...categories.map((c) => `${c} ${stats.categoryNames[c] ?? ''}`.trim())];
  const rows = (['train', 'validation', 'test', 'all'] as const).map((name) => {
    const q = stats.questions[name];
    return [name, String(q.total), ...categories.map((c) => String(q.byCategory[c] ?? 0))];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [
    `conversations ${stats.conversations}, sessions ${stats.sessions}, turns ${stats.turns}`,
    `session dates without a session: ${stats.datesWithoutSession}; evidence ids matching no turn: ${stats.unmatchedEvidence}; category 5 (adversarial) left out: ${stats.adversarialExcluded}`,
    '',
    line(header),
    ...rows.map(line),
    '',
    'Categories as Memory-R1 / Mem0 tables name them (LoCoMo\'s own code calls 1 multi-hop and 4 single-hop).',
  ].join('\n');
}
