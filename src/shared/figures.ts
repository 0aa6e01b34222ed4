import { formatAmount } from './money.ts';

/**
 * Figures as a person reads them on a page: thousands separated by commas, money with as many
 * decimals as its currency has (2 for EUR, 0 for JPY, 3 for KWD), negatives with a true minus
 * — the style of the reports (`reports/components/format.js`), so the workspace and the
 * reports print `78,000.00 EUR` alike. Money is grouped from the exact decimal text of
 * `formatAmount`, never through floating point.
 *
 * For screens only: CSV, JSON and the value of a form's input keep `formatAmount`'s plain
 * text (`78000.00`), which a person or a program can type or read back in.
 */

const MINUS = '\u2212';

/**
 * Groups the whole part of a plain decimal text by thousands and writes its sign as a true
 * minus; a negative zero (`-0.0`) loses its sign. Throws on anything but digits with an
 * optional sign and fraction.
 *
 * @example groupThousands('-1234567.50') // "−1,234,567.50"
 */
export function groupThousands(decimal: string): string {
  const m = /^(-?)(\d+)(\.\d+)?$/.exec(decimal);
  if (!m) throw new Error(`groupThousands takes a plain decimal like -1234.50, got ${JSON.stringify(decimal)}`);
  const [, sign, whole, frac = ''] = m;
  const zero = /^0+$/.test(whole!) && /^\.?0*$/.test(frac);
  return `${sign && !zero ? MINUS : ''}${whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac}`;
}

/** Minor units as a grouped amount without the code: `displayAmount(7800000, 'EUR')` → `"78,000.00"`, `displayAmount(7800000, 'JPY')` → `"7,800,000"`. */
export const displayAmount = (minor: number, currency: string): string => groupThousands(formatAmount(minor, currency));

/** Minor units as money on a page: `displayMoney(7800000, 'EUR')` → `"78,000.00 EUR"`. */
export const displayMoney = (minor: number, currency: string): string => `${displayAmount(minor, currency)} ${currency}`;

/** A whole count (items, units, customers): `displayCount(12500)` → `"12,500"`. Throws on a fraction. */
export function displayCount(n: number): string {
  if (!Number.isSafeInteger(n)) throw new Error(`displayCount takes a whole number, got ${n}`);
  return groupThousands(String(n));
}

/**
 * A rate held in basis points as a percentage, exact, without trailing zeros:
 * `displayPercent(750)` → `"7.5 %"`, `displayPercent(2000)` → `"20 %"`, `displayPercent(1225)` → `"12.25 %"`.
 */
export function displayPercent(basisPoints: number): string {
  if (!Number.isSafeInteger(basisPoints)) throw new Error(`displayPercent takes whole basis points, got ${basisPoints}`);
  const size = Math.abs(basisPoints);
  const frac = String(size % 100).padStart(2, '0').replace(/0+$/, '');
  return `${groupThousands(`${basisPoints < 0 ? '-' : ''}${Math.trunc(size / 100)}${frac ? `.${frac}` : ''}`)} %`;
}

/**
 * A measure that is not money and not a count (an average of days) with a fixed number of
 * decimals: `displayMeasure(1234.56, 1)` → `"1,234.6"`. The measure arrives as a number from
 * its service; rounding it for the page is the only arithmetic here.
 */
export function displayMeasure(value: number, decimals: number): string {
  if (!Number.isFinite(value)) throw new Error(`displayMeasure takes a finite number, got ${value}`);
  return groupThousands(value.toFixed(decimals));
}
