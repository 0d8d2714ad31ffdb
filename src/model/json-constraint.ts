// JSON-Schema-constrained decoding, our own: an incremental byte-level JSON parser that follows a
// compiled schema (json-schema.ts) and answers, for any prefix, "can this still become a valid
// document?" and "is it a complete one?", and writes the shortest bytes that complete it.
//
// Why bytes: byte-level BPE tokens may end in the middle of a UTF-8 character; working on bytes lets
// such tokens be checked exactly (UTF-8 inside strings is validated, so the output always decodes).
//
// The state is a set of parse stacks (an NFA over stacks), because anyOf alternatives and numbers or
// literals that may or may not continue ("1" vs "12") are ambiguous until later bytes arrive. Stacks
// are immutable linked lists of immutable frames, so trying a candidate token from a state costs a few
// small allocations and never disturbs the state. Every accepted prefix can be completed: each check
// is exact for the subset (object keys must be declared ones unless additionalProperties allows more,
// required keys must be present before "}", enum values match their JSON.stringify text, string
// lengths count UTF-16 units, numbers are checked against their bounds while being written).
//
// To keep outputs short: no whitespace before or after the top-level value, at most `maxWhitespace`
// (default 1) space/newline bytes in each gap between tokens, and numbers with bounds have no exponent.

import { ANY, compileSchema, inBounds, type NumberNode, type ObjectNode, type SchemaNode } from './json-schema';

const Q = 0x22; // "
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;

const encoder = new TextEncoder();
const utf8 = (s: string): Uint8Array => encoder.encode(s);
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;
const isHex = (b: number): boolean => isDigit(b) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);
const WHITESPACE = new Set([0x20, 0x0a]);

const GENERIC_OBJECT: ObjectNode = { kind: 'object', properties: new Map(), required: [], additional: ANY };
const GENERIC_ARRAY: SchemaNode = { kind: 'array', items: ANY, minItems: 0, maxItems: Infinity };
const GENERIC_STRING: SchemaNode = { kind: 'string', minLength: 0, maxLength: Infinity };
const GENERIC_NUMBER: NumberNode = { kind: 'number', integer: false, min: -Infinity, max: Infinity, minExclusive: false, maxExclusive: false };
const BOOLEAN_TEXTS = [utf8('true'), utf8('false')];
const NULL_TEXTS = [utf8('null')];
const ANY_LITERALS: SchemaNode = { kind: 'literal', values: [true, false, null] };

/** Longest integer or fraction part accepted (JSON.stringify writes up to 21 integer digits and 23 fraction digits). */
const MAX_NUMBER_DIGITS = 24;

// ---------------------------------------------------------------------------------------------
// String bodies (values and keys): escapes and UTF-8 validity.

interface Scan {
  /** 0: normal; -1: after a backslash; k > 0: k hex digits of a \u escape still to come. */
  esc: number;
  /** UTF-8 continuation bytes still to come, and the allowed range of the next one. */
  need: number;
  lo: number;
  hi: number;
}
const FRESH: Scan = { esc: 0, need: 0, lo: 0x80, hi: 0xbf };

