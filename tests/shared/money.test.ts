import { describe, expect, it } from 'vitest';
import { applyRate, divRoundHalfUp, formatAmount, parseAmount, parsePercent } from '../../src/shared/money.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe('money', () => {
  it('parses decimals into minor units without floats', () => {
    expect(parseAmount('120.50', 'EUR')).toBe(12050);
    expect(parseAmount('0.1', 'EUR')).toBe(10);
    expect(parseAmount('-3', 'EUR')).toBe(-300);
    expect(parseAmount('1500', 'JPY')).toBe(1500);
    expect(parseAmount('1.234', 'BHD')).toBe(1234);
    expect(parseAmount('99999999999.99', 'EUR')).toBe(9_999_999_999_999);
    expect(parseAmount('-99999999999.99', 'EUR')).toBe(-9_999_999_999_999);
  });

  it('refuses amounts beyond the largest one cashloop holds, in every exponent', () => {
    // One minor unit over the maximum, in a two-, zero- and three-decimal currency, and an
    // amount past 2^53 that a float would have rounded to a neighbour.
    for (const [text, currency] of [['100000000000.00', 'EUR'], ['10000000000000', 'JPY'], ['10000000000.000', 'BHD'], ['90071992547409.93', 'EUR'], ['-100000000000', 'EUR'], ['1'.repeat(100_000), 'EUR']] as const) {
      const e = (() => { try { parseAmount(text, currency, 'price'); } catch (x) { return x; } return null; })() as DomainError;
      expect(e, `${text.slice(0, 20)} ${currency}`).toBeInstanceOf(DomainError);
      expect(e.detail).toMatchObject({ field: 'price', rule: 'amount_max' });
      expect(e.message.length).toBeLessThan(200);
    }
    expect(parseAmount('0000000000000000000099999999999.99', 'EUR')).toBe(9_999_999_999_999);
    expect(parseAmount('9999999999999', 'JPY')).toBe(9_999_999_999_999);
  });

  it('refuses more decimals than the currency has, commas and words', () => {
    for (const bad of ['1.005', '1,50', 'abc', '', '1.2.3']) {
      expect(() => parseAmount(bad, 'EUR')).toThrow(DomainError);
    }
    expect(() => parseAmount('1.5', 'JPY')).toThrow(/JPY allows 0/);
  });

  it('formats minor units back', () => {
    expect(formatAmount(12050, 'EUR')).toBe('120.50');
    expect(formatAmount(5, 'EUR')).toBe('0.05');
    expect(formatAmount(-5, 'EUR')).toBe('-0.05');
    expect(formatAmount(1500, 'JPY')).toBe('1500');
  });

  it('rounds halves away from zero', () => {
    expect(divRoundHalfUp(5n, 2n)).toBe(3n);
    expect(divRoundHalfUp(-5n, 2n)).toBe(-3n);
    expect(divRoundHalfUp(4n, 3n)).toBe(1n);
    expect(divRoundHalfUp(5n, 3n)).toBe(2n);
    // 19.99 at 20 % = 3.998 → 4.00; 0.125 at 100 % stays; 2.5 cents → 3 cents
    expect(applyRate(1999, 2000)).toBe(400);
    expect(applyRate(25, 5000)).toBe(13);
    expect(applyRate(-25, 5000)).toBe(-13);
  });

  it('parses percentages into basis points', () => {
    expect(parsePercent('20', 'tax')).toBe(2000);
    expect(parsePercent('7.5', 'tax')).toBe(750);
    expect(parsePercent('12.25', 'tax')).toBe(1225);
    expect(() => parsePercent('101', 'tax')).toThrow(/at most 100/);
    expect(() => parsePercent('-1', 'tax')).toThrow(DomainError);
  });
});
