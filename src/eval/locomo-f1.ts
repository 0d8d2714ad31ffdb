// LoCoMo's own QA F1 (snap-research/LoCoMo, task_eval/evaluation.py at 3eb6f2c: normalize_answer, f1_score,
// f1, eval_question_answering), for comparison with the LoCoMo paper. Memory-R1's and Mem0's tables use
// the simpler set F1 in ./metrics instead.
// Category numbers here are the dataset's; LoCoMo's code calls 1 "multi-hop" and 4 "single-hop", the
// Memory-R1 / Mem0 tables the other way round (see ./locomo). The rules only depend on the number.
import { porterStem } from '../memory/porter';
import { pySplit, pyStrip, REGEX_WORD, removePyPunctuation, wordBoundary } from './pytext';

// LoCoMo uses the `regex` module, whose `\w` (hence `\b`) also counts combining marks as word characters.
const ARTICLES = new RegExp(`${wordBoundary(REGEX_WORD)}(a|an|the|and)${wordBoundary(REGEX_WORD)}`, 'gu');

/** LoCoMo's normalize_answer: drop commas, lowercase, drop string.punctuation, a/an/the/and → space, collapse spaces. */
export function locomoNormalize(text: string): string {
  const cleaned = removePyPunctuation(text.replaceAll(',', '').toLowerCase());
  return pySplit(cleaned.replace(ARTICLES, ' ')).join(' ');
}

/** Porter-stemmed tokens of the normalised text. */
export function locomoTokens(text: string): string[] {
  return pySplit(locomoNormalize(text)).map(porterStem);
}

/** LoCoMo's f1_score: F1 of the stemmed token multisets; 0 when nothing is shared (or either side is empty). */
export function locomoTokenF1(prediction: string, gold: string): number {
  const predicted = locomoTokens(prediction);
  const expected = locomoTokens(gold);
  const remaining = new Map<string, number>();
  for (const token of expected) remaining.set(token, (remaining.get(token) ?? 0) + 1);
  let same = 0;
  for (const token of predicted) {
    const left = remaining.get(token) ?? 0;
    if (left > 0) {
      same++;
      remaining.set(token, left - 1);
    }
  }
  if (same === 0) return 0;
  const precision = same / predicted.length;
  const recall = same / expected.length;
  return (2 * precision * recall) / (precision + recall);
}

/**
 * LoCoMo's f1 for multi-part answers: both sides split on commas (parts stripped); the mean over gold
 * parts of the best F1 against any predicted part.
 */
export function locomoMultiAnswerF1(prediction: string, gold: string): number {
  const predictedParts = prediction.split(',').map(pyStrip);
  const goldParts = gold.split(',').map(pyStrip);
  const best = goldParts.map((part) => Math.max(...predictedParts.map((p) => locomoTokenF1(p, part))));
  return best.reduce((a, b) => a + b, 0) / best.length;
}

/**
 * The score LoCoMo's eval_question_answering gives one answer: category 1 → multi-answer F1; 3 → gold cut
 * at its first ';' then F1; 2 and 4 → F1; 5 (adversarial, excluded by Memory-R1) → 1 if the prediction says
 * "no information available" or "not mentioned", else 0.
 */
export function locomoF1(prediction: string, gold: string, category: number): number {
  switch (category) {
    case 1:
      return locomoMultiAnswerF1(prediction, gold);
    case 2:
    case 4:
      return locomoTokenF1(prediction, gold);
    case 3:
      return locomoTokenF1(prediction, pyStrip(gold.split(';')[0] ?? ''));
    case 5: {
      const lower = prediction.toLowerCase();
      return lower.includes('no information available') || lower.includes('not mentioned') ? 1 : 0;
    }
    default:
      throw new Error(`LoCoMo category must be 1-5, got ${category}`);
  }
}