/** One byte of a string body: the new scan and the UTF-16 units it starts, 'end' for the closing quote, or null. */
function scanByte(s: Scan, b: number): { scan: Scan; units: number } | 'end' | null {
  if (s.need > 0) {
    if (b < s.lo || b > s.hi) return null;
    return { scan: s.need === 1 ? FRESH : { esc: 0, need: s.need - 1, lo: 0x80, hi: 0xbf }, units: 0 };
  }
  if (s.esc === -1) {
    if (b === 0x75) return { scan: { ...FRESH, esc: 4 }, units: 0 }; // \u
    return '"\\/bfnrt'.includes(String.fromCharCode(b)) ? { scan: FRESH, units: 0 } : null;
  }
  if (s.esc > 0) return isHex(b) ? { scan: s.esc === 1 ? FRESH : { ...FRESH, esc: s.esc - 1 }, units: 0 } : null;
  if (b === Q) return 'end';
  if (b === BACKSLASH) return { scan: { ...FRESH, esc: -1 }, units: 1 };
  if (b < 0x20) return null; // control characters must be escaped
  if (b < 0x80) return { scan: FRESH, units: 1 };
  // UTF-8 lead bytes with the exact range of the following byte (no overlongs, surrogates or > U+10FFFF).
  if (b >= 0xc2 && b <= 0xdf) return { scan: { esc: 0, need: 1, lo: 0x80, hi: 0xbf }, units: 1 };
  if (b === 0xe0) return { scan: { esc: 0, need: 2, lo: 0xa0, hi: 0xbf }, units: 1 };
  if (b === 0xed) return { scan: { esc: 0, need: 2, lo: 0x80, hi: 0x9f }, units: 1 };
  if (b >= 0xe1 && b <= 0xef) return { scan: { esc: 0, need: 2, lo: 0x80, hi: 0xbf }, units: 1 };
  if (b === 0xf0) return { scan: { esc: 0, need: 3, lo: 0x90, hi: 0xbf }, units: 2 };
  if (b >= 0xf1 && b <= 0xf3) return { scan: { esc: 0, need: 3, lo: 0x80, hi: 0xbf }, units: 2 };
  if (b === 0xf4) return { scan: { esc: 0, need: 3, lo: 0x80, hi: 0x8f }, units: 2 };
  return null;
}

/** Bytes that end an unfinished escape or UTF-8 sequence (without adding UTF-16 units beyond those counted). */
function finishScan(s: Scan): number[] {
  if (s.need > 0) return [s.lo, ...Array<number>(s.need - 1).fill(0x80)];
  if (s.esc === -1) return [0x6e]; // \n
  if (s.esc > 0) return Array<number>(s.esc).fill(0x30);
  return [];
}

// ---------------------------------------------------------------------------------------------
// Frames

type ObjPhase = 'open' | 'key' | 'colon' | 'value' | 'inValue' | 'after' | 'comma';
type ArrPhase = 'open' | 'inValue' | 'after' | 'comma';

type Frame =
  | { t: 'str'; min: number; max: number; scan: Scan; len: number }
  | { t: 'lit'; cands: readonly Uint8Array[]; pos: number }
  | { t: 'num'; node: NumberNode; text: string }
  | { t: 'obj'; node: ObjectNode; phase: ObjPhase; seen: readonly string[]; ws: number; key: readonly number[]; scan: Scan; child: SchemaNode | null }
  | { t: 'arr'; node: Extract<SchemaNode, { kind: 'array' }>; phase: ArrPhase; count: number; ws: number }
  /** The document itself: before its value ('start'), waiting for it, or after it ('end': nothing may follow). */
  | { t: 'top'; node: SchemaNode; phase: 'start' | 'inValue' | 'end' };

interface Stack {
  readonly frame: Frame;
  readonly parent: Stack | null;
}
/** Opaque parser state: the live parse stacks. */
export interface JsonState {
  readonly paths: readonly Stack[];
}

// What one byte does to a frame: it stays (changed), finishes (pop), or opens a child value.
type Step = { stay: Frame } | { pop: true } | { push: Frame; child: Frame | 'done' };

// ---------------------------------------------------------------------------------------------
// Numbers: grammar position and, with bounds, whether the prefix can still end inside them.

type NumPos = 'start' | 'minus' | 'zero' | 'int' | 'dot' | 'frac' | 'e' | 'esign' | 'exp' | 'bad';

