// Finding the JSON in a model's reply: small models wrap it in code fences or prose even when asked not
// to. Never throws; returns the first JSON object (or array) found, or why none was.

export type JsonFound = { ok: true; value: unknown } | { ok: false; error: string };

/** At most this many candidate start positions are tried, so a long garbage reply costs little. */
const MAX_CANDIDATES = 32;

function tryParse(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

/**
 * Scans the balanced {...} or [...] starting at `start`, respecting strings, and records the end
 * (exclusive) of every bracket that closes on the way, the outer one's included. `seen` collects each
 * opening bracket passed outside a string before the scan stopped: a later candidate among them has its
 * answer here already (its end, or none when it was still open where the scan stopped), so nested
 * brackets are not scanned again and the whole search stays linear.
 */
function scanBalanced(text: string, start: number, ends: Map<number, number>, seen: Set<number>): void {
  const stack: number[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      stack.push(i);
      seen.add(i);
    } else if (c === '}' || c === ']') {
      const open = stack.pop()!;
      if (text[open] !== (c === '}' ? '{' : '[')) return;
      ends.set(open, i + 1);
      if (stack.length === 0) return;
    }
  }
}

const FENCE = '```';

/**
 * The contents of the ```lang ... ``` blocks, in order: each opening fence pairs with the next fence, as
 * Markdown reads them. One pass of indexOf, so a reply with an unclosed fence costs linear time (a lazy
 * regex over it backtracks quadratically).
 */
function* fencedBlocks(text: string): Generator<string> {
  let open = text.indexOf(FENCE);
  while (open >= 0) {
    let start = open + FENCE.length;
    while (start < text.length && /[a-zA-Z]/.test(text[start]!)) start++;
    const close = text.indexOf(FENCE, start);
    if (close < 0) return;
    yield text.slice(start, close);
    open = text.indexOf(FENCE, close + FENCE.length);
  }
}

export function findJson(raw: string): JsonFound {
  const text = raw.trim();
  if (!text) return { ok: false, error: 'the reply was empty' };
  const whole = tryParse(text);
  if (whole && typeof whole.value === 'object' && whole.value !== null) return { ok: true, value: whole.value };
  // Fenced blocks first (```json ... ```), then any balanced object or array in the prose.
  for (const inside of fencedBlocks(text)) {
    const parsed = tryParse(inside.trim());
    if (parsed && typeof parsed.value === 'object' && parsed.value !== null) return { ok: true, value: parsed.value };
  }
  const ends = new Map<number, number>();
  const seen = new Set<number>();
  let candidates = 0;
  for (let i = 0; i < text.length && candidates < MAX_CANDIDATES; i++) {
    const c = text[i];
    if (c !== '{' && c !== '[') continue;
    candidates++;
    if (!seen.has(i)) scanBalanced(text, i, ends, seen);
    const end = ends.get(i);
    if (end === undefined) continue;
    const parsed = tryParse(text.slice(i, end));
    if (parsed && typeof parsed.value === 'object' && parsed.value !== null) return { ok: true, value: parsed.value };
  }
  return { ok: false, error: 'the reply contained no valid JSON object' };
}
