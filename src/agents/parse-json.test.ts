import { describe, expect, it } from 'vitest';
import { findJson } from './parse-json';

describe('findJson', () => {
  it('finds JSON whole, in fences, or in prose', () => {
    expect(findJson('{"a": 1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(findJson('Here:\n```json\n{"facts": ["x"]}\n```\nDone.')).toEqual({ ok: true, value: { facts: ['x'] } });
    expect(findJson('```\nnot json\n``` then ```json [1, 2] ```')).toEqual({ ok: true, value: [1, 2] });
    expect(findJson('Sure! {"memory": [{"id": "0", "text": "a } in a string"}]} hope that helps')).toEqual({
      ok: true,
      value: { memory: [{ id: '0', text: 'a } in a string' }] },
    });
    expect(findJson('{ broken [ {"ok": true}')).toEqual({ ok: true, value: { ok: true } });
    expect(findJson('"{" then {"b": 2}')).toEqual({ ok: true, value: { b: 2 } });
    expect(findJson('   ')).toEqual({ ok: false, error: 'the reply was empty' });
    expect(findJson('no json here, only ``` an unclosed fence')).toEqual({ ok: false, error: 'the reply contained no valid JSON object' });
  });

  // Replies that once took seconds to minutes (a lazy fence regex backtracking, nested brackets rescanned
  // for every candidate): a mebibyte of each now comes back at once, with the right answer.
  it.each([
    ['an unclosed fence before the JSON', '```' + ' \n'.repeat(1 << 19) + 'x {"a": 1}', { ok: true, value: { a: 1 } }],
    ['many empty fences', '```\n'.repeat(1 << 18) + '{"a": 1}', { ok: true, value: { a: 1 } }],
    ['a mebibyte of open braces', '{'.repeat(1 << 20), { ok: false, error: 'the reply contained no valid JSON object' }],
    ['nested unclosed arrays', '[1,'.repeat(1 << 18), { ok: false, error: 'the reply contained no valid JSON object' }],
  ])('a crafted reply of a mebibyte: %s', (_name, reply, expected) => {
    expect(findJson(reply)).toEqual(expected);
  });
});