function numPos(text: string): NumPos {
  let pos: NumPos = 'start';
  for (const c of text) {
    const d = c >= '0' && c <= '9';
    switch (pos) {
      case 'start':
        pos = c === '-' ? 'minus' : c === '0' ? 'zero' : d ? 'int' : 'bad';
        break;
      case 'minus':
        pos = c === '0' ? 'zero' : d ? 'int' : 'bad';
        break;
      case 'zero':
        pos = c === '.' ? 'dot' : c === 'e' || c === 'E' ? 'e' : 'bad';
        break;
      case 'int':
        pos = d ? 'int' : c === '.' ? 'dot' : c === 'e' || c === 'E' ? 'e' : 'bad';
        break;
      case 'dot':
      case 'frac':
        pos = d ? 'frac' : pos === 'frac' && (c === 'e' || c === 'E') ? 'e' : 'bad';
        break;
      case 'e':
        pos = c === '+' || c === '-' ? 'esign' : d ? 'exp' : 'bad';
        break;
      case 'esign':
      case 'exp':
        pos = d ? 'exp' : 'bad';
        break;
      case 'bad':
        return 'bad';
    }
  }
  return pos;
}

const NUM_DONE = new Set<NumPos>(['zero', 'int', 'frac', 'exp']);
const bounded = (n: NumberNode): boolean => n.min > -Infinity || n.max < Infinity;

/** Is [a, b] (endpoints included when aIn/bIn) disjoint from the node's bounds? */
function meets(n: NumberNode, a: number, aIn: boolean, b: number, bIn: boolean): boolean {
  let lo = a;
  let loIn = aIn;
  if (n.min > lo || (n.min === lo && n.minExclusive)) [lo, loIn] = [n.min, !n.minExclusive];
  let hi = b;
  let hiIn = bIn;
  if (n.max < hi || (n.max === hi && n.maxExclusive)) [hi, hiIn] = [n.max, !n.maxExclusive];
  return lo < hi || (lo === hi && loIn && hiIn);
}

/** Can a number with this (grammatically valid, exponent-free) prefix still end within the bounds? */
function numViable(n: NumberNode, text: string, pos: NumPos): boolean {
  if (!bounded(n)) return true;
  const neg = text.startsWith('-');
  const body = neg ? text.slice(1) : text;
  // The values reachable from this prefix, as magnitude intervals [a, b) (b exclusive unless integer).
  const mag = (a: number, b: number): boolean => {
    if (n.integer) return neg ? meets(n, -(b - 1), true, -a, true) : meets(n, a, true, b - 1, true);
    return neg ? meets(n, -b, false, -a, true) : meets(n, a, true, b, false);
  };
  if (pos === 'start' || pos === 'minus') return neg ? meets(n, -Infinity, false, 0, true) : true;
  if (pos === 'zero') return mag(0, 1); // 0, or 0.xxx
  if (pos === 'dot' || pos === 'frac') {
    // "5." and "5.2" reach [5, 6) and [5.2, 5.3). The upper end is written as a decimal and parsed, like
    // the values themselves (5.2 + 0.1 in floating point would overshoot 5.3).
    const digits = body.endsWith('.') ? body.slice(0, -1) : body;
    return mag(Number(digits), Number(incrementLastDigit(digits)));
  }
  // 'int': D followed by k more digits (k >= 0), or a fraction.
  const d = Number(body);
  for (let k = 0; k + body.length <= MAX_NUMBER_DIGITS; k++) {
    const scale = 10 ** k;
    if (mag(d * scale, (d + 1) * scale)) return true;
  }
  return false;
}

/** "16.199" → "16.200", "9.99" → "10.00", "7" → "8": the decimal one unit of the last digit higher. */
function incrementLastDigit(digits: string): string {
  const chars = [...digits];
  for (let i = chars.length - 1; i >= 0; i--) {
    if (chars[i] === '.') continue;
    if (chars[i] !== '9') {
      chars[i] = String.fromCharCode(chars[i]!.charCodeAt(0) + 1);
      return chars.join('');
    }
    chars[i] = '0';
  }
  return `1${chars.join('')}`;
}

