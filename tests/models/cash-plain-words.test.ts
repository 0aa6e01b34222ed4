import { describe, expect, it } from 'vitest';
import { plainWords, sentences } from '../../models/cash-in/plain-words.ts';
import type { BacktestWeek } from '../../models/cash-in/backtest.ts';
import { addDays } from '../../src/shared/dates.ts';

const week = (origin: string, weekStart: string, expected: number, actual: number, runRate: number): BacktestWeek => ({
  currency: 'EUR', origin, weekStart, expectedCents: expected, bottomUpCents: expected, topDownCents: expected, lowCents: expected - 100, highCents: expected + 100, intervalMethod: 'calibrated', modelLowCents: expected - 50, modelHighCents: expected + 50,
  actualCents: actual, dueDateCents: 0, runRateCents: runRate,
});

describe('the cash-in forecast in plain words', () => {
  it('counts the last weeks within the band (each from the latest month-end before it) and the replays beating the run rate, by hand', () => {
    const weeks: BacktestWeek[] = [];
    // Origin A forecasts weeks 0–5 badly; origin B (later) forecasts weeks 3–8 well: weeks 3–5 count from B.
    for (let i = 0; i < 6; i++) weeks.push(week('2025-01-31', addDays('2025-02-03', 7 * i), 1000, 1500, 1400));
    for (let i = 3; i < 9; i++) weeks.push(week('2025-02-28', addDays('2025-02-03', 7 * i), 1000, i === 8 ? 1200 : 1050, 900));
    const p = plainWords(weeks, '2025-04-30', { weeks: 10, replays: 10 });
    // Weeks 0–2 from A: outside (1500 vs 900–1100); weeks 3–7 from B inside, week 8 outside: 5 of 9.
    expect(p).toEqual({ weeksWithin: 5, weeksCounted: 9, replaysBeating: 1, replaysCounted: 2 });
    expect(sentences(p)).toEqual(['In 5 of the last 9 weeks the cash received was within the forecast\'s 80 % band.', 'The forecast beat the run rate in 1 of 2 replays.']);
    // A week not yet ended by the date counts nowhere: by 2025-03-30 the weeks from 2025-02-03 to 2025-03-24 (8) have ended.
    expect(plainWords(weeks, '2025-03-30', { weeks: 10 }).weeksCounted).toBe(8);
    expect(plainWords(weeks, '2025-03-29', { weeks: 10 }).weeksCounted).toBe(7);
  });
});
