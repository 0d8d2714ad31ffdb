// Answer metrics for LoCoMo QA. `tokenF1` and `bleu1` are the F1 and BLEU-1 of Memory-R1's and Mem0's result
// tables (Mem0's evaluation/metrics/utils.py, taken from A-Mem); `exactMatch` is the reward Memory-R1
// trains on; `locomoF1` (./locomo-f1) is the LoCoMo paper's own F1.
import { sentenceBleu } from './bleu';
import { locomoF1 } from './locomo-f1';
import { pySplit, pyStrip, RE_WORD, removePyPunctuation, wordBoundary } from './pytext';
import { wordTokenize } from './treebank';

export { locomoF1 } from './locomo-f1';

const ARTICLES = new RegExp(`${wordBoundary(RE_WORD)}(a|an|the)${wordBoundary(RE_WORD)}`, 'gu');

/**
 * SQuAD-style answer normalisation, in this order: lowercase; delete the 32 ASCII punctuation characters
 * of Python's string.punctuation (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~; other symbols stay); replace the
 * whole words "a", "an", "the" by a space; split on whitespace and rejoin with single spaces (trims).
 */
export function normalizeAnswer(text: string): string {
  return pySplit(removePyPunctuation(text.toLowerCase()).replace(ARTICLES, ' ')).join(' ');
}

/** 1 if the normalised prediction equals the normalised gold answer, else 0. */
export function exactMatch(prediction: string, gold: string): number {
  return normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0;
}

/** Mem0's simple_tokenize: lowercase, `. , ! ?` → space, split on whitespace. */
export function simpleTokens(text: string): string[] {
  return pySplit(text.toLowerCase().replace(/[.,!?]/g, ' '));
}

/**
 * Token F1 as Memory-R1 and Mem0 report it: on the *sets* of `simpleTokens` of the stripped texts
 * (repeats count once); 0 when either set is empty or they share nothing.
 */
export function tokenF1(prediction: string, gold: string): number {
  const predicted = new Set(simpleTokens(pyStrip(prediction)));
  const expected = new Set(simpleTokens(pyStrip(gold)));
  if (predicted.size === 0 || expected.size === 0) return 0;
  let common = 0;
  for (const token of predicted) if (expected.has(token)) common++;
  if (common === 0) return 0;
  const precision = common / predicted.size;
  const recall = common / expected.size;
  return (2 * precision * recall) / (precision + recall);
}

/** The tokens BLEU-1 compares: `nltk.word_tokenize(text.strip().lower())`. */
export function bleuTokens(text: string): string[] {
  return wordTokenize(pyStrip(text).toLowerCase());
}

/**
 * BLEU-1 as Memory-R1 and Mem0 report it: NLTK sentence_bleu of the `bleuTokens`, weights (1, 0, 0, 0),
 * smoothing method1, brevity penalty applied; 0 when no unigram matches or either text is empty.
 */
export function bleu1(prediction: string, gold: string): number {
  if (prediction === '' || gold === '') return 0;
  return sentenceBleu([bleuTokens(gold)], bleuTokens(prediction), [1, 0, 0, 0]);
}

export interface AnswerScores {
  em: number;
  f1: number;
  bleu1: number;
  locomo_f1: number;
}

/** Every metric for one answer; `category` selects LoCoMo's F1 rule (1-5; 2/4 are the plain F1). */
export function scoreAnswer(prediction: string, gold: string, category = 4): AnswerScores {
  return {
    em: exactMatch(prediction, gold),
    f1: tokenF1(prediction, gold),
    bleu1: bleu1(prediction, gold),
    locomo_f1: locomoF1(prediction, gold, category),
  };
}
