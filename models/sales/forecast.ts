import type { DuckDBConnection } from '@duckdb/node-api';
import { addDays } from '../../src/shared/dates.ts';
import { backtest, type Backtest } from './backtest.ts';
import { forecastWith, type Method } from './methods.ts';
import { addMonths, firstForecastMonth, LEVELS, salesHistory, type Level, type MonthlySeries, type SalesHistory } from './series.ts';

/**
 * Sales forecast, 12 months ahead with 80 % intervals, for the total, each category, each
 * customer segment and each product with at least 24 months with sales (fewer: skipped,
 * too sparse to tell a season from noise). Per series: the mean of seasonal naive (the
 * baseline), Holt-Winters and the trend-and-month regression, unless one of them beats that
 * combination clearly in the rolling-origin backtest (backtest.ts, `choose`), refitted on the
 * whole history. Interval: the point forecast ± 1.2816 × the
 * chosen method's backtest RMSE at that horizon (grown with √h past the measured
 * horizons); expected and low are never below 0. For planners (sales.md) and the cash-in
 * forecast, which turns the total into expected receipts from invoices not yet issued.
 */
export const HORIZON_MONTHS = 12;
export const MIN_PRODUCT_MONTHS = 24;

export interface ForecastMonth {
  month: string;
  expectedCents: number;
  lowCents: number | null;
  highCents: number | null;
}

export interface SeriesForecast {
  series: MonthlySeries;
  method: Method;
  backtest: Backtest;
  months: ForecastMonth[];
}

export interface SalesForecast {
  asOf: string;
  forecasts: SeriesForecast[];
  /** Products left out for lack of history. */
  skipped: { currency: string; key: string; monthsWithSales: number }[];
  invoices: number;
  grossRatio: Record<string, number>;
}

/** Forecasts one series for the 12 months after its last month. */
export function forecastSeries(series: MonthlySeries, horizon = HORIZON_MONTHS): SeriesForecast {
  const bt = backtest(series.values);
  const point = forecastWith(bt.chosen, series.values, horizon);
  const first = addMonths(series.start, series.values.length);
  const months = point.map((p, i): ForecastMonth => {
    const w = bt.halfWidths?.[i];
    return {
      month: addMonths(first, i),
      expectedCents: Math.max(0, Math.round(p)),
      lowCents: w === undefined ? null : Math.max(0, Math.round(p - w)),
      highCents: w === undefined ? null : Math.max(0, Math.round(p + w)),
    };
  });
  return { series, method: bt.chosen, backtest: bt, months };
}

/** Every level's forecasts from the history as known on `asOf`. */
export function salesForecast(history: SalesHistory, asOf: string): SalesForecast {
  const forecasts: SeriesForecast[] = [];
  const skipped: SalesForecast['skipped'] = [];
  for (const s of history.series) {
    if (s.level === 'product' && s.monthsWithSales < MIN_PRODUCT_MONTHS) {
      skipped.push({ currency: s.currency, key: s.key, monthsWithSales: s.monthsWithSales });
      continue;
    }
    forecasts.push(forecastSeries(s));
  }
  return { asOf, forecasts, skipped, invoices: history.invoices, grossRatio: history.grossRatio };
}

export interface LevelEvaluation {
  level: Level;
  series: number;
  months: number;
  metrics: { metric: string; value: number; baseline: string; baselineValue: number }[];
}

/**
 * Backtest accuracy per level, each series weighing the same (MASE is scale-free): `mase` is
 * the choice replayed in time order (honest) beside each candidate on the same forecasts;
 * `mase_best_in_backtest` is the method chosen with the whole backtest in view (the one
 * published, flattered by the choice); `interval_80_coverage` the replayed intervals' coverage.
 */
