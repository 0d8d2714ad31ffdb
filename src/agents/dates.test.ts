import { describe, expect, it } from 'vitest';
import { findRelativeDates, formatDate, parseSessionDate, resolveRelativeDate } from './dates';

const may8 = parseSessionDate('8 May 2023')!;

describe('session dates', () => {
  it.each([
    ['2023-05-08', '8 May 2023'],
    ['8 May 2023', '8 May 2023'],
    ['1:56 pm on 8 May, 2023', '8 May 2023'],
    ['May 8, 2023', '8 May 2023'],
    ['Monday, 8th May 2023', '8 May 2023'],
  ])('reads %s', (input, expected) => {
    expect(formatDate(parseSessionDate(input)!)).toBe(expected);
  });

  it('refuses what is not a date', () => {
    expect(parseSessionDate('sometime')).toBeUndefined();
    expect(parseSessionDate('31 February 2023')).toBeUndefined();
  });
});

describe('relative dates on 8 May 2023 (a Monday)', () => {
  it.each([
    ['yesterday', '7 May 2023'],
    ['today', '8 May 2023'],
    ['tomorrow', '9 May 2023'],
    ['the day before yesterday', '6 May 2023'],
    ['last week', 'the week before 8 May 2023'],
    ['next week', 'the week after 8 May 2023'],
    ['last weekend', 'the weekend before 8 May 2023'],
    ['last month', 'April 2023'],
    ['last year', '2022'],
    ['this year', '2023'],
    ['3 days ago', '5 May 2023'],
    ['ten days ago', '28 April 2023'],
    ['a day ago', '7 May 2023'],
    ['two weeks ago', 'the week of 24 April 2023'],
    ['2 years ago', '2021'],
    ['last Friday', '5 May 2023'],
    ['last Monday', '1 May 2023'],
    ['Yesterday', '7 May 2023'],
  ])('%s → %s', (phrase, expected) => {
    expect(resolveRelativeDate(phrase, may8)).toBe(expected);
  });

  it('crosses month and year boundaries', () => {
    expect(resolveRelativeDate('yesterday', parseSessionDate('1 January 2024')!)).toBe('31 December 2023');
    expect(resolveRelativeDate('last month', parseSessionDate('15 January 2024')!)).toBe('December 2023');
    expect(resolveRelativeDate('tomorrow', parseSessionDate('28 February 2024')!)).toBe('29 February 2024');
  });

  it('does not guess at unknown expressions', () => {
    expect(resolveRelativeDate('some time ago', may8)).toBeUndefined();
    expect(resolveRelativeDate('last blursday', may8)).toBeUndefined();
  });

  it('finds the expressions in a turn, whole words only, once each', () => {
    const found = findRelativeDates('Yesterday I ran; last year too. Todays news: yesterday again, 3 days ago.', may8);
    expect(found).toEqual([
      { phrase: 'Yesterday', resolved: '7 May 2023' },
      { phrase: 'last year', resolved: '2022' },
      { phrase: '3 days ago', resolved: '5 May 2023' },
    ]);
  });
});
