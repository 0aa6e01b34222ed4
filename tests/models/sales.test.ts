import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/run.ts';
import { openWarehouse, rowsJs } from '../../src/warehouse/warehouse.ts';
import { candidates, combinationForecast, combine, defaultOf, fitHoltWinters, fitTrendSeason, forecastWith, holtWintersForecast, meanForecast, naive, regressionForecast, seasonalNaive, type Method } from '../../models/sales/methods.ts';
import { backtest, choose, design, intervalHalfWidths, knownBy, mase, maseScale, studentT95, Z80, type BacktestForecast } from '../../models/sales/backtest.ts';
import { forecastSeries } from '../../models/sales/forecast.ts';
import { addMonths, firstForecastMonth, monthsBetween, salesHistory } from '../../models/sales/series.ts';
import { addDays } from '../../src/shared/dates.ts';

/** A small deterministic PRNG with normal draws, so the synthetic tests are the same every run. */
function normalDraws(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

const SEASON = [-40, -30, -10, 0, 20, 50, 60, 30, 0, -20, -30, -30]; // sums to 0
const pure = (n: number, a = 1000, b = 7) => Array.from({ length: n }, (_, t) => a + b * t + SEASON[t % 12]!);

describe('sales methods by hand', () => {
  it('seasonal naive repeats the last twelve months', () => {
    const y = Array.from({ length: 14 }, (_, i) => i + 1); // 1…14
    expect(seasonalNaive(y, 14)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3, 4]);
    expect(naive(y, 2)).toEqual([14, 14]);
    expect(meanForecast([1, 2, 6], 2)).toEqual([3, 3]);
    expect(() => seasonalNaive([1, 2, 3], 1)).toThrow(/needs 12 months/);
  });

  it('Holt-Winters recovers a pure trend and season, from 2 seasons and from less', () => {
    for (const n of [36, 20]) {
      const y = pure(n);
      const fit = fitHoltWinters(y);
      expect(fit.sse).toBeLessThan(1e-12 * n);
      const truth = pure(n + 12).slice(n);
      holtWintersForecast(fit, 12).forEach((f, i) => expect(f).toBeCloseTo(truth[i]!, 6));
    }
  });

  it('Holt-Winters adapts its level to a shift the regression averages over', () => {
    // A level shift of +200 from month 24: the smoothed level follows, a single global trend line cannot.
    const y = pure(36).map((v, t) => (t >= 24 ? v + 200 : v));
    const fit = fitHoltWinters(y);
    expect(fit.alpha).toBeGreaterThan(0.3);
    const truth = pure(48).slice(36).map((v) => v + 200);
    const hwErr = holtWintersForecast(fit, 12).reduce((a, f, i) => a + Math.abs(f - truth[i]!), 0);
    const regErr = regressionForecast(y, 12).reduce((a, f, i) => a + Math.abs(f - truth[i]!), 0);
    expect(hwErr).toBeLessThan(regErr);
  });

  it('the regression recovers trend and month effects', () => {
    const z = normalDraws(3);
    const exact = fitTrendSeason(pure(30, 500, 3));
    expect(exact.intercept).toBeCloseTo(500, 6);
    expect(exact.slope).toBeCloseTo(3, 8);
    exact.season.forEach((s, i) => expect(s).toBeCloseTo(SEASON[i]!, 6));
    // With noise of sd 2 over 10 years, each month effect has a standard error of about 2/√10 ≈ 0.63: within 3 of them.
    const noisy = fitTrendSeason(pure(120, 500, 3).map((v) => v + 2 * z()));
    expect(noisy.slope).toBeCloseTo(3, 1);
    noisy.season.forEach((s, i) => expect(Math.abs(s - SEASON[i]!)).toBeLessThan(1.9));
    expect(regressionForecast(pure(30, 500, 3), 3)).toEqual(pure(33, 500, 3).slice(30).map((v) => expect.closeTo(v, 6)));
  });
});

