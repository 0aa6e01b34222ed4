import { baselineOf, candidates, forecastWith, MIN_SEASONAL_FIT, SEASON, type Method } from './methods.ts';

/**
 * Rolling-origin backtest of the sales methods on one monthly series (Hyndman &
 * Athanasopoulos, FPP3 §5.10, "time series cross-validation"): at each origin o the methods
 * are fitted on the first o months only and forecast months o+1…o+H, which are then
 * compared with what happened. Accuracy is the mean absolute scaled error (MASE, Hyndman &
 * Koehler 2006): mean |error| over every (origin, horizon) pair divided by the in-sample MAE
 * of the seasonal naive forecast on the series up to the as-of date (lag 1 below 13 months).
 * The scale is one number per series, the same for every method, so choosing by MASE is
 * choosing by mean absolute error.
 *
 * Origins: the last 24 at most, and never before the months every candidate needs (15 from
 * 16 months of history on, 12 from 13, otherwise 2; see `candidates`). Horizons: 1…H with
 * H = min(12, n − first origin − 3) — with 24 months of history, origins 15…23 and
 * horizons 1–6 (33 forecasts per method).
 *
 * Selection is judged honestly as well: `online` replays the backtest in time order and, at
 * each origin, takes the method with the lowest error over the forecasts whose months had
 * been observed by then (the baseline until 3 are known); its MASE and interval coverage
 * are what the evaluation reports. The method used for the published forecast is the one
 * with the lowest MASE over the whole backtest.
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
  methods: MethodAccuracy[];
  /** The method with the lowest MASE (the baseline on ties or without a backtest). */
  chosen: Method;
  /** Interval half-widths (80 %) of the chosen method per horizon 1…12; null without a backtest. */
  halfWidths: number[] | null;
  /** Honest selection replayed in time order: its MASE, the baseline's on the same forecasts, and 80 % interval coverage. */
  online: { mase: number; baselineMase: number; forecasts: number; coverage: number | null; judged: number; picks: { origin: number; method: Method }[] } | null;
  errors: BacktestForecast[];
}

export const Z80 = 1.2816;
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
  const { origins, horizon } = design(n);
  const scale = maseScale(y);
  const errors: BacktestForecast[] = [];
  for (const o of origins) {
    const train = y.slice(0, o); // the origin sees months 0…o−1 only
    const h = Math.min(horizon, n - o);
    for (const method of methods) {
      const f = forecastWith(method, train, h);
      for (let i = 0; i < h; i++) errors.push({ origin: o, h: i + 1, method, forecast: f[i]!, actual: y[o + i]! });
    }
  }
  const accuracy: MethodAccuracy[] = methods.map((method) => {
    const pairs = errors.filter((e) => e.method === method);
    return { method, mase: mase(pairs, scale), maeCents: pairs.length ? pairs.reduce((a, p) => a + Math.abs(p.actual - p.forecast), 0) / pairs.length : NaN, forecasts: pairs.length };
  });
  let chosen = baseline;
  let best = accuracy.find((a) => a.method === baseline)?.mase ?? NaN;
  for (const a of accuracy) if (Number.isFinite(a.mase) && (!Number.isFinite(best) || a.mase < best - 1e-12)) [chosen, best] = [a.method, a.mase];
  return {
    months: n,
    origins,
    horizon,
    scale,
    baseline,
    methods: accuracy,
    chosen,
    halfWidths: intervalHalfWidths(errors.filter((e) => e.method === chosen)),
    online: replay(errors, origins, methods, baseline, scale),
    errors,
  };
}

/** Backtest forecasts whose target month (index origin + h − 1) had been observed by origin `o` (months 0…o−1). */
export function knownBy<T extends { origin: number; h: number }>(errors: T[], o: number): T[] {
  return errors.filter((e) => e.origin + e.h <= o);
}

/** The selection as it would have happened: at origin o, only forecasts of months before o are known. */
function replay(errors: BacktestForecast[], origins: number[], methods: Method[], baseline: Method, scale: number): Backtest['online'] {
  if (errors.length === 0) return null;
  const picked: BacktestForecast[] = [];
  const base: BacktestForecast[] = [];
  const picks: { origin: number; method: Method }[] = [];
  let covered = 0;
  let judged = 0;
  for (const o of origins) {
    const known = knownBy(errors, o);
    let method = baseline;
    if (known.filter((e) => e.method === baseline).length >= 3) {
      let best = Infinity;
      for (const m of methods) {
        const mine = known.filter((e) => e.method === m);
        const v = mase(mine, scale);
        if (mine.length >= 3 && v < best - 1e-12) [method, best] = [m, v];
      }
    }
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
