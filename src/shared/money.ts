import { invalid } from './errors.ts';
import { MAX_AMOUNT_MINOR } from './bounds.ts';

/**
 * Money in the core is an integer count of minor units (cents) beside an ISO 4217 currency
 * code. Floats never carry money: decimals are parsed from and written to strings here, at
 * the edges, and every rounding step is an explicit function below.
 */

/** Minor-unit exponent per currency; any code not listed uses 2 (the warehouse builds its SQL macro from this table). */
export const EXPONENTS: Record<string, number> = {
  JPY: 0, KRW: 0, ISK: 0, CLP: 0, VND: 0, XAF: 0, XOF: 0, HUF: 2,
  BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3, LYD: 3, IQD: 3,
};

const CURRENCY_RE = /^[A-Z]{3}$/;

export function currencyExponent(currency: string): number {
  return EXPONENTS[currency] ?? 2;
}

export function parseCurrency(value: unknown, field = 'currency'): string {
  if (typeof value !== 'string' || !CURRENCY_RE.test(value)) {
    throw invalid(`${field} must be a three-letter ISO 4217 code, got ${JSON.stringify(value)}`, {
      field,
      value,
      rule: 'currency_code',
    });
  }
  return value;
}

/**
 * Parses a decimal amount written with a dot (`"120.50"`, `"-3"`, `"0.5"`) into minor units
 * of `currency`, refusing more decimals than the currency has and anything beyond
 * ±MAX_AMOUNT_MINOR (rule `amount_max`).
 *
 * @example parseAmount('120.50', 'EUR') // 12050
 */
export function parseAmount(value: unknown, currency: string, field = 'amount'): number {
  const text = typeof value === 'number' ? numberToPlainString(value) : value;
  if (typeof text !== 'string') {
    throw invalid(`${field} must be a decimal amount, got ${JSON.stringify(value)}`, { field, value, rule: 'amount_format' });
  }
  const m = /^\s*(-?)(\d+)(?:\.(\d+))?\s*$/.exec(text);
  if (!m) {
    throw invalid(`${field} must be a decimal amount with a dot, got ${JSON.stringify(value)}`, {
      field,
      value,
      rule: 'amount_format',
    });
  }
  const exp = currencyExponent(currency);
  const [, sign, whole, frac = ''] = m;
  if (frac.length > exp) {
    throw invalid(`${field} has ${frac.length} decimals; ${currency} allows ${exp}`, { field, value, rule: 'amount_precision' });
  }
  // Leading zeros aside, more than 13 whole digits is beyond the maximum in any currency;
  // checking the length first keeps a megabyte of digits from becoming a BigInt.
  if (whole!.replace(/^0+/, '').length > 13) throw amountTooLarge(field, value, currency);
  const minor = BigInt(whole!) * 10n ** BigInt(exp) + BigInt(frac.padEnd(exp, '0') || '0');
  checkAmountMax(minor, field, value, currency);
  return Number(sign === '-' ? -minor : minor);
}

/**
 * Refuses an amount (typed in, or computed: a line's gross, an order's total) whose size is
 * above MAX_AMOUNT_MINOR, naming the field that carried it.
 */
export function checkAmountMax(minor: bigint | number, field: string, value: unknown, currency: string): void {
  const size = typeof minor === 'bigint' ? (minor < 0n ? -minor : minor) : Math.abs(minor);
  if (size > MAX_AMOUNT_MINOR) throw amountTooLarge(field, value, currency);
}

/** A value as an error message quotes it: at most 40 characters of it. */
const shown = (value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}… (${text.length} characters)` : text;
};

function amountTooLarge(field: string, value: unknown, currency: string) {
  return invalid(`${field} must be at most ${formatAmount(MAX_AMOUNT_MINOR, currency)} ${currency} (the largest amount cashloop holds), got ${shown(value)}`, {
    field,
    value,
    rule: 'amount_max',
  });
}

/** Like parseAmount, and the amount must be above zero. */
export function parsePositiveAmount(value: unknown, currency: string, field = 'amount'): number {
  const minor = parseAmount(value, currency, field);
  if (minor <= 0) throw invalid(`${field} must be above zero, got ${String(value)}`, { field, value, rule: 'amount_positive' });
  return minor;
}

function numberToPlainString(n: number): string {
  // Only for numbers that came from JSON input; money in the core is never a float.
  if (!Number.isFinite(n)) return String(n);
  return n.toFixed(Math.min(20, Math.max(0, (String(n).split('.')[1] ?? '').length)));
}

/** Writes minor units as a decimal string: `formatAmount(12050, 'EUR')` → `"120.50"`. */
export function formatAmount(minor: number, currency: string): string {
  const exp = currencyExponent(currency);
  const neg = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exp + 1, '0');
  const whole = exp === 0 ? digits : digits.slice(0, -exp);
  const frac = exp === 0 ? '' : `.${digits.slice(-exp)}`;
  return `${neg ? '-' : ''}${whole}${frac}`;
}

/** `formatMoney(12050, 'EUR')` → `"120.50 EUR"`. */
export const formatMoney = (minor: number, currency: string): string => `${formatAmount(minor, currency)} ${currency}`;

/**
 * Rounds numerator / denominator to the nearest integer, halves away from zero
 * ("commercial rounding", the rule invoices use). Exact for any safe integers.
 *
 * @example divRoundHalfUp(5, 2) // 3;  divRoundHalfUp(-5, 2) // -3
 */
export function divRoundHalfUp(numerator: bigint, denominator: bigint): bigint {
  if (denominator === 0n) throw new Error('division by zero');
  const neg = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const q = (2n * n + d) / (2n * d);
  return neg ? -q : q;
}

/**
 * `amount × basisPoints / 10 000`, rounded half up: tax and discount on one line.
 * Rates are basis points (20 % = 2000, 7.5 % = 750) so they stay integers too.
 *
 * @example applyRate(1999, 2000) // 400 (19.99 × 20 % = 3.998 → 4.00)
 */
export function applyRate(amountMinor: number, basisPoints: number): number {
  return Number(divRoundHalfUp(BigInt(amountMinor) * BigInt(basisPoints), 10_000n));
}

/** Parses a percentage written as a decimal (`"20"`, `"7.5"`, `"12.25"`) into basis points. */
export function parsePercent(value: unknown, field: string): number {
  const text = typeof value === 'number' ? String(value) : value;
  const m = typeof text === 'string' ? /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*$/.exec(text) : null;
  if (!m) {
    throw invalid(`${field} must be a percentage like 20 or 7.5, got ${JSON.stringify(value)}`, { field, value, rule: 'percent_format' });
  }
  const bp = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0') || '0');
  if (bp > 10_000) throw invalid(`${field} must be at most 100, got ${String(value)}`, { field, value, rule: 'percent_range' });
  return bp;
}

export const formatPercent = (bp: number): string => {
  const whole = Math.trunc(bp / 100);
  const frac = bp % 100;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(2, '0').replace(/0$/, '')}`;
};