describe('forecast combination by hand', () => {
  it('averages the forecasts month by month', () => {
    expect(combine([[10, 20], [13, 26], [16, 20]])).toEqual([13, 22]);
    expect(() => combine([])).toThrow(/at least one/);
  });

  it('on a pure trend and season: a third of the way from the exact methods to seasonal naive', () => {
    // y = 1000 + 7t + season over 24 months. Holt-Winters and the regression continue it
    // exactly; seasonal naive repeats last year, 12 × 7 = 84 short in the first year ahead and
    // 168 in the second; the mean of the three is 28, then 56, short.
    const y = pure(24);
    const truth = pure(38).slice(24);
    const f = combinationForecast(y, 14);
    f.forEach((v, i) => expect(v).toBeCloseTo(truth[i]! - (i < 12 ? 28 : 56), 6));
    expect(forecastWith('combination', y, 14)).toEqual(f);
  });

  it('is a candidate, and the default, wherever the seasonal methods are', () => {
    expect(candidates(24)).toEqual(['seasonal_naive', 'holt_winters', 'regression', 'combination']);
    expect(defaultOf(16)).toBe('combination');
    expect(candidates(15)).not.toContain('combination');
    expect(defaultOf(15)).toBe('seasonal_naive');
    expect(defaultOf(8)).toBe('naive');
  });
});

describe('choice by hand', () => {
  /** Backtest forecasts of `method` with the given absolute errors, one per [origin, h] (actual 100). */
  const errs = (method: Method, rows: [number, number, number][]): BacktestForecast[] => rows.map(([origin, h, e]) => ({ origin, h, method, forecast: 100 - e, actual: 100 }));
  const methods: Method[] = ['seasonal_naive', 'combination'];

  it('Student t quantiles (one-sided 95 %) from the table, and Cornish-Fisher beyond 30 degrees of freedom', () => {
    expect(studentT95(1)).toBe(6.314);
    expect(studentT95(2)).toBe(2.92);
    expect(studentT95(30)).toBe(1.697);
    // 1.6449 + (1.6449³ + 1.6449) / 480 = 1.6576; tables give 1.658 at 120.
    expect(studentT95(120)).toBeCloseTo(1.6576, 4);
    expect(() => studentT95(0)).toThrow(/degree of freedom/);
  });

  it('leaves the combination only when a candidate beats it clearly', () => {
    const comb = errs('combination', [[15, 1, 10], [16, 1, 10], [17, 1, 10]]);
    // Differences 2, 3, 4: mean 3, sd 1, t = 3 / (1 / √3) = 5.196 > t(0.95, 2) = 2.920 → seasonal naive.
    expect(choose([...comb, ...errs('seasonal_naive', [[15, 1, 8], [16, 1, 7], [17, 1, 6]])], methods, 'combination')).toBe('seasonal_naive');
    // Differences 1, 5, −1: mean 5/3, sd √(168/18) = 3.055, t = 0.945 → the combination stays although its mean error is higher.
    expect(choose([...comb, ...errs('seasonal_naive', [[15, 1, 9], [16, 1, 5], [17, 1, 11]])], methods, 'combination')).toBe('combination');
    // One origin is not evidence, however large the gain.
    expect(choose([...errs('combination', [[15, 1, 10], [15, 2, 10]]), ...errs('seasonal_naive', [[15, 1, 1], [15, 2, 1]])], methods, 'combination')).toBe('combination');
    // The same gain at every origin passes (no spread to weigh it against); a loss never does.
    expect(choose([...comb, ...errs('seasonal_naive', [[15, 1, 9], [16, 1, 9], [17, 1, 9]])], methods, 'combination')).toBe('seasonal_naive');
    expect(choose([...comb, ...errs('seasonal_naive', [[15, 1, 11], [16, 1, 11], [17, 1, 11]])], methods, 'combination')).toBe('combination');
    expect(choose([], methods, 'combination')).toBe('combination');
  });

  it('takes one difference per origin (its horizons averaged), and the largest clear gain among candidates', () => {
    // Origin 15: horizons 1 and 2 with differences 1 and 3 → 2; origins 16, 17: 3 and 4. Mean 3, sd 1 → t 5.196: passes.
    const comb = errs('combination', [[15, 1, 10], [15, 2, 10], [16, 1, 10], [17, 1, 10]]);
    const sn = errs('seasonal_naive', [[15, 1, 9], [15, 2, 7], [16, 1, 7], [17, 1, 6]]);
    expect(choose([...comb, ...sn], methods, 'combination')).toBe('seasonal_naive');
    // Six forecasts with differences 3, 3, 3, 3 (origin 15), −1 (16), 3 (17): taken one by one, t = 2.333 / (1.633 / √6)
    // = 3.50 > t(0.95, 5) = 2.015; but four of them share origin 15, so per origin it is 3, −1, 3:
    // mean 5/3, sd 2.309, t = 1.25 < t(0.95, 2) = 2.920 → the combination stays.
    const comb6 = errs('combination', [[15, 1, 10], [15, 2, 10], [15, 3, 10], [15, 4, 10], [16, 1, 10], [17, 1, 10]]);
    const oneOrigin = errs('seasonal_naive', [[15, 1, 7], [15, 2, 7], [15, 3, 7], [15, 4, 7], [16, 1, 11], [17, 1, 7]]);
    expect(choose([...comb6, ...oneOrigin], methods, 'combination')).toBe('combination');
    // Two candidates clearly better: the larger mean gain wins.
    const reg = errs('regression', [[15, 1, 5], [15, 2, 5], [16, 1, 4], [17, 1, 3]]);
    expect(choose([...comb, ...sn, ...reg], [...methods, 'regression'], 'combination')).toBe('regression');
  });
});

