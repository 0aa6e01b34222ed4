import { formatAmount } from '../shared/money.ts';
import type { LabelledLine } from '../payments/account.service.ts';

/**
 * How the customer's documents (portal pages, invoice and statement PDFs) write money and
 * dates: amounts with thousands separators and the currency's own number of decimals, a
 * true minus sign, dates in words. From the integer minor units, never through a float.
 *
 * @example money(-123456, 'EUR') // "−1,234.56 EUR"
 * @example longDate('2026-03-02') // "2 Mar 2026"
 */
export function amount(minor: number, currency: string): string {
  const plain = formatAmount(Math.abs(minor), currency);
  const dot = plain.indexOf('.');
  const whole = dot < 0 ? plain : plain.slice(0, dot);
  const grouped = whole.replace(/\B(?=(\d{3})+$)/g, ',');
  return `${minor < 0 ? '\u2212' : ''}${grouped}${dot < 0 ? '' : plain.slice(dot)}`;
}

export const money = (minor: number, currency: string): string => `${amount(minor, currency)} ${currency}`;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A business date (`YYYY-MM-DD`) or the date of an ISO timestamp, in words. */
export function longDate(value: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(value);
  if (!m) return value;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1]} ${m[1]}`;
}

/** The time of day of an ISO timestamp, in UTC: "14:05 UTC". */
export function timeOfDay(iso: string): string {
  const m = /T(\d{2}):(\d{2})/.exec(iso);
  return m ? `${m[1]}:${m[2]} UTC` : '';
}

/** An IBAN in groups of four, as it is printed: "DE89 3704 0044 0532 0130 00". */
export const groupedIban = (iban: string): string => iban.replace(/(.{4})(?=.)/g, '$1 ');

/** "in 3 days", "today", "12 days overdue". */
export function dueInWords(daysPastDue: number): string {
  if (daysPastDue > 0) return `${daysPastDue} day${daysPastDue === 1 ? '' : 's'} overdue`;
  if (daysPastDue === 0) return 'due today';
  return `due in ${-daysPastDue} day${daysPastDue === -1 ? '' : 's'}`;
}

/** A status word of the core (`partially_shipped`) as a customer reads it. */
export const statusWords = (status: string): string => status.replaceAll('_', ' ');

/** A statement line in words: its label and particulars ("Payment: bank transfer, ref. INV-…"). */
export function describeLine(l: Pick<LabelledLine, 'label' | 'detail' | 'dueDate'>): string {
  if (l.label === 'Invoice') return l.dueDate ? `Invoice, due ${longDate(l.dueDate)}` : 'Invoice';
  return l.detail ? `${l.label}: ${l.detail}` : l.label;
}
