import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adaptiveShift, calibrated, calibrationAt, MAX_SHIFT, MIN_CALIBRATION_WEEKS, type ReplayedWeek } from '../../models/cash-in/calibration.ts';
import { backtestOrigins, calibrateReplays, cashBacktest, type BacktestWeek } from '../../models/cash-in/backtest.ts';
import { firstWeekStart, type CashWeek } from '../../models/cash-in/cash-weekly.ts';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';
import { addDays, daysBetween, monthEnd } from '../../src/shared/dates.ts';

/** Seeded uniform numbers (mulberry32), so every run draws the same errors. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const normal = (u: () => number) => () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());

/** `n` weeks, each ending by `lastEnd`, of expectation `expected` and actual expected × (1 + error()). */
function weeksEndingBy(lastEnd: string, n: number, error: () => number, expected = 1_000_000): ReplayedWeek[] {
  return Array.from({ length: n }, (_, i) => ({ weekStart: addDays(lastEnd, -6 - 7 * (i % 52)), expectedCents: expected, actualCents: Math.round(expected * (1 + error())) }));
}

const weekEndOf = (w: { weekStart: string }) => addDays(w.weekStart, 6);
const inside = (w: { lowCents: number; highCents: number }, actual: number) => actual >= w.lowCents && actual <= w.highCents;

