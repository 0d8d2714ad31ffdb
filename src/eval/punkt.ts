// Sentence splitting as `nltk.sent_tokenize` does it (Punkt, NLTK 3.8), which `word_tokenize` runs before the
// word tokenizer: it decides whether a mid-text period is split off ("home. she" → "home" "." "she") or kept
// ("home." would stay one token without it).
//
// Ours ports Punkt's decision procedure (candidate contexts, the first and second annotation passes, the
// realignment of closing quotes) but not the trained English model, which is a data download (punkt /
// punkt_tab) we cannot ship. In its place: no collocations, no orthographic statistics (a word is treated as
// never seen), and a short list of abbreviations the English model is known to contain. What this changes
// for lowercased answer text: a period after a word outside our list that the model knows as an
// abbreviation ("etc.", "approx.") splits here and may not in NLTK. Numbers and single-letter initials
// before a lowercase word behave as in NLTK (no split). Verified against NLTK's PunktSentenceTokenizer with
// the same parameters (see punkt.test.ts).
import { PY_SPACE, pyStrip, RE_WORD } from './pytext';

/** Abbreviation types (lowercase, without the final period) treated as known to the model. */
export const DEFAULT_ABBREVIATIONS: ReadonlySet<string> = new Set(['mr', 'mrs', 'ms', 'dr', 'st', 'jr', 'sr', 'u.s', 'inc', 'corp', 'co', 'ltd']);