describe('MASE by hand', () => {
  it('scales by the in-sample seasonal naive error (lag 1 up to a season)', () => {
    // y = 10, 12, 11, 15: lag-1 errors 2, 1, 4 → scale 7/3; forecast errors 2 and 5 → MAE 3.5 → MASE 1.5.
    expect(maseScale([10, 12, 11, 15])).toBeCloseTo(7 / 3, 12);
    expect(mase([{ forecast: 10, actual: 12 }, { forecast: 20, actual: 15 }], 7 / 3)).toBeCloseTo(1.5, 12);
    // 14 months 1…12, then 4 and 8: seasonal errors |4 − 1| and |8 − 2| → scale 4.5.
    expect(maseScale([...Array.from({ length: 12 }, (_, i) => i + 1), 4, 8])).toBeCloseTo(4.5, 12);
    // A flat series has no naive error: the scale falls back to its mean level.
    expect(maseScale(new Array(20).fill(50))).toBe(50);
  });

  it('the backtest divides every method by the same scale', () => {
    const z = normalDraws(11);
    const y = pure(30).map((v) => v + 15 * z());
    const bt = backtest(y);
    for (const m of bt.methods) expect(m.mase).toBeCloseTo(m.maeCents / maseScale(y), 10);
    const sn = bt.errors.filter((e) => e.method === 'seasonal_naive' && e.origin === 20 && e.h === 3)[0]!;
    expect(sn.forecast).toBe(y[20 + 3 - 1 - 12]); // the same month a year before the target
    expect(sn.actual).toBe(y[22]);
  });
});

