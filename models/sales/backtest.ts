import { baselineOf, candidates, combine, COMBINED, defaultOf, forecastWith, MIN_SEASONAL_FIT, SEASON, type Method } from './methods.ts';

/**
 * Rolling-origin backtest of the sales methods on one monthly series (Hyndman &
 * Athanasopoulos, FPP3 §5.10, "time series cross-validation"): at each origin o the methods
 * are fitted on the first o months only and forecast months o+1…o+H, which are then
 * compared with what happened. Accuracy is the mean absolute scaled error (MASE, Hyndman &
 * Koehler 2006): mean |error| over every (origin, horizon) pair divided by the in-sample MAE
 * of the seasonal naive forecast on the series up to the as-of date (lag 1 below 13 months).
 * The scale is one number per series, the same for every method.
 *
 * Origins: the last 24 at most, and never before the months every candidate needs (15 from
 * 16 months of history on, 12 from 13, otherwise 2; see `candidates`). Horizons: 1…H with
 * H = min(12, n − first origin − 3) — with 24 months of history, origins 15…23 and
 * horizons 1–6 (39 forecasts per method).
 *
 * Choice (`choose`): the default method (the combination, or the baseline on series too
 * short for one; methods.ts `defaultOf`) unless another candidate beats it clearly — a
 * one-sided paired t-test at 5 % on the per-origin differences in mean absolute error.
 * Picking the lowest MASE of a few noisy candidates mostly picks noise on two years of
 * history; the test leaves the default only on evidence. The published forecast uses the
 * choice made on the whole backtest; `online` replays it in time order, each origin choosing
 * with the forecasts whose months had been observed by then, and its MASE and interval
 * coverage are what the evaluation reports.
 */
export interface BacktestForecast {
  origin: number;
  h: number;
  method: Method;
  forecast: number;
  actual: number;
}

export interface MethodAccuracy {
  method: Method;
  mase: number;
  maeCents: number;
  forecasts: number;
}

export interface Backtest {
  months: number;
  origins: number[];
  horizon: number;
  scale: number;
  baseline: Method;
  /** The method kept unless another beats it clearly (the combination, or the baseline on short series). */
  fallback: Method;
  methods: MethodAccuracy[];
  /** The method `choose` picks on the whole backtest (the fallback without one). */
  chosen: Method;
  /** Interval half-widths (80 %) of the chosen method per horizon 1…12; null without a backtest. */
  halfWidths: number[] | null;
  /** Honest selection replayed in time order: its MASE, the baseline's on the same forecasts, and 80 % interval coverage. */
  online: { mase: number; baselineMase: number; forecasts: number; coverage: number | null; judged: number; picks: { origin: number; method: Method }[] } | null;
  errors: BacktestForecast[];
}

export const Z80 = 1.2816;

/** One-sided 95 % quantiles of Student's t with 1…30 degrees of freedom (any statistics table). */
const T95 = [6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761, 1.753, 1.746, 1.74, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701, 1.699, 1.697];

/** One-sided 95 % quantile of Student's t with `df` degrees of freedom; beyond 30 the Cornish-Fisher term z + (z³ + z)/(4 df). */
export function studentT95(df: number): number {
  if (!(df >= 1)) throw new Error(`Student's t needs at least 1 degree of freedom, got ${df}`);
  if (df <= T95.length) return T95[Math.floor(df) - 1]!;
  const z = 1.6449;
  return z + (z ** 3 + z) / (4 * df);
}
const MAX_ORIGINS = 24;
const MAX_HORIZON = 12;

/** Backtest design for a series of n months: the origins (months of training) and the longest horizon. */
export function design(n: number): { origins: number[]; horizon: number } {
  const minTrain = n > MIN_SEASONAL_FIT ? MIN_SEASONAL_FIT : n > SEASON ? SEASON : 2;
  const first = Math.max(minTrain, n - MAX_ORIGINS);
  const origins: number[] = [];
  for (let o = first; o < n; o++) origins.push(o);
  return { origins, horizon: Math.max(1, Math.min(MAX_HORIZON, n - first - 3)) };
}