function numStep(f: Extract<Frame, { t: 'num' }>, b: number): Frame | null {
  const text = f.text + String.fromCharCode(b);
  const pos = numPos(text);
  if (pos === 'bad') return null;
  if (f.node.integer && (pos === 'dot' || pos === 'frac' || pos === 'e' || pos === 'esign' || pos === 'exp')) return null;
  if (bounded(f.node) && (pos === 'e' || pos === 'esign' || pos === 'exp')) return null;
  const [mantissa = '', exponent = ''] = text.toLowerCase().split('e');
  const [whole = '', frac = ''] = mantissa.replace('-', '').split('.');
  if (whole.length > MAX_NUMBER_DIGITS || frac.length > MAX_NUMBER_DIGITS || exponent.replace(/[+-]/, '').length > 3) return null;
  if (!numViable(f.node, text, pos)) return null;
  // An exponent that already overflows only grows: a dead end (JSON.parse would give Infinity).
  if (pos === 'exp' && !Number.isFinite(Number(text))) return null;
  return { t: 'num', node: f.node, text };
}

function numDone(f: Extract<Frame, { t: 'num' }>): boolean {
  return NUM_DONE.has(numPos(f.text)) && Number.isFinite(Number(f.text)) && inBounds(f.node, Number(f.text));
}

// ---------------------------------------------------------------------------------------------
// Starting a value

const literalTexts = new WeakMap<SchemaNode, Uint8Array[]>();
function literalsOf(node: Extract<SchemaNode, { kind: 'literal' }>): Uint8Array[] {
  let texts = literalTexts.get(node);
  if (!texts) {
    texts = node.values.map((v) => utf8(JSON.stringify(v)));
    literalTexts.set(node, texts);
  }
  return texts;
}

function litStep(cands: readonly Uint8Array[], pos: number, b: number): Frame | 'done' | null {
  const next = cands.filter((c) => c[pos] === b);
  if (next.length === 0) return null;
  return next.every((c) => c.length === pos + 1) ? 'done' : { t: 'lit', cands: next, pos: pos + 1 };
}

/** The frames a value of `node` can be in after its first byte `b` ('done' for a one-byte value). */
function begin(node: SchemaNode, b: number): Array<Frame | 'done'> {
  switch (node.kind) {
    case 'any':
      if (b === LBRACE) return begin(GENERIC_OBJECT, b);
      if (b === LBRACKET) return begin(GENERIC_ARRAY, b);
      if (b === Q) return begin(GENERIC_STRING, b);
      if (b === MINUS || isDigit(b)) return begin(GENERIC_NUMBER, b);
      return begin(ANY_LITERALS, b);
    case 'object':
      return b === LBRACE ? [{ t: 'obj', node, phase: 'open', seen: [], ws: 0, key: [], scan: FRESH, child: null }] : [];
    case 'array':
      return b === LBRACKET ? [{ t: 'arr', node, phase: 'open', count: 0, ws: 0 }] : [];
    case 'string':
      return b === Q ? [{ t: 'str', min: node.minLength, max: node.maxLength, scan: FRESH, len: 0 }] : [];
    case 'number': {
      const f = numStep({ t: 'num', node, text: '' }, b);
      return f ? [f] : [];
    }
    case 'boolean':
    case 'null':
    case 'literal': {
      const cands = node.kind === 'boolean' ? BOOLEAN_TEXTS : node.kind === 'null' ? NULL_TEXTS : literalsOf(node);
      const f = litStep(cands, 0, b);
      return f ? [f] : [];
    }
    case 'anyOf':
      return node.options.flatMap((o) => begin(o, b));
  }
}

// ---------------------------------------------------------------------------------------------
// Objects

/** The JSON-encoded body (between the quotes) of each declared name, as bytes. */
const keyBodies = new WeakMap<ObjectNode, Map<string, Uint8Array>>();
function bodiesOf(node: ObjectNode): Map<string, Uint8Array> {
  let m = keyBodies.get(node);
  if (!m) {
    m = new Map([...node.properties.keys()].map((k) => [k, utf8(JSON.stringify(k).slice(1, -1))]));
    keyBodies.set(node, m);
  }
  return m;
}

function startsWith(body: Uint8Array, prefix: readonly number[]): boolean {
  if (prefix.length > body.length) return false;
  for (let i = 0; i < prefix.length; i++) if (body[i] !== prefix[i]) return false;
  return true;
}