describe('sales backtest', () => {
  it('uses origins 15…23 and horizons 1–6 on 24 months', () => {
    expect(design(24)).toEqual({ origins: [15, 16, 17, 18, 19, 20, 21, 22, 23], horizon: 6 });
    expect(design(60).origins[0]).toBe(36);
    expect(design(60).horizon).toBe(12);
    expect(design(5)).toEqual({ origins: [2, 3, 4], horizon: 1 });
  });

  it('never sees the future: changing the months from an origin on leaves that origin alone', () => {
    const z = normalDraws(5);
    const y = pure(40).map((v) => v + 20 * z());
    const base = backtest(y);
    for (const o of [18, 24, 30]) {
      const changed = y.map((v, t) => (t >= o ? v * 3 + 500 : v));
      const other = backtest(changed);
      const at = (bt: typeof base) => bt.errors.filter((e) => e.origin === o).map((e) => [e.method, e.h, e.forecast]);
      expect(at(other)).toEqual(at(base));
      // The choice replayed in time order picks the same methods up to that origin.
      expect(other.online!.picks.filter((p) => p.origin <= o)).toEqual(base.online!.picks.filter((p) => p.origin <= o));
      // What the replay knows at origin o are forecasts of months before o only.
      const known = knownBy(base.errors, o);
      expect(known.length).toBeGreaterThan(0);
      for (const e of known) expect(e.origin + e.h - 1).toBeLessThan(o);
      expect(known).toEqual(base.errors.filter((e) => e.origin + e.h - 1 < o));
    }
  });

  it('replays the choice from the combination: nothing is known at the first origin', () => {
    const z = normalDraws(7);
    const bt = backtest(pure(24).map((v) => v + 30 * z()));
    expect(bt.fallback).toBe('combination');
    expect(bt.online!.picks[0]).toEqual({ origin: 15, method: 'combination' });
    expect(bt.online!.picks[1]).toEqual({ origin: 16, method: 'combination' }); // one origin known: not evidence yet
    expect(bt.online!.forecasts).toBe(39); // origins 15…23, horizons up to 6
    // The combination's backtest forecasts are the mean of the three made at the same origin.
    const at = (m: Method) => bt.errors.find((e) => e.method === m && e.origin === 18 && e.h === 4)!.forecast;
    expect(at('combination')).toBeCloseTo((at('seasonal_naive') + at('holt_winters') + at('regression')) / 3, 6);
    expect(backtest(pure(14)).online!.picks[0]!.method).toBe('seasonal_naive');
  });

  it('picks a non-baseline method where trend makes seasonal naive lag behind', () => {
    const z = normalDraws(9);
    const y = pure(36, 1000, 15).map((v) => v + 5 * z());
    const f = forecastSeries({ currency: 'EUR', level: 'total', key: 'total', start: '2023-01-01', values: y, monthsWithSales: 36 });
    expect(['holt_winters', 'regression']).toContain(f.method);
    const sn = f.backtest.methods.find((m) => m.method === 'seasonal_naive')!.mase;
    expect(f.backtest.online!.mase).toBeLessThan(sn);
    expect(f.months[0]!.month).toBe('2026-01-01');
    expect(f.months).toHaveLength(12);
  });

  it('forecasts a series of any length, each candidate fitted at every origin', () => {
    for (let n = 1; n <= 40; n++) {
      const f = forecastSeries({ currency: 'EUR', level: 'total', key: 'total', start: '2023-01-01', values: pure(n), monthsWithSales: n });
      expect(f.months, `n = ${n}`).toHaveLength(12);
      for (const m of f.backtest.methods) expect(m.forecasts, `${m.method}, n = ${n}`).toBe(f.backtest.errors.filter((e) => e.method === m.method).length);
    }
    expect(design(16).origins).toEqual([15]);
    expect(design(15).origins).toEqual([12, 13, 14]);
    expect(design(12).origins[0]).toBe(2);
  });

  it('falls back to naive and mean on short series', () => {
    const f = forecastSeries({ currency: 'EUR', level: 'product', key: 'p', start: '2025-01-01', values: [100, 120, 90, 110, 105], monthsWithSales: 5 });
    expect(f.backtest.methods.map((m) => m.method)).toEqual(['naive', 'mean']);
    expect(['naive', 'mean']).toContain(f.method);
    expect(forecastSeries({ currency: 'EUR', level: 'total', key: 'total', start: '2025-01-01', values: [100], monthsWithSales: 1 }).months[0]).toEqual({ month: '2025-02-01', expectedCents: 100, lowCents: null, highCents: null });
  });
});

describe('sales intervals', () => {
  it('half-widths: 1.2816 × RMSE per horizon, widening with √h past the measured ones', () => {
    const errors = [1, 2, 3].flatMap((h) => [-2, 2, -2, 2].map((e) => ({ h, forecast: 0, actual: e * h })));
    const w = intervalHalfWidths(errors, 12)!;
    expect(w[0]).toBeCloseTo(Z80 * 2, 10);
    expect(w[2]).toBeCloseTo(Z80 * 6, 10);
    expect(w[11]).toBeCloseTo(Z80 * 6 * Math.sqrt(12 / 3), 10);
    expect(intervalHalfWidths([])).toBeNull();
  });

  it('cover about 80 % of future months of series with normal noise of known spread', () => {
    const z = normalDraws(2024);
    let covered = 0;
    let total = 0;
    for (let s = 0; s < 150; s++) {
      const level = 500 + 10 * s;
      const all = Array.from({ length: 48 }, (_, t) => level + 2 * t + SEASON[t % 12]! + 25 * z());
      const f = forecastSeries({ currency: 'EUR', level: 'product', key: String(s), start: '2022-01-01', values: all.slice(0, 36), monthsWithSales: 36 });
      f.months.forEach((m, i) => {
        total++;
        const actual = all[36 + i]!;
        if (actual >= m.lowCents! && actual <= m.highCents!) covered++;
      });
    }
    expect(covered / total).toBeGreaterThan(0.72);
    expect(covered / total).toBeLessThan(0.9);
  }, 60_000);
});

