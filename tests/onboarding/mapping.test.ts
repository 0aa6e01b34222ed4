import { describe, expect, it } from 'vitest';
import { compileDateFormat, normaliseDecimal, parseBoolean, parseDate } from '../../src/extract/values.ts';
import { strptimeToTokens } from '../../src/extract/mapping.ts';
import { detectDelimiter } from '../../src/extract/source.ts';

describe('mapping helpers', () => {
  it('reads dates in the file\'s format and refuses impossible ones', () => {
    expect(parseDate('2026-03-01')).toBe('2026-03-01');
    expect(parseDate('1/2/2013', 'M/D/YYYY')).toBe('2013-01-02');
    expect(parseDate('12/31/2013', 'M/D/YYYY')).toBe('2013-12-31');
    expect(parseDate('31.12.25', 'DD.MM.YY')).toBe('2025-12-31');
    expect(parseDate('31.12.85', 'DD.MM.YY')).toBe('1985-12-31');
    expect(parseDate('2025-02-30')).toBeNull();
    expect(parseDate('2025-2-3')).toBeNull();
    expect(parseDate('03/04/2025', 'DD.MM.YYYY')).toBeNull();
    expect(() => compileDateFormat('MM/DD')).toThrow(/year, a month and a day/);
  });

  it('turns strptime formats of the warehouse mappings into tokens', () => {
    expect(strptimeToTokens('%m/%d/%Y', 'm')).toBe('M/D/YYYY');
    expect(strptimeToTokens('%d.%m.%y', 'm')).toBe('D.M.YY');
    expect(() => strptimeToTokens('%b %d %Y', 'm')).toThrow(/only %Y %y %m %d/);
  });

  it('rewrites decimals with either separator, thousands groups included', () => {
    expect(normaliseDecimal('1.234,56', ',')).toBe('1234.56');
    expect(normaliseDecimal('1234,5', ',')).toBe('1234.5');
    expect(normaliseDecimal('-0,99', ',')).toBe('-0.99');
    expect(normaliseDecimal('1,234.56', '.')).toBe('1234.56');
    expect(normaliseDecimal('1 234.56', '.')).toBe('1234.56');
    expect(normaliseDecimal('12', '.')).toBe('12');
    expect(normaliseDecimal('1,23', '.')).toBeNull();
    expect(normaliseDecimal('12.34.56', '.')).toBeNull();
    expect(normaliseDecimal('abc', ',')).toBeNull();
  });

  it('reads the words for true and false', () => {
    expect(parseBoolean('Yes', {})).toBe(true);
    expect(parseBoolean('0', {})).toBe(false);
    expect(parseBoolean('ja', { true: ['ja'], false: ['nein'] })).toBe(true);
    expect(parseBoolean('yes', { true: ['ja'], false: ['nein'] })).toBeNull();
  });

  it('detects the delimiter of the header line, ignoring quoted ones', () => {
    expect(detectDelimiter('a;b;c')).toBe(';');
    expect(detectDelimiter('"a,b";c;d')).toBe(';');
    expect(detectDelimiter('a\tb')).toBe('\t');
    expect(detectDelimiter('single')).toBe(',');
  });
});
