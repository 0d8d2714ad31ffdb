// The JSON Schema subset constrained decoding understands, compiled into a small tree, and a validator
// for it. The subset is what our agents' zod schemas produce: object (properties, required,
// additionalProperties), array (items, minItems, maxItems), string (minLength, maxLength), integer and
// number (minimum, maximum, exclusive bounds), boolean, null, enum, const, anyOf / oneOf, type lists,
// and {} (any JSON value). Keywords that would constrain the output in ways we cannot enforce ($ref,
// pattern, allOf, not, ...) are refused with an error rather than silently ignored.

export type SchemaNode =
  | { kind: 'any' }
  | ObjectNode
  | { kind: 'array'; items: SchemaNode; minItems: number; maxItems: number }
  | { kind: 'string'; minLength: number; maxLength: number }
  | NumberNode
  | { kind: 'boolean' }
  | { kind: 'null' }
  /** enum / const: the allowed values, matched by their JSON.stringify text. */
  | { kind: 'literal'; values: unknown[] }
  | { kind: 'anyOf'; options: SchemaNode[] };

export interface ObjectNode {
  kind: 'object';
  properties: ReadonlyMap<string, SchemaNode>;
  /** Required names in schema order (the order a forced completion writes them). */
  required: readonly string[];
  /**
   * The schema of keys not in `properties`, or null when none are allowed. An absent
   * additionalProperties counts as false (strict, as in XGrammar/OpenAI structured outputs): a model
   * should not invent keys, and outputs stay short.
   */
  additional: SchemaNode | null;
}

export interface NumberNode {
  kind: 'number';
  integer: boolean;
  /** Bounds; ±Infinity when absent. For integers they are made inclusive. */
  min: number;
  max: number;
  minExclusive: boolean;
  maxExclusive: boolean;
}

export const ANY: SchemaNode = { kind: 'any' };

export class SchemaError extends Error {
  override name = 'SchemaError';
}

const IGNORED = new Set(['$schema', '$id', '$comment', 'title', 'description', 'default', 'examples', 'format', 'readOnly', 'writeOnly', 'deprecated', '$defs', 'definitions', 'contentEncoding', 'contentMediaType']);
const HANDLED = new Set(['type', 'properties', 'required', 'additionalProperties', 'items', 'minItems', 'maxItems', 'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'enum', 'const', 'anyOf', 'oneOf', 'nullable']);
const TYPES = ['object', 'array', 'string', 'integer', 'number', 'boolean', 'null'] as const;
type TypeName = (typeof TYPES)[number];

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function count(s: Record<string, unknown>, key: string, at: string, fallback: number): number {
  const v = s[key];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new SchemaError(`${at}: "${key}" must be a non-negative integer`);
  return v;
}

function bound(s: Record<string, unknown>, key: string, at: string): number | undefined {
  const v = s[key];
  if (v === undefined || typeof v === 'boolean') return undefined;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new SchemaError(`${at}: "${key}" must be a number`);
  return v;
}

/** Compiles a JSON Schema object; throws SchemaError naming the path and the problem. */
export function compileSchema(schema: unknown, at = '$'): SchemaNode {
  if (schema === true || (isRecord(schema) && Object.keys(schema).every((k) => IGNORED.has(k)))) return ANY;
  if (!isRecord(schema)) throw new SchemaError(`${at}: a schema must be an object (or true), got ${JSON.stringify(schema)}`);
  for (const key of Object.keys(schema)) {
    if (!IGNORED.has(key) && !HANDLED.has(key)) throw new SchemaError(`${at}: the keyword "${key}" is not supported by constrained decoding (supported: ${[...HANDLED].join(', ')})`);
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives !== undefined) {
    if (!Array.isArray(alternatives) || alternatives.length === 0) throw new SchemaError(`${at}: anyOf/oneOf must be a non-empty array`);
    const { anyOf: _a, oneOf: _o, ...rest } = schema;
    // Keywords beside anyOf apply to every alternative.
    const options = alternatives.map((alt, i) => compileSchema(isRecord(alt) ? { ...rest, ...alt } : alt, `${at}.anyOf[${i}]`));
    return options.length === 1 ? options[0]! : { kind: 'anyOf', options };
  }
  if (schema.enum !== undefined || schema.const !== undefined) {
    const values = schema.const !== undefined ? [schema.const] : schema.enum;
    if (!Array.isArray(values) || values.length === 0) throw new SchemaError(`${at}: enum must be a non-empty array`);
    const { enum: _e, const: _c, ...rest } = schema;
    const base = compileSchema(rest, at);
    const allowed = values.filter((v) => matchesSchema(base, v));
    if (allowed.length === 0) throw new SchemaError(`${at}: no enum/const value matches the schema's other keywords`);
    return { kind: 'literal', values: allowed };
  }
  let types: TypeName[];
  if (schema.type === undefined) types = inferTypes(schema);
  else {
    const list = Array.isArray(schema.type) ? schema.type : [schema.type];
    for (const t of list) if (!(TYPES as readonly unknown[]).includes(t)) throw new SchemaError(`${at}: unknown type ${JSON.stringify(t)}`);
    types = list as TypeName[];
  }
  if (schema.nullable === true && !types.includes('null')) types = [...types, 'null'];
  if (types.length === 0) throw new SchemaError(`${at}: "type" is an empty list`);
  const nodes = types.map((t) => compileType(t, schema, at));
  return nodes.length === 1 ? nodes[0]! : { kind: 'anyOf', options: nodes };
}

/** A schema without "type": whatever its keywords imply (e.g. properties → object), else any value. */
function inferTypes(s: Record<string, unknown>): TypeName[] {
  if ('properties' in s || 'additionalProperties' in s || 'required' in s) return ['object'];
  if ('items' in s || 'minItems' in s || 'maxItems' in s) return ['array'];
  if ('minLength' in s || 'maxLength' in s) return ['string'];
  if ('minimum' in s || 'maximum' in s || 'exclusiveMinimum' in s || 'exclusiveMaximum' in s) return ['number'];
  return [...TYPES.filter((t) => t !== 'integer')];
}

function compileType(type: TypeName, s: Record<string, unknown>, at: string): SchemaNode {
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      if (!isRecord(props)) throw new SchemaError(`${at}: "properties" must be an object`);
      const properties = new Map<string, SchemaNode>();
      for (const [name, sub] of Object.entries(props)) properties.set(name, compileSchema(sub, `${at}.properties.${name}`));
      const required = s.required ?? [];
      if (!Array.isArray(required) || !required.every((r) => typeof r === 'string')) throw new SchemaError(`${at}: "required" must be a list of names`);
      const ap = s.additionalProperties;
      const additional = ap === undefined || ap === false ? null : compileSchema(ap, `${at}.additionalProperties`);
      for (const r of required) {
        if (!properties.has(r) && !additional) throw new SchemaError(`${at}: required property "${r}" is not in "properties" and additionalProperties is false`);
      }
      return { kind: 'object', properties, required: [...new Set(required as string[])], additional };
    }
    case 'array': {
      const items = s.items === undefined ? ANY : compileSchema(s.items, `${at}.items`);
      const minItems = count(s, 'minItems', at, 0);
      const maxItems = count(s, 'maxItems', at, Infinity);
      if (minItems > maxItems) throw new SchemaError(`${at}: minItems > maxItems`);
      return { kind: 'array', items, minItems, maxItems };
    }
    case 'string': {
      const minLength = count(s, 'minLength', at, 0);
      const maxLength = count(s, 'maxLength', at, Infinity);
      if (minLength > maxLength) throw new SchemaError(`${at}: minLength > maxLength`);
      return { kind: 'string', minLength, maxLength };
    }
    case 'integer':
    case 'number':
      return numberNode(type === 'integer', s, at);
    case 'boolean':
      return { kind: 'boolean' };
    case 'null':
      return { kind: 'null' };
  }
}

