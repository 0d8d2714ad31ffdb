/** A moment as the reader's locale writes it ("3 Dec 2026, 10:04"), machine-readable in `dateTime`. */
export function Time({ at }: { at: number }) {
  const date = new Date(at);
  return <time dateTime={date.toISOString()}>{date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}</time>;
}
