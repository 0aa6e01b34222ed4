import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../src/warehouse/warehouse.ts';
import { addDays, daysBetween, monthEnd } from '../../src/shared/dates.ts';
import { firstWeekStart, type CashWeek } from './cash-weekly.ts';
import { calibrated, calibrationAt, MIN_CALIBRATION_WEEKS } from './calibration.ts';

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
 * The replays also calibrate the 80 % interval (calibration.ts): each origin's interval is
 * calibrated on the replayed weeks that had ended by that origin — never on a later week —
 * so the earliest origins, with fewer than 20 such weeks, keep the model's own interval and
 * serve only to calibrate the later ones. Metrics over the replayed weeks of the calibrated
 * origins (all weeks, with the model's interval, while none is): WAPE (Σ|forecast − actual| /
 * Σ actual), bias (Σ(forecast − actual) / Σ actual) and the share of weeks whose receipts
 * fell inside the 80 % interval, beside the share inside the model's own interval.
 */
export interface BacktestWeek {
  origin: string;
  weekStart: string;
  expectedCents: number;
  /** The 80 % interval of the forecast at the origin: calibrated on the weeks ended by the origin, else the model's. */
  lowCents: number;
  highCents: number;
  intervalMethod: 'model' | 'calibrated';
  /** The model's own interval (normal approximation, invoices independent). */
  modelLowCents: number;
  modelHighCents: number;
  actualCents: number;
  dueDateCents: number;
  runRateCents: number;
}

export interface CashBacktest {
  /** Every replayed week that had ended by the as-of date. */
  weeks: BacktestWeek[];
  /** Origins replayed (with a forecast). */
  origins: string[];
  /** Origins whose weeks the metrics are over. */
  evaluated: string[];
  metrics: { metric: 'wape' | 'bias' | 'interval_80_coverage'; value: number; baseline: string; baselineValue: number }[];
}

/**
 * Month-ends replayed: the latest 18 with four weeks of their forecast behind the as-of date.
 * Eighteen leave about a year of calibrated origins after the first five or so (fewer than
 * 20 weeks ended before them); each replay refits the payment-date model, the cost of the
 * replay.
 */
export const REPLAY_ORIGINS = 18;

/** Month-ends before `asOf` with at least `minWeeks` full weeks of their forecast behind `asOf`, the latest `count`. */
export function backtestOrigins(asOf: string, count = REPLAY_ORIGINS, minWeeks = 4): string[] {
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
  const share = (inside: (w: BacktestWeek) => boolean) => weeks.filter(inside).length / weeks.length;
  const coverage = share((w) => w.actualCents >= w.lowCents && w.actualCents <= w.highCents);
  const modelCoverage = share((w) => w.actualCents >= w.modelLowCents && w.actualCents <= w.modelHighCents);
  return [
    { metric: 'wape', value: abs((w) => w.expectedCents), baseline: 'run_rate', baselineValue: abs((w) => w.runRateCents) },
    { metric: 'wape', value: abs((w) => w.expectedCents), baseline: 'due_date', baselineValue: abs((w) => w.dueDateCents) },
    { metric: 'bias', value: bias((w) => w.expectedCents), baseline: 'run_rate', baselineValue: bias((w) => w.runRateCents) },
    { metric: 'bias', value: bias((w) => w.expectedCents), baseline: 'due_date', baselineValue: bias((w) => w.dueDateCents) },
    { metric: 'interval_80_coverage', value: coverage, baseline: 'nominal', baselineValue: 0.8 },
    { metric: 'interval_80_coverage', value: coverage, baseline: 'model_interval', baselineValue: modelCoverage },
  ];
}

/**
 * Gives each origin's weeks the interval calibrated on the replayed weeks that had ended by
 * that origin (the model's interval below `minWeeks` of them) and measures the calibrated
 * origins — all of them with the model's interval while none is calibrated.
 */
export function calibrateReplays(weeks: BacktestWeek[], minWeeks = MIN_CALIBRATION_WEEKS): Omit<CashBacktest, 'origins'> {
  const origins = [...new Set(weeks.map((w) => w.origin))].sort();
  const out: BacktestWeek[] = [];
  for (const origin of origins) {
    const own = weeks.filter((w) => w.origin === origin).map((w) => ({ ...w, lowCents: w.modelLowCents, highCents: w.modelHighCents }));
    out.push(...calibrated(own, calibrationAt(weeks, origin, minWeeks)));
  }
  const done = out.filter((w) => w.intervalMethod === 'calibrated');
  const measured = done.length > 0 ? done : out;
  return { weeks: out, evaluated: [...new Set(measured.map((w) => w.origin))], metrics: metricsOf(measured) };
}

/**
 * Replays the forecast at each origin (`forecastAt` makes the 13 weeks and returns the open
 * items it started from, with only what was known at the origin), once each, keeps the weeks
 * that have ended by `asOf` and calibrates their intervals (`calibrateReplays`). Null when no
 * origin has a forecast.
 */
export async function cashBacktest(
  conn: DuckDBConnection,
  asOf: string,
  forecastAt: (origin: string) => Promise<{ weeks: CashWeek[]; open: { openCents: number; dueDate: string }[] } | null>,
  origins = backtestOrigins(asOf),
  minWeeks = MIN_CALIBRATION_WEEKS,
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
      if (addDays(w.weekStart, 6) > asOf) return;
      weeks.push({
        origin, weekStart: w.weekStart, expectedCents: w.expectedCents, lowCents: w.lowCents, highCents: w.highCents, intervalMethod: 'model',
        modelLowCents: w.lowCents, modelHighCents: w.highCents, actualCents: Math.round(actual[i]!), dueDateCents: Math.round(due[i]!), runRateCents: Math.round(runRate),
      });
    });
  }
  if (weeks.length === 0 || weeks.every((w) => w.actualCents === 0)) return null;
  return { ...calibrateReplays(weeks, minWeeks), origins: used };
}
