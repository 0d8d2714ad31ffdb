import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StopMatcher } from './stop-strings';

describe('StopMatcher', () => {
  it('holds back what may start a stop string and releases it when it does not', () => {
    const m = new StopMatcher(['</s>']);
    expect(m.push('abc<')).toEqual({ emit: 'abc', stopped: false });
    expect(m.push('/')).toEqual({ emit: '', stopped: false });
    expect(m.push('x')).toEqual({ emit: '</x', stopped: false });
    expect(m.push('ok</s>later')).toEqual({ emit: 'ok', stopped: true });
    expect(m.push('more')).toEqual({ emit: '', stopped: true });
    expect(m.flush()).toBe('');
  });

  it('streams exactly the text before the earliest stop string, never more', () => {
    const alphabet = fc.constantFrom('a', 'b', 'c', 'ab', '\n', 'é');
    fc.assert(
      fc.property(fc.array(fc.array(alphabet, { maxLength: 3 }).map((a) => a.join('')), { maxLength: 12 }), fc.array(fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((a) => a.join('')), { maxLength: 3 }), (chunks, stops) => {
        // Generation ends with the first chunk after which some stop string has appeared; the text is cut
        // at the earliest of the stop strings then present.
        let text = '';
        let cuts: number[] = [];
        for (const c of chunks) {
          text += c;
          cuts = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
          if (cuts.length) break;
        }
        const expected = cuts.length ? text.slice(0, Math.min(...cuts)) : text;
        const m = new StopMatcher(stops);
        let out = '';
        let stopped = false;
        for (const c of chunks) {
          const r = m.push(c);
          out += r.emit;
          expect(expected.startsWith(out)).toBe(true); // nothing streamed is ever taken back
          if (r.stopped) {
            stopped = true;
            break;
          }
        }
        if (!stopped) out += m.flush();
        expect(out).toBe(expected);
        expect(stopped).toBe(cuts.length > 0);
      }),
      { numRuns: 500 },
    );
  });
});