describe('cash-in interval calibrated on the replays (weighted quantiles of relative errors)', () => {
  it('covers about 80 % of new weeks when past and future errors share a distribution, symmetric or skewed', () => {
    const z = normal(uniform(7));
    const cases: { name: string; error: () => number; low: number; high: number }[] = [
      // Normal, sd 15 %: the 10 % and 90 % points are ∓1.2816 × 0.15.
      { name: 'normal', error: () => 0.15 * z(), low: -1.2816 * 0.15, high: 1.2816 * 0.15 },
      // Log-normal shares (σ 0.3): exp(∓1.2816 × 0.3) − 1, a long upper tail.
      { name: 'log-normal', error: () => Math.exp(0.3 * z()) - 1, low: Math.exp(-1.2816 * 0.3) - 1, high: Math.exp(1.2816 * 0.3) - 1 },
    ];
    for (const c of cases) {
      const cal = calibrationAt(weeksEndingBy('2025-06-29', 400, c.error), '2025-06-30');
      expect(cal.method, c.name).toBe('calibrated');
      expect(cal.weeks).toBe(400);
      expect(cal.lowError, c.name).toBeCloseTo(c.low, 1);
      expect(cal.highError, c.name).toBeCloseTo(c.high, 1);
      // 5,000 weeks to come, expectations from 1,000.00 to 9,000.00.
      let hits = 0;
      for (let i = 0; i < 5_000; i++) {
        const expected = 100_000 + (i % 9) * 100_000;
        const [week] = calibrated([{ expectedCents: expected, lowCents: expected, highCents: expected, intervalMethod: 'model' as const }], cal);
        if (inside(week!, Math.round(expected * (1 + c.error())))) hits++;
      }
      expect(hits / 5_000, c.name).toBeGreaterThan(0.77);
      expect(hits / 5_000, c.name).toBeLessThan(0.83);
    }
  });

  it('replayed origin by origin, each calibrated on the weeks ended before it, covers about 80 %', () => {
    const z = normal(uniform(11));
    const weeks: BacktestWeek[] = [];
    // 30 month-ends, 13 weeks each, errors normal with sd 20 %; the model's own interval is far too narrow (±2 %).
    let origin = '2023-01-31';
    for (let k = 0; k < 30; k++) {
      const start = firstWeekStart(origin);
      for (let i = 0; i < 13; i++) {
        const expected = 500_000;
        weeks.push({ currency: 'EUR', origin, weekStart: addDays(start, 7 * i), expectedCents: expected, bottomUpCents: expected, topDownCents: expected, lowCents: 490_000, highCents: 510_000, intervalMethod: 'model', modelLowCents: 490_000, modelHighCents: 510_000, actualCents: Math.round(expected * (1 + 0.2 * z())), dueDateCents: 0, runRateCents: expected });
      }
      origin = monthEnd(addDays(origin, 1));
    }
    const r = calibrateReplays(weeks).currencies[0]!;
    const coverage = r.metrics.find((m) => m.metric === 'interval_80_coverage' && m.baseline === 'model_interval')!;
    expect(coverage.baselineValue).toBeLessThan(0.15);
    expect(coverage.value).toBeGreaterThan(0.74);
    expect(coverage.value).toBeLessThan(0.86);
    // The first origins have too few weeks behind them and are not measured.
    expect(r.evaluated.length).toBeLessThan(30);
    expect(r.evaluated.length).toBeGreaterThan(24);
  });

  it('never reads a week that ended after the date: a wild error there changes nothing', () => {
    const z = normal(uniform(3));
    const asOf = '2025-06-30'; // a Monday
    const known = weeksEndingBy(asOf, 30, () => 0.1 * z());
    // Ends exactly on the as-of date (Tuesday 24 June … Monday 30 June): known, so read.
    expect(known[0]!.weekStart).toBe('2025-06-24');
    const running = { weekStart: '2025-06-25', expectedCents: 1_000_000, actualCents: 90_000_000 }; // ends 1 July
    // Weeks ending from 2 July on, the first starting before the as-of date.
    const later = Array.from({ length: 40 }, (_, i) => ({ weekStart: addDays(asOf, -4 + 7 * i), expectedCents: 1_000_000, actualCents: 6_000_000 }));
    const cal = calibrationAt([...known, running, ...later], asOf);
    expect(cal).toEqual(calibrationAt(known, asOf));
    expect(cal.weeks).toBe(30);
    expect(cal.highError).toBeLessThan(0.5);
    // A day later, the running week is known and takes the top error.
    expect(calibrationAt([...known, running, ...later], '2025-07-01').weeks).toBe(31);
  });

  it('each replayed origin is calibrated on the weeks ended by it: changing later cash changes no earlier interval', () => {
    const z = normal(uniform(5));
    const weeks: BacktestWeek[] = [];
    for (const origin of backtestOrigins('2025-12-31', 18)) {
      const start = firstWeekStart(origin);
      for (let i = 0; i < 13; i++) {
        if (addDays(start, 7 * i + 6) > '2025-12-31') continue;
        weeks.push({ currency: 'EUR', origin, weekStart: addDays(start, 7 * i), expectedCents: 100_000, bottomUpCents: 100_000, topDownCents: 100_000, lowCents: 95_000, highCents: 105_000, intervalMethod: 'model', modelLowCents: 95_000, modelHighCents: 105_000, actualCents: Math.round(100_000 * (1 + 0.25 * z())), dueDateCents: 0, runRateCents: 100_000 });
      }
    }
    const before = calibrateReplays(weeks).weeks;
    expect(before.some((w) => w.intervalMethod === 'calibrated')).toBe(true);
    expect(before.some((w) => w.intervalMethod === 'model')).toBe(true);
    for (const cut of [...new Set(weeks.map((w) => w.origin))]) {
      // Every week still running on the origin, or later, gets a different actual.
      const changed = weeks.map((w) => (addDays(w.weekStart, 6) > cut ? { ...w, actualCents: w.actualCents * 3 + 7 } : w));
      const after = calibrateReplays(changed).weeks;
      const mine = (ws: BacktestWeek[]) => ws.filter((w) => w.origin === cut).map((w) => [w.lowCents, w.highCents, w.intervalMethod]);
      expect(mine(after), cut).toEqual(mine(before));
    }
  });

  it('falls back to the model’s interval with fewer than 20 weeks, and says so', () => {
    expect(MIN_CALIBRATION_WEEKS).toBe(20);
    const asOf = '2025-06-30';
    const nineteen = weeksEndingBy(asOf, 19, () => 0.3);
    // A week with nothing expected has no relative error and does not count.
    const nothing = { weekStart: '2025-06-24', expectedCents: 0, actualCents: 5_000 };
    const cal = calibrationAt([...nineteen, nothing], asOf);
    expect(cal).toEqual({ method: 'model', weeks: 19, lowError: 0, highError: 0, shift: 0 });
    const model: CashWeek = { weekStart: '2025-07-07', expectedCents: 10_000, lowCents: 9_000, highCents: 11_000, newSalesCents: 0, intervalMethod: 'model' };
    expect(calibrated([model], cal)).toEqual([model]);
    // The twentieth week calibrates. With equal weights (no decay) and the new week's weight 1, 90 % of 21 = 18.9:
    // the 19th of the 20 sorted errors from the bottom (upper end) and from the top (lower end) — the split-conformal ranks.
    const errors = Array.from({ length: 20 }, (_, i) => (i - 10) / 50); // −0.20 … +0.18
    const twenty = errors.map((e, i) => ({ weekStart: addDays(asOf, -6 - 7 * i), expectedCents: 100_000, actualCents: Math.round(100_000 * (1 + e)) }));
    const twentyCal = calibrationAt(twenty, asOf, 20, Infinity);
    expect(twentyCal).toEqual({ method: 'calibrated', weeks: 20, lowError: -0.18, highError: 0.16, shift: 0 });
    expect(calibrated([model], twentyCal)).toEqual([{ ...model, lowCents: 8_200, highCents: 11_600, intervalMethod: 'calibrated' }]);
    expect(calibrationAt(twenty, asOf).method).toBe('calibrated');
  });

  it('weighs a week by its age: the weight halves every half-life', () => {
    const asOf = '2025-06-29'; // a Sunday
    const week = (endsDaysBefore: number, error: number): ReplayedWeek => ({ weekStart: addDays(asOf, -6 - endsDaysBefore), expectedCents: 100_000, actualCents: Math.round(100_000 * (1 + error)) });
    // Half-life 7 days: weights 1, 0.5, 0.25, 0.125 and the new week's 1; sorted errors −0.2 (0.25), −0.1 (0.5),
    // −0.05 (0.0625), +0.3 (1), +0.5 (0.125), total 1.9375 + 1 = 2.9375, 90 % of it 2.64375.
    const weeks = [week(0, 0.3), week(7, -0.1), week(14, -0.2), week(21, 0.5), week(28, -0.05)];
    // Upper end, from the bottom: 0.25 + 0.5 + 0.0625 + 1 = 1.8125, + 0.125 = 1.9375 — never reached: the largest error, +0.5.
    // Lower end, from the top: 0.125 + 1 + 0.0625 + 0.5 = 1.6875, + 0.25 = 1.9375 — never reached: the smallest, −0.2.
    expect(calibrationAt(weeks, asOf, 5, 7)).toEqual({ method: 'calibrated', weeks: 5, lowError: -0.2, highError: 0.5, shift: 0 });
    // Twenty recent weeks (weight 1 each) and one a year older with an error of +200 % (weight 0.5^6.5 = 0.011 at a
    // 56-day half-life): 90 % of 21.011 = 18.91, the 19th from either side, as without the old week.
    const many = [...Array.from({ length: 20 }, (_, i) => ({ ...week(0, (i - 10) / 50) })), week(7 * 52, 2)];
    expect(calibrationAt(many, asOf, 5, 7 * 8)).toMatchObject({ lowError: -0.18, highError: 0.16 });
    // With equal weights the old week counts fully: 90 % of 22 = 19.8, the 20th from either side (+0.18; from the top, −0.18).
    expect(calibrationAt(many, asOf, 5, Infinity)).toMatchObject({ lowError: -0.18, highError: 0.18 });
  });

  it('the interval always holds the expectation and never goes below zero', () => {
    const w = { expectedCents: 10_000, lowCents: 0, highCents: 0, intervalMethod: 'model' as const };
    // Past receipts always above the forecast: the interval runs from the expectation up.
    expect(calibrated([w], { method: 'calibrated', weeks: 30, lowError: 0.05, highError: 0.4, shift: 0 })[0]).toMatchObject({ lowCents: 10_000, highCents: 14_000 });
    // Always below: from down to the expectation.
    expect(calibrated([w], { method: 'calibrated', weeks: 30, lowError: -0.5, highError: -0.1, shift: 0 })[0]).toMatchObject({ lowCents: 5_000, highCents: 10_000 });
    // Errors below −100 %: cut at zero.
    expect(calibrated([w], { method: 'calibrated', weeks: 30, lowError: -1.7, highError: 0.2, shift: 0 })[0]).toMatchObject({ lowCents: 0, highCents: 12_000 });
    // Cents stay whole.
    const odd = calibrated([{ ...w, expectedCents: 333 }], { method: 'calibrated', weeks: 30, lowError: -0.123, highError: 0.321, shift: 0 })[0]!;
    expect([odd.lowCents, odd.highCents]).toEqual([292, 440]);
  });
});