const decoder = new TextDecoder();
function keyName(bytes: readonly number[]): string {
  return JSON.parse(`"${decoder.decode(Uint8Array.from(bytes))}"`) as string;
}

function moreKeysPossible(f: Extract<Frame, { t: 'obj' }>): boolean {
  return f.node.additional !== null || f.seen.length < f.node.properties.size;
}

function requiredMet(f: Extract<Frame, { t: 'obj' }>): boolean {
  return f.node.required.every((r) => f.seen.includes(r));
}

function objStep(f: Extract<Frame, { t: 'obj' }>, b: number, maxWs: number): Step[] {
  const ws = WHITESPACE.has(b);
  const gap = (phase: ObjPhase): Step[] => (ws && f.ws < maxWs ? [{ stay: { ...f, phase, ws: f.ws + 1 } }] : []);
  switch (f.phase) {
    case 'open':
    case 'comma':
      if (b === Q && (f.phase === 'comma' || moreKeysPossible(f))) return [{ stay: { ...f, phase: 'key', ws: 0, key: [], scan: FRESH } }];
      if (b === RBRACE && f.phase === 'open' && requiredMet(f)) return [{ pop: true }];
      return gap(f.phase);
    case 'key': {
      const key = [...f.key, b];
      if (f.node.additional === null) {
        // Only declared, not yet used names: match their canonical JSON text byte by byte.
        for (const [name, body] of bodiesOf(f.node)) {
          if (f.seen.includes(name)) continue;
          if (b === Q && body.length === f.key.length && startsWith(body, f.key)) return [{ stay: { ...f, phase: 'colon', seen: [...f.seen, name], key: [], child: f.node.properties.get(name)! } }];
        }
        for (const [name, body] of bodiesOf(f.node)) if (!f.seen.includes(name) && startsWith(body, key)) return [{ stay: { ...f, key } }];
        return [];
      }
      const r = scanByte(f.scan, b);
      if (r === null) return [];
      if (r === 'end') {
        const name = keyName(f.key);
        if (f.seen.includes(name)) return [];
        return [{ stay: { ...f, phase: 'colon', seen: [...f.seen, name], key: [], scan: FRESH, child: f.node.properties.get(name) ?? f.node.additional } }];
      }
      return [{ stay: { ...f, key, scan: r.scan } }];
    }
    case 'colon':
      return b === COLON ? [{ stay: { ...f, phase: 'value', ws: 0 } }] : gap('colon');
    case 'value': {
      const children = begin(f.child!, b);
      if (children.length === 0) return gap('value');
      const parent: Frame = { ...f, phase: 'inValue', ws: 0 };
      return children.map((child) => ({ push: parent, child }));
    }
    case 'after':
      if (b === COMMA && moreKeysPossible(f)) return [{ stay: { ...f, phase: 'comma', ws: 0 } }];
      if (b === RBRACE && requiredMet(f)) return [{ pop: true }];
      return gap('after');
    case 'inValue':
      return [];
  }
}

function arrStep(f: Extract<Frame, { t: 'arr' }>, b: number, maxWs: number): Step[] {
  const gap = (): Step[] => (WHITESPACE.has(b) && f.ws < maxWs ? [{ stay: { ...f, ws: f.ws + 1 } }] : []);
  switch (f.phase) {
    case 'open':
    case 'comma': {
      if (f.phase === 'open' && b === RBRACKET && f.node.minItems === 0) return [{ pop: true }];
      const children = f.count < f.node.maxItems ? begin(f.node.items, b) : [];
      if (children.length === 0) return gap();
      const parent: Frame = { ...f, phase: 'inValue', ws: 0 };
      return children.map((child) => ({ push: parent, child }));
    }
    case 'after':
      if (b === COMMA && f.count < f.node.maxItems) return [{ stay: { ...f, phase: 'comma', ws: 0 } }];
      if (b === RBRACKET && f.count >= f.node.minItems) return [{ pop: true }];
      return gap();
    case 'inValue':
      return [];
  }
}

