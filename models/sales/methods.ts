import { MultivariateLinearRegression } from 'ml-regression';

/**
 * Forecasting methods for a monthly series (one value per month, oldest first), each
 * returning the point forecasts for the next `h` months. Reference: Hyndman &
 * Athanasopoulos, "Forecasting: principles and practice" (3rd ed.), §5.2 (simple methods),
 * §8.3 (Holt-Winters additive), §7.4 (trend and seasonal dummies), §13.4 (forecast
 * combinations). The baseline every other method is judged against is the seasonal naive
 * forecast (naive below 12 months).
 */
export type Method = 'seasonal_naive' | 'holt_winters' | 'regression' | 'combination' | 'seasonal_drift' | 'naive' | 'mean';

export const SEASON = 12;
/** Months a series needs before Holt-Winters and the regression are fitted (12 dummies + trend leave 2 degrees of freedom). */
export const MIN_SEASONAL_FIT = 15;

/** The methods the combination averages, each weighing the same. */
export const COMBINED: Method[] = ['seasonal_naive', 'holt_winters', 'regression'];

/**
 * The candidates for a series of `n` months, the baseline first — those that can be fitted
 * at every backtest origin (backtest.ts, `design`):
 * ≥ 16 months: seasonal naive, Holt-Winters, regression on trend and month (fitted from 15)
 * and their combination; 13–15 months: seasonal naive, naive; fewer: naive, mean.
 */
export function candidates(n: number): Method[] {
  if (n > MIN_SEASONAL_FIT) return [...COMBINED, 'combination'];
  if (n > SEASON) return ['seasonal_naive', 'naive'];
  return ['naive', 'mean'];
}

export function baselineOf(n: number): Method {
  return n > SEASON ? 'seasonal_naive' : 'naive';
}

/**
 * The method a series uses unless the backtest shows another is clearly better (backtest.ts,
 * `choose`): the combination where there is one — on short, noisy series an equal-weight
 * mean of methods beats picking one of them more often than not (Makridakis & Hibon, M3,
 * 2000; Hyndman & Athanasopoulos §13.4) — otherwise the baseline.
 */
export function defaultOf(n: number): Method {
  return candidates(n).includes('combination') ? 'combination' : baselineOf(n);
}

/** Seasonal naive: each month as it was the same month a year before, `ŷ(T+h) = y(T+h−m(k+1))`, k = ⌊(h−1)/m⌋. Needs n ≥ m. */
export function seasonalNaive(y: number[], h: number, m = SEASON): number[] {
  if (y.length < m) throw new Error(`seasonal naive needs ${m} months, the series has ${y.length}`);
  const n = y.length;
  return Array.from({ length: h }, (_, i) => y[n - m + (i % m)]!);
}

/** Naive: the last month, repeated. */
export function naive(y: number[], h: number): number[] {
  if (y.length === 0) throw new Error('naive forecast of an empty series');
  return new Array<number>(h).fill(y.at(-1)!);
}

/** Mean of every month so far, repeated. */
export function meanForecast(y: number[], h: number): number[] {
  if (y.length === 0) throw new Error('mean forecast of an empty series');
  return new Array<number>(h).fill(y.reduce((a, b) => a + b, 0) / y.length);
}

export interface TrendSeason {
  intercept: number;
  slope: number;
  /** Effect of each position in the season (position = index mod m), summing to 0. */
  season: number[];
}

/**
 * Least-squares regression `y(t) = a + b·t + s(t mod m)`, t = 0…n−1, with the seasonal
 * effects summing to 0 (fitted with m−1 dummies, then centred). Needs n ≥ m + 1.
 */
export function fitTrendSeason(y: number[], m = SEASON): TrendSeason {
  const n = y.length;
  if (n < m + 1) throw new Error(`trend and season regression needs ${m + 1} months, the series has ${n}`);
  // Centred and scaled columns keep XᵀX well conditioned for long series.
  const tMid = (n - 1) / 2;
  const x = y.map((_, t) => [(t - tMid) / m, ...Array.from({ length: m - 1 }, (_, j) => (t % m === j + 1 ? 1 : 0))]);
  const reg = new MultivariateLinearRegression(x, y.map((v) => [v]), { statistics: false });
  const w = reg.weights.map((r) => r[0]!);
  const slope = w[0]! / m;
  const raw = [0, ...w.slice(1, m)];
  const shift = raw.reduce((a, b) => a + b, 0) / m;
  return { intercept: w[m]! - slope * tMid + shift, slope, season: raw.map((s) => s - shift) };
}

export function regressionForecast(y: number[], h: number, m = SEASON): number[] {
  const f = fitTrendSeason(y, m);
  const n = y.length;
  return Array.from({ length: h }, (_, i) => f.intercept + f.slope * (n + i) + f.season[(n + i) % m]!);
}

export interface HoltWinters {
  alpha: number;
  beta: number;
  gamma: number;
  /** Level and trend after the last month. */
  level: number;
  trend: number;
  /** Seasonal states of the last m months, oldest first (season[i] belongs to month n−m+i). */
  season: number[];
  /** Sum of squared one-step errors over the series. */
  sse: number;
}

const GRID_ALPHA = Array.from({ length: 19 }, (_, i) => (i + 1) * 0.05);
const GRID_BETA = [0, 0.02, 0.05, 0.1, 0.2, 0.3];
const GRID_GAMMA = [0, 0.05, 0.1, 0.2, 0.3, 0.5];

