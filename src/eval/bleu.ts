// Sentence BLEU as NLTK computes it (nltk.translate.bleu_score.sentence_bleu, NLTK 3.8, smoothing
// SmoothingFunction().method1 with epsilon 0.1), which is what Mem0 and Memory-R1 report as BLEU-1 with
// weights (1, 0, 0, 0). The NLTK behaviours reproduced here:
// - modified precision p_n = clipped n-gram matches / max(1, hypothesis n-grams);
// - if there is no unigram match at all the score is 0 (checked before any smoothing, so method1's
//   epsilon never rescues n = 1);
// - method1 replaces a zero precision p_n by (0 + 0.1) / denominator;
// - brevity penalty with the closest reference length (ties → the shorter reference): 1 if the hypothesis
//   is longer, 0 if it is empty, else exp(1 - r / c);
// - score = BP · exp(Σ w_n · log p_n) over every order up to the length of the weights (zero weights
//   included: they contribute 0 · log p_n).

/** Smoothing method1's epsilon in NLTK. */
const EPSILON = 0.1;

function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  // JSON of the slice is an unambiguous key for an n-gram of arbitrary strings.
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = JSON.stringify(tokens.slice(i, i + n));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

function modifiedPrecision(references: readonly (readonly string[])[], hypothesis: readonly string[], n: number) {
  const counts = ngramCounts(hypothesis, n);
  const referenceCounts = references.map((reference) => ngramCounts(reference, n));
  let numerator = 0;
  let total = 0;
  for (const [ngram, count] of counts) {
    const maxReference = Math.max(0, ...referenceCounts.map((c) => c.get(ngram) ?? 0));
    numerator += Math.min(count, maxReference);
    total += count;
  }
  return { numerator, denominator: Math.max(1, total) };
}

function closestReferenceLength(references: readonly (readonly string[])[], hypothesisLength: number): number {
  let best = Infinity;
  for (const { length } of references) {
    const distance = Math.abs(length - hypothesisLength);
    const bestDistance = Math.abs(best - hypothesisLength);
    if (distance < bestDistance || (distance === bestDistance && length < best)) best = length;
  }
  return best;
}

export function brevityPenalty(closestRefLength: number, hypothesisLength: number): number {
  if (hypothesisLength > closestRefLength) return 1;
  if (hypothesisLength === 0) return 0;
  return Math.exp(1 - closestRefLength / hypothesisLength);
}

/**
 * `sentence_bleu(references, hypothesis, weights, smoothing_function=SmoothingFunction().method1)`.
 * Tokens are compared exactly (tokenise and lowercase first).
 */
export function sentenceBleu(
  references: readonly (readonly string[])[],
  hypothesis: readonly string[],
  weights: readonly number[] = [0.25, 0.25, 0.25, 0.25],
): number {
  if (references.length === 0) throw new Error('sentenceBleu needs at least one reference');
  const precisions = weights.map((_, i) => modifiedPrecision(references, hypothesis, i + 1));
  if (precisions[0]?.numerator === 0) return 0;
  const bp = brevityPenalty(closestReferenceLength(references, hypothesis.length), hypothesis.length);
  let logSum = 0;
  precisions.forEach(({ numerator, denominator }, i) => {
    const p = numerator === 0 ? EPSILON / denominator : numerator / denominator;
    logSum += (weights[i] ?? 0) * Math.log(p);
  });
  return bp * Math.exp(logSum);
}