function step(f: Frame, b: number, maxWs: number): Step[] {
  switch (f.t) {
    case 'str': {
      const r = scanByte(f.scan, b);
      if (r === null) return [];
      if (r === 'end') return f.len >= f.min ? [{ pop: true }] : [];
      if (f.len + r.units > f.max) return [];
      return [{ stay: { ...f, scan: r.scan, len: f.len + r.units } }];
    }
    case 'lit': {
      const r = litStep(f.cands, f.pos, b);
      return r === null ? [] : r === 'done' ? [{ pop: true }] : [{ stay: r }];
    }
    case 'num': {
      const r = numStep(f, b);
      return r ? [{ stay: r }] : [];
    }
    case 'obj':
      return objStep(f, b, maxWs);
    case 'arr':
      return arrStep(f, b, maxWs);
    case 'top':
      if (f.phase !== 'start') return [];
      const waiting: Frame = { ...f, phase: 'inValue' };
      return begin(f.node, b).map((child) => ({ push: waiting, child }));
  }
}

/** Is the frame's value finished while it could still go on ("12" → "123", enum [1, 12] at "1")? */
function doneButOpen(f: Frame): boolean {
  if (f.t === 'num') return numDone(f);
  if (f.t === 'lit') return f.cands.some((c) => c.length === f.pos);
  return false;
}

/** A container after its child value finished. */
function childDone(f: Frame): Frame {
  if (f.t === 'obj') return { ...f, phase: 'after', ws: 0, child: null };
  if (f.t === 'arr') return { ...f, phase: 'after', ws: 0, count: f.count + 1 };
  if (f.t === 'top') return { ...f, phase: 'end' };
  throw new Error('json-constraint: a value finished inside a non-container');
}

// Parents shared by sibling stacks pop to the same object, so duplicate alternatives merge (a Set
// dedupes them) instead of doubling with every array element.
const popped = new WeakMap<Stack, Stack>();
function popInto(parent: Stack | null): Stack {
  if (parent === null) throw new Error('json-constraint: the document frame never finishes');
  let s = popped.get(parent);
  if (!s) {
    s = { frame: childDone(parent.frame), parent: parent.parent };
    popped.set(parent, s);
  }
  return s;
}

function advancePath(p: Stack, b: number, maxWs: number, out: Set<Stack>): void {
  const parents = new Map<Frame, Stack>(); // children of one push share their parent stack
  for (const s of step(p.frame, b, maxWs)) {
    if ('stay' in s) out.add({ frame: s.stay, parent: p.parent });
    else if ('pop' in s) out.add(popInto(p.parent));
    else {
      let parent = parents.get(s.push);
      if (!parent) parents.set(s.push, (parent = { frame: s.push, parent: p.parent }));
      out.add(s.child === 'done' ? popInto(parent) : { frame: s.child, parent });
    }
  }
  // A finished number/literal that could go on may also end here: the byte then belongs to the parent.
  if (doneButOpen(p.frame)) advancePath(popInto(p.parent), b, maxWs, out);
}

// ---------------------------------------------------------------------------------------------
// Shortest completion

function shortestValue(node: SchemaNode): number[] {
  switch (node.kind) {
    case 'any':
      return [0x30]; // 0
    case 'object':
      return [LBRACE, ...requiredRest({ t: 'obj', node, phase: 'open', seen: [], ws: 0, key: [], scan: FRESH, child: null }, true), RBRACE];
    case 'array': {
      const item = node.minItems > 0 ? shortestValue(node.items) : [];
      const items: number[] = [];
      for (let i = 0; i < node.minItems; i++) items.push(...(i > 0 ? [COMMA] : []), ...item);
      return [LBRACKET, ...items, RBRACKET];
    }
    case 'string':
      return [Q, ...Array<number>(node.minLength).fill(0x61), Q];
    case 'number':
      return [...finishNumber({ t: 'num', node, text: '' })];
    case 'boolean':
      return [...utf8('true')];
    case 'null':
      return [...utf8('null')];
    case 'literal':
      return [...shortestOf(literalsOf(node))];
    case 'anyOf':
      return node.options.map(shortestValue).reduce((a, b) => (b.length < a.length ? b : a));
  }
}

