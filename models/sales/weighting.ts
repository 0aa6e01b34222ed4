import { type Backtest } from './backtest.ts';
import { type Method } from './methods.ts';

/**
 * How the sales methods are weighted, and how wide the 80 % intervals are — both learned
 * only from forecasts whose months had already happened, walking forward over the
 * rolling-origin backtests of every series of a level (one currency, one level, the same
 * candidates).
 *
 * Weights (exponentially weighted average forecaster, "Hedge", with a prior; Cesa-Bianchi &
 * Lugosi, "Prediction, learning, and games", 2006, §2.1): the candidates are seasonal naive,
 * Holt-Winters, the regression and their combination (naive and mean on short series). At a
 * month c, each candidate's loss is the sum of its absolute errors, each scaled by its
 * series' MASE scale as known at the origin it was made from, over every backtest forecast
 * of a month before c — the two warm-up origins before the first scored one included
 * (backtest.ts `WARMUP_ORIGINS`) — divided by the number of series of the level; the weight
 * of method m is π_m exp(−η (L_m − min L)) normalised, η = `WEIGHT_RATE` (half of it on a level
 * of one series, `ONE_SERIES_RATE_FACTOR`), π the prior:
 * seasonal naive `BASELINE_PRIOR` (0.85), the others 0.05 each. With nothing known the
 * baseline carries the forecast: the methods that fit a trend must prove themselves on
 * earlier months before they take over (on the demo companies seasonal naive is the best
 * single method at most levels, and the first origins, about half of the forecasts
 * replayed, were lost to equal weights). The level's series share the weights: one series'
 * dozen errors are mostly noise, a level's errors together are evidence. The forecast at
 * each origin is the weighted mean of the candidates' forecasts made there.
 *
 * In-sample evidence beside the backtest's: at the first origins the backtest knows three
 * forecasts a series (from 13 and 14 months of history, where the regression nearly
 * interpolates), while the history before the origin already tells whether last year's months
 * plus the trend read from the other months predict a month better than last year's month
 * alone. Each candidate's leave-one-out errors on that history (backtest.ts,
 * `leaveOneOutErrors`) multiply its weight by exp(−`IN_SAMPLE_RATE` × their scaled sum,
 * averaged over the level's series): a trend that shows in the history carries weight from the
 * first origin on, and seasonal naive keeps it where the history shows none.
 *
 * Intervals (calibrated on the replay): the residuals (actual − forecast) of that
 * weighted forecast, divided by the series' MASE scale as known at its origin (the
 * in-sample seasonal naive error: a series' noise, not its size), of every month before c
 * across the level, kept by horizon; their weighted 10 % and 90 % points q₁₀, q₉₀
 * (`bandOf`, `bandsOf`) give forecast + scale × q₁₀ … forecast + scale × q₉₀. With fewer
 * than `MIN_RESIDUALS` residuals there is no interval yet. The published forecast takes the
 * weights and the bands from every replayed month, times the scale of the whole history.
 */
export const WEIGHT_RATE = 0.5;
/**
 * On a level with one series (the total) the rate is halved: its losses are one series'
 * cumulated scaled errors, not a level's mean, and a few months of them swing the weights
 * (seed 42's total: seasonal naive kept 0.13 after months in which the trend methods did
 * better, and lost the two origins that followed).
 */
export const ONE_SERIES_RATE_FACTOR = 0.5;
export const BASELINE_PRIOR = 0.85;
/**
 * Rate of the in-sample evidence (backtest.ts, `insampleAt`): at each month the weights also
 * carry exp(−`IN_SAMPLE_RATE` × L), L a candidate's leave-one-out absolute errors on the
 * history before that month, scaled by the series' MASE scale and averaged over the level's
 * series — the pseudo-Bayesian-model-averaging weight exp(elpd_loo) (Yao, Vehtari, Simpson &
 * Gelman, "Using stacking to average Bayesian predictive distributions", Bayesian Analysis
 * 13(3), 2018, §3.1) of a Laplace predictive density whose scale is the series' MASE scale.
 * Not the backtest's rate: each month counts once in it, where a month of the backtest is
 * forecast from up to 12 origins at once. It does not accumulate: it is worked out again on
 * the longer history at each month.
 */
export const IN_SAMPLE_RATE = 1;
export const MIN_RESIDUALS = 10;
const HORIZON = 12;

