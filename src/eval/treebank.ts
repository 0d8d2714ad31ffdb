// NLTK's word tokenizer (nltk.tokenize.destructive.NLTKWordTokenizer, NLTK 3.8; unchanged through 3.9):
// an ordered list of regex rewrites that pad punctuation, quotes and clitics with spaces, then a split.
// `wordTokenize` adds NLTK's sentence step (see ./punkt), as `nltk.word_tokenize` does. Mem0's and
// Memory-R1's BLEU-1 tokenises with `word_tokenize(text.lower())`, so BLEU-1 depends on these rules.
// Python's `\w`, `\b`, `\d` and `\s` are Unicode-aware; JS's are not, hence the explicit classes.
import { splitSentences } from './punkt';
import { PY_SPACE, pySplit, RE_WORD, wordBoundary } from './pytext';

type Rule = readonly [RegExp, string];

const W = RE_WORD;
const B = wordBoundary(RE_WORD);
const S = `[${PY_SPACE}]`;
const D = '\\p{Nd}';
// Closing quotes/brackets that may follow a sentence-final period.
const CLOSERS_WIDE = '\\]\\)}>"\'»”’ ';
const CLOSERS = '\\]\\)}>"\'';

const rule = (pattern: string, replacement: string, flags = ''): Rule => [new RegExp(pattern, `gu${flags}`), replacement];

const STARTING_QUOTES: Rule[] = [
  rule('([«“‘„]|`+)', ' $1 '),
  rule('^"', '``'),
  rule('(``)', ' $1 '),
  rule('([ (\\[{<])("|\'{2})', '$1 `` '),
  // An opening single quote before a word, unless it begins a clitic ('re, 've, 'll, 'm, 't, 's, 'd, 'n).
  rule(`(')(?!re|ve|ll|m|t|s|d|n)(${W})${B}`, '$1 $2', 'i'),
];

const PUNCTUATION: Rule[] = [
  rule(`([^.])(\\.)([${CLOSERS_WIDE}]*)${S}*$`, '$1 $2 $3 '),
  rule(`([:,])([^${D}])`, ' $1 $2'), // commas and colons, but not inside numbers (3,36 or 12:30)
  rule('([:,])$', ' $1 '),
  rule('\\.{2,}', ' $& '),
  rule('[;@#$%&]', ' $& '),
  rule(`([^.])(\\.)([${CLOSERS}]*)${S}*$`, '$1 $2$3 '), // the final period (NLTK lists it twice)
  rule('[?!]', ' $& '),
  rule("([^'])' ", "$1 ' "),
  rule('[*]', ' $& '),
];

const PARENS_BRACKETS = rule('[\\]\\[(){}<>]', ' $& ');
const DOUBLE_DASHES = rule('--', ' -- ');

const ENDING_QUOTES: Rule[] = [
  rule('([»”’])', ' $1 '),
  rule("''", " '' "),
  rule('"', " '' "),
  rule("([^' ])('[sS]|'[mM]|'[dD]|') ", '$1 $2 '),
  rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", '$1 $2 '),
];

// Robert MacIntyre's contractions: cannot → can not, gonna → gon na, 'tis → 't is, ...
const CONTRACTIONS: Rule[] = [
  ...[['can', 'not'], ['d', "'ye"], ['gim', 'me'], ['gon', 'na'], ['got', 'ta'], ['lem', 'me'], ['more', "'n"]].map(
    ([a, b]) => rule(`${B}(${a})(${b})${B}`, ' $1 $2 ', 'i'),
  ),
  rule(`${B}(wan)(na)(?=${S})`, ' $1 $2 ', 'i'),
  rule(` ('t)(is)${B}`, ' $1 $2 ', 'i'),
  rule(` ('t)(was)${B}`, ' $1 $2 ', 'i'),
];

function applyAll(text: string, rules: readonly Rule[]): string {
  return rules.reduce((acc, [pattern, replacement]) => acc.replace(pattern, replacement), text);
}

/** `NLTKWordTokenizer().tokenize(sentence)`: tokens of one sentence (a mid-text period stays attached). */
export function treebankTokenize(sentence: string): string[] {
  let text = applyAll(sentence, STARTING_QUOTES);
  text = applyAll(text, PUNCTUATION);
  text = applyAll(text, [PARENS_BRACKETS, DOUBLE_DASHES]);
  text = applyAll(` ${text} `, ENDING_QUOTES);
  text = applyAll(text, CONTRACTIONS);
  return pySplit(text);
}

/**
 * `nltk.word_tokenize(text)`: sentences (Punkt; see ./punkt for how ours approximates the trained English
 * model), each tokenised by `treebankTokenize`.
 */
export function wordTokenize(text: string): string[] {
  return splitSentences(text).flatMap(treebankTokenize);
}
