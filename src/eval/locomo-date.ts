// LoCoMo session timestamps, e.g. "1:56 pm on 8 May, 2023": a wall-clock time with no time zone.

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];
const PATTERN = /^\s*(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([a-z]+),?\s+(\d{4})\s*$/i;

export interface LocomoDate {
  /** The text as written in the file. */
  text: string;
  /** ISO 8601 local date-time without zone, e.g. "2023-05-08T13:56:00" (the file gives no zone). */
  iso: string;
  /** The same wall-clock time read as UTC, for ordering and arithmetic. */
  date: Date;
}

/** Parses "h:mm am|pm on D Month, YYYY"; undefined when the text does not have that form or is no real date. */
export function parseLocomoDate(text: string): LocomoDate | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const [, h, min, meridiem, day, monthName, year] = m;
  const month = MONTHS.indexOf((monthName ?? '').toLowerCase());
  const hour12 = Number(h);
  const minute = Number(min);
  if (month < 0 || hour12 < 1 || hour12 > 12 || minute > 59) return undefined;
  const hour = (hour12 % 12) + ((meridiem ?? '').toLowerCase() === 'pm' ? 12 : 0);
  const date = new Date(Date.UTC(2000, month, Number(day), hour, minute));
  date.setUTCFullYear(Number(year)); // Date.UTC would read years 0-99 as 1900-1999
  if (date.getUTCDate() !== Number(day)) return undefined; // 31 April and the like
  return { text, iso: date.toISOString().slice(0, 19), date };
}
