// The Porter stemmer as NLTK implements it by default (nltk.stem.PorterStemmer(), mode NLTK_EXTENSIONS,
// NLTK 3.8), which LoCoMo's F1 applies to every answer token (task_eval/evaluation.py: `ps = PorterStemmer()`).
// NLTK_EXTENSIONS differs from Porter's 1980 paper in: a table of irregular forms (skies → sky, dying → die,
// ...); words of 1-2 letters are left alone; "ies"/"ied" in 4-letter words → "ie" ("dies" → "die"),
// otherwise "ied" → "i"; y → i only after a consonant that is not the first letter ("enjoy" keeps its y);
// step 2 applies "alli" → "al" first and re-runs, uses "bli" → "ble" (not "abli"), adds "fulli" → "ful" and
// "logi" → "log"; *o also holds for a 2-letter vowel-consonant stem.
// Letters are counted as code points, as Python indexes strings.

const IRREGULAR: Record<string, string[]> = {
  sky: ['sky', 'skies'],
  die: ['dying'],
  lie: ['lying'],
  tie: ['tying'],
  news: ['news'],
  inning: ['innings', 'inning'],
  outing: ['outings', 'outing'],
  canning: ['cannings', 'canning'],
  howe: ['howe'],
  proceed: ['proceed'],
  exceed: ['exceed'],
  succeed: ['succeed'],
};
const POOL = new Map(Object.entries(IRREGULAR).flatMap(([stem, forms]) => forms.map((form) => [form, stem] as const)));
const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

const letters = (word: string) => Array.from(word);

function isConsonant(chars: readonly string[], i: number): boolean {
  const ch = chars[i];
  if (ch === undefined || VOWELS.has(ch)) return false;
  if (ch === 'y') return i === 0 ? true : !isConsonant(chars, i - 1);
  return true;
}

/** m in [C](VC){m}[V]: the number of vowel→consonant transitions. */
function measure(stem: string): number {
  const chars = letters(stem);
  let m = 0;
  for (let i = 1; i < chars.length; i++) if (!isConsonant(chars, i - 1) && isConsonant(chars, i)) m++;
  return m;
}

function containsVowel(stem: string): boolean {
  const chars = letters(stem);
  return chars.some((_, i) => !isConsonant(chars, i));
}

/** *d: ends with a double consonant. */
function endsDoubleConsonant(word: string): boolean {
  const chars = letters(word);
  const n = chars.length;
  return n >= 2 && chars[n - 1] === chars[n - 2] && isConsonant(chars, n - 1);
}

/** *o: ends consonant-vowel-consonant, the last not w, x or y (NLTK also: a 2-letter vowel-consonant word). */
function endsCvc(word: string): boolean {
  const chars = letters(word);
  const n = chars.length;
  const last = chars[n - 1] ?? '';
  return (
    (n >= 3 && isConsonant(chars, n - 3) && !isConsonant(chars, n - 2) && isConsonant(chars, n - 1) && !['w', 'x', 'y'].includes(last)) ||
    (n === 2 && !isConsonant(chars, 0) && isConsonant(chars, 1))
  );
}

type Condition = ((stem: string) => boolean) | null;
/** [suffix, replacement, condition]; suffix '*d' means "ends with a double consonant" (both removed). */
type SuffixRule = readonly [string, string, Condition];

/** The first rule whose suffix matches decides: applied if its condition holds, else the word is kept. */
function applyRules(word: string, rules: readonly SuffixRule[]): string {
  for (const [suffix, replacement, condition] of rules) {
    if (suffix === '*d' && endsDoubleConsonant(word)) {
      const stem = letters(word).slice(0, -2).join('');
      return !condition || condition(stem) ? stem + replacement : word;
    }
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return !condition || condition(stem) ? stem + replacement : word;
    }
  }
  return word;
}

const positive = (stem: string) => measure(stem) > 0;
const aboveOne = (stem: string) => measure(stem) > 1;

function step1a(word: string): string {
  if (word.endsWith('ies') && letters(word).length === 4) return `${word.slice(0, -3)}ie`;
  return applyRules(word, [
    ['sses', 'ss', null],
    ['ies', 'i', null],
    ['ss', 'ss', null],
    ['s', '', null],
  ]);
}

