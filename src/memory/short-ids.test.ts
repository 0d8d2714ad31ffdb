import { describe, expect, it } from 'vitest';
import { assignShortIds, operationsToRealIds } from './short-ids';

describe('short ids', () => {
  const map = assignShortIds([
    { id: 'm-abc', text: 'likes tea' },
    { id: 'm-def', text: 'has a dog' },
  ]);

  it('shows memories as "0", "1", ... and maps them back', () => {
    expect(map.shown).toEqual([{ id: '0', text: 'likes tea' }, { id: '1', text: 'has a dog' }]);
    expect(map.toReal('1')).toBe('m-def');
    expect(map.toReal(' 0 ')).toBe('m-abc');
  });

  it('never maps an id the model invented or copied wrongly', () => {
    for (const bogus of ['2', '-1', '01', '1.0', 'm-abc', '', 'constructor', '__proto__']) expect(map.toReal(bogus)).toBeUndefined();
  });

  it('rewrites operations, marking unknown ids so validation rejects them by name', () => {
    const ops = operationsToRealIds(
      [
        { event: 'UPDATE', id: '0', text: 'likes green tea' },
        { event: 'DELETE', id: 7, text: '' },
        { event: 'ADD', id: '1', text: 'new' },
      ],
      map,
    );
    expect(ops.map((op) => op.id)).toEqual(['m-abc', 'unknown:7', '']);
  });
});
