import { addDays, daysBetween } from '../../src/shared/dates.ts';
import type { WeeklyReceipts } from './new-sales.ts';

/**
 * 13-week cash-in forecast. Open invoices: each invoice's open amount is spread over the
 * weeks by its predicted payment-date distribution (the conditional outcomes of the
 * payment-date model), each invoice paying in a week or not, independently. New sales: the
 * receipts of invoices not yet issued (new-sales.ts: the sales forecast through the
 * collection curve), with their own variance. A week's expectation is the sum of both, its
 * 80 % interval the normal approximation of the two independent parts (z = 1.2816) — too
 * narrow, since real weeks move together; the forecast step replaces it by the interval
 * calibrated on the forecast's replays when there are enough of them (calibration.ts). For
 * planners; judged later against the cash that arrived (the reports show forecast against
 * actual).
 */
export interface OpenInvoiceOutlook {
  openCents: number;
  /** Possible payment dates (YYYY-MM-DD), equally likely. */
  outcomes: string[];
}

export interface CashWeek {
  weekStart: string;
  expectedCents: number;
  lowCents: number;
  highCents: number;
  /** Part of the expectation from invoices not yet issued. */
  newSalesCents: number;
  /** 'model': the normal approximation below; 'calibrated': set from the replays (calibration.ts). */
  intervalMethod: 'model' | 'calibrated';
}

/** Monday on or after the day after `asOf`. */
export function firstWeekStart(asOf: string): string {
  let d = addDays(asOf, 1);
  while (new Date(`${d}T00:00:00Z`).getUTCDay() !== 1) d = addDays(d, 1);
  return d;
}

export function cashWeekly(asOf: string, invoices: OpenInvoiceOutlook[], weeks = 13, newSales?: WeeklyReceipts): CashWeek[] {
  const start = firstWeekStart(asOf);
  // Receipts between as-of and the first Monday fall in week 0 as well.
  const out: CashWeek[] = [];
  const mean = new Array<number>(weeks).fill(0);
  const variance = new Array<number>(weeks).fill(0);
  // Week of each outcome date, computed once per date (invoices share most of their dates).
  const weekOf = new Map<string, number>();
  for (const inv of invoices) {
    if (inv.outcomes.length === 0) continue;
    const perWeek = new Array<number>(weeks).fill(0);
    for (const d of inv.outcomes) {
      let w = weekOf.get(d);
      if (w === undefined) weekOf.set(d, (w = Math.max(0, Math.floor(daysBetween(start, d) / 7))));
      if (w < weeks) perWeek[w]! += 1 / inv.outcomes.length;
    }
    for (let w = 0; w < weeks; w++) {
      const p = perWeek[w]!;
      mean[w]! += inv.openCents * p;
      variance[w]! += inv.openCents ** 2 * p * (1 - p);
    }
  }
  for (let w = 0; w < weeks; w++) {
    const fresh = newSales?.meanCents[w] ?? 0;
    const m = mean[w]! + fresh;
    // Rounding can leave a variance a hair below zero when every outcome falls in one week.
    const sd = Math.sqrt(Math.max(0, variance[w]! + (newSales?.varianceCents[w] ?? 0)));
    out.push({ weekStart: addDays(start, 7 * w), expectedCents: Math.round(m), lowCents: Math.max(0, Math.round(m - 1.2816 * sd)), highCents: Math.round(m + 1.2816 * sd), newSalesCents: Math.round(fresh), intervalMethod: 'model' });
  }
  return out;
}