/**
 * Additive Holt-Winters (level, trend, 12-month season):
 *   ŷ(t|t−1) = ℓ + b + s(t−m)
 *   ℓ(t) = α(y − s(t−m)) + (1−α)(ℓ + b);  b(t) = β(ℓ(t) − ℓ) + (1−β)b;  s(t) = γ(y − ℓ − b) + (1−γ)s(t−m).
 * Initial level, trend and season from the trend-and-season regression on the first
 * min(n, 2m) months; α, β, γ by grid search (α 0.05…0.95, β ≤ 0.3, γ ≤ min(0.5, 1−α)) on
 * the in-sample sum of squared one-step errors. Needs n ≥ m + 1. Cost: about 500 passes of n steps.
 */
export function fitHoltWinters(y: number[], m = SEASON): HoltWinters {
  const init = fitTrendSeason(y.slice(0, Math.min(y.length, 2 * m)), m);
  let best: HoltWinters | null = null;
  for (const alpha of GRID_ALPHA) {
    for (const beta of GRID_BETA) {
      for (const gamma of GRID_GAMMA) {
        if (gamma > 1 - alpha + 1e-9) continue;
        const run = holtWintersRun(y, init, alpha, beta, gamma, m, best?.sse ?? Infinity);
        if (run && (!best || run.sse < best.sse - 1e-9 * Math.max(1, best.sse))) best = run;
      }
    }
  }
  return best!;
}

/** One pass of the recursions; gives up (null) once the errors exceed `stopAbove`. */
export function holtWintersRun(y: number[], init: TrendSeason, alpha: number, beta: number, gamma: number, m = SEASON, stopAbove = Infinity): HoltWinters | null {
  // State before month 0: level a − b (so that ℓ + b = a at t = 0), trend b, season of positions 0…m−1.
  let level = init.intercept - init.slope;
  let trend = init.slope;
  const season = [...init.season];
  let sse = 0;
  for (let t = 0; t < y.length; t++) {
    const s = season[t % m]!;
    const e = y[t]! - (level + trend + s);
    sse += e * e;
    if (sse > stopAbove) return null;
    const newLevel = alpha * (y[t]! - s) + (1 - alpha) * (level + trend);
    season[t % m] = gamma * (y[t]! - level - trend) + (1 - gamma) * s;
    trend = beta * (newLevel - level) + (1 - beta) * trend;
    level = newLevel;
  }
  const n = y.length;
  return { alpha, beta, gamma, level, trend, season: Array.from({ length: m }, (_, i) => season[(n - m + i) % m]!), sse };
}

export function holtWintersForecast(fit: HoltWinters, h: number, m = SEASON): number[] {
  return Array.from({ length: h }, (_, i) => fit.level + (i + 1) * fit.trend + fit.season[i % m]!);
}

/**
 * Forecast combination: the mean, month by month, of forecasts of the same months (one array
 * per method). `combine([[10, 20], [13, 26], [16, 20]])` → `[13, 22]`.
 */
export function combine(forecasts: number[][]): number[] {
  if (forecasts.length === 0) throw new Error('a combination needs at least one forecast');
  return forecasts[0]!.map((_, i) => forecasts.reduce((a, f) => a + f[i]!, 0) / forecasts.length);
}

/** The combination of seasonal naive, Holt-Winters and the regression (`COMBINED`). Needs n ≥ m + 1. */
export function combinationForecast(y: number[], h: number): number[] {
  return combine(COMBINED.map((m) => forecastWith(m, y, h)));
}

/** Point forecasts of `method` for the `h` months after `y`. */
export function forecastWith(method: Method, y: number[], h: number): number[] {
  switch (method) {
    case 'combination':
      return combinationForecast(y, h);
    case 'seasonal_naive':
      return seasonalNaive(y, h);
    case 'naive':
      return naive(y, h);
    case 'mean':
      return meanForecast(y, h);
    case 'regression':
      return regressionForecast(y, h);
    case 'holt_winters':
      return holtWintersForecast(fitHoltWinters(y), h);
    case 'seasonal_drift':
      return seasonalDriftForecast(y, h);
  }
}

/**
 * Seasonal naive plus a drift shrunk by its evidence — measured as a candidate that might lose
 * little whether seasonal naive or a trend method is best (models/README.md, "A candidate
 * that loses little"); not among the `candidates`. The drift is the mean year-over-year change
 * d̄ of the last k = min(12, n − m) months, kept in the share max(0, 1 − `DRIFT_T2` · s²/(k d̄²))
 * (s² the sample variance of those changes: a positive-part James-Stein shrinkage toward no
 * drift, the whole drift only when its t-statistic is far above √`DRIFT_T2`):
 * `ŷ(n+h) = y(n+h−m(j+1)) + (j+1) · share · d̄`, j = ⌊(h−1)/m⌋ (no drift from a single change). Needs n ≥ m + 1.
 */
export const DRIFT_T2 = 9;

export function seasonalDriftForecast(y: number[], h: number, m = SEASON): number[] {
  const n = y.length;
  const k = Math.min(m, n - m);
  if (k < 1) throw new Error(`seasonal naive with drift needs ${m + 1} months, the series has ${n}`);
  const d: number[] = [];
  for (let t = n - k; t < n; t++) d.push(y[t]! - y[t - m]!);
  const mean = d.reduce((a, b) => a + b, 0) / k;
  // One change tells nothing of its spread: no drift.
  const variance = k > 1 ? d.reduce((a, b) => a + (b - mean) ** 2, 0) / (k - 1) : Infinity;
  const share = mean === 0 ? 0 : Math.max(0, 1 - (DRIFT_T2 * variance) / k / (mean * mean));
  return seasonalNaive(y, h, m).map((v, i) => v + share * mean * (Math.floor(i / m) + 1));
}
