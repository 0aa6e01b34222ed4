import { addDays } from '../../src/shared/dates.ts';
import type { BacktestWeek } from './backtest.ts';

/**
 * How far to trust the cash-in forecast, in words a planner reads: of the last `weeks` weeks
 * that had ended, in how many the cash received fell within the published band (each week as
 * forecast from the latest month-end before it, with the interval it had then); and of the
 * last `replays` month-ends replayed, at how many the forecast's weekly error (WAPE over the
 * weeks compared) was below the run rate's.
 */
export interface PlainWords {
  weeksWithin: number;
  weeksCounted: number;
  replaysBeating: number;
  replaysCounted: number;
}

export function plainWords(weeks: BacktestWeek[], asOf: string, options: { weeks?: number; replays?: number } = {}): PlainWords {
  const ended = weeks.filter((w) => addDays(w.weekStart, 6) <= asOf);
  const latest = new Map<string, BacktestWeek>();
  for (const w of ended) {
    const seen = latest.get(w.weekStart);
    if (!seen || w.origin > seen.origin) latest.set(w.weekStart, w);
  }
  const last = [...latest.values()].sort((a, b) => (a.weekStart < b.weekStart ? -1 : 1)).slice(-(options.weeks ?? 10));
  const weeksWithin = last.filter((w) => w.actualCents >= w.lowCents && w.actualCents <= w.highCents).length;
  const origins = [...new Set(ended.map((w) => w.origin))].sort().slice(-(options.replays ?? 10));
  let replaysBeating = 0;
  for (const o of origins) {
    const mine = ended.filter((w) => w.origin === o);
    const err = (f: (w: BacktestWeek) => number) => mine.reduce((s, w) => s + Math.abs(f(w) - w.actualCents), 0);
    if (err((w) => w.expectedCents) < err((w) => w.runRateCents)) replaysBeating++;
  }
  return { weeksWithin, weeksCounted: last.length, replaysBeating, replaysCounted: origins.length };
}

/** The two sentences, e.g. "In 8 of the last 10 weeks the cash received was within the forecast's band." */
export function sentences(p: PlainWords): string[] {
  const out: string[] = [];
  if (p.weeksCounted > 0) out.push(`In ${p.weeksWithin} of the last ${p.weeksCounted} weeks the cash received was within the forecast's 80 % band.`);
  if (p.replaysCounted > 0) out.push(`The forecast beat the run rate in ${p.replaysBeating} of ${p.replaysCounted} replays.`);
  return out;
}