describe('forecast dates', () => {
  it('forecasts from the month after the last complete one', () => {
    expect(firstForecastMonth('2025-06-30')).toBe('2025-07-01');
    expect(firstForecastMonth('2025-06-15')).toBe('2025-06-01');
    expect(addMonths('2025-11-01', 3)).toBe('2026-02-01');
    expect(addMonths('2025-01-01', -1)).toBe('2024-12-01');
    expect(forecastWith('seasonal_naive', pure(12), 1)).toEqual([pure(12)[0]]);
  });
});

// --- the step on a real DuckDB warehouse --------------------------------------------------

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/**
 * A canonical extract: customer A (retail) buys product P1 (category X), B (wholesale) buys
 * P2 (category Y), C (online) buys P3 (category Z) in the last 10 months only; one order and
 * one invoice per customer per month, paid 20 days later. P1 and P2 follow a pure trend and
 * season, so their forecast is known exactly.
 */
function writeExtract(dir: string, months: number): { p1: (t: number) => number; p2: (t: number) => number } {
  const p1 = (t: number) => 1000 + 20 * t + SEASON[t % 12]!;
  const p2 = (t: number) => 500 + 5 * t - SEASON[t % 12]! / 2;
  fs.writeFileSync(path.join(dir, 'customers.csv'), 'customer_id,name,segment,currency,payment_terms_days\nA,Alpha,retail,EUR,30\nB,Beta,wholesale,EUR,30\nC,Gamma,online,EUR,30\n');
  fs.writeFileSync(path.join(dir, 'products.csv'), 'product_id,name,category,unit_price\nP1,One,X,1.00\nP2,Two,Y,1.00\nP3,Three,Z,1.00\n');
  const lines = ['order_id,line_no,customer_id,order_date,product_id,quantity,unit_price,currency'];
  const invoices = ['invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed,settled_date,order_id'];
  for (let t = 0; t < months; t++) {
    const date = addMonths('2023-01-01', t).slice(0, 8) + '10';
    const orders: [string, string, number][] = [['A', 'P1', p1(t)], ['B', 'P2', p2(t)]];
    if (t >= months - 10) orders.push(['C', 'P3', 80]);
    for (const [c, p, amount] of orders) {
      const id = `${c}${t}`;
      lines.push(`${id},1,${c},${date},${p},1,${amount.toFixed(2)},EUR`);
      invoices.push(`I${id},${c},${date},${addDays(date, 30)},${amount.toFixed(2)},EUR,no,${addDays(date, 20)},${id}`);
    }
  }
  fs.writeFileSync(path.join(dir, 'order_lines.csv'), `${lines.join('\n')}\n`);
  fs.writeFileSync(path.join(dir, 'invoices.csv'), `${invoices.join('\n')}\n`);
  return { p1, p2 };
}