export interface Member {
  /** Identifies the series in the result. */
  id: string;
  backtest: Backtest;
  /** Months from the level's earliest series start to this series' start (aligns origins in calendar time). */
  offset: number;
}

export interface ReplayedForecast {
  origin: number;
  h: number;
  forecast: number;
  actual: number;
  low: number | null;
  high: number | null;
}

export interface SeriesReplay {
  id: string;
  forecasts: ReplayedForecast[];
  /** MASE of the weighted forecast replayed (series' whole-history scale, as the methods'). */
  mase: number;
  /** Each candidate's MASE on the same (origin, horizon) pairs. */
  methodMase: Map<Method, number>;
  baseline: Method;
  /** Intervals judged and those holding the actual. */
  judged: number;
  covered: number;
  /** Origins at which the weighted forecast's mean absolute error was below the baseline's, of the origins replayed. */
  originsBeatingBaseline: number;
  origins: number;
  /** Mean squared error of the replayed forecasts, cents² (for the reconciliation). */
  mseCents: number;
}

export interface LevelWeighting {
  methods: Method[];
  /** The weights after every replayed month: the published forecast's. */
  weights: Map<Method, number>;
  /** 80 % bands of the scaled residuals of every replayed month, per horizon 1…12 (null: too few residuals). */
  bands: ({ low: number; high: number } | null)[];
  /** The weights used at each calendar month (index from the level's earliest start). */
  weightsAt: Map<number, Map<Method, number>>;
  series: SeriesReplay[];
}

/**
 * Prior weights: the baseline (seasonal naive; naive on short series) `BASELINE_PRIOR`, the
 * other candidates the rest in equal shares.
 */
export function priorOf(methods: Method[], baseline: Method): Map<Method, number> {
  if (methods.length <= 1 || !methods.includes(baseline)) return new Map(methods.map((m) => [m, 1 / methods.length]));
  return new Map(methods.map((m) => [m, m === baseline ? BASELINE_PRIOR : (1 - BASELINE_PRIOR) / (methods.length - 1)]));
}

/** Weights π_m exp(−η (L_m − min L)) normalised; the prior π (equal when not given) when nothing is known. */
export function hedgeWeights(losses: Map<Method, number>, rate = WEIGHT_RATE, prior?: Map<Method, number>): Map<Method, number> {
  const min = Math.min(...losses.values());
  const raw = [...losses].map(([m, l]) => [m, (prior?.get(m) ?? 1) * Math.exp(-rate * (l - min))] as const);
  const sum = raw.reduce((a, [, w]) => a + w, 0);
  return new Map(raw.map(([m, w]) => [m, w / sum]));
}