export function evaluateLevels(forecast: SalesForecast): LevelEvaluation[] {
  const out: LevelEvaluation[] = [];
  for (const level of LEVELS) {
    const fs = forecast.forecasts.filter((f) => f.series.level === level && f.backtest.online && Number.isFinite(f.backtest.online.mase));
    if (fs.length === 0) continue;
    const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const baselineName = mostCommon(fs.map((f) => f.backtest.baseline));
    const metrics: LevelEvaluation['metrics'] = [];
    const online = avg(fs.map((f) => f.backtest.online!.mase));
    metrics.push({ metric: 'mase', value: online, baseline: baselineName, baselineValue: avg(fs.map((f) => f.backtest.online!.baselineMase)) });
    for (const method of ['holt_winters', 'regression', 'combination'] as Method[]) {
      const with_ = fs.filter((f) => f.backtest.methods.some((m) => m.method === method && Number.isFinite(m.mase)));
      if (with_.length !== fs.length) continue;
      metrics.push({ metric: 'mase', value: online, baseline: method, baselineValue: avg(with_.map((f) => f.backtest.methods.find((m) => m.method === method)!.mase)) });
    }
    const best = (f: SeriesForecast) => f.backtest.methods.find((m) => m.method === f.method)!.mase;
    metrics.push({ metric: 'mase_best_in_backtest', value: avg(fs.map(best)), baseline: baselineName, baselineValue: avg(fs.map((f) => f.backtest.online!.baselineMase)) });
    const judged = fs.reduce((a, f) => a + f.backtest.online!.judged, 0);
    if (judged > 0) {
      const covered = fs.reduce((a, f) => a + (f.backtest.online!.coverage ?? 0) * f.backtest.online!.judged, 0);
      metrics.push({ metric: 'interval_80_coverage', value: covered / judged, baseline: 'nominal', baselineValue: 0.8 });
    }
    out.push({ level, series: fs.length, months: Math.max(...fs.map((f) => f.series.values.length)), metrics });
  }
  return out;
}

function mostCommon<T>(xs: T[]): T {
  const counts = new Map<T, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
}

export const SALES_TABLES = `
create schema if not exists forecast;
create table if not exists forecast.sales_monthly (as_of date, level varchar, key varchar, month date, expected_cents bigint, low_cents bigint, high_cents bigint, method varchar, currency varchar);
comment on table forecast.sales_monthly is 'One row per series and month of the 12 after the last complete month on as_of: net invoiced sales (before tax) forecast with its 80 % interval (models/sales).';
comment on column forecast.sales_monthly.as_of is 'Date the forecast was made for (only months that had ended by then are history).';
comment on column forecast.sales_monthly.level is 'total, category, segment or product.';
comment on column forecast.sales_monthly.key is 'total; the category (dim_product.category); the segment (dim_customer.segment); the product (dim_product.product_key).';
comment on column forecast.sales_monthly.month is 'First day of the month forecast.';
comment on column forecast.sales_monthly.expected_cents is 'Expected net invoiced sales of the month, before tax, integer cents of currency.';
comment on column forecast.sales_monthly.low_cents is 'Lower end of the 80 % interval, integer cents (null when the series is too short to backtest).';
comment on column forecast.sales_monthly.high_cents is 'Upper end of the 80 % interval, integer cents (null when the series is too short to backtest).';
comment on column forecast.sales_monthly.method is 'Method used: combination (mean of seasonal_naive, holt_winters and regression) unless one of those beats it clearly in the backtest (16+ months); seasonal_naive unless naive beats it clearly (13–15); naive unless mean does (12 or fewer).';
comment on column forecast.sales_monthly.currency is 'ISO 4217 currency of the amounts (one series per currency).';
create table if not exists forecast.sales_backtest (as_of date, level varchar, key varchar, currency varchar, months integer, method varchar, mase double, mae_cents double, forecasts integer, chosen boolean);
comment on table forecast.sales_backtest is 'One row per series and method: rolling-origin backtest accuracy of the sales forecast (models/sales/backtest.ts).';
comment on column forecast.sales_backtest.as_of is 'Date the forecast was made for.';
comment on column forecast.sales_backtest.level is 'total, category, segment or product.';
comment on column forecast.sales_backtest.key is 'Series key, as in forecast.sales_monthly.';
comment on column forecast.sales_backtest.currency is 'ISO 4217 currency of the series.';
comment on column forecast.sales_backtest.months is 'Months of history of the series.';
comment on column forecast.sales_backtest.method is 'A candidate method (seasonal_naive, holt_winters, regression, combination; naive, mean on short series), or selected: the choice among them replayed in time order (each origin chooses with the errors known by then).';
comment on column forecast.sales_backtest.mase is 'Mean absolute scaled error over every backtest forecast (scale: in-sample MAE of the seasonal naive forecast); below 1 beats that in-sample benchmark.';
comment on column forecast.sales_backtest.mae_cents is 'Mean absolute error of the backtest forecasts, cents of currency.';
comment on column forecast.sales_backtest.forecasts is 'Backtest forecasts (origin × horizon pairs) behind the figures.';
comment on column forecast.sales_backtest.chosen is 'True for the method used in forecast.sales_monthly.';
`;