function numberNode(integer: boolean, s: Record<string, unknown>, at: string): NumberNode {
  let min = bound(s, 'minimum', at) ?? -Infinity;
  let max = bound(s, 'maximum', at) ?? Infinity;
  let minExclusive = false;
  let maxExclusive = false;
  const exMin = s.exclusiveMinimum === true ? min : bound(s, 'exclusiveMinimum', at);
  const exMax = s.exclusiveMaximum === true ? max : bound(s, 'exclusiveMaximum', at);
  if (exMin !== undefined && exMin >= min) [min, minExclusive] = [exMin, true];
  if (exMax !== undefined && exMax <= max) [max, maxExclusive] = [exMax, true];
  if (integer) {
    // Inclusive integer bounds.
    min = minExclusive ? Math.floor(min) + 1 : Math.ceil(min);
    max = maxExclusive ? Math.ceil(max) - 1 : Math.floor(max);
    minExclusive = maxExclusive = false;
  }
  if (min > max || (min === max && (minExclusive || maxExclusive))) throw new SchemaError(`${at}: no number satisfies minimum/maximum`);
  return { kind: 'number', integer, min, max, minExclusive, maxExclusive };
}

/** Does a parsed JSON value match the compiled schema? (String lengths in UTF-16 units, as zod and JS count.) */
export function matchesSchema(node: SchemaNode, value: unknown): boolean {
  switch (node.kind) {
    case 'any':
      return true;
    case 'object': {
      if (!isRecord(value)) return false;
      if (!node.required.every((r) => Object.hasOwn(value, r))) return false;
      return Object.entries(value).every(([k, v]) => {
        const sub = node.properties.get(k) ?? node.additional;
        return sub !== null && matchesSchema(sub, v);
      });
    }
    case 'array':
      return Array.isArray(value) && value.length >= node.minItems && value.length <= node.maxItems && value.every((v) => matchesSchema(node.items, v));
    case 'string':
      return typeof value === 'string' && value.length >= node.minLength && value.length <= node.maxLength;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && (!node.integer || Number.isInteger(value)) && inBounds(node, value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'null':
      return value === null;
    case 'literal': {
      const text = JSON.stringify(value);
      return node.values.some((v) => JSON.stringify(v) === text);
    }
    case 'anyOf':
      return node.options.some((o) => matchesSchema(o, value));
  }
}

export function inBounds(node: NumberNode, v: number): boolean {
  return (node.minExclusive ? v > node.min : v >= node.min) && (node.maxExclusive ? v < node.max : v <= node.max);
}