/** Linear-interpolation quantile (type 7) of `xs`, p in [0, 1]. */
export function quantile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const pos = (s.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** A replayed residual, scaled, and the calendar month of the origin it was forecast from. */
export interface Residual {
  r: number;
  c: number;
}

/** Half-life, in months, of a residual's weight in the band: recent origins, fitted on more history, err less than the first ones. */
export const RESIDUAL_HALF_LIFE = 3;

/**
 * 80 % band from residuals at month `now`: their weighted 10 % and 90 % points, a
 * residual's weight halving every `RESIDUAL_HALF_LIFE` months of age of its origin, the
 * points moved out by 0.5 / n (n the effective number of residuals, (Σw)² / Σw²; about
 * half the widening of the split-conformal ranks ⌈0.9 (n + 1)⌉ of n) so that a few residuals
 * give a wider band; null below `MIN_RESIDUALS`.
 */
export function bandOf(residuals: Residual[], now: number): { low: number; high: number } | null {
  if (residuals.length < MIN_RESIDUALS) return null;
  const s = residuals.map((x) => ({ r: x.r, w: 0.5 ** ((now - x.c) / RESIDUAL_HALF_LIFE) })).sort((a, b) => a.r - b.r);
  const total = s.reduce((a, x) => a + x.w, 0);
  const nEff = total ** 2 / s.reduce((a, x) => a + x.w * x.w, 0);
  const widen = 0.5 / nEff;
  const at = (p: number) => {
    let cum = 0;
    for (const x of s) if ((cum += x.w) >= p * total) return x.r;
    return s.at(-1)!.r;
  };
  return { low: at(Math.max(0, 0.1 - widen)), high: at(Math.min(1, 0.9 + widen)) };
}

/**
 * Bands per horizon 1…`horizons` from residuals by horizon: each horizon's own residuals
 * when there are `MIN_RESIDUALS` of them, else the nearest shorter horizon that has them,
 * else every horizon's pooled; null when even the pool is too small.
 */
export function bandsOf(byHorizon: Map<number, Residual[]>, horizons: number, now: number): ({ low: number; high: number } | null)[] {
  let pooledBand: { low: number; high: number } | null | undefined;
  const pooled = () => (pooledBand === undefined ? (pooledBand = bandOf([...byHorizon.values()].flat(), now)) : pooledBand);
  const out: ({ low: number; high: number } | null)[] = [];
  let last: { low: number; high: number } | null = null;
  for (let h = 1; h <= horizons; h++) {
    const own = bandOf(byHorizon.get(h) ?? [], now);
    if (own) last = own;
    out.push(own ?? last ?? pooled());
  }
  return out;
}

/**
 * Replays the weighting and the intervals over the backtests of a level's series, month by
 * month in calendar order: what is used at month c comes from months before c only.
 * Every member must have the same candidate methods.
 */
export function replayLevel(members: Member[], levelRate = WEIGHT_RATE): LevelWeighting {
  const rate = members.length === 1 ? levelRate * ONE_SERIES_RATE_FACTOR : levelRate;
  const methods: Method[] = members.length ? members[0]!.backtest.methods.map((m) => m.method) : [];
  const per = Math.max(1, members.length);
  // Losses and residuals by the calendar month they became known (the month forecast).
  const lossAt = new Map<number, Map<Method, number>>();
  const prior = priorOf(methods, members.length ? members[0]!.backtest.baseline : methods[0]!);
  const residualsAt = new Map<number, { h: number; r: number; c: number }[]>();
  const byOrigin = new Map<number, { member: Member; origin: number }[]>();
  let lastMonth = 0;
  for (const member of members) {
    const bt = member.backtest;
    for (const e of [...bt.warmup, ...bt.errors]) {
      if (!methods.includes(e.method)) continue;
      const t = member.offset + e.origin + e.h - 1;
      const m = lossAt.get(t) ?? new Map<Method, number>();
      m.set(e.method, (m.get(e.method) ?? 0) + Math.abs(e.actual - e.forecast) / bt.scaleAt.get(e.origin)! / per);
      lossAt.set(t, m);
      lastMonth = Math.max(lastMonth, t + 1);
    }
    for (const o of bt.origins) {
      const c = member.offset + o;
      const list = byOrigin.get(c);
      if (list) list.push({ member, origin: o });
      else byOrigin.set(c, [{ member, origin: o }]);
      lastMonth = Math.max(lastMonth, c);
    }
  }
  const forecasts = new Map<string, ReplayedForecast[]>(members.map((m) => [m.id, []]));
  const errorsAt = new Map<string, Map<number, Backtest['errors']>>();
  for (const m of members) {
    const byO = new Map<number, Backtest['errors']>();
    for (const e of m.backtest.errors) {
      const list = byO.get(e.origin);
      if (list) list.push(e);
      else byO.set(e.origin, [e]);
    }
    errorsAt.set(m.id, byO);
  }
  const losses = new Map<Method, number>(methods.map((m) => [m, 0]));
  const residuals = new Map<number, Residual[]>();
  const addResiduals = (rs: { h: number; r: number; c: number }[] | undefined) => {
    for (const { h, r, c } of rs ?? []) {
      const list = residuals.get(h);
      if (list) list.push({ r, c });
      else residuals.set(h, [{ r, c }]);
    }
  };
  const weightsAt = new Map<number, Map<Method, number>>();
  // The backtest's losses known at c plus the in-sample evidence on each series' history before c (null: the whole history), in units of the rate.
  const withInsample = (known: Map<Method, number>, c: number | null) => {
    const out = new Map(known);
    for (const member of members) {
      const ins = member.backtest.insampleAt.get(c === null ? member.backtest.months : c - member.offset);
      for (const [m, l] of ins ?? []) if (out.has(m)) out.set(m, out.get(m)! + ((IN_SAMPLE_RATE / rate) * l) / per);
    }
    return out;
  };
  for (let c = 0; c <= lastMonth; c++) {
    // Known at c: the months before c.
    for (const [m, l] of lossAt.get(c - 1) ?? []) losses.set(m, losses.get(m)! + l);
    addResiduals(residualsAt.get(c - 1));
    const weights = hedgeWeights(withInsample(losses, c), rate, prior);
    weightsAt.set(c, weights);
    const starting = byOrigin.get(c);
    if (!starting) continue;
    const bands = bandsOf(residuals, HORIZON, c);
    for (const { member, origin } of starting) {
      const bt = member.backtest;
      const scale = bt.scaleAt.get(origin)!;
      const made = new Map<number, { forecast: number; actual: number }>();
      for (const e of errorsAt.get(member.id)!.get(origin) ?? []) {
        if (!weights.has(e.method)) continue;
        const f = made.get(e.h) ?? { forecast: 0, actual: e.actual };
        f.forecast += weights.get(e.method)! * e.forecast;
        made.set(e.h, f);
      }
      for (const [h, f] of [...made].sort((a, b) => a[0] - b[0])) {
        const band = bands[h - 1] ?? null;
        forecasts.get(member.id)!.push({ origin, h, ...f, low: band ? f.forecast + band.low * scale : null, high: band ? f.forecast + band.high * scale : null });
        const t = c + h - 1;
        const list = residualsAt.get(t);
        if (list) list.push({ h, r: (f.actual - f.forecast) / scale, c });
        else residualsAt.set(t, [{ h, r: (f.actual - f.forecast) / scale, c }]);
      }
    }
  }
  // After every month: the published forecast's weights and band.
  for (const [m, l] of lossAt.get(lastMonth) ?? []) losses.set(m, losses.get(m)! + l);
  for (const [t, rs] of residualsAt) if (t >= lastMonth) addResiduals(rs);
  const series = members.map((member) => summarise(member, forecasts.get(member.id)!));
  return { methods, weights: hedgeWeights(withInsample(losses, null), rate, prior), bands: bandsOf(residuals, HORIZON, lastMonth + 1), weightsAt, series };
}

function summarise(member: Member, fs: ReplayedForecast[]): SeriesReplay {
  const bt = member.backtest;
  const abs = (xs: { forecast: number; actual: number }[]) => xs.reduce((a, x) => a + Math.abs(x.actual - x.forecast), 0);
  const methodMase = new Map<Method, number>();
  for (const m of bt.methods) methodMase.set(m.method, m.mase);
  let beating = 0;
  for (const o of bt.origins) {
    const mine = fs.filter((f) => f.origin === o);
    const base = bt.errors.filter((e) => e.origin === o && e.method === bt.baseline);
    if (abs(mine) < abs(base) - 1e-9) beating++;
  }
  const judged = fs.filter((f) => f.low !== null);
  return {
    id: member.id,
    forecasts: fs,
    mase: fs.length ? abs(fs) / fs.length / bt.scale : NaN,
    methodMase,
    baseline: bt.baseline,
    judged: judged.length,
    covered: judged.filter((f) => f.actual >= f.low! && f.actual <= f.high!).length,
    originsBeatingBaseline: beating,
    origins: bt.origins.length,
    mseCents: fs.length ? fs.reduce((a, f) => a + (f.actual - f.forecast) ** 2, 0) / fs.length : NaN,
  };
}

/**
 * The 95 % band of the coverage of n intervals that each hold the actual with probability
 * p: [k₁/n, k₂/n], k₁ the largest count with P(X < k₁) ≤ 2.5 % and k₂ the smallest with
 * P(X > k₂) ≤ 2.5 %, X ~ Binomial(n, p) (exact, summed in logs). A replayed coverage outside
 * it says the intervals are not what they claim.
 */
export function binomialBand(n: number, p = 0.8): { low: number; high: number } {
  if (!(n >= 1)) return { low: 0, high: 1 };
  const logFact = [0];
  for (let i = 1; i <= n; i++) logFact.push(logFact[i - 1]! + Math.log(i));
  const pmf = (k: number) => Math.exp(logFact[n]! - logFact[k]! - logFact[n - k]! + k * Math.log(p) + (n - k) * Math.log(1 - p));
  let below = 0;
  let k1 = 0;
  while (k1 < n && below + pmf(k1) <= 0.025) below += pmf(k1++);
  let above = 0;
  let k2 = n;
  while (k2 > 0 && above + pmf(k2) <= 0.025) above += pmf(k2--);
  return { low: k1 / n, high: k2 / n };
}
