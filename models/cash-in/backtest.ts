import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../src/warehouse/warehouse.ts';
import { addDays, daysBetween, monthEnd } from '../../src/shared/dates.ts';
import { firstWeekStart, type CashWeek } from './cash-weekly.ts';
import { calibrated, calibrationAt, MIN_CALIBRATION_WEEKS } from './calibration.ts';
import { combinationWeightsAt, combine } from './combination.ts';
import { topDownForecast } from './top-down.ts';

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
  /** Currency of every amount of the week: each currency is replayed on its own. */
  currency: string;
  origin: string;
  weekStart: string;
  /** The published forecast: the combination of the three below with the weights learned by the origin (combination.ts). */
  expectedCents: number;
  /** Bottom-up: the open invoices' payment-date distributions and the new sales. */
  bottomUpCents: number;
  /** Top-down: the receipts' level, trend and weekday/month-end pattern (top-down.ts). */
  topDownCents: number;
  /** The 80 % interval of the forecast at the origin: calibrated on the weeks ended by the origin, else the model's. */
  lowCents: number;
  highCents: number;
  intervalMethod: 'model' | 'calibrated';
  /** The model's own interval (normal approximation, invoices independent), moved to centre on the combination. */
  modelLowCents: number;
  modelHighCents: number;
  actualCents: number;
  dueDateCents: number;
  runRateCents: number;
}

/** The forecasts judged: the published combination and each of its parts. */
export const REPLAYED_MODELS = ['combination', 'bottom_up', 'top_down'] as const;
export type ReplayedModel = (typeof REPLAYED_MODELS)[number];

export interface BacktestMetric {
  model: ReplayedModel;
  metric: 'wape' | 'bias' | 'interval_80_coverage' | 'wape_mean_over_origins' | 'origins_won';
  value: number;
  baseline: string;
  baselineValue: number;
}

export interface CurrencyBacktest {
  currency: string;
  /** Origins whose weeks the metrics are over (those with a calibrated interval; all while none is). */
  evaluated: string[];
  /** Weeks the metrics are over. */
  compared: number;
  metrics: BacktestMetric[];
  /** WAPE of each evaluated origin's ended weeks: each model and baseline. */
  perOrigin: { origin: string; weeks: number; wape: Record<ReplayedModel | 'run_rate' | 'due_date', number> }[];
}

export interface CashBacktest {
  /** Every replayed week that had ended by the as-of date, every currency. */
  weeks: BacktestWeek[];
  /** Origins replayed (with a forecast). */
  origins: string[];
  /** The accuracy of each currency's replays, in alphabetical order of currency. */
  currencies: CurrencyBacktest[];
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

/** Receipts per day (not reversed) of each currency, `from` excluded, `to` included: currency → day → cents. */
export async function dailyReceipts(conn: DuckDBConnection, from: string, to: string): Promise<Map<string, Map<string, number>>> {
  const rows = await rowsJs(
    conn,
    `select currency, payment_date::varchar as d, sum(amount_cents)::double as cents from marts.fct_payments
     where not coalesce(is_reversed, false) and payment_date > $1::date and payment_date <= $2::date group by 1, 2`,
    [from, to],
  );
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    const c = String(r.currency);
    if (!out.has(c)) out.set(c, new Map());
    out.get(c)!.set(String(r.d), Number(r.cents));
  }
  return out;
}

/** Sums receipts into the 13 weeks after `origin`. */
export function weeklyActuals(origin: string, receipts: ReadonlyMap<string, number>, weeks = 13): number[] {
  const out = new Array<number>(weeks).fill(0);
  for (const [d, cents] of receipts) {
    const w = weekOf(origin, d, weeks);
    if (w >= 0) out[w]! += cents;
  }
  return out;
}

