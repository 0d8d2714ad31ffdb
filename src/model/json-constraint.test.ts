import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MANAGER_JSON_SCHEMA } from '../agents/schemas';
import { instanceArb, schemaArb, validRaw, type RawSchema } from './json-arbitraries';
import { JsonConstraint, type JsonState } from './json-constraint';
import { SchemaError } from './json-schema';

const enc = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** Feeds bytes one at a time, failing on the first rejected byte. */
function feed(c: JsonConstraint, bytes: Uint8Array, from: JsonState = c.initial): JsonState {
  let s = from;
  for (let i = 0; i < bytes.length; i++) {
    const next = c.advance(s, [bytes[i]!]);
    if (!next) throw new Error(`rejected byte ${i} (${JSON.stringify(strictDecoder.decode(bytes.subarray(0, i + 1), { stream: true }))})`);
    s = next;
  }
  return s;
}

/** The text of prefix + its forced completion, checked to be a complete, parseable, matching document. */
function completeAndCheck(c: JsonConstraint, schema: RawSchema, prefix: Uint8Array): unknown {
  const state = c.advance(c.initial, prefix);
  expect(state).not.toBeNull();
  const tail = c.completion(state!);
  const whole = new Uint8Array([...prefix, ...tail]);
  expect(c.isComplete(feed(c, tail, state!))).toBe(true);
  const value: unknown = JSON.parse(strictDecoder.decode(whole));
  expect(validRaw(schema, value)).toBe(true);
  return value;
}

const schemaAndInstance = schemaArb(3).chain((schema) => fc.tuple(fc.constant(schema), instanceArb(schema)));