/** In-sample MAE of the seasonal naive forecast (lag 1 when the series is not longer than a season); never 0. */
export function maseScale(y: number[], m = SEASON): number {
  const lag = y.length > m ? m : 1;
  let sum = 0;
  for (let t = lag; t < y.length; t++) sum += Math.abs(y[t]! - y[t - lag]!);
  const scale = y.length > lag ? sum / (y.length - lag) : 0;
  if (scale > 0) return scale;
  const level = y.reduce((a, b) => a + Math.abs(b), 0) / Math.max(1, y.length);
  return level > 0 ? level : 1;
}

/** MASE of forecasts against actuals with the given scale. */
export function mase(pairs: { forecast: number; actual: number }[], scale: number): number {
  if (pairs.length === 0) return NaN;
  return pairs.reduce((a, p) => a + Math.abs(p.actual - p.forecast), 0) / pairs.length / scale;
}

/**
 * 80 % half-widths for horizons 1…12 from forecast errors: ±1.2816 × the root mean squared
 * error at each horizon measured with at least 3 errors, never narrower than a shorter
 * horizon's; beyond the last measured horizon the width grows with √h. Null without errors.
 */
export function intervalHalfWidths(errors: { h: number; forecast: number; actual: number }[], horizons = MAX_HORIZON): number[] | null {
  if (errors.length === 0) return null;
  const byH = new Map<number, number[]>();
  for (const e of errors) byH.set(e.h, [...(byH.get(e.h) ?? []), e.actual - e.forecast]);
  const rmse = (xs: number[]) => Math.sqrt(xs.reduce((a, x) => a + x * x, 0) / xs.length);
  const out: number[] = [];
  let lastH = 0;
  let lastRmse = 0;
  for (let h = 1; h <= horizons; h++) {
    const xs = byH.get(h);
    if (xs && xs.length >= 3 && h === lastH + 1) {
      lastRmse = Math.max(lastRmse, rmse(xs));
      lastH = h;
      out.push(Z80 * lastRmse);
    } else if (lastH > 0) {
      out.push(Z80 * lastRmse * Math.sqrt(h / lastH));
    } else {
      // Fewer than 3 errors even at horizon 1: all errors pooled, read as horizon 1.
      lastRmse = rmse(errors.map((e) => e.actual - e.forecast));
      lastH = 1;
      out.push(Z80 * lastRmse * Math.sqrt(h));
    }
  }
  return out;
}

/** Runs the backtest of every candidate on `y` (months oldest first). */
export function backtest(y: number[]): Backtest {
  const n = y.length;
  const methods = candidates(n);
  const baseline = baselineOf(n);
  const fallback = defaultOf(n);
  const { origins, horizon } = design(n);
  const scale = maseScale(y);
  const errors: BacktestForecast[] = [];
  for (const o of origins) {
    const train = y.slice(0, o); // the origin sees months 0…o−1 only
    const h = Math.min(horizon, n - o);
    const made = new Map<Method, number[]>();
    for (const method of methods) {
      // The combination averages forecasts already made at this origin rather than refitting them.
      const f = method === 'combination' ? combine(COMBINED.map((m) => made.get(m)!)) : forecastWith(method, train, h);
      made.set(method, f);
      for (let i = 0; i < h; i++) errors.push({ origin: o, h: i + 1, method, forecast: f[i]!, actual: y[o + i]! });
    }
  }
  const accuracy: MethodAccuracy[] = methods.map((method) => {
    const pairs = errors.filter((e) => e.method === method);
    return { method, mase: mase(pairs, scale), maeCents: pairs.length ? pairs.reduce((a, p) => a + Math.abs(p.actual - p.forecast), 0) / pairs.length : NaN, forecasts: pairs.length };
  });
  const chosen = choose(errors, methods, fallback);
  return {
    months: n,
    origins,
    horizon,
    scale,
    baseline,
    fallback,
    methods: accuracy,
    chosen,
    halfWidths: intervalHalfWidths(errors.filter((e) => e.method === chosen)),
    online: replay(errors, origins, methods, baseline, fallback, scale),
    errors,
  };
}

