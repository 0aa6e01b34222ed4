import { baselineOf, candidates, combine, COMBINED, forecastWith, MIN_SEASONAL_FIT, SEASON, type Method } from './methods.ts';

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
 * The weighting of the methods and the intervals are learned across the series of a level,
 * walking forward over these backtests (weighting.ts).
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
  /** MASE scale over the whole series (the reported MASE divides by it). */
  scale: number;
  /** MASE scale as known at each origin, warm-up ones included (seasonal naive in-sample MAE of months 0…o−1): pools errors across series without looking ahead, and scales the interval residuals. */
  scaleAt: Map<number, number>;
  baseline: Method;
  methods: MethodAccuracy[];
  errors: BacktestForecast[];
  /** Forecasts of origins before the first scored one (warm-up): they teach the weights, they are not scored. */
  warmup: BacktestForecast[];
  /** Each candidate's in-sample evidence at each origin from 13 on (and at n, the published forecast's): its leave-one-out errors on the months before it, scaled by `scaleAt` (`insampleLoss`); empty below 16 months. */
  insampleAt: Map<number, Map<Method, number>>;
}

/**
 * Leave-one-out errors on the months t ≥ m of y (the in-sample evidence of the weights,
 * weighting.ts): seasonal naive's y(t) − y(t−m), and the trend-and-month regression's fitted
 * without month t — the slope from every other month's deviation from its calendar month's
 * mean (the same least-squares slope as `fitTrendSeason`'s), the month's level from the
 * same calendar month's other months. On 15 months that is each year-over-year change against
 * the mean of the two others: y = 100, 90, 80, then the 9 months of a season, then 110, 105, 80
 * gives seasonal naive's errors 10, 15, 0 and the regression's 10 − 7.5, 15 − 5, 0 − 12.5.
 * Months whose calendar month has no other observation, or whose removal leaves no slope, are
 * left out. Cost O(n²) (n ≤ 27 here).
 */
export function leaveOneOutErrors(y: number[], m = SEASON): { t: number; sn: number; re: number }[] {
  const n = y.length;
  const out: { t: number; sn: number; re: number }[] = [];
  for (let i = m; i < n; i++) {
    let num = 0;
    let den = 0;
    let own: { tMean: number; yMean: number } | null = null;
    for (let p = 0; p < m; p++) {
      const ts: number[] = [];
      for (let t = p; t < n; t += m) if (t !== i) ts.push(t);
      if (ts.length === 0) continue;
      const tMean = ts.reduce((a, t) => a + t, 0) / ts.length;
      const yMean = ts.reduce((a, t) => a + y[t]!, 0) / ts.length;
      for (const t of ts) {
        num += (t - tMean) * (y[t]! - yMean);
        den += (t - tMean) ** 2;
      }
      if (p === i % m) own = { tMean, yMean };
    }
    if (!own || den <= 0) continue;
    const slope = num / den;
    out.push({ t: i, sn: y[i]! - y[i - m]!, re: y[i]! - (own.yMean + slope * (i - own.tMean)) });
  }
  return out;
}

/**
 * Each candidate's leave-one-out absolute errors on y, summed and divided by `scale`. Holt-Winters,
 * which starts from that regression and has no leave-one-out form, is scored as the regression;
 * the combination as the mean of its three (seasonal naive, the regression twice).
 */
export function insampleLoss(y: number[], methods: Method[], scale: number): Map<Method, number> {
  const errs = leaveOneOutErrors(y);
  const abs = (f: (e: { sn: number; re: number }) => number) => errs.reduce((a, e) => a + Math.abs(f(e)), 0) / scale;
  const out = new Map<Method, number>();
  for (const method of methods) {
    if (method === 'seasonal_naive') out.set(method, abs((e) => e.sn));
    else if (method === 'holt_winters' || method === 'regression') out.set(method, abs((e) => e.re));
    else if (method === 'combination') out.set(method, abs((e) => (e.sn + 2 * e.re) / 3));
  }
  return out;
}

export const Z80 = 1.2816;

const MAX_ORIGINS = 24;
const MAX_HORIZON = 12;
/** Origins before the first scored one whose forecasts teach the weights only (never before month 13: Holt-Winters and the regression need 13 months). */
export const WARMUP_ORIGINS = 2;

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

/** Runs the backtest of every candidate on `y` (months oldest first). */
export function backtest(y: number[]): Backtest {
  const n = y.length;
  const methods = candidates(n);
  const baseline = baselineOf(n);
  const { origins, horizon } = design(n);
  const scale = maseScale(y);
  const errors: BacktestForecast[] = [];
  const warmup: BacktestForecast[] = [];
  // Warm-up origins: before the first scored one, from 13 months of history on (the seasonal candidates only).
  const first = origins[0]!;
  const warm = n > MIN_SEASONAL_FIT ? Array.from({ length: WARMUP_ORIGINS }, (_, i) => first - WARMUP_ORIGINS + i).filter((o) => o > SEASON) : [];
  for (const o of [...warm, ...origins]) {
    const train = y.slice(0, o); // the origin sees months 0…o−1 only
    const h = Math.min(horizon, n - o);
    const made = new Map<Method, number[]>();
    const into = o < first ? warmup : errors;
    for (const method of methods) {
      // The combination averages forecasts already made at this origin rather than refitting them.
      const f = method === 'combination' ? combine(COMBINED.map((m) => made.get(m)!)) : forecastWith(method, train, h);
      made.set(method, f);
      for (let i = 0; i < h; i++) into.push({ origin: o, h: i + 1, method, forecast: f[i]!, actual: y[o + i]! });
    }
  }
  const accuracy: MethodAccuracy[] = methods.map((method) => {
    const pairs = errors.filter((e) => e.method === method);
    return { method, mase: mase(pairs, scale), maeCents: pairs.length ? pairs.reduce((a, p) => a + Math.abs(p.actual - p.forecast), 0) / pairs.length : NaN, forecasts: pairs.length };
  });
  const scaleAt = new Map([...warm, ...origins].map((o) => [o, maseScale(y.slice(0, o))]));
  const insampleAt = new Map<number, Map<Method, number>>();
  if (n > MIN_SEASONAL_FIT) for (let o = SEASON + 1; o <= n; o++) insampleAt.set(o, insampleLoss(y.slice(0, o), methods, o === n ? scale : (scaleAt.get(o) ?? maseScale(y.slice(0, o)))));
  return { months: n, origins, horizon, scale, scaleAt, baseline, methods: accuracy, errors, warmup, insampleAt };
}

/** Backtest forecasts whose target month (index origin + h − 1) had been observed by origin `o` (months 0…o−1). */
export function knownBy<T extends { origin: number; h: number }>(errors: T[], o: number): T[] {
  return errors.filter((e) => e.origin + e.h <= o);
}
