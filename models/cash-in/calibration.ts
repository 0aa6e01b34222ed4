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
 * history it learns from grows, so old replays overstate today's errors.
 *
 * The points are those of the weighted conformal quantile (Barber, Candès, Ramdas &
 * Tibshirani, "Conformal prediction beyond exchangeability", Annals of Statistics 2023): the
 * new week counts as one more week of weight 1 (as the latest) whose error could be anything,
 * so the upper end is the smallest error whose cumulative weight reaches 90 % of the total
 * plus that week's, the lower end likewise from the top. Plain weighted 10 % and 90 % points
 * (without that week) held only 73–76 % of the replayed weeks of the IBM sample and demo seeds
 * 1, 3 and 42: with a 91-day half-life about 50 weeks' worth of weight decide the interval,
 * and the quantiles of so few errors are too narrow for a new one.
 *
 * The levels then follow the coverage of the intervals actually given at earlier month-ends
 * (`adaptiveShift`: adaptive conformal inference, Gibbs & Candès 2021, with their step 0.005),
 * so a forecast whose errors grow or shrink has its interval widen or narrow with them.
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
  /** How far the quantile levels were moved out (in) from 10 % and 90 % by the earlier month-ends' coverage (`adaptiveShift`). */
  shift: number;
}

export const MIN_CALIBRATION_WEEKS = 20;
/** Days in which a replayed week's weight halves. */
export const HALF_LIFE_DAYS = 91;
/** The most the quantile levels move for the earlier month-ends' coverage: 10 % and 90 % become 1 % and 99 % at most (19 % and 81 % at least). */
export const MAX_SHIFT = 0.09;
/** Step of the adaptive conformal update per week judged (Gibbs & Candès 2021 use 0.005): a level moves by step × (missed − 20 %) / 2. */
export const ADAPTIVE_STEP = 0.005;
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
  const shift = adaptiveShift(replayed, asOf, minWeeks, halfLifeDays);
  return baseCalibration(replayed, asOf, minWeeks, halfLifeDays, shift);
}

/**
 * The weighted conformal 10 % − `shift` and 90 % + `shift` points of the relative errors of
 * the weeks ended by `asOf`, the new week counted with weight 1 and an unknown error.
 */
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
  // The new week's weight is the latest's; its error, unknown, sits beyond either end.
  const total = weighted.reduce((s, k) => s + k.weight, 0) + NEW_WEEK_WEIGHT;
  const level = 0.9 + shift;
  // The smallest error whose cumulative weight (in the order given) reaches `level` of the total; the last one if none does.
  const reach = (sorted: readonly { error: number; weight: number }[]) => {
    let cumulative = 0;
    for (const k of sorted) {
      cumulative += k.weight;
      // A relative tolerance, so that equal weights summing to exactly level × total stop here.
      if (cumulative >= level * total * (1 - 1e-12)) return k.error;
    }
    return sorted[sorted.length - 1]!.error;
  };
  return { method: 'calibrated', weeks: n, lowError: reach([...weighted].reverse()), highError: reach(weighted), shift };
}

/** Weight of the week being forecast in the conformal quantile: that of the latest week ended. */
export const NEW_WEEK_WEIGHT = 1;

/**
 * The correction of the quantile levels learnt from the coverage of the intervals given at
 * earlier month-ends (adaptive conformal inference: Gibbs & Candès, "Adaptive conformal
 * inference under distribution shift", NeurIPS 2021; their update α ← α + γ (0.2 − missed)
 * per week, γ = `ADAPTIVE_STEP`, split over the two ends). Walking forward over the month-ends
 * whose 13 weeks had all ended by `asOf` (a later month-end's ended weeks are its nearest,
 * which err less), each gets the interval with the correction known on its own date, and each
 * of its weeks that the interval missed moves the levels out by γ × 0.8 / 2, each it held in
 * by γ × 0.2 / 2: a run of intervals holding fewer than 80 % of their weeks widens the next
 * ones until they hold 80 %, whatever the cause (errors growing, a biased forecast), and
 * intervals holding more narrow them. Unlike a correction read from the uncorrected intervals'
 * coverage, it keeps the coverage actually published near 80 % over the long run (their
 * Proposition 4.1). At most `MAX_SHIFT` either way; nothing ended after `asOf` is read; 0
 * without the weeks' origins.
 */
export function adaptiveShift(replayed: readonly ReplayedWeek[], asOf: string, minWeeks = MIN_CALIBRATION_WEEKS, halfLifeDays = HALF_LIFE_DAYS, step = ADAPTIVE_STEP): number {
  const origins = [...new Set(replayed.map((w) => w.origin).filter((o): o is string => o !== undefined && o < asOf))].sort();
  const memo = new Map<string, number>();
  const shiftAt = (at: string): number => {
    const known = memo.get(at);
    if (known !== undefined) return known;
    let missedBeyondNominal = 0;
    for (const origin of origins) {
      if (daysBetween(origin, at) < FULL_REPLAY_DAYS) break;
      const given = baseCalibration(replayed, origin, minWeeks, halfLifeDays, shiftAt(origin));
      if (given.method !== 'calibrated') continue;
      const weeks = replayed.filter((w) => w.origin === origin && weekEnd(w) <= at && w.expectedCents > 0 && Number.isFinite(w.actualCents));
      calibrated(weeks.map((x) => ({ expectedCents: x.expectedCents, lowCents: 0, highCents: 0, intervalMethod: 'model' as const })), given).forEach((x, i) => {
        const actual = weeks[i]!.actualCents;
        missedBeyondNominal += (actual >= x.lowCents && actual <= x.highCents ? 0 : 1) - 0.2;
      });
    }
    const shift = Math.max(-MAX_SHIFT, Math.min(MAX_SHIFT, (step * missedBeyondNominal) / 2));
    memo.set(at, shift);
    return shift;
  };
  return shiftAt(asOf);
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
