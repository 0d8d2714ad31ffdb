// Test helpers (fast-check): random JSON Schemas from the subset constrained decoding supports, random
// instances of them, and an independent validator written against the raw schema (not json-schema.ts).

import fc from 'fast-check';

export type RawSchema = Record<string, unknown>;

const NAMES = ['id', 'text', 'event', 'old_memory', 'a', 'ab', 'name with space', 'é', 'quote"d', 'back\\slash', '😀'];
const LITERALS: unknown[] = [1, 12, -3, 2.5, 'a', 'ab', 'ADD', 'UPDATE', '', true, false, null, { x: 1 }, [1, 'b']];

const optionalInt = (min: number, max: number) => fc.option(fc.integer({ min, max }), { nil: undefined });

function withDefined(o: Record<string, unknown>): RawSchema {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

const stringSchema = fc.tuple(optionalInt(0, 3), optionalInt(0, 8)).map(([min, extra]) => withDefined({ type: 'string', minLength: min, maxLength: extra === undefined ? undefined : (min ?? 0) + extra }));
const enumStringSchema = fc.uniqueArray(fc.oneof(fc.constantFrom('ADD', 'UPDATE', 'DELETE', 'NONE', 'A', 'AB', ''), fc.string({ maxLength: 5 })), { minLength: 1, maxLength: 4 }).map((values) => ({ type: 'string', enum: values }));
const integerSchema = fc.tuple(optionalInt(-50, 50), optionalInt(0, 300)).map(([min, span]) => withDefined({ type: 'integer', minimum: min, maximum: span === undefined ? undefined : (min ?? 0) + span }));
const numberSchema = fc
  .tuple(optionalInt(-500, 500), optionalInt(1, 3000), fc.boolean())
  .map(([min, span, exclusive]) => {
    const lo = min === undefined ? undefined : min / 10;
    const hi = span === undefined ? undefined : (min ?? 0) / 10 + span / 10;
    return withDefined(exclusive ? { type: 'number', exclusiveMinimum: lo, maximum: hi } : { type: 'number', minimum: lo, maximum: hi });
  });
const literalSchema = fc.oneof(
  fc.uniqueArray(fc.constantFrom(...LITERALS), { minLength: 1, maxLength: 4, selector: (v) => JSON.stringify(v) }).map((values) => ({ enum: values })),
  fc.constantFrom(...LITERALS).map((value) => ({ const: value })),
);
const leafSchema: fc.Arbitrary<RawSchema> = fc.oneof(
  stringSchema,
  enumStringSchema,
  integerSchema,
  numberSchema,
  fc.constant({ type: 'boolean' }),
  fc.constant({ type: 'null' }),
  literalSchema,
  fc.constant({}),
  fc.constant({ type: ['string', 'null'] }),
);

export function schemaArb(depth = 3): fc.Arbitrary<RawSchema> {
  if (depth === 0) return leafSchema;
  const sub = schemaArb(depth - 1);
  const array = fc.tuple(sub, optionalInt(0, 2), optionalInt(0, 3)).map(([items, min, extra]) => withDefined({ type: 'array', items, minItems: min, maxItems: extra === undefined ? undefined : (min ?? 0) + extra }));
  const object = fc
    .tuple(fc.uniqueArray(fc.constantFrom(...NAMES), { maxLength: 4 }), fc.array(sub, { minLength: 4, maxLength: 4 }), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.constantFrom<unknown>(false, false, false, true, { type: 'integer' }))
    .map(([names, schemas, req, additional]) => ({
      type: 'object',
      properties: Object.fromEntries(names.map((n, i) => [n, schemas[i]!])),
      required: names.filter((_, i) => req[i]),
      additionalProperties: additional,
    }));
  const anyOf = fc.array(sub, { minLength: 2, maxLength: 3 }).map((options) => ({ anyOf: options }));
  return fc.oneof({ weight: 2, arbitrary: leafSchema }, { weight: 2, arbitrary: array }, { weight: 3, arbitrary: object }, { weight: 1, arbitrary: anyOf });
}

/** UTF-16 length bounds as the validator counts them. */
function stringIn(min: number, max: number): fc.Arbitrary<string> {
  const cap = Math.min(max, min + 6);
  return fc
    .oneof(fc.string({ minLength: min, maxLength: cap }), fc.string({ unit: 'binary', minLength: min, maxLength: cap }), fc.constantFrom('line\nbreak', 'tab\t"quote"', 'é😀', '\\', '\u0001'))
    .filter((s) => s.length >= min && s.length <= max);
}

export function instanceArb(schema: RawSchema): fc.Arbitrary<unknown> {
  if (schema.anyOf) return fc.oneof(...(schema.anyOf as RawSchema[]).map(instanceArb));
  if ('const' in schema) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  const type = schema.type;
  if (Array.isArray(type)) return fc.oneof(...type.map((t: unknown) => instanceArb({ ...schema, type: t })));
  switch (type) {
    case 'string':
      return stringIn((schema.minLength as number | undefined) ?? 0, (schema.maxLength as number | undefined) ?? Infinity);
    case 'integer':
      return fc.integer({ min: (schema.minimum as number | undefined) ?? -1_000_000, max: (schema.maximum as number | undefined) ?? 1_000_000 });
    case 'number': {
      const lo = (schema.minimum as number | undefined) ?? (schema.exclusiveMinimum as number | undefined);
      const hi = schema.maximum as number | undefined;
      if (lo === undefined && hi === undefined) return fc.double({ noNaN: true, noDefaultInfinity: true });
      const a = Math.ceil((lo ?? (hi ?? 0) - 100) * 100);
      const b = Math.floor((hi ?? (lo ?? 0) + 100) * 100);
      return fc.integer({ min: a, max: b }).map((x) => x / 100).filter((x) => validRaw(schema, x));
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(instanceArb(schema.items as RawSchema), { minLength: (schema.minItems as number | undefined) ?? 0, maxLength: Math.min((schema.maxItems as number | undefined) ?? 4, ((schema.minItems as number | undefined) ?? 0) + 4) });
    case 'object': {
      const props = Object.entries(schema.properties as Record<string, RawSchema>);
      const required = new Set(schema.required as string[]);
      const entries = props.map(([name, sub]) => (required.has(name) ? instanceArb(sub).map((v) => [name, v] as const) : fc.option(instanceArb(sub).map((v) => [name, v] as const), { nil: undefined })));
      const ap = schema.additionalProperties;
      const extra =
        ap && typeof ap === 'object'
          ? fc.dictionary(fc.string({ maxLength: 4 }).filter((k) => !props.some(([n]) => n === k) && k !== '__proto__'), instanceArb(ap as RawSchema), { maxKeys: 2 })
          : ap === true
            ? fc.dictionary(fc.string({ maxLength: 4 }).filter((k) => !props.some(([n]) => n === k) && k !== '__proto__'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 })
            : fc.constant({});
      return fc.tuple(fc.tuple(...entries), extra).chain(([chosen, more]) => {
        const all = [...chosen.filter((e): e is readonly [string, unknown] => e !== undefined), ...Object.entries(more)];
        // Any key order is valid JSON for the schema.
        return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length }).map((order) => Object.fromEntries(order));
      });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** JSON Schema validation of the subset, written directly against the raw schema (strings in UTF-16 units). */
export function validRaw(schema: RawSchema, v: unknown): boolean {
  if (schema.anyOf) return (schema.anyOf as RawSchema[]).some((s) => validRaw(s, v));
  if ('const' in schema && !deepEqual(schema.const, v)) return false;
  if (schema.enum && !(schema.enum as unknown[]).some((e) => deepEqual(e, v))) return false;
  const type = schema.type;
  if (Array.isArray(type)) return type.some((t: unknown) => validRaw({ ...schema, type: t }, v));
  switch (type) {
    case undefined:
      return true;
    case 'string':
      return typeof v === 'string' && v.length >= ((schema.minLength as number | undefined) ?? 0) && v.length <= ((schema.maxLength as number | undefined) ?? Infinity);
    case 'integer':
    case 'number': {
      if (typeof v !== 'number' || (type === 'integer' && !Number.isInteger(v))) return false;
      const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = schema as Record<string, number | undefined>;
      return (minimum === undefined || v >= minimum) && (maximum === undefined || v <= maximum) && (exclusiveMinimum === undefined || v > exclusiveMinimum) && (exclusiveMaximum === undefined || v < exclusiveMaximum);
    }
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'array':
      return Array.isArray(v) && v.length >= ((schema.minItems as number | undefined) ?? 0) && v.length <= ((schema.maxItems as number | undefined) ?? Infinity) && v.every((x) => validRaw(schema.items as RawSchema, x));
    case 'object': {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
      const props = (schema.properties ?? {}) as Record<string, RawSchema>;
      if (!((schema.required ?? []) as string[]).every((r) => Object.hasOwn(v, r))) return false;
      return Object.entries(v).every(([k, x]) => {
        if (Object.hasOwn(props, k)) return validRaw(props[k]!, x);
        const ap = schema.additionalProperties;
        return ap === undefined || ap === true ? true : ap === false ? false : validRaw(ap as RawSchema, x);
      });
    }
    default:
      return false;
  }
}