/**
 * The method to use given backtest forecasts: `fallback` unless a candidate beats it
 * clearly. For each other candidate, one difference per origin — the fallback's mean
 * absolute error minus the candidate's, over the horizons both forecast there — and a
 * one-sided paired t-test, t = mean / (sd / √k) > Student's t(0.95, k − 1), over k ≥ 2
 * origins (identical differences: any gain counts). Among the candidates that pass, the
 * largest mean gain wins. Origins overlap in the months they forecast, so the differences
 * are not independent and the test is lenient rather than strict; it still keeps the
 * fallback until the evidence is more than one lucky origin.
 */
export function choose(errors: BacktestForecast[], methods: Method[], fallback: Method): Method {
  const key = (e: BacktestForecast) => `${e.origin}:${e.h}`;
  const mine = new Map(errors.filter((e) => e.method === fallback).map((e) => [key(e), e]));
  let chosen = fallback;
  let bestGain = 0;
  for (const method of methods) {
    if (method === fallback) continue;
    const byOrigin = new Map<number, number[]>();
    for (const e of errors) {
      const f = e.method === method ? mine.get(key(e)) : undefined;
      if (!f) continue;
      byOrigin.set(e.origin, [...(byOrigin.get(e.origin) ?? []), Math.abs(f.actual - f.forecast) - Math.abs(e.actual - e.forecast)]);
    }
    const d = [...byOrigin.values()].map((xs) => xs.reduce((a, b) => a + b, 0) / xs.length);
    const k = d.length;
    if (k < 2) continue;
    const mean = d.reduce((a, b) => a + b, 0) / k;
    const sd = Math.sqrt(d.reduce((a, x) => a + (x - mean) ** 2, 0) / (k - 1));
    const clear = sd > 1e-9 * Math.max(1, Math.abs(mean)) ? mean / (sd / Math.sqrt(k)) > studentT95(k - 1) : mean > 0;
    if (clear && mean > bestGain) [chosen, bestGain] = [method, mean];
  }
  return chosen;
}

/** Backtest forecasts whose target month (index origin + h − 1) had been observed by origin `o` (months 0…o−1). */
export function knownBy<T extends { origin: number; h: number }>(errors: T[], o: number): T[] {
  return errors.filter((e) => e.origin + e.h <= o);
}

/** The choice as it would have happened: at origin o, only forecasts of months before o are known. */
function replay(errors: BacktestForecast[], origins: number[], methods: Method[], baseline: Method, fallback: Method, scale: number): Backtest['online'] {
  if (errors.length === 0) return null;
  const picked: BacktestForecast[] = [];
  const base: BacktestForecast[] = [];
  const picks: { origin: number; method: Method }[] = [];
  let covered = 0;
  let judged = 0;
  for (const o of origins) {
    const known = knownBy(errors, o);
    const method = choose(known, methods, fallback);
    picks.push({ origin: o, method });
    const widths = intervalHalfWidths(known.filter((e) => e.method === method));
    for (const e of errors) {
      if (e.origin !== o) continue;
      if (e.method === baseline) base.push(e);
      if (e.method !== method) continue;
      picked.push(e);
      if (widths) {
        judged++;
        if (Math.abs(e.actual - e.forecast) <= widths[e.h - 1]!) covered++;
      }
    }
  }
  return { mase: mase(picked, scale), baselineMase: mase(base, scale), forecasts: picked.length, coverage: judged ? covered / judged : null, judged, picks };
}
