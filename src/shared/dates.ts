import { invalid } from './errors.ts';

/** Business dates are `YYYY-MM-DD` strings; arithmetic happens on UTC days. */
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isBusinessDate(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = DATE_RE.exec(value);
  if (!m) return false;
  const d = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value;
}

/** Validates a business date; `field` names the input in the error. */
export function parseBusinessDate(value: unknown, field: string): string {
  if (!isBusinessDate(value)) {
    throw invalid(`${field} must be a date written YYYY-MM-DD, got ${JSON.stringify(value)}`, {
      field,
      value,
      rule: 'date_format',
    });
  }
  return value;
}

const dayMs = 86_400_000;
const toDays = (date: string): number => Date.parse(`${date}T00:00:00Z`) / dayMs;

/** `addDays('2026-01-31', 1)` → `'2026-02-01'`. */
export function addDays(date: string, days: number): string {
  return new Date((toDays(date) + days) * dayMs).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  return Math.round(toDays(to) - toDays(from));
}

export function yearOf(date: string): number {
  return Number(date.slice(0, 4));
}

/** Last day of the month that contains `date`. */
export function monthEnd(date: string): string {
  const y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  return new Date(Date.UTC(y, m, 0)).toISOString().slice(0, 10);
}