function shortestOf(cands: readonly Uint8Array[]): Uint8Array {
  return cands.reduce((a, b) => (b.length < a.length ? b : a));
}

/** `"name":value` for each required name not yet seen, comma-separated (a leading comma unless `first`). */
function requiredRest(f: Extract<Frame, { t: 'obj' }>, first: boolean): number[] {
  const out: number[] = [];
  for (const name of f.node.required) {
    if (f.seen.includes(name)) continue;
    if (!first || out.length > 0) out.push(COMMA);
    out.push(...utf8(JSON.stringify(name)), COLON, ...shortestValue(f.node.properties.get(name) ?? f.node.additional!));
  }
  return out;
}

/** Greedy digits: take a byte that finishes the number in bounds, else the first that keeps it viable. */
function finishNumber(f: Extract<Frame, { t: 'num' }>): number[] {
  const out: number[] = [];
  let cur = f;
  const order = [...utf8('0123456789-.')];
  for (let i = 0; i < 64 && !numDone(cur); i++) {
    const nexts = order.map((b) => [b, numStep(cur, b)] as const).filter((x): x is readonly [number, Extract<Frame, { t: 'num' }>] => x[1] !== null);
    const pick = nexts.find(([, n]) => numDone(n)) ?? nexts[0];
    if (!pick) break;
    out.push(pick[0]);
    cur = pick[1];
  }
  if (!numDone(cur)) throw new Error(`json-constraint: cannot finish the number "${cur.text}"`);
  return out;
}

/** A fresh key name for objects with additionalProperties (not declared, not used). */
function freshKey(f: Extract<Frame, { t: 'obj' }>): string {
  let name = 'a';
  while (f.seen.includes(name) || f.node.properties.has(name)) name += 'a';
  return name;
}

function finishFrame(f: Frame): number[] {
  switch (f.t) {
    case 'str': {
      const tail = finishScan(f.scan);
      return [...tail, ...Array<number>(Math.max(0, f.min - f.len)).fill(0x61), Q];
    }
    case 'lit': {
      return [...shortestOf(f.cands.filter((c) => c.length >= f.pos)).subarray(f.pos)];
    }
    case 'num':
      return finishNumber(f);
    case 'arr': {
      if (f.phase === 'open' && f.node.minItems === 0) return [RBRACKET];
      const item = shortestValue(f.node.items);
      const out: number[] = [];
      let count = f.count;
      if (f.phase === 'open' || f.phase === 'comma') {
        out.push(...item);
        count++;
      }
      for (; count < f.node.minItems; count++) out.push(COMMA, ...item);
      return [...out, RBRACKET];
    }
    case 'obj': {
      switch (f.phase) {
        case 'open':
          return [...requiredRest(f, true), RBRACE];
        case 'after':
          return [...requiredRest(f, false), RBRACE];
        case 'comma': {
          // A key must follow: a missing required one, else any unused declared one, else a fresh one.
          const unseen = [...f.node.properties.keys()].filter((k) => !f.seen.includes(k));
          const name = f.node.required.find((r) => !f.seen.includes(r)) ?? unseen[0] ?? freshKey(f);
          const value = shortestValue(f.node.properties.get(name) ?? f.node.additional!);
          const next = { ...f, seen: [...f.seen, name] };
          return [...utf8(JSON.stringify(name)), COLON, ...value, ...requiredRest(next, false), RBRACE];
        }
        case 'key': {
          let name: string;
          let rest: number[];
          if (f.node.additional === null) {
            const matches = [...bodiesOf(f.node)].filter(([n, body]) => !f.seen.includes(n) && startsWith(body, f.key));
            const [n, body] = matches.reduce((a, b) => (b[1].length < a[1].length ? b : a));
            name = n;
            rest = [...body.subarray(f.key.length)];
          } else {
            rest = finishScan(f.scan);
            name = keyName([...f.key, ...rest]);
            while (f.seen.includes(name)) {
              rest.push(0x61);
              name = keyName([...f.key, ...rest]);
            }
          }
          const value = shortestValue(f.node.properties.get(name) ?? f.node.additional!);
          return [...rest, Q, COLON, ...value, ...requiredRest({ ...f, seen: [...f.seen, name] }, false), RBRACE];
        }
        case 'colon':
        case 'value':
          return [...(f.phase === 'colon' ? [COLON] : []), ...shortestValue(f.child!), ...requiredRest(f, false), RBRACE];
        case 'inValue':
          throw new Error('json-constraint: a container waiting for its child is never on top');
      }
    }
    case 'top':
      if (f.phase === 'inValue') throw new Error('json-constraint: a container waiting for its child is never on top');
      return f.phase === 'start' ? shortestValue(f.node) : [];
  }
}