function step1b(word: string): string {
  if (word.endsWith('ied')) return `${word.slice(0, -3)}${letters(word).length === 4 ? 'ie' : 'i'}`;
  if (word.endsWith('eed')) {
    const stem = word.slice(0, -3);
    return measure(stem) > 0 ? `${stem}ee` : word;
  }
  let stem: string | undefined;
  for (const suffix of ['ed', 'ing']) {
    if (word.endsWith(suffix) && containsVowel(word.slice(0, -suffix.length))) {
      stem = word.slice(0, -suffix.length);
      break;
    }
  }
  if (stem === undefined) return word;
  const lastLetter = letters(stem).at(-1) ?? '';
  return applyRules(stem, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', lastLetter, () => !['l', 's', 'z'].includes(lastLetter)],
    ['', 'e', (s) => measure(s) === 1 && endsCvc(s)],
  ]);
}

function step1c(word: string): string {
  return applyRules(word, [['y', 'i', (stem) => letters(stem).length > 1 && isConsonant(letters(stem), letters(stem).length - 1)]]);
}

function step2(word: string): string {
  if (word.endsWith('alli') && positive(word.slice(0, -4))) return step2(`${word.slice(0, -4)}al`);
  const rules: SuffixRule[] = [
    ['ational', 'ate', positive],
    ['tional', 'tion', positive],
    ['enci', 'ence', positive],
    ['anci', 'ance', positive],
    ['izer', 'ize', positive],
    ['bli', 'ble', positive],
    ['alli', 'al', positive],
    ['entli', 'ent', positive],
    ['eli', 'e', positive],
    ['ousli', 'ous', positive],
    ['ization', 'ize', positive],
    ['ation', 'ate', positive],
    ['ator', 'ate', positive],
    ['alism', 'al', positive],
    ['iveness', 'ive', positive],
    ['fulness', 'ful', positive],
    ['ousness', 'ous', positive],
    ['aliti', 'al', positive],
    ['iviti', 'ive', positive],
    ['biliti', 'ble', positive],
    ['fulli', 'ful', positive],
    // The 'l' stays with the stem for the measure, so short stems (geo-, theo-) qualify.
    ['logi', 'log', () => positive(word.slice(0, -3))],
  ];
  return applyRules(word, rules);
}

function step3(word: string): string {
  return applyRules(word, [
    ['icate', 'ic', positive],
    ['ative', '', positive],
    ['alize', 'al', positive],
    ['iciti', 'ic', positive],
    ['ical', 'ic', positive],
    ['ful', '', positive],
    ['ness', '', positive],
  ]);
}

function step4(word: string): string {
  return applyRules(word, [
    ['al', '', aboveOne],
    ['ance', '', aboveOne],
    ['ence', '', aboveOne],
    ['er', '', aboveOne],
    ['ic', '', aboveOne],
    ['able', '', aboveOne],
    ['ible', '', aboveOne],
    ['ant', '', aboveOne],
    ['ement', '', aboveOne],
    ['ment', '', aboveOne],
    ['ent', '', aboveOne],
    ['ion', '', (stem) => aboveOne(stem) && (stem.endsWith('s') || stem.endsWith('t'))],
    ['ou', '', aboveOne],
    ['ism', '', aboveOne],
    ['ate', '', aboveOne],
    ['iti', '', aboveOne],
    ['ous', '', aboveOne],
    ['ive', '', aboveOne],
    ['ize', '', aboveOne],
  ]);
}

function step5a(word: string): string {
  if (!word.endsWith('e')) return word;
  const stem = word.slice(0, -1);
  const m = measure(stem);
  return m > 1 || (m === 1 && !endsCvc(stem)) ? stem : word;
}

function step5b(word: string): string {
  return applyRules(word, [['ll', 'l', () => measure(word.slice(0, -1)) > 1]]);
}

/** `PorterStemmer().stem(word)` (lowercases first, as NLTK's default `to_lowercase=True`). */
export function porterStem(word: string): string {
  const lower = word.toLowerCase();
  const irregular = POOL.get(word);
  if (irregular !== undefined) return irregular;
  // NLTK checks the length of the word as given, before lowercasing.
  if (letters(word).length <= 2) return lower;
  return step5b(step5a(step4(step3(step2(step1c(step1b(step1a(lower))))))));
}
