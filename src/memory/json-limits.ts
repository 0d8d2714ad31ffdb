// Checks on JSON values of untrusted shape (an imported file, a model's raw operation): depth, size and
// keys that could pollute prototypes. Iterative, with an explicit stack: a value nested 200,000 levels
// deep is measured, not recursed into (which would overflow the call stack).

export interface JsonLimits {
  /** Deepest nesting allowed (a scalar is depth 0, `[1]` depth 1). */
  maxDepth: number;
  /** Largest size allowed, in characters of strings and keys plus one per value. */
  maxChars?: number;
  /** Keys refused wherever they appear. */
  forbiddenKeys?: ReadonlySet<string>;
  /** Stop after this many problems. */
  maxProblems?: number;
}

export const PROTOTYPE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

const childPath = (path: string, key: string, array: boolean) => (array ? `${path}[${key}]` : `${path}.${key}`);

export interface JsonProblem {
  /** Where, from `root` ("$.a[2].b"). */
  path: string;
  message: string;
}

/** What is wrong with `value` under `limits`, in document order, at most `maxProblems`. */
export function jsonProblems(value: unknown, limits: JsonLimits, root = '$'): JsonProblem[] {
  const problems: JsonProblem[] = [];
  const maxProblems = limits.maxProblems ?? 20;
  const maxChars = limits.maxChars ?? Infinity;
  let chars = 0;
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: root, depth: 0 }];
  while (stack.length && problems.length < maxProblems) {
    const node = stack.pop()!;
    chars += typeof node.value === 'string' ? node.value.length + 1 : 1;
    if (chars > maxChars) {
      problems.push({ path: root, message: `larger than ${maxChars} characters` });
      break;
    }
    if (node.value === null || typeof node.value !== 'object') continue;
    if (node.depth >= limits.maxDepth) {
      problems.push({ path: node.path, message: `nested deeper than ${limits.maxDepth} levels` });
      break;
    }
    const array = Array.isArray(node.value);
    const keys = Object.keys(node.value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      const path = childPath(node.path, key, array);
      chars += array ? 0 : key.length;
      if (limits.forbiddenKeys?.has(key)) {
        problems.push({ path, message: `the key "${key}" is not allowed` });
        if (problems.length >= maxProblems) break;
        continue;
      }
      stack.push({ value: (node.value as Record<string, unknown>)[key], path, depth: node.depth + 1 });
    }
  }
  return problems;
}
