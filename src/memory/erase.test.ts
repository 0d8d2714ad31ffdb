import { describe, expect, it } from 'vitest';
import { describeUserData, type StoredRecords } from './erase';

const records = (database: string, store: string, one: string, many: string, count: number): StoredRecords => ({ database, store, label: [one, many], count });

describe('describeUserData', () => {
  it('names each kind of record with its count, singular or plural, and leaves out empty stores', () => {
    expect(
      describeUserData([
        records('memory-r1', 'memories', 'memory', 'memories', 12),
        records('memory-r1', 'conversations', 'chat', 'chats', 1),
        records('memory-r1', 'settings', 'setting', 'settings', 0),
        records('memory-r1-training', 'checkpoints', 'training checkpoint', 'training checkpoints', 2),
      ]),
    ).toEqual(['12 memories', '1 chat', '2 training checkpoints']);
  });

  it('adds up stores that share a label', () => {
    expect(describeUserData([records('a', 'x', 'record in a/x', 'records in a/x', 1), records('b', 'x', 'record in a/x', 'records in a/x', 2)])).toEqual(['3 records in a/x']);
    expect(describeUserData([])).toEqual([]);
  });
});
