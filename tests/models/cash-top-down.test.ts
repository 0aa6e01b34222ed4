import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/shared/dates.ts';
import { fitTopDown, monthPosition, topDownForecast } from '../../models/cash-in/top-down.ts';
import { combinationWeightsAt, combine, MIN_WEIGHT_WEEKS, PRIOR, type ComponentWeek } from '../../models/cash-in/combination.ts';
import { firstWeekStart } from '../../models/cash-in/cash-weekly.ts';

const weekday = (d: string) => (new Date(`${d}T00:00:00Z`).getUTCDay() + 6) % 7;

/** Daily receipts from `from` to `to` by a rule. */
function receipts(from: string, to: string, rule: (day: string, i: number) => number): Map<string, number> {
  const out = new Map<string, number>();
  let i = 0;
  for (let d = from; d <= to; d = addDays(d, 1)) out.set(d, rule(d, i++));
  return out;
}

describe('cash-in top-down model', () => {
  it('places a day in its month position: the last three days, the first three, the middle, the rest', () => {
    expect(['2026-02-28', '2026-02-27', '2026-02-26', '2026-03-01', '2026-03-02', '2026-03-03', '2026-03-15', '2026-03-10'].map(monthPosition)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(monthPosition('2026-03-31')).toBe(0);
  });

  it('learns a weekday habit and a month-end peak, and forecasts them week by week', () => {
    // Paid on weekdays only, 1,000.00 a day, six times as much on the last day of the month.
    const rule = (d: string) => (weekday(d) < 5 ? 100_000 * (monthPosition(d) === 0 ? 6 : 1) : 0);
    const paid = receipts('2025-01-01', '2026-03-31', rule);
    const fit = fitTopDown('2026-03-31', paid)!;
    expect(fit.weekdayFactor[5]).toBeLessThan(0.1);
    expect(fit.weekdayFactor[6]).toBeLessThan(0.1);
    // Six times a day's receipts on about 5 in 7 month-ends, pulled towards 1 by 6 days.
    expect(fit.monthFactor[0]).toBeGreaterThan(2);
    // No trend in a flat history.
    expect(Math.abs(fit.trendPerWeek)).toBeLessThan(0.01 * fit.level);
    const weeks = topDownForecast('2026-03-31', paid)!;
    expect(weeks).toHaveLength(13);
    const truth = new Array<number>(13).fill(0);
    const start = firstWeekStart('2026-03-31');
    for (let d = '2026-04-01'; d <= addDays(start, 90); d = addDays(d, 1)) {
      const w = Math.max(0, Math.floor((Date.parse(d) - Date.parse(start)) / 864e5 / 7));
      truth[w]! += rule(d);
    }
    // Week 1 holds the partial days too (1–12 April: 12 days, 8 of them weekdays).
    expect(truth[0]).toBe(800_000);
    // Within 15 % each week (both factors are pulled towards 1 by the shrinkage; a flat
    // mean week would be about 40 % off in the weeks holding a month-end).
    weeks.forEach((w, i) => expect(Math.abs(w - truth[i]!) / truth[i]!, `week ${i}`).toBeLessThan(0.15));
    // The weeks holding 30 April and 31 May get the month-end receipts.
    expect(weeks[3]!).toBeGreaterThan(1.5 * weeks[2]!);
    expect(Number.isInteger(weeks[0])).toBe(true);
  });

  it('follows a rising level with a damped trend', () => {
    // Receipts growing 1 % a week.
    const paid = receipts('2025-01-01', '2026-03-31', (_d, i) => Math.round(100_000 * 1.01 ** (i / 7)));
    const fit = fitTopDown('2026-03-31', paid)!;
    // The levels of the last two quarters, 13 weeks apart, 1 % a week apart: the change per week.
    expect(fit.trendPerWeek / fit.level).toBeGreaterThan(0.008);
    expect(fit.trendPerWeek / fit.level).toBeLessThan(0.011);
    const weeks = topDownForecast('2026-03-31', paid)!;
    // Rising, the rise damped: at most 4 weeks' worth of change in all (the month positions
    // read a little of the growth as a pattern, so single weeks wobble).
    expect(weeks[12]!).toBeGreaterThan(weeks[1]!);
    expect(weeks[12]! - weeks[1]!).toBeLessThan(7 * 4 * fit.trendPerWeek);
  });

  it('needs 91 days of history and reads nothing after the forecast date', () => {
    const paid = receipts('2025-12-31', '2026-03-31', () => 100_000);
    expect(fitTopDown('2026-03-30', paid)).toBeNull();
    expect(fitTopDown('2026-03-31', paid)).not.toBeNull();
    const longer = receipts('2025-01-01', '2026-06-30', (d) => (d > '2026-03-31' ? 9_000_000 : 100_000));
    const shorter = receipts('2025-01-01', '2026-03-31', () => 100_000);
    expect(topDownForecast('2026-03-31', longer)).toEqual(topDownForecast('2026-03-31', shorter));
  });
});

describe('cash-in combination weights', () => {
  const week = (weekStart: string, parts: [number, number, number], actual: number): ComponentWeek => ({ weekStart, bottomUpCents: parts[0], topDownCents: parts[1], runRateCents: parts[2], actualCents: actual });

  it('keeps the prior until 13 weeks have ended, then learns the best weights on a grid of tenths', () => {
    const asOf = '2026-03-29'; // a Sunday
    // Actual = 0.7 bottom-up + 0.3 top-down, run rate useless.
    const weeks = Array.from({ length: 20 }, (_, i) => {
      const b = 100_000 + 10_000 * (i % 5);
      const t = 80_000 + 7_000 * ((i * 3) % 7);
      return week(addDays(asOf, -6 - 7 * i), [b, t, 1_000], Math.round(0.7 * b + 0.3 * t));
    });
    expect(MIN_WEIGHT_WEEKS).toBe(13);
    expect(combinationWeightsAt(weeks.slice(0, 12), asOf)).toEqual({ method: 'prior', weeks: 12, weights: PRIOR });
    const learned = combinationWeightsAt(weeks, asOf);
    expect(learned.method).toBe('learned');
    expect(learned.weights.bottom_up).toBeCloseTo(0.7, 10);
    expect(learned.weights.top_down).toBeCloseTo(0.3, 10);
    expect(learned.weights.run_rate).toBeCloseTo(0, 10);
    expect(combine(learned.weights, { bottomUpCents: 101, topDownCents: 0, runRateCents: 0 })).toBe(71);
  });

  it('never reads a week that ended after the date', () => {
    const asOf = '2026-03-29';
    const known = Array.from({ length: 15 }, (_, i) => week(addDays(asOf, -6 - 7 * i), [100, 300, 500], 100));
    // Later weeks where the run rate is right: they must change nothing.
    const later = Array.from({ length: 30 }, (_, i) => week(addDays(asOf, -5 + 7 * i), [100, 300, 500], 500));
    expect(combinationWeightsAt([...known, ...later], asOf)).toEqual(combinationWeightsAt(known, asOf));
    expect(combinationWeightsAt(known, asOf).weights).toEqual({ bottom_up: 1, top_down: 0, run_rate: 0 });
  });
});
