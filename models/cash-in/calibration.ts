import { addDays } from '../../src/shared/dates.ts';
import type { CashWeek } from './cash-weekly.ts';

/**
 * The 80 % interval of the 13-week cash-in forecast, calibrated on the forecast's own
 * replays (split conformal on relative errors). The model's interval treats every invoice as
 * paying independently; real weeks move together (a customer's batch run, month-ends, a
 * sales month above or below its forecast), so it is too narrow. Instead: over the replayed
 * weeks that had ended by the forecast date, the relative error (actual − expected) /
 * expected, pooled across the 13 horizons; its 10 % and 90 % points, taken at the split-
 * conformal ranks ⌊0.1 (n + 1)⌋ and ⌈0.9 (n + 1)⌉ of the n sorted errors, give the interval
 * expected × (1 + low error) … expected × (1 + high error). In words for a planner: in 80 %
 * of past weeks the cash received was between those two shares of the forecast.
 *
 * Reference: Vovk, Gammerman & Shafer, Algorithmic Learning in a Random World (2005); Lei et
 * al., Distribution-free predictive inference for regression, JASA 2018 (split conformal).
 * The guarantee (coverage ≥ 80 %) holds for exchangeable errors; replayed weeks overlap and
 * drift, so it is checked on the replays themselves (backtest.ts), beside the model's own
 * interval. Cost: a sort of the calibration weeks.
 *
 * Fewer than `MIN_CALIBRATION_WEEKS` usable weeks (a young history): the model's own interval,
 * said so by `intervalMethod: 'model'`.
 */
export interface ReplayedWeek {
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
}

export const MIN_CALIBRATION_WEEKS = 20;

/** Last day of a replayed week (week 0 starts the day after its origin and ends the Sunday before the second Monday). */
export const weekEnd = (w: { weekStart: string }): string => addDays(w.weekStart, 6);

/**
 * The calibration for a forecast made on `asOf`, from the replayed weeks that ENDED on or
 * before `asOf` (whose cash was all known then); weeks still running or later are never read.
 *
 * @example calibrationAt(replayed, '2025-12-31') // { method: 'calibrated', weeks: 140, lowError: -0.21, highError: 0.17 }
 */
export function calibrationAt(replayed: readonly ReplayedWeek[], asOf: string, minWeeks = MIN_CALIBRATION_WEEKS): IntervalCalibration {
  const errors: number[] = [];
  for (const w of replayed) {
    // An expectation of nothing has no relative error.
    if (weekEnd(w) > asOf || !(w.expectedCents > 0) || !Number.isFinite(w.actualCents)) continue;
    errors.push((w.actualCents - w.expectedCents) / w.expectedCents);
  }
  const n = errors.length;
  if (n < minWeeks) return { method: 'model', weeks: n, lowError: 0, highError: 0 };
  errors.sort((a, b) => a - b);
  const lo = Math.max(1, Math.floor(0.1 * (n + 1)));
  const hi = Math.min(n, Math.ceil(0.9 * (n + 1)));
  return { method: 'calibrated', weeks: n, lowError: errors[lo - 1]!, highError: errors[hi - 1]! };
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