describe('forecast step on DuckDB', () => {
  it('writes forecast.sales_monthly per level, replaces its as_of, comments every column, and adds new sales to the cash-in', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-sales-'));
    dirs.push(dir);
    const extract = path.join(dir, 'shop');
    fs.mkdirSync(extract);
    const { p1, p2 } = writeExtract(extract, 30); // 2023-01 … 2025-06
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      await runPipeline({ dataDir: dir, extract, quiet: true, asOf: '2025-06-30', steps: ['ingest', 'transform', 'forecast'] });
      // Running the step again replaces the rows of that as_of.
      await runPipeline({ dataDir: dir, extract, quiet: true, asOf: '2025-06-30', steps: ['forecast'] });
    } finally {
      if (saved !== undefined) process.env.DATABASE_URL = saved;
    }
    const wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'), { readOnly: true });
    try {
      const rows = await rowsJs(wh.conn, `select level, key, month::varchar as month, expected_cents, low_cents, high_cents, method, currency from forecast.sales_monthly where as_of = date '2025-06-30' order by level, key, month`);
      const series = [...new Set(rows.map((r) => `${r.level}/${r.key}`))];
      // P3 has 10 months with sales: skipped at product level, counted in its category, segment and the total.
      expect(series).toEqual(['category/X', 'category/Y', 'category/Z', 'product/shop:P1', 'product/shop:P2', 'segment/online', 'segment/retail', 'segment/wholesale', 'total/total']);
      expect(rows).toHaveLength(9 * 12);
      for (const [key, truth] of [['shop:P1', p1], ['shop:P2', p2]] as const) {
        const mine = rows.filter((r) => r.key === key);
        expect(mine.map((r) => r.month)).toEqual(Array.from({ length: 12 }, (_, i) => addMonths('2025-07-01', i)));
        mine.forEach((r, i) => expect(Math.abs(Number(r.expected_cents) - Math.round(truth(30 + i) * 100))).toBeLessThanOrEqual(1));
        expect(['holt_winters', 'regression']).toContain(mine[0]!.method);
      }
      for (const r of rows) {
        expect(r.currency).toBe('EUR');
        expect(Number(r.low_cents)).toBeLessThanOrEqual(Number(r.expected_cents));
        expect(Number(r.high_cents)).toBeGreaterThanOrEqual(Number(r.expected_cents));
      }
      // The history: P1 as invoiced; the total is the sum of its segments and of its categories, month by month.
      const history = await salesHistory(wh.conn, '2025-06-30');
      const values = (level: string, key?: string) => history.series.filter((s) => s.level === level && (key === undefined || s.key === key));
      expect(values('product', 'shop:P1')[0]!.values).toEqual(Array.from({ length: 30 }, (_, t) => Math.round(p1(t) * 100)));
      const total = values('total')[0]!;
      for (const level of ['segment', 'category']) {
        const sum = new Array<number>(30).fill(0);
        for (const s of values(level)) s.values.forEach((v, i) => (sum[i + monthsBetween(total.start, s.start)]! += v));
        expect(sum).toEqual(total.values);
      }
      const hist = await rowsJs(wh.conn, `select count(*) as n from forecast.sales_backtest where as_of = date '2025-06-30' and level = 'total' and method = 'selected'`);
      expect(Number(hist[0]!.n)).toBe(1);
      const evals = await rowsJs(wh.conn, `select model, metric, baseline, value, baseline_value, months from forecast.model_evaluations where model like 'sales/%' order by model, metric, baseline`);
      expect([...new Set(evals.map((e) => e.model))]).toEqual(['sales/category', 'sales/product', 'sales/segment', 'sales/total']);
      const product = evals.find((e) => e.model === 'sales/product' && e.metric === 'mase' && e.baseline === 'seasonal_naive')!;
      expect(Number(product.value)).toBeLessThan(Number(product.baseline_value)); // exact series: the seasonal naive lags the trend
      expect(Number(product.months)).toBe(30);
      // Every table and column of the sales forecast carries a comment.
      const uncommented = await rowsJs(wh.conn, `select table_name, column_name from duckdb_columns() where schema_name = 'forecast' and table_name in ('sales_monthly', 'sales_backtest', 'cash_weekly') and (comment is null or comment = '')`);
      expect(uncommented).toEqual([]);
      const tables = await rowsJs(wh.conn, `select table_name from duckdb_tables() where schema_name = 'forecast' and table_name in ('sales_monthly', 'sales_backtest') and comment is not null order by 1`);
      expect(tables.map((t) => t.table_name)).toEqual(['sales_backtest', 'sales_monthly']);
      // The cash-in: every invoice was paid 20 days after issue, so none is open on 2025-06-30 and
      // all receipts come from new sales, invoiced from 1 July on and paid from 21 July on.
      const weeks = await rowsJs(wh.conn, `select week_start::varchar as week_start, expected_cents, new_sales_cents, low_cents, high_cents from forecast.cash_weekly where as_of = date '2025-06-30' order by week_start`);
      expect(weeks).toHaveLength(13);
      expect(weeks[0]!.week_start).toBe('2025-07-07');
      for (const w of weeks) expect(Number(w.new_sales_cents)).toBe(Number(w.expected_cents));
      expect(weeks.slice(0, 2).map((w) => Number(w.expected_cents))).toEqual([0, 0]);
      // A steady week later on receives a week's worth of invoicing: the July forecast over 31 days × 7.
      const july = await rowsJs(wh.conn, `select expected_cents from forecast.sales_monthly where as_of = date '2025-06-30' and level = 'total' and month = date '2025-07-01'`);
      expect(Number(weeks[3]!.expected_cents)).toBeCloseTo((Number(july[0]!.expected_cents) * 7) / 31, -2);
      expect(Number(weeks[3]!.low_cents)).toBeLessThan(Number(weeks[3]!.expected_cents));
    } finally {
      wh.close();
    }
  }, 120_000);
});