describe('JsonConstraint (property-based)', () => {
  it('accepts every byte prefix of JSON.stringify(instance) and completes on the whole', () => {
    fc.assert(
      fc.property(schemaAndInstance, ([schema, instance]) => {
        expect(validRaw(schema, instance)).toBe(true); // the generator's own sanity
        const c = new JsonConstraint(schema);
        const bytes = enc.encode(JSON.stringify(instance));
        const end = feed(c, bytes);
        expect(c.isComplete(end)).toBe(true);
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('completes any accepted prefix into a valid document', () => {
    fc.assert(
      fc.property(schemaAndInstance, fc.nat(), ([schema, instance], cut) => {
        const c = new JsonConstraint(schema);
        const bytes = enc.encode(JSON.stringify(instance));
        completeAndCheck(c, schema, bytes.subarray(0, cut % (bytes.length + 1)));
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('rejects mutations that JSON.parse or the schema would reject', () => {
    const mutation = fc.record({ kind: fc.constantFrom('insert', 'delete', 'replace'), at: fc.nat(), byte: fc.oneof(fc.constantFrom(...enc.encode('{}[]",:-.0123456789eEtfn \\\n\t')), fc.integer({ min: 0, max: 255 })) });
    fc.assert(
      fc.property(schemaAndInstance, fc.array(mutation, { minLength: 1, maxLength: 3 }), ([schema, instance], mutations) => {
        const c = new JsonConstraint(schema);
        const bytes = [...enc.encode(JSON.stringify(instance))];
        for (const m of mutations) {
          const at = m.at % (bytes.length + (m.kind === 'insert' ? 1 : 0) || 1);
          if (m.kind === 'insert') bytes.splice(at, 0, m.byte);
          else if (m.kind === 'delete') bytes.splice(at, 1);
          else bytes[at] = m.byte;
        }
        const mutated = Uint8Array.from(bytes);
        const state = c.advance(c.initial, mutated);
        if (state === null) return; // rejected: fine whatever it was
        if (c.isComplete(state)) {
          // Accepted as a whole document: it must really be one.
          expect(validRaw(schema, JSON.parse(strictDecoder.decode(mutated)))).toBe(true);
        } else {
          completeAndCheck(c, schema, mutated); // accepted as a prefix: it must really be one
        }
      }),
      { numRuns: 500 },
    );
  }, 30_000);

  it('never reaches a dead end: random walks over accepted bytes always complete', () => {
    fc.assert(
      fc.property(schemaArb(3), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), (schema, choices) => {
        const c = new JsonConstraint(schema);
        let state = c.initial;
        const taken: number[] = [];
        for (const choice of choices) {
          if (!c.canContinue(state)) break;
          const allowed: number[] = [];
          for (let b = 0; b < 256; b++) if (c.advance(state, [b])) allowed.push(b);
          expect(allowed.length).toBeGreaterThan(0);
          const b = allowed[choice % allowed.length]!;
          state = c.advance(state, [b])!;
          taken.push(b);
        }
        completeAndCheck(c, schema, Uint8Array.from(taken));
      }),
      { numRuns: 150 },
    );
  }, 30_000);
});

describe('JsonConstraint (cases)', () => {
  const manager = new JsonConstraint(MANAGER_JSON_SCHEMA);

  it("follows the Memory-R1 manager's schema", () => {
    expect(manager.accepts('{"memory":[{"id":"0","text":"Lives in Berlin","event":"UPDATE","old_memory":"Lives in Paris"}]}')).toBe(true);
    expect(manager.accepts('{"memory": [{"event": "ADD", "text": "x", "id": "1"}]}')).toBe(true); // any key order, one space
    expect(manager.acceptsPrefix('{"memory":[{"event":"MOVE')).toBe(false); // not an event
    expect(manager.acceptsPrefix('{"memory":[{"id":"0","score')).toBe(false); // undeclared key
    expect(manager.acceptsPrefix('{"memory":[{"id":"0","id"')).toBe(false); // duplicate key
    expect(manager.acceptsPrefix('{"memory":[{"id":"0"}')).toBe(false); // text and event are required
    expect(manager.acceptsPrefix('{"memory":[]}x')).toBe(false); // nothing after the value
    expect(manager.acceptsPrefix(' {')).toBe(false); // no leading whitespace
    expect(manager.acceptsPrefix('{"memory":  [')).toBe(false); // at most one whitespace byte per gap
    expect(new JsonConstraint(MANAGER_JSON_SCHEMA, { maxWhitespace: 4 }).acceptsPrefix('{\n  "memory":  [')).toBe(true);
    expect(new TextDecoder().decode(manager.completion(manager.initial))).toBe('{"memory":[]}');
    const s = manager.advance(manager.initial, '{"memory":[{"ev')!;
    expect(new TextDecoder().decode(manager.completion(s))).toBe('ent":"ADD","id":"","text":""}]}');
  });

  it('counts string lengths in UTF-16 units and validates UTF-8 byte by byte', () => {
    const c = new JsonConstraint({ type: 'string', maxLength: 3 });
    expect(c.accepts('"a😀"')).toBe(true); // 3 units
    expect(c.acceptsPrefix('"ab😀')).toBe(false); // 4 units
    expect(c.accepts('"\\u00e9\\n\\""')).toBe(true);
    expect(c.advance(c.initial, [0x22, 0xf0, 0x9f])).not.toBeNull(); // half an emoji: fine so far
    expect(c.advance(c.initial, [0x22, 0xf0, 0x22])).toBeNull(); // broken UTF-8
    expect(c.advance(c.initial, [0x22, 0xc0, 0x80])).toBeNull(); // overlong
    expect(c.advance(c.initial, [0x22, 0xed, 0xa0])).toBeNull(); // UTF-16 surrogate in UTF-8
    expect(c.acceptsPrefix('"a\nb')).toBe(false); // raw control character
    expect(c.acceptsPrefix('"\\x')).toBe(false); // bad escape
    const half = c.advance(c.initial, [0x22, 0xf0, 0x9f])!;
    expect(new TextDecoder().decode(Uint8Array.from([0x22, 0xf0, 0x9f, ...c.completion(half)]))).toBe('"\u{1f000}"');
  });

  it('keeps numbers in bounds while they are written', () => {
    const n = new JsonConstraint({ type: 'integer', minimum: 10, maximum: 150 });
    expect(n.acceptsPrefix('-')).toBe(false);
    expect(n.acceptsPrefix('0')).toBe(false);
    expect(n.acceptsPrefix('1')).toBe(true); // 10..19, 100..150
    expect(n.acceptsPrefix('16')).toBe(true);
    expect(n.acceptsPrefix('160')).toBe(false);
    expect(n.acceptsPrefix('9')).toBe(true); // 90..99
    expect(n.accepts('9')).toBe(false); // 9 < 10
    const r = new JsonConstraint({ type: 'number', minimum: 0.5, exclusiveMaximum: 0.6 });
    expect(r.accepts('0.5')).toBe(true);
    expect(r.accepts('0.6')).toBe(false);
    expect(r.acceptsPrefix('0.6')).toBe(false);
    expect(r.acceptsPrefix('0.59')).toBe(true);
    expect(r.acceptsPrefix('1')).toBe(false);
    expect(new TextDecoder().decode(r.completion(r.initial))).toBe('0.5');
    const t = new JsonConstraint({ type: 'number', minimum: 16.2, maximum: 16.3 });
    expect(t.acceptsPrefix('16.199')).toBe(false); // 16.199 + 0.001 overshoots 16.2 in floating point
    expect(t.accepts('16.2')).toBe(true);
    expect(t.accepts('16.29')).toBe(true);
    expect(t.acceptsPrefix('16.31')).toBe(false);
  });

  it('handles numbers and literals that may or may not go on', () => {
    const top = new JsonConstraint({ type: 'integer' });
    const one = top.advance(top.initial, '1')!;
    expect(top.isComplete(one)).toBe(true);
    expect(top.canContinue(one)).toBe(true);
    expect(top.accepts('123')).toBe(true);
    expect(top.acceptsPrefix('1.')).toBe(false);
    expect(top.acceptsPrefix('01')).toBe(false);
    const lit = new JsonConstraint({ type: 'array', items: { enum: [1, 12] } });
    expect(lit.accepts('[1,12,1]')).toBe(true);
    expect(lit.acceptsPrefix('[13')).toBe(false);
    const num = new JsonConstraint({ type: 'number' });
    for (const ok of ['-0', '0.5', '1e5', '-2.5E-3', '1e+21']) expect(num.accepts(ok)).toBe(true);
    for (const bad of ['-', '.5', '1.', '1e', '+1', '00']) expect(num.accepts(bad)).toBe(false);
  });

  it('explores anyOf alternatives in parallel', () => {
    const c = new JsonConstraint({ anyOf: [{ type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] }, { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { type: 'null' }] });
    expect(c.accepts('{"a":1}')).toBe(true);
    expect(c.accepts('{"a":"x"}')).toBe(true);
    expect(c.accepts('null')).toBe(true);
    expect(c.acceptsPrefix('{"a":t')).toBe(false);
    // Identical alternatives merge instead of doubling per element.
    const same = new JsonConstraint({ type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'string' }] } });
    const s = same.advance(same.initial, `[${Array(30).fill('"x"').join(',')}`)!;
    expect(s.paths.length).toBeLessThanOrEqual(2);
  });

  it('refuses schemas it cannot enforce, naming the keyword', () => {
    expect(() => new JsonConstraint({ type: 'string', pattern: '^a' })).toThrow(SchemaError);
    expect(() => new JsonConstraint({ $ref: '#/$defs/x' })).toThrow(/\$ref/);
    expect(() => new JsonConstraint({ type: 'object', required: ['x'], additionalProperties: false })).toThrow(/required property "x"/);
    expect(() => new JsonConstraint({ type: 'integer', minimum: 3, maximum: 2 })).toThrow(/minimum\/maximum/);
    expect(() => new JsonConstraint('nope')).toThrow(SchemaError);
  });
});
