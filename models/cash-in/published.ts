import type { DuckDBConnection } from '@duckdb/node-api';
import { addDays } from '../../src/shared/dates.ts';
import { dailyReceipts, runRate, type BacktestWeek } from './backtest.ts';
import { calibrated, calibrationAt } from './calibration.ts';
import type { CashWeek } from './cash-weekly.ts';
import { combinationWeightsAt, combine, describeWeights, type CombinationWeights } from './combination.ts';
import { topDownForecast } from './top-down.ts';

/** The combination's model name, and its parts', as `forecast.model_evaluations` names them (the currency follows). */
export const CASH_MODELS = { combination: 'cash-in/13-week@2', bottom_up: 'cash-in/bottom-up@1', top_down: 'cash-in/top-down@1' } as const;

export interface PublishedCurrency {
  currency: string;
  /** The published weeks, with the three parts they were combined from (whole minor units). */
  weeks: (CashWeek & { currency: string; bottomUpCents: number; topDownCents: number; runRateCents: number })[];
  weights: CombinationWeights;
  /** In words, for `forecast.model_runs`. */
  note: string;
}

/**
 * The published 13 weeks of each currency: the bottom-up weeks (`byCurrency`, from the
 * outlook), the top-down forecast and the run rate from that currency's receipts up to `asOf`,
 * combined with the weights learned on all of that currency's replayed weeks ended by `asOf`,
 * with the interval calibrated on the combination's replayed errors of those weeks (the
 * bottom-up model's own interval, moved onto the combination, with fewer than 20 of them).
 * Each week keeps its parts; `newSalesCents` stays the bottom-up forecast's part from invoices
 * not yet issued (of `bottomUpCents`).
 */
export async function publishedCashWeeks(conn: DuckDBConnection, asOf: string, byCurrency: { currency: string; weeks: CashWeek[] }[], replayed: readonly BacktestWeek[]): Promise<PublishedCurrency[]> {
  const receipts = await dailyReceipts(conn, addDays(asOf, -800), asOf);
  const out: PublishedCurrency[] = [];
  for (const { currency, weeks } of byCurrency) {
    const paid = receipts.get(currency) ?? new Map<string, number>();
    const mine = replayed.filter((w) => w.currency === currency);
    const weights = combinationWeightsAt(mine, asOf);
    const rate = runRate(asOf, paid);
    // Under 91 days of history: the bottom-up forecast stands in for the top-down one (backtest.ts).
    const topDown = topDownForecast(asOf, paid) ?? weeks.map((w) => w.expectedCents);
    const combined = weeks.map((w, i) => {
      const e = combine(weights.weights, { bottomUpCents: w.expectedCents, topDownCents: topDown[i]!, runRateCents: rate });
      return {
        ...w, currency, expectedCents: e, lowCents: Math.max(0, e - Math.max(0, w.expectedCents - w.lowCents)), highCents: e + Math.max(0, w.highCents - w.expectedCents),
        bottomUpCents: w.expectedCents, topDownCents: topDown[i]!, runRateCents: rate, intervalMethod: 'model' as const,
      };
    });
    const calibration = calibrationAt(mine, asOf);
    out.push({ currency, weeks: calibrated(combined, calibration), weights, note: `${currency}: ${describeWeights(weights)}; interval ${calibration.method === 'calibrated' ? `calibrated on ${calibration.weeks} replayed weeks` : `the model's (${calibration.weeks} replayed weeks, 20 needed)`}` });
  }
  return out;
}
