import { addDays, daysBetween } from '../../src/shared/dates.ts';
import type { CashWeek } from './cash-weekly.ts';

/**
 * The 80 % interval of the 13-week cash-in forecast, calibrated on the forecast's own
 * replays. The model's interval treats every invoice as paying independently; real weeks move
 * together (a customer's batch run, month-ends, a sales month above or below its forecast),
 * so it is too narrow. Instead: over the replayed weeks that had ended by the forecast date,
 * the relative error (actual − expected) / expected, pooled across the 13 horizons; its
 * 10 % and 90 % points give the interval expected × (1 + low error) … expected × (1 + high
 * error). In words for a planner: in 80 % of past weeks the cash received was between those
 * two shares of the forecast.
 *
 * Recent weeks count more: a week's weight halves every 91 days (13 weeks, the forecast's
 * own horizon) between its end and the latest week's end. The forecast gets better as the
 * history it learns from grows, so old replays overstate today's errors; with equal weights
 * and split-conformal ranks (⌊0.1 (n + 1)⌋, ⌈0.9 (n + 1)⌉) the interval covered 78–93 % of
 * the replayed weeks of the IBM sample and five demo companies (mean 86 %), with these
 * weights 77–88 % (mean 81 %; models/README.md).
 * The points are those of the weighted empirical distribution: the smallest error whose
 * cumulative weight reaches 10 % (90 %) of the total.
 *
 * Reference: weighted quantiles of past errors with weights decaying in time, as in Barber,
 * Candès, Ramdas & Tibshirani, "Conformal prediction beyond exchangeability", Annals of
 * Statistics 2023 — without its extra mass for the new week, which widened the interval
 * here. No coverage guarantee: it is measured on the replays themselves (backtest.ts), beside
 * the model's own interval. Cost: a sort of the calibration weeks.
 *
 * Fewer than `MIN_CALIBRATION_WEEKS` usable weeks (a young history): the model's own interval,
 * said so by `intervalMethod: 'model'`.
 */
export interface ReplayedWeek {
  /** The month-end the week was forecast from; without it the coverage correction is not made (`coverageShift`). */
  origin?: string;
  weekStart: string;
  expectedCents: number;
  actualCents: number;
}

export interface IntervalCalibration {
  method: 'calibrated' | 'model';
  /** Replayed weeks ended by the date with a positive expectation: the errors read. */
  weeks: number;
  /** Relative error at the lower end (e.g. −0.18: receipts 18 % below the forecast); 0 when not calibrated. */
  lowError: number;
  /** Relative error at the upper end; 0 when not calibrated. */
  highError: number;
  /** How far the quantile levels were moved out (in) from 10 % and 90 % by the earlier origins' coverage (`coverageShift`). */
  shift: number;
}

export const MIN_CALIBRATION_WEEKS = 20;
/** Days in which a replayed week's weight halves. */
export const HALF_LIFE_DAYS = 91;
/** The most the quantile levels move for the earlier origins' coverage: 10 % and 90 % become 5 % and 95 % at most (15 % and 85 % at least). */
export const MAX_SHIFT = 0.05;
/** Days from an origin by which its 13 weeks have all ended (the first week runs from the day after the origin to the Sunday before the second Monday). */
export const FULL_REPLAY_DAYS = 13 * 7 + 7;

/** Last day of a replayed week (week 0 starts the day after its origin and ends the Sunday before the second Monday). */
export const weekEnd = (w: { weekStart: string }): string => addDays(w.weekStart, 6);

/**
 * The calibration for a forecast made on `asOf`, from the replayed weeks that ENDED on or
 * before `asOf` (whose cash was all known then); weeks still running or later are never read.
 *
 * @example calibrationAt(replayed, '2025-12-31') // { method: 'calibrated', weeks: 140, lowError: -0.21, highError: 0.17 }
 */
export function calibrationAt(replayed: readonly ReplayedWeek[], asOf: string, minWeeks = MIN_CALIBRATION_WEEKS, halfLifeDays = HALF_LIFE_DAYS): IntervalCalibration {
  const shift = coverageShift(replayed, asOf, minWeeks, halfLifeDays);
  return baseCalibration(replayed, asOf, minWeeks, halfLifeDays, shift);
}

