import { describe, expect, it } from 'vitest';
import { MAX_AMOUNT_MINOR } from '../../src/shared/bounds.ts';
import { displayAmount, displayCount, displayMeasure, displayMoney, displayPercent, groupThousands } from '../../src/shared/figures.ts';
import { formatAmount } from '../../src/shared/money.ts';

// The expected texts are written by hand in the reports' style (reports/components/format.js):
// thousands grouped by commas, the currency's decimals, a true minus (U+2212).
describe('figures as a page shows them', () => {
  it('groups money by thousands in the currency’s decimals, exactly', () => {
    expect(displayMoney(7_800_000, 'EUR')).toBe('78,000.00 EUR');
    expect(displayAmount(7_800_000, 'EUR')).toBe('78,000.00');
    expect(displayMoney(7_800_000, 'JPY')).toBe('7,800,000 JPY');
    expect(displayMoney(123_456_789, 'KWD')).toBe('123,456.789 KWD');
    expect(displayMoney(99_999, 'EUR')).toBe('999.99 EUR');
    expect(displayMoney(100_000, 'EUR')).toBe('1,000.00 EUR');
    expect(displayMoney(5, 'EUR')).toBe('0.05 EUR');
    expect(displayMoney(0, 'JPY')).toBe('0 JPY');
    expect(displayMoney(-123_456, 'EUR')).toBe('\u22121,234.56 EUR');
    // The largest amount cashloop holds, where a float would already round the last cent.
    expect(displayMoney(MAX_AMOUNT_MINOR, 'EUR')).toBe('99,999,999,999.99 EUR');
    expect(displayMoney(MAX_AMOUNT_MINOR, 'JPY')).toBe('9,999,999,999,999 JPY');
    expect(displayMoney(-MAX_AMOUNT_MINOR, 'BHD')).toBe('\u22129,999,999,999.999 BHD');
  });

  it('leaves the plain text a form or a CSV carries alone', () => {
    expect(formatAmount(7_800_000, 'EUR')).toBe('78000.00');
    expect(formatAmount(-123_456, 'EUR')).toBe('-1234.56');
  });

  it('groups counts and refuses a fraction', () => {
    expect(displayCount(0)).toBe('0');
    expect(displayCount(999)).toBe('999');
    expect(displayCount(1000)).toBe('1,000');
    expect(displayCount(12_500)).toBe('12,500');
    expect(displayCount(-1_234_567)).toBe('\u22121,234,567');
    expect(() => displayCount(1.5)).toThrow('whole number');
  });

  it('writes basis points as an exact percentage without trailing zeros', () => {
    expect(displayPercent(2000)).toBe('20 %');
    expect(displayPercent(750)).toBe('7.5 %');
    expect(displayPercent(1225)).toBe('12.25 %');
    expect(displayPercent(5)).toBe('0.05 %');
    expect(displayPercent(0)).toBe('0 %');
    expect(displayPercent(10_000)).toBe('100 %');
    expect(displayPercent(-250)).toBe('\u22122.5 %');
    expect(() => displayPercent(7.5)).toThrow('basis points');
  });

  it('rounds a measure to its decimals and never shows a negative zero', () => {
    expect(displayMeasure(1234.56, 1)).toBe('1,234.6');
    expect(displayMeasure(6.4, 1)).toBe('6.4');
    expect(displayMeasure(-0.04, 1)).toBe('0.0');
    expect(displayMeasure(-12.25, 0)).toBe('\u221212');
    expect(() => displayMeasure(Number.NaN, 1)).toThrow('finite');
  });

  it('refuses anything but a plain decimal', () => {
    expect(groupThousands('1234567')).toBe('1,234,567');
    expect(groupThousands('-0.00')).toBe('0.00');
    expect(() => groupThousands('1e21')).toThrow('plain decimal');
    expect(() => groupThousands('1,000')).toThrow('plain decimal');
  });
});
