// Python's string semantics where the reference scorers (NLTK, LoCoMo, Mem0) depend on them, so our scores
// match theirs on any input, not just ASCII: str.split()/strip() whitespace, string.punctuation, and the
// Unicode classes behind `\w` in Python's `re` and in the third-party `regex` module.

/** Characters for which Python's str.isspace() is true (JS `\s` differs: it has U+FEFF, lacks U+001C-U+001F). */
export const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

const SPACE_RUN = new RegExp(`[${PY_SPACE}]+`, 'u');
const EDGE_SPACE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'gu');

/** Python's `s.split()`: split on runs of whitespace, no empty strings. */
export function pySplit(text: string): string[] {
  return text.split(SPACE_RUN).filter((part) => part !== '');
}

/** Python's `s.strip()`. */
export function pyStrip(text: string): string {
  return text.replace(EDGE_SPACE, '');
}

/** Python's `string.punctuation`: the 32 ASCII punctuation characters. */
export const PY_PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

const PUNCTUATION_SET = new Set(PY_PUNCTUATION);

/** `''.join(ch for ch in text if ch not in set(string.punctuation))`. */
export function removePyPunctuation(text: string): string {
  let out = '';
  for (const ch of text) if (!PUNCTUATION_SET.has(ch)) out += ch;
  return out;
}

/** `\w` of Python's `re` on str patterns: str.isalnum() or underscore. */
export const RE_WORD = '[\\p{L}\\p{N}_]';
/** `\w` of the `regex` module (LoCoMo's normaliser): alphabetic, marks, decimal digits, connectors. */
export const REGEX_WORD = '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';

/** `\b` for a given `\w` class, as lookarounds (JS `\b` is ASCII-only). */
export function wordBoundary(word: string): string {
  return `(?:(?<=${word})(?!${word})|(?<!${word})(?=${word}))`;
}
