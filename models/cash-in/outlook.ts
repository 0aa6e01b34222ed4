import type { DuckDBConnection } from '@duckdb/node-api';
import { addDays, daysBetween } from '../../src/shared/dates.ts';
import { openItemFeatures, type FeatureRow } from '../payment-date/features.ts';
import { fitPaymentDate, predictDays, predictPaymentDate } from '../payment-date/model.ts';
import type { SalesForecast } from '../sales/forecast.ts';
import { Z80 } from '../sales/backtest.ts';
import { cashWeekly, firstWeekStart, type CashWeek, type OpenInvoiceOutlook } from './cash-weekly.ts';
import { agingBucket, collectionByAge, collectionCurve, newSalesReceipts, type CollectionCurve, type ExpectedInvoicing } from './new-sales.ts';

/**
 * Receipts of the next 13 weeks from invoices not yet issued: the total sales forecast, tax
 * added back, through the collection curve — of one currency when `currency` is given, else
 * of every currency added up. Undefined
 * without a curve or a forecast.
 */
async function expectedNewSales(asOf: string, sales: SalesForecast, curve: CollectionCurve | null, currency?: string) {
  const months: ExpectedInvoicing[] = [];
  for (const f of sales.forecasts.filter((x) => x.series.level === 'total' && (currency === undefined || x.series.currency === currency))) {
    const ratio = sales.grossRatio[f.series.currency] ?? 1;
    for (const m of f.months) {
      // A series too short for an interval (a replay at an early origin) adds no spread.
      const sd = m.lowCents === null || m.highCents === null || !Number.isFinite(m.highCents - m.lowCents) ? 0 : (m.highCents - m.lowCents) / (2 * Z80);
      if (!Number.isFinite(m.expectedCents)) continue;
      months.push({ month: m.month, expectedCents: m.expectedCents * ratio, sdCents: sd * ratio });
    }
  }
  if (!curve || months.length === 0) return undefined;
  return newSalesReceipts(asOf, firstWeekStart(asOf), 13, months, curve);
}

/** Invoices settled by the forecast date below which the payment-date model (and so the cash-in outlook) is skipped. */
export const MIN_SETTLED = 20;

/**
 * The payment-date forecast of the invoices open on `asOf` and the 13 weeks of cash-in, from
 * what was known on `asOf`: the model fitted on the invoices settled by then (the most recent
 * `maxTrainingRows` of them when given: the backtest's replays), the open items with
 * features as of then, the new sales from `sales`. The per-invoice predictions (sorting every
 * residual for each invoice) are left out with `predictions: false`: the replays need only
 * the weeks. Null with fewer than `minSettled` invoices settled by then (default 1: the replays; the
 * published forecast asks for `MIN_SETTLED`). `weeks` adds every currency up; with
 * `byCurrency: true` the weeks of each currency come instead, in minor units of that
 * currency — the published forecast and the replays, each currency judged against its own
 * cash (`weeks` is then empty).
 */
export async function cashOutlook(conn: DuckDBConnection, asOf: string, history: FeatureRow[], sales: SalesForecast, options: { maxTrainingRows?: number; predictions?: boolean; minSettled?: number; byCurrency?: boolean } = {}) {
  let settled = history.filter((r) => r.invoice_date <= asOf && r.settled_date !== null && r.settled_date <= asOf);
  if (settled.length < Math.max(1, options.minSettled ?? 1)) return null;
  if (options.maxTrainingRows !== undefined && settled.length > options.maxTrainingRows) {
    settled = [...settled].sort((a, b) => (a.invoice_date < b.invoice_date ? 1 : a.invoice_date > b.invoice_date ? -1 : 0)).slice(0, options.maxTrainingRows);
  }
  const model = fitPaymentDate(settled);
  const open = await openItemFeatures(conn, asOf);
  const predictions = [];
  const outlooks: OpenInvoiceOutlook[] = [];
  const grid = residualGrid(model.residuals);
  // Outcome dates as days after as-of, each date string made once (a few hundred thousand per replay otherwise).
  const days: string[] = [];
  const dayAfter = (k: number) => (days[k] ??= addDays(asOf, k));
  for (const r of open) {
    const openOnDay = daysBetween(r.invoice_date, asOf);
    if (options.predictions !== false) {
      const p = predictPaymentDate(model, r, openOnDay);
      const date = (d: number) => addDays(r.invoice_date, Math.max(openOnDay + 1, Math.round(d)));
      predictions.push({ r, p, date });
    }
    // The conditional outcomes again, as dates, for the weekly spread.
    outlooks.push({ openCents: r.open_cents, outcomes: spread(model, grid, r, openOnDay).map((d) => dayAfter(d - openOnDay)) });
  }
  // Not every open amount is paid: some is credited or written off, more of it the older it
  // is. Each open invoice's receipts are scaled by the share paid of balances of its age in
  // the past (else by the share of invoiced amounts paid over the last year).
  const curve = await collectionCurve(conn, asOf);
  const byAge = await collectionByAge(conn, asOf);
  open.forEach((r, i) => {
    outlooks[i]!.openCents *= byAge.get(agingBucket(daysBetween(r.due_date, asOf))) ?? curve?.collectedShare ?? 1;
  });
  if (options.byCurrency !== true) return { model, open, predictions, weeks: cashWeekly(asOf, outlooks, 13, await expectedNewSales(asOf, sales, curve)), byCurrency: [] };
  // The published forecast, one currency at a time: its open invoices and its own new sales.
  const currencies = [...new Set([...open.map((r) => r.currency), ...sales.forecasts.filter((f) => f.series.level === 'total').map((f) => f.series.currency)])].sort();
  const byCurrency: { currency: string; weeks: CashWeek[] }[] = [];
  for (const currency of currencies) {
    const mine = outlooks.filter((_, i) => open[i]!.currency === currency);
    byCurrency.push({ currency, weeks: cashWeekly(asOf, mine, 13, await expectedNewSales(asOf, sales, curve, currency)) });
  }
  return { model, open, predictions, weeks: [] as CashWeek[], byCurrency };
}

/**
 * The training residuals summarised by `points` evenly spaced quantiles: the same
 * distribution for the weekly spread at a fraction of the cost (a few thousand residuals per
 * open invoice, replayed at six origins, took most of the forecast step).
 */
export function residualGrid(residuals: number[], points = 200): number[] {
  if (residuals.length <= points) return residuals;
  const sorted = [...residuals].sort((a, b) => a - b);
  return Array.from({ length: points }, (_, i) => sorted[Math.min(sorted.length - 1, Math.floor(((i + 0.5) / points) * sorted.length))]!);
}

/** Possible payment days (from the invoice date) of an invoice still open on day `openOnDay`. */
function spread(model: ReturnType<typeof fitPaymentDate>, grid: number[], r: Parameters<typeof predictPaymentDate>[1], openOnDay: number): number[] {
  const days = predictDays(model, r);
  const outcomes = grid.map((e) => Math.round(Math.max(0, days + e))).filter((d) => d > openOnDay);
  return outcomes.length >= 5 ? outcomes : [openOnDay + 1, openOnDay + 7, openOnDay + 14, openOnDay + 21, openOnDay + 30];
}
