// verl's RL dataset as a Parquet file (hyparquet-writer), with an explicit nested schema so readers
// (pandas/pyarrow, which verl uses, or DuckDB) see the types verl's own preprocessing scripts produce:
// prompt a list of {content, role} structs, reward_model and extra_info structs.
import { ByteWriter, parquetWrite } from 'hyparquet-writer';
import type { VerlRow } from '../eval/trainer-datasets';

type Element = Record<string, unknown>;
const text = (name: string): Element => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' });
const group = (name: string, children: number, extra: Element = {}): Element => ({ name, repetition_type: 'REQUIRED', num_children: children, ...extra });
/** A 3-level Parquet LIST of `element` (which has `children` fields). */
const list = (name: string, elementChildren: Element[], repeatedLeaf = false): Element[] =>
  repeatedLeaf
    ? [group(name, 1, { converted_type: 'LIST' }), { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, ...elementChildren]
    : [group(name, 1, { converted_type: 'LIST' }), { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, group('element', elementChildren.length), ...elementChildren];

const SCHEMA: Element[] = [
  { name: 'root', num_children: 5 },
  text('data_source'),
  ...list('prompt', [text('content'), text('role')]),
  text('ability'),
  group('reward_model', 2),
  text('ground_truth'),
  text('style'),
  group('extra_info', 5),
  { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
  text('sample_id'),
  text('split'),
  text('tuple_id'),
  ...list('questions', [text('element')], true),
];

/** The rows as Parquet bytes. */
export function verlParquet(rows: readonly VerlRow[]): Uint8Array {
  const writer = new ByteWriter();
  parquetWrite({
    writer,
    schema: SCHEMA as never,
    columnData: [
      { name: 'data_source', data: rows.map((r) => r.data_source) },
      { name: 'prompt', data: rows.map((r) => r.prompt.map((m) => ({ content: m.content, role: m.role }))) },
      { name: 'ability', data: rows.map((r) => r.ability) },
      { name: 'reward_model', data: rows.map((r) => ({ ground_truth: r.reward_model.ground_truth, style: r.reward_model.style })) },
      {
        name: 'extra_info',
        data: rows.map((r) => ({ index: BigInt(r.extra_info.index), sample_id: r.extra_info.sample_id, split: r.extra_info.split, tuple_id: r.extra_info.tuple_id, questions: r.extra_info.questions })),
      },
    ],
    kvMetadata: [{ key: 'created_by_memory_r1', value: 'verl RL dataset' }],
  });
  return new Uint8Array(writer.getBuffer());
}
