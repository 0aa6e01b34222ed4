import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../pipelines/warehouse.ts';
import { addDays, daysBetween, monthEnd } from '../../src/shared/dates.ts';
import { firstWeekStart, type CashWeek } from './cash-weekly.ts';

/**
 * How the 13-week cash-in forecast would have done: replayed at past month-ends (origins)
 * with what was known on each — the payment-date model fitted on invoices settled by then,
 * the invoices open then, the sales forecast from the months complete then — and set against
 * the cash that came in. For planners, the forecast-against-actual of past weeks; for us,
 * the model's accuracy beside two baselines every planner knows:
 *
 * - `due_date`: each open invoice paid on its due date (overdue ones in the first week), no
 *   new sales — the cash forecast most ERPs print;
 * - `run_rate`: the average weekly receipts of the 13 weeks before the origin, every week.
 *
 * Metrics over every replayed week that has ended: WAPE (Σ|forecast − actual| / Σ actual),
 * bias (Σ(forecast − actual) / Σ actual) and the share of weeks whose receipts fell inside
 * the 80 % interval.
 */
export interface BacktestWeek {
  origin: string;
  weekStart: string;
  expectedCents: number;
  lowCents: number;
  highCents: number;
  actualCents: number;
  dueDateCents: number;
  runRateCents: number;
}

export interface CashBacktest {
  weeks: BacktestWeek[];
  origins: string[];
  metrics: { metric: 'wape' | 'bias' | 'interval_80_coverage'; value: number; baseline: string; baselineValue: number }[];
}

/** Month-ends before `asOf` with at least `minWeeks` full weeks of their forecast behind `asOf`, the latest `count`. */
export function backtestOrigins(asOf: string, count = 6, minWeeks = 4): string[] {
  const out: string[] = [];
  let m = monthEnd(addDays(`${asOf.slice(0, 7)}-01`, -1));
  while (out.length < count) {
    if (daysBetween(firstWeekStart(m), asOf) >= 7 * minWeeks - 1) out.unshift(m);
    m = monthEnd(addDays(`${m.slice(0, 7)}-01`, -1));
    if (m < '1990-01-01') break;
  }
  return out;
}

/** Week index (0…weeks−1) of a day after `origin`, receipts before the first Monday in week 0; −1 outside. */
export function weekOf(origin: string, day: string, weeks = 13): number {
  if (day <= origin) return -1;
  const w = Math.max(0, Math.floor(daysBetween(firstWeekStart(origin), day) / 7));
  return w < weeks ? w : -1;
}

/** Receipts per day (not reversed), all currencies together as the forecast adds them. */
async function dailyReceipts(conn: DuckDBConnection, from: string, to: string): Promise<Map<string, number>> {
  const rows = await rowsJs(
    conn,
    `select payment_date::varchar as d, sum(amount_cents)::double as cents from marts.fct_payments
     where not coalesce(is_reversed, false) and payment_date > date '${from}' and payment_date <= date '${to}' group by 1`,
  );
  return new Map(rows.map((r) => [String(r.d), Number(r.cents)]));
}

/** Sums receipts into the 13 weeks after `origin`. */
export function weeklyActuals(origin: string, receipts: Map<string, number>, weeks = 13): number[] {
  const out = new Array<number>(weeks).fill(0);
  for (const [d, cents] of receipts) {
    const w = weekOf(origin, d, weeks);
    if (w >= 0) out[w]! += cents;
  }
  return out;
}

/** The due-date baseline: open amounts on their due dates, overdue ones in week 0. */
export function dueDateBaseline(origin: string, open: { openCents: number; dueDate: string }[], weeks = 13): number[] {
  const out = new Array<number>(weeks).fill(0);
  for (const o of open) {
    const w = o.dueDate <= origin ? 0 : weekOf(origin, o.dueDate, weeks);
    if (w >= 0) out[w]! += o.openCents;
  }
  return out;
}

export function metricsOf(weeks: BacktestWeek[]): CashBacktest['metrics'] {
  const actual = weeks.reduce((s, w) => s + w.actualCents, 0);
  const abs = (f: (w: BacktestWeek) => number) => weeks.reduce((s, w) => s + Math.abs(f(w) - w.actualCents), 0) / actual;
  const bias = (f: (w: BacktestWeek) => number) => weeks.reduce((s, w) => s + f(w) - w.actualCents, 0) / actual;
  const coverage = weeks.filter((w) => w.actualCents >= w.lowCents && w.actualCents <= w.highCents).length / weeks.length;
  return [
    { metric: 'wape', value: abs((w) => w.expectedCents), baseline: 'run_rate', baselineValue: abs((w) => w.runRateCents) },
    { metric: 'wape', value: abs((w) => w.expectedCents), baseline: 'due_date', baselineValue: abs((w) => w.dueDateCents) },
    { metric: 'bias', value: bias((w) => w.expectedCents), baseline: 'run_rate', baselineValue: bias((w) => w.runRateCents) },
    { metric: 'bias', value: bias((w) => w.expectedCents), baseline: 'due_date', baselineValue: bias((w) => w.dueDateCents) },
    { metric: 'interval_80_coverage', value: coverage, baseline: 'nominal', baselineValue: 0.8 },
  ];
}

/**
 * Replays the forecast at each origin (`forecastAt` makes the 13 weeks and returns the open
 * items it started from, with only what was known at the origin) and keeps the weeks that
 * have ended by `asOf`. Null when no origin has a forecast.
 */
export async function cashBacktest(
  conn: DuckDBConnection,
  asOf: string,
  forecastAt: (origin: string) => Promise<{ weeks: CashWeek[]; open: { openCents: number; dueDate: string }[] } | null>,
  origins = backtestOrigins(asOf),
): Promise<CashBacktest | null> {
  if (origins.length === 0) return null;
  const receipts = await dailyReceipts(conn, addDays(origins[0]!, -91), asOf);
  const weeks: BacktestWeek[] = [];
  const used: string[] = [];
  for (const origin of origins) {
    const f = await forecastAt(origin);
    if (!f) continue;
    used.push(origin);
    const actual = weeklyActuals(origin, receipts);
    const due = dueDateBaseline(origin, f.open);
    let before = 0;
    for (const [d, cents] of receipts) if (d > addDays(origin, -91) && d <= origin) before += cents;
    const runRate = before / 13;
    f.weeks.forEach((w, i) => {
      const weekEnd = addDays(w.weekStart, 6);
      if (weekEnd > asOf) return;
      weeks.push({ origin, weekStart: w.weekStart, expectedCents: w.expectedCents, lowCents: w.lowCents, highCents: w.highCents, actualCents: Math.round(actual[i]!), dueDateCents: Math.round(due[i]!), runRateCents: Math.round(runRate) });
    });
  }
  if (weeks.length === 0 || weeks.every((w) => w.actualCents === 0)) return null;
  return { weeks, origins: used, metrics: metricsOf(weeks) };
}
