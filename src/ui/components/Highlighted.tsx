import { matchRanges } from '../../memory';

/** `text` with the words a search for `query` matches in <mark>; text nodes only, so nothing is markup. */
export function Highlighted({ text, query }: { text: string; query: string }) {
  const ranges = query.trim() ? matchRanges(text, query) : [];
  if (ranges.length === 0) return <>{text}</>;
  const parts: (string | { mark: string })[] = [];
  let at = 0;
  for (const [from, to] of ranges) {
    if (from > at) parts.push(text.slice(at, from));
    parts.push({ mark: text.slice(from, to) });
    at = to;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <>{parts.map((part, i) => (typeof part === 'string' ? part : <mark key={i}>{part.mark}</mark>))}</>;
}