/** The run-rate baseline: the average week of the 13 before `origin` (91 days, `origin` included), whole cents. */
export function runRate(origin: string, receipts: ReadonlyMap<string, number>): number {
  let before = 0;
  const from = addDays(origin, -91);
  for (const [d, cents] of receipts) if (d > from && d <= origin) before += cents;
  return Math.round(before / 13);
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

const PICK: Record<ReplayedModel, (w: BacktestWeek) => number> = {
  combination: (w) => w.expectedCents,
  bottom_up: (w) => w.bottomUpCents,
  top_down: (w) => w.topDownCents,
};

const wapeOf = (weeks: BacktestWeek[], f: (w: BacktestWeek) => number) => weeks.reduce((s, w) => s + Math.abs(f(w) - w.actualCents), 0) / weeks.reduce((s, w) => s + w.actualCents, 0);

/**
 * WAPE and bias of `model` (default the combination) against both baselines; for the
 * combination also the 80 % interval's coverage, beside the model's own interval's.
 */
export function metricsOf(weeks: BacktestWeek[], model: ReplayedModel = 'combination'): BacktestMetric[] {
  const actual = weeks.reduce((s, w) => s + w.actualCents, 0);
  const abs = (f: (w: BacktestWeek) => number) => wapeOf(weeks, f);
  const bias = (f: (w: BacktestWeek) => number) => weeks.reduce((s, w) => s + f(w) - w.actualCents, 0) / actual;
  const share = (inside: (w: BacktestWeek) => boolean) => weeks.filter(inside).length / weeks.length;
  const f = PICK[model];
  const out: BacktestMetric[] = [
    { model, metric: 'wape', value: abs(f), baseline: 'run_rate', baselineValue: abs((w) => w.runRateCents) },
    { model, metric: 'wape', value: abs(f), baseline: 'due_date', baselineValue: abs((w) => w.dueDateCents) },
    { model, metric: 'bias', value: bias(f), baseline: 'run_rate', baselineValue: bias((w) => w.runRateCents) },
    { model, metric: 'bias', value: bias(f), baseline: 'due_date', baselineValue: bias((w) => w.dueDateCents) },
  ];
  if (model !== 'combination') return out;
  const coverage = share((w) => w.actualCents >= w.lowCents && w.actualCents <= w.highCents);
  const modelCoverage = share((w) => w.actualCents >= w.modelLowCents && w.actualCents <= w.modelHighCents);
  out.push(
    { model, metric: 'interval_80_coverage', value: coverage, baseline: 'nominal', baselineValue: 0.8 },
    { model, metric: 'interval_80_coverage', value: coverage, baseline: 'model_interval', baselineValue: modelCoverage },
  );
  return out;
}

/**
 * Origin by origin (each origin's ended weeks): the WAPE of every model and baseline, the mean
 * of each model's WAPE over the origins against each baseline's (`wape_mean_over_origins`), and
 * at how many origins the model's WAPE was below the baseline's (`origins_won`: value the wins,
 * baseline value the origins). Origins with no cash received have no WAPE and are left out.
 */
export function perOriginOf(weeks: BacktestWeek[]): { perOrigin: CurrencyBacktest['perOrigin']; metrics: BacktestMetric[] } {
  const perOrigin: CurrencyBacktest['perOrigin'] = [];
  for (const origin of [...new Set(weeks.map((w) => w.origin))].sort()) {
    const mine = weeks.filter((w) => w.origin === origin);
    if (!(mine.reduce((s, w) => s + w.actualCents, 0) > 0)) continue;
    perOrigin.push({
      origin, weeks: mine.length,
      wape: { combination: wapeOf(mine, PICK.combination), bottom_up: wapeOf(mine, PICK.bottom_up), top_down: wapeOf(mine, PICK.top_down), run_rate: wapeOf(mine, (w) => w.runRateCents), due_date: wapeOf(mine, (w) => w.dueDateCents) },
    });
  }
  const metrics: BacktestMetric[] = [];
  const n = perOrigin.length;
  if (n === 0) return { perOrigin, metrics };
  const mean = (k: ReplayedModel | 'run_rate' | 'due_date') => perOrigin.reduce((s, o) => s + o.wape[k], 0) / n;
  for (const model of REPLAYED_MODELS) {
    for (const baseline of ['run_rate', 'due_date'] as const) {
      metrics.push({ model, metric: 'wape_mean_over_origins', value: mean(model), baseline, baselineValue: mean(baseline) });
      metrics.push({ model, metric: 'origins_won', value: perOrigin.filter((o) => o.wape[model] < o.wape[baseline]).length, baseline, baselineValue: n });
    }
  }
  return { perOrigin, metrics };
}

/**
 * Gives each origin's weeks the combination weights learned from the replayed weeks that had
 * ended by that origin, then the interval calibrated on the combination's errors of those weeks
 * (the model's interval below `minWeeks` of them), one currency at a time, and measures the
 * calibrated origins — all of them with the model's interval while none is. The weeks come in
 * with their parts (bottom-up, top-down, run rate) and the bottom-up model's interval.
 */
export function calibrateReplays(weeks: BacktestWeek[], minWeeks = MIN_CALIBRATION_WEEKS): Omit<CashBacktest, 'origins'> {
  const out: BacktestWeek[] = [];
  const currencies: CurrencyBacktest[] = [];
  for (const currency of [...new Set(weeks.map((w) => w.currency))].sort()) {
    const ofCurrency = weeks.filter((w) => w.currency === currency);
    const origins = [...new Set(ofCurrency.map((w) => w.origin))].sort();
    // The combination first, every origin with its own weights: the calibration reads its errors.
    const combined: BacktestWeek[] = [];
    for (const origin of origins) {
      const { weights } = combinationWeightsAt(ofCurrency, origin);
      for (const w of ofCurrency.filter((x) => x.origin === origin)) {
        const e = combine(weights, w);
        const low = Math.max(0, e - Math.max(0, w.bottomUpCents - w.modelLowCents));
        const high = e + Math.max(0, w.modelHighCents - w.bottomUpCents);
        combined.push({ ...w, expectedCents: e, modelLowCents: low, modelHighCents: high, lowCents: low, highCents: high, intervalMethod: 'model' });
      }
    }
    const mine: BacktestWeek[] = [];
    for (const origin of origins) mine.push(...calibrated(combined.filter((w) => w.origin === origin), calibrationAt(combined, origin, minWeeks)));
    out.push(...mine);
    const done = mine.filter((w) => w.intervalMethod === 'calibrated');
    const measured = done.length > 0 ? done : mine;
    const byOrigin = perOriginOf(measured);
    currencies.push({
      currency, evaluated: [...new Set(measured.map((w) => w.origin))], compared: measured.length,
      metrics: [...REPLAYED_MODELS.flatMap((m) => metricsOf(measured, m)), ...byOrigin.metrics], perOrigin: byOrigin.perOrigin,
    });
  }
  return { weeks: out, currencies };
}

/** One currency's forecast at an origin, as the bottom-up model makes it: its 13 weeks and the open items it started from. */
export interface ReplayedForecast {
  currency: string;
  weeks: CashWeek[];
  open: { openCents: number; dueDate: string }[];
}

/**
 * Replays the forecast at each origin (`forecastAt` makes each currency's 13 bottom-up weeks
 * and returns the open items it started from, with only what was known at the origin), once
 * each; adds the top-down forecast and the run rate from that currency's receipts up to the
 * origin; keeps the weeks that have ended by `asOf`; combines and calibrates them
 * (`calibrateReplays`). Each currency is set against its own cash only. Null when no origin
 * has a forecast.
 */
export async function cashBacktest(
  conn: DuckDBConnection,
  asOf: string,
  forecastAt: (origin: string) => Promise<ReplayedForecast[] | null>,
  origins = backtestOrigins(asOf),
  minWeeks = MIN_CALIBRATION_WEEKS,
): Promise<CashBacktest | null> {
  if (origins.length === 0) return null;
  // All the history: the top-down model reads up to a year before each origin, and from when the history starts.
  const receipts = await dailyReceipts(conn, '1900-01-01', asOf);
  const none = new Map<string, number>();
  const weeks: BacktestWeek[] = [];
  const used: string[] = [];
  for (const origin of origins) {
    const f = await forecastAt(origin);
    if (!f || f.length === 0) continue;
    used.push(origin);
    for (const { currency, weeks: bottomUp, open } of f) {
      const paid = receipts.get(currency) ?? none;
      const actual = weeklyActuals(origin, paid);
      const due = dueDateBaseline(origin, open);
      const rate = runRate(origin, paid);
      // Under 91 days of history the top-down model has no level (nor the run rate a full
      // quarter): the top-down part is the bottom-up forecast then, so the mix changes nothing.
      const topDown = topDownForecast(origin, paid) ?? bottomUp.map((w) => w.expectedCents);
      bottomUp.forEach((w, i) => {
        if (addDays(w.weekStart, 6) > asOf) return;
        weeks.push({
          currency, origin, weekStart: w.weekStart, expectedCents: w.expectedCents, bottomUpCents: w.expectedCents, topDownCents: topDown[i]!,
          lowCents: w.lowCents, highCents: w.highCents, intervalMethod: 'model', modelLowCents: w.lowCents, modelHighCents: w.highCents,
          actualCents: Math.round(actual[i]!), dueDateCents: Math.round(due[i]!), runRateCents: rate,
        });
      });
    }
  }
  if (weeks.length === 0 || weeks.every((w) => w.actualCents === 0)) return null;
  return { ...calibrateReplays(weeks, minWeeks), origins: used };
}
