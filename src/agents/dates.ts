// Relative dates in a turn ("yesterday", "last week") resolved against the session date. The extraction
// prompt gives the model both the session date and these resolutions, so a fact stored weeks later still
// says when things happened; this module is deterministic so tests can check the resolutions exactly.

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const NUMBER_WORDS: Record<string, number> = { a: 1, an: 1, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12 };
const DAY_MS = 86_400_000;

function monthIndex(name: string): number {
  const prefix = name.slice(0, 3).toLowerCase();
  return MONTHS.findIndex((month) => month.slice(0, 3).toLowerCase() === prefix);
}

function utcDate(year: number, month: number, day: number): Date | undefined {
  const date = new Date(Date.UTC(year, month, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month && date.getUTCDate() === day ? date : undefined;
}

/**
 * Reads a session date as people and datasets write it: "2023-05-08", "8 May 2023", "8 May, 2023",
 * "May 8, 2023", LoCoMo's "1:56 pm on 8 May, 2023". Returns a UTC midnight, or undefined if unreadable.
 */
export function parseSessionDate(text: string): Date | undefined {
  const value = text.trim();
  let match = /(\d{4})-(\d{1,2})-(\d{1,2})/.exec(value);
  if (match) return utcDate(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  match = /(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})/.exec(value);
  if (match && monthIndex(match[2]!) >= 0) return utcDate(Number(match[3]), monthIndex(match[2]!), Number(match[1]));
  match = /([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})/.exec(value);
  if (match && monthIndex(match[1]!) >= 0) return utcDate(Number(match[3]), monthIndex(match[1]!), Number(match[2]));
  return undefined;
}

/** "7 May 2023": unambiguous in every locale, and the form LoCoMo's answers use. */
export function formatDate(date: Date): string {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

function monthName(date: Date, offset: number): string {
  const shifted = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
  return `${MONTHS[shifted.getUTCMonth()]} ${shifted.getUTCFullYear()}`;
}

function count(word: string): number | undefined {
  const lower = word.toLowerCase();
  if (/^\d+$/.test(lower)) return Number(lower);
  return NUMBER_WORDS[lower];
}

/** The phrases resolved below, longest alternatives first so "the day before yesterday" wins over "yesterday". */
const PHRASE = new RegExp(
  [
    'the day before yesterday',
    'the day after tomorrow',
    'yesterday',
    'today',
    'tonight',
    'tomorrow',
    '(?:last|next|this) (?:week(?:end)?|month|year)',
    `last (?:${WEEKDAYS.join('|')})`,
    `(?:\\d+|${Object.keys(NUMBER_WORDS).join('|')}) (?:days?|weeks?|months?|years?) ago`,
  ].join('|'),
  'gi',
);

/**
 * What a relative expression means on the session date, e.g. ("yesterday", 8 May 2023) → "7 May 2023",
 * ("last week", 8 May 2023) → "the week before 8 May 2023", ("last year", ...) → "2022". Undefined for
 * an expression it does not know.
 */
export function resolveRelativeDate(phrase: string, session: Date): string | undefined {
  const p = phrase.trim().toLowerCase().replace(/\s+/g, ' ');
  const year = session.getUTCFullYear();
  switch (p) {
    case 'today':
    case 'tonight':
      return formatDate(session);
    case 'yesterday':
      return formatDate(addDays(session, -1));
    case 'the day before yesterday':
      return formatDate(addDays(session, -2));
    case 'tomorrow':
      return formatDate(addDays(session, 1));
    case 'the day after tomorrow':
      return formatDate(addDays(session, 2));
    case 'last week':
      return `the week before ${formatDate(session)}`;
    case 'this week':
      return `the week of ${formatDate(session)}`;
    case 'next week':
      return `the week after ${formatDate(session)}`;
    case 'last weekend':
      return `the weekend before ${formatDate(session)}`;
    case 'this weekend':
      return `the weekend of ${formatDate(session)}`;
    case 'next weekend':
      return `the weekend after ${formatDate(session)}`;
    case 'last month':
      return monthName(session, -1);
    case 'this month':
      return monthName(session, 0);
    case 'next month':
      return monthName(session, 1);
    case 'last year':
      return String(year - 1);
    case 'this year':
      return String(year);
    case 'next year':
      return String(year + 1);
  }
  const weekday = /^last (\w+)$/.exec(p);
  if (weekday && WEEKDAYS.includes(weekday[1]!)) {
    // The most recent such day strictly before the session day.
    const back = ((session.getUTCDay() - WEEKDAYS.indexOf(weekday[1]!) + 7) % 7) || 7;
    return formatDate(addDays(session, -back));
  }
  const ago = /^(\w+) (day|week|month|year)s? ago$/.exec(p);
  const n = ago ? count(ago[1]!) : undefined;
  if (ago && n !== undefined) {
    switch (ago[2]) {
      case 'day':
        return formatDate(addDays(session, -n));
      case 'week':
        return `the week of ${formatDate(addDays(session, -7 * n))}`;
      case 'month':
        return monthName(session, -n);
      case 'year':
        return String(year - n);
    }
  }
  return undefined;
}

export interface ResolvedDate {
  phrase: string;
  resolved: string;
}

/** Every relative expression in `text` that `resolveRelativeDate` knows, once each, in order of appearance. */
export function findRelativeDates(text: string, session: Date): ResolvedDate[] {
  const seen = new Set<string>();
  const found: ResolvedDate[] = [];
  for (const match of text.matchAll(PHRASE)) {
    const phrase = match[0];
    const key = phrase.toLowerCase();
    // Whole words only: "today" inside "todays" or "a day ago" inside "Ada day ago" must not match.
    const before = text[match.index - 1];
    const after = text[match.index + phrase.length];
    if ((before && /\w/.test(before)) || (after && /\w/.test(after)) || seen.has(key)) continue;
    const resolved = resolveRelativeDate(phrase, session);
    if (resolved === undefined) continue;
    seen.add(key);
    found.push({ phrase, resolved });
  }
  return found;
}