/** Reads the marts, forecasts every series and returns what the step writes. */
export async function computeSalesForecast(conn: DuckDBConnection, asOf: string): Promise<SalesForecast> {
  return salesForecast(await salesHistory(conn, asOf), asOf);
}

const q = (v: string) => `'${v.replaceAll("'", "''")}'`;
const num = (v: number | null) => (v === null || !Number.isFinite(v) ? 'null' : String(v));

/**
 * Writes forecast.sales_monthly and forecast.sales_backtest for `asOf` (rows of that as_of
 * replaced) and the per-level evaluation into forecast.model_evaluations (models `sales/…`,
 * replaced). Runs inside the caller's transaction.
 */
export async function writeSalesForecast(conn: DuckDBConnection, forecast: SalesForecast): Promise<{ monthly: number; backtest: number; evaluations: number }> {
  const asOf = forecast.asOf;
  await conn.run(`delete from forecast.sales_monthly where as_of = date '${asOf}'`);
  await conn.run(`delete from forecast.sales_backtest where as_of = date '${asOf}'`);
  const monthly: string[] = [];
  const bt: string[] = [];
  for (const f of forecast.forecasts) {
    const s = f.series;
    for (const m of f.months) monthly.push(`(date '${asOf}', '${s.level}', ${q(s.key)}, date '${m.month}', ${m.expectedCents}, ${num(m.lowCents)}, ${num(m.highCents)}, '${f.method}', ${q(s.currency)})`);
    for (const m of f.backtest.methods) bt.push(`(date '${asOf}', '${s.level}', ${q(s.key)}, ${q(s.currency)}, ${s.values.length}, '${m.method}', ${num(m.mase)}, ${num(m.maeCents)}, ${m.forecasts}, ${m.method === f.method})`);
    const o = f.backtest.online;
    if (o) bt.push(`(date '${asOf}', '${s.level}', ${q(s.key)}, ${q(s.currency)}, ${s.values.length}, 'selected', ${num(o.mase)}, ${num(o.mase * f.backtest.scale)}, ${o.forecasts}, false)`);
  }
  for (let i = 0; i < monthly.length; i += 1000) await conn.run(`insert into forecast.sales_monthly values ${monthly.slice(i, i + 1000).join(',')}`);
  for (let i = 0; i < bt.length; i += 1000) await conn.run(`insert into forecast.sales_backtest values ${bt.slice(i, i + 1000).join(',')}`);
  const levels = evaluateLevels(forecast);
  await conn.run(`delete from forecast.model_evaluations where model like 'sales/%'`);
  const lastMonthEnd = addDays(firstForecastMonth(asOf), -1);
  const rows = levels.flatMap((l) => l.metrics.map((m) => `('sales/${l.level}', date '${lastMonthEnd}', '${m.metric}', ${num(m.value)}, '${m.baseline}', ${num(m.baselineValue)}, ${forecast.invoices}, ${l.months})`));
  if (rows.length) await conn.run(`insert into forecast.model_evaluations (model, as_of, metric, value, baseline, baseline_value, invoices, months) values ${rows.join(',')}`);
  return { monthly: monthly.length, backtest: bt.length, evaluations: rows.length };
}