/** The weighted 10 % − `shift` and 90 % + `shift` points of the relative errors of the weeks ended by `asOf`. */
function baseCalibration(replayed: readonly ReplayedWeek[], asOf: string, minWeeks: number, halfLifeDays: number, shift: number): IntervalCalibration {
  const known: { error: number; end: string }[] = [];
  for (const w of replayed) {
    // An expectation of nothing has no relative error.
    if (weekEnd(w) > asOf || !(w.expectedCents > 0) || !Number.isFinite(w.actualCents)) continue;
    known.push({ error: (w.actualCents - w.expectedCents) / w.expectedCents, end: weekEnd(w) });
  }
  const n = known.length;
  if (n < minWeeks) return { method: 'model', weeks: n, lowError: 0, highError: 0, shift: 0 };
  // Weights relative to the latest week (weight 1), so no weight underflows.
  const latest = known.reduce((m, k) => (k.end > m ? k.end : m), known[0]!.end);
  const weighted = known.map((k) => ({ error: k.error, weight: 0.5 ** (daysBetween(k.end, latest) / halfLifeDays) })).sort((a, b) => a.error - b.error);
  const total = weighted.reduce((s, k) => s + k.weight, 0);
  const point = (p: number) => {
    let cumulative = 0;
    for (const k of weighted) {
      cumulative += k.weight;
      // A relative tolerance, so that equal weights summing to exactly p × total stop here.
      if (cumulative >= p * total * (1 - 1e-12)) return k.error;
    }
    return weighted[weighted.length - 1]!.error;
  };
  return { method: 'calibrated', weeks: n, lowError: point(0.1 - shift), highError: point(0.9 + shift), shift };
}

/**
 * The correction of the quantile levels learnt from the earlier origins' coverage
 * (conformal-style recalibration, after Gibbs & Candès, "Adaptive conformal inference under
 * distribution shift", NeurIPS 2021, without its step-by-step updates): for each earlier
 * origin, the interval the weighted quantiles gave there (from the weeks ended by that origin,
 * no correction) is set against that origin's weeks, for the origins whose 13 weeks had all
 * ended by `asOf` (a later origin's ended weeks are its nearest, which err less); the share they
 * held, each week weighted by recency as the errors are, falls short of (exceeds) 80 % by d,
 * and the levels move out (in) by d / 2 on each side, at most `MAX_SHIFT`. Nothing ended after
 * `asOf` is read. 0 with fewer than `minWeeks` such weeks, or weeks without their origin.
 */
export function coverageShift(replayed: readonly ReplayedWeek[], asOf: string, minWeeks = MIN_CALIBRATION_WEEKS, halfLifeDays = HALF_LIFE_DAYS): number {
  // Only origins whose 13 weeks had all ended by `asOf`: the weeks of a later origin that had ended are its first ones, which err less.
  const origins = [...new Set(replayed.map((w) => w.origin).filter((o): o is string => o !== undefined && daysBetween(o, asOf) >= FULL_REPLAY_DAYS))].sort();
  const judged: { held: boolean; end: string }[] = [];
  for (const origin of origins) {
    const base = baseCalibration(replayed, origin, minWeeks, halfLifeDays, 0);
    if (base.method !== 'calibrated') continue;
    const weeks = replayed.filter((w) => w.origin === origin && weekEnd(w) <= asOf && w.expectedCents > 0 && Number.isFinite(w.actualCents));
    for (const w of calibrated(weeks.map((x) => ({ expectedCents: x.expectedCents, lowCents: 0, highCents: 0, intervalMethod: 'model' as const })), base).map((x, i) => ({ ...x, actual: weeks[i]!.actualCents, end: weekEnd(weeks[i]!) }))) {
      judged.push({ held: w.actual >= w.lowCents && w.actual <= w.highCents, end: w.end });
    }
  }
  if (judged.length < minWeeks) return 0;
  const latest = judged.reduce((m, k) => (k.end > m ? k.end : m), judged[0]!.end);
  let total = 0;
  let held = 0;
  for (const k of judged) {
    const weight = 0.5 ** (daysBetween(k.end, latest) / halfLifeDays);
    total += weight;
    if (k.held) held += weight;
  }
  return Math.max(-MAX_SHIFT, Math.min(MAX_SHIFT, (0.8 - held / total) / 2));
}

/**
 * The weeks with the calibrated interval: never below zero, and always containing the
 * expectation (a biased past can put both error quantiles on one side; the interval then
 * reaches from the expectation to the far one). Integer cents. Uncalibrated: unchanged.
 */
export function calibrated<W extends Pick<CashWeek, 'expectedCents' | 'lowCents' | 'highCents' | 'intervalMethod'>>(weeks: readonly W[], calibration: IntervalCalibration): W[] {
  if (calibration.method !== 'calibrated') return weeks.map((w) => ({ ...w, intervalMethod: 'model' }));
  return weeks.map((w) => {
    const e = w.expectedCents;
    const low = Math.max(0, Math.min(e, Math.round(e * (1 + calibration.lowError))));
    const high = Math.max(e, Math.round(e * (1 + calibration.highError)));
    return { ...w, lowCents: low, highCents: high, intervalMethod: 'calibrated' };
  });
}
