import { describe, expect, it } from 'vitest';
import { MAX_AMOUNT_MINOR, MAX_ID, MAX_QUANTITY } from '../../src/shared/bounds.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { checkText, pageOptions, requireId, requireQuantity, requireText, textProblem } from '../../src/shared/validate.ts';
import { documentTotals, lineAmounts } from '../../src/orders/order.totals.ts';

const failure = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('expected a DomainError');
};

/** Round half away from zero of n × bp / 10 000, written independently of the code under test. */
const rate = (n: bigint, bp: bigint): bigint => {
  const p = n * bp;
  const q = p / 10_000n;
  const r = p % 10_000n;
  return r * 2n >= 10_000n ? q + 1n : q;
};

describe('the bounds', () => {
  it('keep 900 documents at the maximum within exact integer arithmetic', () => {
    expect(BigInt(MAX_AMOUNT_MINOR) * 900n).toBeLessThan(BigInt(Number.MAX_SAFE_INTEGER));
    expect(MAX_QUANTITY * 2).toBeLessThan(MAX_ID); // a line's shipped + reserved fit an integer column
  });
});

describe('line amounts near the maximum', () => {
  it('rounds discount and tax exactly where gross × rate passes 2^53', () => {
    // 999,999,999 × 80.01 = 8,000,999,991,999 minor units; × 1 234 bp is about 10^16, past 2^53.
    const a = lineAmounts(MAX_QUANTITY, 8_001, 1_234, 2_000);
    const gross = BigInt(MAX_QUANTITY) * 8_001n;
    expect(gross * 1_234n).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    const discount = rate(gross, 1_234n);
    const tax = rate(gross - discount, 2_000n);
    expect(a).toEqual({ gross: Number(gross), discount: Number(discount), net: Number(gross - discount), tax: Number(tax), total: Number(gross - discount + tax) });
  });

  it('refuses a line above the maximum, naming the line field, whether or not the float product would have been safe', () => {
    // 2^53 + 1 as price × 1 would be caught by parseAmount; here the product alone passes it.
    for (const [q, p] of [[MAX_QUANTITY, MAX_AMOUNT_MINOR], [1_000_000, 10_000_001], [MAX_QUANTITY, 10_001]] as const) {
      const e = failure(() => lineAmounts(q, p, 0, 0, 'lines.3.quantity'));
      expect(e.detail).toMatchObject({ field: 'lines.3.quantity', rule: 'amount_max', value: q });
    }
    // Tax carries a line at the maximum over it: total = net + 20 %.
    expect(lineAmounts(1, MAX_AMOUNT_MINOR, 0, 0).total).toBe(MAX_AMOUNT_MINOR);
    expect(failure(() => lineAmounts(1, MAX_AMOUNT_MINOR, 0, 2_000)).detail.rule).toBe('amount_max');
  });

  it('refuses a document whose lines together pass the maximum, naming the line that carries it over', () => {
    const lines = [lineAmounts(1, 4_999_999_999_999, 0, 0), lineAmounts(1, 5_000_000_000_000, 0, 0)];
    expect(documentTotals(lines).total).toBe(MAX_AMOUNT_MINOR);
    const over = [...lines.slice(0, 1), lineAmounts(1, 1, 0, 0), lineAmounts(1, 5_000_000_000_000, 0, 0)];
    expect(failure(() => documentTotals(over)).detail).toMatchObject({ field: 'lines.2.quantity', rule: 'amount_max' });
  });
});

describe('whole numbers at the edge', () => {
  it('takes quantities up to MAX_QUANTITY and ids up to MAX_ID, refusing more with the bound\'s rule', () => {
    expect(requireQuantity('999999999', 'quantity')).toBe(MAX_QUANTITY);
    expect(failure(() => requireQuantity(1_000_000_000, 'lines.0.quantity')).detail).toMatchObject({ field: 'lines.0.quantity', value: 1_000_000_000, rule: 'quantity_max' });
    expect(failure(() => requireQuantity(2 ** 53 + 2, 'quantity')).detail.rule).toBe('quantity_max');
    expect(failure(() => requireQuantity(0, 'quantity')).detail.rule).toBe('positive');
    expect(requireId('2147483647', 'orderId')).toBe(MAX_ID);
    expect(failure(() => requireId(2_147_483_648, 'orderId')).detail).toMatchObject({ field: 'orderId', rule: 'id_max' });
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1.5, '1e3', '', null]) expect(failure(() => requireId(bad, 'orderId')).detail.rule).toBe('integer');
  });

  it('checks paging options: a cursor is an id, a page holds 1 to the most a list gives', () => {
    expect(pageOptions({})).toEqual({ afterId: undefined, limit: 100 });
    expect(pageOptions({ afterId: '0', limit: '100000' })).toEqual({ afterId: 0, limit: 100_000 });
    expect(failure(() => pageOptions({ afterId: 2 ** 31 })).detail).toMatchObject({ field: 'after', rule: 'id_max' });
    expect(failure(() => pageOptions({ limit: Number('abc') })).detail).toMatchObject({ field: 'limit', rule: 'integer' });
    expect(failure(() => pageOptions({ limit: 100_001 })).detail).toMatchObject({ field: 'limit', rule: 'maximum' });
    expect(failure(() => pageOptions({ limit: 0 })).detail).toMatchObject({ field: 'limit', rule: 'positive' });
  });
});

describe('the text rule', () => {
  it('refuses U+0000 and the other C0 controls everywhere, and allows TAB, LF and CR only in free text', () => {
    for (let c = 0; c < 0x20; c++) {
      const text = `Acme${String.fromCharCode(c)}GmbH`;
      const freeTextAllowed = c === 0x09 || c === 0x0a || c === 0x0d;
      expect(textProblem(text, false)?.rule, `U+${c.toString(16)} on one line`).toBe('control_character');
      expect(textProblem(text, true)?.rule, `U+${c.toString(16)} in free text`).toBe(freeTextAllowed ? undefined : 'control_character');
    }
    expect(textProblem('a\u007fb', true)?.rule).toBe('control_character');
    expect(textProblem('Müller & Söhne — Zweigniederlassung 北 🚚', false)).toBeNull();
    expect(textProblem('\u0085 and \u00a0 are not C0', false)).toBeNull();
  });

  it('refuses half of a surrogate pair, and keeps whole pairs', () => {
    expect(textProblem('a\ud800b', true)?.rule).toBe('unicode');
    expect(textProblem('a\udc00', true)?.rule).toBe('unicode');
    expect(textProblem('\ud83d\ude9a', false)).toBeNull();
  });

  it('decides free text by the field name, and names the field in the error', () => {
    expect(checkText('line one\nline two', 'lines.0.reason')).toBe('line one\nline two');
    expect(checkText('Müller & Söhne\nNord', 'name')).toBe('Müller & Söhne\nNord');
    expect(failure(() => checkText('T1\n', 'trackingNumber')).detail).toMatchObject({ field: 'trackingNumber', rule: 'control_character' });
    expect(failure(() => requireText('a\u0000', 'reason', 500)).detail).toMatchObject({ field: 'reason', value: 'a\u0000', rule: 'control_character' });
    expect(failure(() => requireText('INV\t1', 'invoice', 100)).message).toMatch(/invoice holds the control character U\+0009 at position 4/);
  });
});