const S = `[${PY_SPACE}]`;
const NS = `[^${PY_SPACE}]`;
const NON_WORD = `[)";}\\]*:@'({\\[?!]`;
const MULTI_CHAR = `(?:-{2,}|\\.{2,}|(?:\\.${S}){2,}\\.)`;
const WORD_START = '[^("`{\\[:;&#*@)}\\]\\-,]';
const WORD_TOKEN = new RegExp(
  `${MULTI_CHAR}|(?=${WORD_START})${NS}+?(?=${S}|$|${NON_WORD}|${MULTI_CHAR}|,(?=$|${S}|${NON_WORD}|${MULTI_CHAR}))|${NS}`,
  'gu',
);
const PERIOD_CONTEXT = new RegExp(`[.?!](?=(?<after>${NON_WORD}|${S}+(?<next>${NS}+)))`, 'gdu');
const BOUNDARY_REALIGNMENT = new RegExp(`^["')\\]}]+?(?:${S}+|(?=--)|(?=\\n|(?![\\s\\S])))`, 'u');
const NUMERIC = /^-?[.,]?\p{Nd}[\p{Nd},.-]*\.?$/u;
const ELLIPSIS = /^\.\.+$/u;
const INITIAL = new RegExp(`^(?:(?!\\p{Nd})${RE_WORD})\\.$`, 'u');
const ASCII_SPACE = new Set([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
const SENTENCE_PUNCTUATION = new Set([';', ':', ',', '.', '!', '?']);

interface Token {
  tok: string;
  type: string;
  periodFinal: boolean;
  sentbreak: boolean;
  abbr: boolean;
  ellipsis: boolean;
}

function makeToken(tok: string): Token {
  const type = NUMERIC.test(tok.toLowerCase()) ? '##number##' : tok.toLowerCase();
  return { tok, type, periodFinal: tok.endsWith('.'), sentbreak: false, abbr: false, ellipsis: false };
}

const typeNoPeriod = (t: Token) => (t.type.length > 1 && t.type.endsWith('.') ? t.type.slice(0, -1) : t.type);
const firstChar = (t: Token) => String.fromCodePoint(t.tok.codePointAt(0) ?? 0);
const firstUpper = (t: Token) => /^\p{Uppercase}/u.test(firstChar(t));
const firstLower = (t: Token) => /^\p{Lowercase}/u.test(firstChar(t));

/** Punkt's orthographic heuristic with no statistics: a lowercase word never starts a sentence. */
function orthoHeuristic(t: Token): boolean | 'unknown' {
  if (SENTENCE_PUNCTUATION.has(t.tok)) return false;
  if (firstLower(t)) return false;
  return 'unknown';
}

function firstPass(t: Token, abbreviations: ReadonlySet<string>): void {
  if (t.tok === '.' || t.tok === '?' || t.tok === '!') t.sentbreak = true;
  else if (ELLIPSIS.test(t.tok)) t.ellipsis = true;
  else if (t.periodFinal && !t.tok.endsWith('..')) {
    const stem = t.tok.slice(0, -1).toLowerCase();
    if (abbreviations.has(stem) || abbreviations.has(stem.split('-').at(-1) ?? '')) t.abbr = true;
    else t.sentbreak = true;
  }
}

function secondPass(t: Token, next: Token | undefined): void {
  if (!next || !t.periodFinal) return;
  const isInitial = INITIAL.test(t.tok);
  // (Abbreviation/ellipsis followed by a sentence starter: needs the model's statistics, never fires here.)
  if (isInitial || typeNoPeriod(t) === '##number##') {
    const starter = orthoHeuristic(next);
    // A number or initial before a word that does not start a sentence ("may 8. she") is not a break;
    // nor is an initial before a capitalised word the model has never seen lowercase ("J. Bach").
    if (starter === false || (starter === 'unknown' && isInitial && firstUpper(next))) {
      t.sentbreak = false;
      t.abbr = true;
    }
  }
}

function punktWords(text: string): Token[] {
  return text.split('\n').flatMap((line) => (pyStrip(line) ? [...line.matchAll(WORD_TOKEN)].map((m) => makeToken(m[0])) : []));
}

function containsSentbreak(context: string, abbreviations: ReadonlySet<string>): boolean {
  const tokens = punktWords(context);
  tokens.forEach((t) => firstPass(t, abbreviations));
  tokens.forEach((t, i) => secondPass(t, tokens[i + 1]));
  return tokens.slice(0, -1).some((t) => t.sentbreak);
}

function lastAsciiSpace(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (ASCII_SPACE.has(text[i] ?? '')) return i;
  return 0; // as NLTK: "at index 0" and "none" are the same answer
}

type Span = [number, number];

function* sentenceSpans(text: string, abbreviations: ReadonlySet<string>): Generator<Span> {
  // Each potential end (. ? !) with the word before it; a run like "!!!" counts once, at its last mark.
  let previous: { match: RegExpExecArray; slice: Span } | undefined;
  const contexts: { match: RegExpExecArray; context: string }[] = [];
  const contextOf = (p: { match: RegExpExecArray; slice: Span }) => text.slice(...p.slice) + p.match[0] + (p.match.groups?.after ?? '');
  for (const match of text.matchAll(PERIOD_CONTEXT)) {
    const previousSlice: Span = previous?.slice ?? [0, 0];
    const before = text.slice(previousSlice[1], match.index);
    const space = lastAsciiSpace(before);
    const start = space ? space + previousSlice[1] + 1 : previousSlice[0];
    if (previous && previousSlice[1] <= start) contexts.push({ match: previous.match, context: contextOf(previous) });
    previous = { match, slice: [start, match.index] };
  }
  if (previous) contexts.push({ match: previous.match, context: contextOf(previous) });

  let lastBreak = 0;
  for (const { match, context } of contexts) {
    if (!containsSentbreak(context, abbreviations)) continue;
    const end = match.index + match[0].length;
    yield [lastBreak, end];
    lastBreak = match.groups?.next !== undefined ? (match.indices?.groups?.next?.[0] ?? end) : end;
  }
  yield [lastBreak, text.replace(new RegExp(`${S}+$`, 'u'), '').length];
}

/** `sent_tokenize(text)` with our parameters (see the file comment). */
export function splitSentences(text: string, abbreviations: ReadonlySet<string> = DEFAULT_ABBREVIATIONS): string[] {
  const spans = [...sentenceSpans(text, abbreviations)];
  const sentences: string[] = [];
  let realign = 0;
  spans.forEach(([start, stop], i) => {
    const from = start + realign;
    const following = spans[i + 1];
    if (!following) {
      if (stop > from) sentences.push(text.slice(from, stop));
      return;
    }
    // Closing quotes/brackets after the break belong to the sentence before it.
    const moved = BOUNDARY_REALIGNMENT.exec(text.slice(following[0], following[1]));
    if (moved) {
      sentences.push(text.slice(from, following[0] + moved[0].replace(new RegExp(`${S}+$`, 'u'), '').length));
      realign = moved[0].length;
    } else {
      realign = 0;
      if (stop > from) sentences.push(text.slice(from, stop));
    }
  });
  return sentences;
}