/** 30 month-ends from 2023-01-31, 13 replayed weeks each, relative errors normal with sd `sd(k)` at the k-th month-end. */
function replays(sd: (k: number) => number, seed = 5): ReplayedWeek[] {
  const z = normal(uniform(seed));
  const out: ReplayedWeek[] = [];
  let origin = '2023-01-31';
  for (let k = 0; k < 30; k++) {
    const start = firstWeekStart(origin);
    for (let i = 0; i < 13; i++) out.push({ origin, weekStart: addDays(start, 7 * i), expectedCents: 1_000_000, actualCents: Math.max(0, Math.round(1_000_000 * (1 + sd(k) * z()))) });
    origin = monthEnd(addDays(origin, 1));
  }
  return out;
}

describe('cash-in interval: the quantile levels follow the coverage of the intervals given at earlier month-ends', () => {
  const asOf = '2025-06-30';
  it('barely moves them when the errors keep one distribution', () => {
    expect(Math.abs(adaptiveShift(replays(() => 0.2), asOf))).toBeLessThan(0.03);
  });

  it('moves them out when the errors grow (the earlier intervals held too few weeks), in when they shrink, never beyond the cap', () => {
    const growing = adaptiveShift(replays((k) => 0.05 * 1.12 ** k), asOf);
    const shrinking = adaptiveShift(replays((k) => 0.4 * 0.88 ** k), asOf);
    expect(growing).toBeGreaterThan(0.01);
    expect(shrinking).toBeLessThan(-0.01);
    expect(growing).toBeLessThanOrEqual(MAX_SHIFT);
    expect(shrinking).toBeGreaterThanOrEqual(-MAX_SHIFT);
    // Moved out, the interval is wider than the uncorrected conformal points give.
    const weeks = replays((k) => 0.05 * 1.12 ** k);
    const c = calibrationAt(weeks, asOf);
    expect(c.shift).toBe(growing);
    const plain = calibrationAt(weeks.map(({ origin: _, ...w }) => w), asOf);
    expect(plain.shift).toBe(0);
    expect(c.highError - c.lowError).toBeGreaterThan(plain.highError - plain.lowError);
  });

  it('by hand: each week missed moves the levels out by step × 0.8 / 2, each held in by step × 0.2 / 2', () => {
    // Errors of 0 for 40 weeks: every interval is [expected, expected] and holds a week with no error, misses any other.
    const z = replays(() => 0).map((w) => ({ ...w, actualCents: w.expectedCents }));
    const asOfLate = '2025-06-30';
    // Every week held: the shift is −step × 0.2 / 2 per week judged, down to the cap.
    expect(adaptiveShift(z, asOfLate, 20, 91, 0.005)).toBeCloseTo(-MAX_SHIFT, 10);
    expect(adaptiveShift(z, asOfLate, 20, 91, 0.0001)).toBeLessThan(0);
  });

  it('reads only the origins whose 13 weeks had ended, and no week ended after the date', () => {
    const weeks = replays((k) => 0.05 * 1.12 ** k);
    const before = adaptiveShift(weeks, asOf);
    // A wild error in every week that ended after the date, or that an origin of the last three months forecast, changes nothing.
    const wild = weeks.map((w) => (weekEndOf(w) > asOf || daysBetween(w.origin!, asOf) < 98 ? { ...w, actualCents: w.actualCents * 9 } : w));
    expect(adaptiveShift(wild, asOf)).toBe(before);
  });

  it('makes no correction without the weeks\' origins or with too few weeks behind the first month-ends', () => {
    expect(adaptiveShift(replays(() => 0.2).map(({ origin: _, ...w }) => w), asOf)).toBe(0);
    expect(adaptiveShift(replays((k) => 0.05 * 1.12 ** k), '2023-06-30')).toBe(0);
  });
});