function completePath(p: Stack): number[] {
  const out = finishFrame(p.frame);
  for (let s = p.parent; s !== null; s = s.parent) out.push(...finishFrame(childDone(s.frame)));
  return out;
}

// ---------------------------------------------------------------------------------------------

export interface JsonConstraintOptions {
  /** Most space/newline bytes allowed in a row between two tokens (default 1; 0 = compact JSON only). */
  maxWhitespace?: number;
}

/** A JSON Schema (subset, see json-schema.ts) as an incremental byte-level acceptor. */
export class JsonConstraint {
  readonly root: SchemaNode;
  readonly initial: JsonState;
  private readonly maxWs: number;

  constructor(schema: unknown, options: JsonConstraintOptions = {}) {
    this.root = compileSchema(schema);
    this.maxWs = options.maxWhitespace ?? 1;
    this.initial = { paths: [{ frame: { t: 'top', node: this.root, phase: 'start' }, parent: null }] };
  }

  /** The state after these bytes, or null when no valid document starts this way. */
  advance(state: JsonState, bytes: Uint8Array | readonly number[] | string): JsonState | null {
    const input = typeof bytes === 'string' ? utf8(bytes) : bytes;
    let paths: readonly Stack[] = state.paths;
    for (let i = 0; i < input.length; i++) {
      const next = new Set<Stack>();
      for (const p of paths) advancePath(p, input[i]!, this.maxWs, next);
      if (next.size === 0) return null;
      paths = [...next];
    }
    return { paths };
  }

  /** Is the text so far a whole document that matches the schema? */
  isComplete(state: JsonState): boolean {
    return state.paths.some((p) => this.topFinished(p));
  }

  /** May more bytes follow? (False once the value is closed; true for e.g. a top-level "12".) */
  canContinue(state: JsonState): boolean {
    return state.paths.some((p) => p.frame.t !== 'top');
  }

  /** The shortest bytes that turn the state into a complete document (empty when it already is). */
  completion(state: JsonState): Uint8Array {
    if (this.isComplete(state)) return new Uint8Array(0);
    let best: number[] | null = null;
    for (const p of state.paths) {
      const c = completePath(p);
      if (best === null || c.length < best.length) best = c;
    }
    if (best === null) throw new Error('json-constraint: empty state');
    return Uint8Array.from(best);
  }

  /** Convenience: is `text` a prefix of some valid document? */
  acceptsPrefix(text: string): boolean {
    return this.advance(this.initial, text) !== null;
  }

  /** Convenience: is `text` a complete valid document? */
  accepts(text: string): boolean {
    const s = this.advance(this.initial, text);
    return s !== null && this.isComplete(s);
  }

  private topFinished(p: Stack): boolean {
    if (p.frame.t === 'top') return p.frame.phase === 'end';
    return p.parent?.frame.t === 'top' && doneButOpen(p.frame);
  }
}
