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

/** The end (exclusive) of the balanced {...} or [...] starting at `start`, respecting strings; -1 if none. */
function balancedEnd(text: string, start: number): number {
  const stack: string[] = [];
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') stack.push('}');
    else if (c === '[') stack.push(']');
    else if (c === '}' || c === ']') {
      if (stack.pop() !== c) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}

export function findJson(raw: string): JsonFound {
  const text = raw.trim();
  if (!text) return { ok: false, error: 'the reply was empty' };
  const whole = tryParse(text);
  if (whole && typeof whole.value === 'object' && whole.value !== null) return { ok: true, value: whole.value };
  // Fenced blocks first (```json ... ```), then any balanced object or array in the prose.
  for (const fence of text.matchAll(/```[a-zA-Z]*\s*([\s\S]*?)```/g)) {
    const inside = tryParse(fence[1]!.trim());
    if (inside && typeof inside.value === 'object' && inside.value !== null) return { ok: true, value: inside.value };
  }
  let candidates = 0;
  for (let i = 0; i < text.length && candidates < MAX_CANDIDATES; i++) {
    const c = text[i];
    if (c !== '{' && c !== '[') continue;
    candidates++;
    const end = balancedEnd(text, i);
    if (end < 0) continue;
    const parsed = tryParse(text.slice(i, end));
    if (parsed && typeof parsed.value === 'object' && parsed.value !== null) return { ok: true, value: parsed.value };
  }
  return { ok: false, error: 'the reply contained no valid JSON object' };
}