describe('cash-in replay on a DuckDB warehouse: calibration and honesty end to end', () => {
  it('calibrates each origin on the cash of weeks ended by it, read from marts.fct_payments', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-cash-cal-'));
    const asOf = '2025-12-31';
    const origins = backtestOrigins(asOf, 18);
    // Every day 1,000.00 is forecast (7,000.00 a week); what arrives varies by week.
    const forecastAt = async (origin: string) => {
      const start = firstWeekStart(origin);
      const weeks: CashWeek[] = Array.from({ length: 13 }, (_, i) => {
        // Week 0 runs from the day after the origin to the Sunday after the first Monday.
        const days = i === 0 ? daysBetween(origin, start) - 1 + 7 : 7;
        return { weekStart: addDays(start, 7 * i), expectedCents: days * 100_000, lowCents: days * 99_000, highCents: days * 101_000, newSalesCents: 0, intervalMethod: 'model' };
      });
      return [{ currency: 'EUR', weeks, open: [] }];
    };
    const run = async (file: string, paid: (day: string) => number) => {
      const wh = await openWarehouse(file);
      try {
        await wh.conn.run(`create schema if not exists marts; create or replace table marts.fct_payments (payment_date date, amount_cents bigint, is_reversed boolean, currency varchar)`);
        const values: string[] = [];
        for (let d = addDays(origins[0]!, -120); d <= asOf; d = addDays(d, 1)) values.push(`(date '${d}', ${paid(d)}, false, 'EUR')`);
        await wh.conn.run(`insert into marts.fct_payments values ${values.join(',')}`);
        return (await cashBacktest(wh.conn, asOf, forecastAt, origins))!;
      } finally {
        wh.close();
      }
    };
    try {
      // A day's cash between 700.00 and 1,300.00, the same draw for the same day in both runs.
      const day = (d: string) => 70_000 + Math.floor(uniform(Number(d.replaceAll('-', '')))() * 60_001);
      const a = await run(path.join(dir, 'a.duckdb'), day);
      expect(a.origins).toEqual(origins);
      const eur = a.currencies[0]!;
      expect(a.currencies.map((c) => c.currency)).toEqual(['EUR']);
      expect(eur.evaluated.length).toBeGreaterThan(10);
      expect(eur.metrics.find((m) => m.metric === 'interval_80_coverage' && m.baseline === 'model_interval')!.baselineValue).toBeLessThan(0.3);
      expect(eur.metrics.find((m) => m.metric === 'interval_80_coverage' && m.baseline === 'nominal')!.value).toBeGreaterThan(0.6);
      // The top-down part reads the cash before each origin: it is there, and the combination uses it.
      expect(a.weeks.every((w) => w.topDownCents > 0)).toBe(true);
      // From 1 October on ten times the cash: no origin up to 30 September sees a difference —
      // neither its combination (weights, top-down level) nor its interval.
      const b = await run(path.join(dir, 'b.duckdb'), (d) => (d >= '2025-10-01' ? 10 * day(d) : day(d)));
      const of = (r: typeof a, o: string) => r.weeks.filter((w) => w.origin === o).map((w) => [w.weekStart, w.expectedCents, w.topDownCents, w.lowCents, w.highCents, w.intervalMethod]);
      for (const o of origins.filter((x) => x <= '2025-09-30')) expect(of(b, o), o).toEqual(of(a, o));
      expect(of(b, '2025-10-31')).not.toEqual(of(a, '2025-10-31'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
