import { MultivariateLinearRegression } from 'ml-regression';
import { quantileSorted } from 'simple-statistics';
import { currencyExponent } from '../../src/shared/money.ts';
import type { FeatureRow } from './features.ts';

/**
 * Invoice payment-date model: days from invoice to payment, predicted by a linear regression
 * on the customer's payment history as known on the prediction date (recency-weighted and
 * plain mean days to pay, spread, share paid late, history length), the invoice's amount
 * relative to the customer's usual, terms, dispute flag, billing channel and the customer's
 * overdue balance. The 80 % interval and the probability of paying late come from the
 * empirical distribution of the training residuals (Hyndman & Athanasopoulos, "Forecasting:
 * principles and practice", §5.5, bootstrapped residuals).
 *
 * For whom: collectors (which invoices will be late), planners (the cash-in forecast).
 * Judged against: paid on the due date; the customer's mean days to pay so far; the global
 * mean so far (see evaluate.ts). Cost: O(n·k²) to fit, n rows and k ≤ 11 features.
 */
export interface PaymentDateModel {
  columns: number[];
  regression: MultivariateLinearRegression | null;
  globalMean: number;
  globalShareLate: number;
  /** Sorted residuals (actual − predicted days) of the training rows. */
  residuals: number[];
  trainedOn: number;
}

export const FEATURE_NAMES = ['ew_mean', 'mean', 'has_history', 'sd', 'share_late', 'log_n', 'rel_amount', 'disputed', 'electronic', 'log_overdue', 'terms'];

export function featureVector(r: FeatureRow, globalMean: number, globalShareLate: number): number[] {
  const has = r.hist_n > 0;
  return [
    r.hist_ew_mean ?? globalMean,
    r.hist_mean ?? globalMean,
    has ? 1 : 0,
    r.hist_sd ?? 0,
    r.hist_share_late ?? globalShareLate,
    Math.log1p(r.hist_n),
    has && r.hist_mean_amount ? Math.log(Math.max(1, r.amount_cents) / Math.max(1, r.hist_mean_amount)) : 0,
    r.is_disputed ? 1 : 0,
    r.is_electronic ? 1 : 0,
    // The overdue balance in units of the invoice's currency (a yen is a yen, not a hundredth).
    Math.log1p(r.overdue_cents / 10 ** currencyExponent(r.currency)),
    r.terms_days,
  ];
}

const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

/** Fits on rows whose days to pay are known. Throws when there are none. */
export function fitPaymentDate(rows: FeatureRow[]): PaymentDateModel {
  const train = rows.filter((r) => r.days_to_pay !== null);
  if (train.length === 0) throw new Error('payment-date model: no settled invoices to learn from');
  const y = train.map((r) => r.days_to_pay!);
  const globalMean = mean(y);
  const globalShareLate = mean(train.map((r) => (r.days_to_pay! > r.terms_days ? 1 : 0)));
  const x = train.map((r) => featureVector(r, globalMean, globalShareLate));
  // Columns that do not vary (every invoice on 30-day terms, say) would make the system singular.
  const columns = FEATURE_NAMES.map((_, j) => j).filter((j) => {
    const col = x.map((row) => row[j]!);
    const m = mean(col);
    return col.some((v) => Math.abs(v - m) > 1e-9);
  });
  let regression: MultivariateLinearRegression | null = null;
  if (train.length >= 4 * (columns.length + 1)) {
    regression = new MultivariateLinearRegression(x.map((row) => columns.map((j) => row[j]!)), y.map((v) => [v]));
  }
  const model: PaymentDateModel = { columns, regression, globalMean, globalShareLate, residuals: [], trainedOn: train.length };
  model.residuals = train.map((r, i) => y[i]! - predictDays(model, r)).sort((a, b) => a - b);
  return model;
}

/** Predicted days from invoice date to payment. */
export function predictDays(model: PaymentDateModel, r: FeatureRow): number {
  if (!model.regression) return r.hist_mean ?? model.globalMean;
  const v = featureVector(r, model.globalMean, model.globalShareLate);
  const p = model.regression.predict([model.columns.map((j) => v[j]!)])[0]![0]!;
  return Number.isFinite(p) ? Math.max(0, p) : model.globalMean;
}

export interface PaymentDatePrediction {
  days: number;
  p10: number;
  p90: number;
  probLate: number;
}

/**
 * Days to pay with its 80 % interval and the probability of paying after the due date.
 * With `openOnDay` (days from invoice date to the forecast date for an invoice still open
 * then), the distribution is conditioned on payment not having happened yet.
 */
export function predictPaymentDate(model: PaymentDateModel, r: FeatureRow, openOnDay?: number): PaymentDatePrediction {
  const point = predictDays(model, r);
  let outcomes = model.residuals.map((e) => Math.max(0, point + e));
  if (openOnDay !== undefined) {
    const later = outcomes.filter((d) => d > openOnDay);
    // Paid later than the model ever saw: assume it pays within the next weeks, evenly.
    outcomes = later.length >= 5 ? later : [openOnDay + 1, openOnDay + 7, openOnDay + 14, openOnDay + 21, openOnDay + 30];
    outcomes.sort((a, b) => a - b);
  }
  if (outcomes.length === 0) return { days: point, p10: point, p90: point, probLate: point > r.terms_days ? 1 : 0 };
  return {
    days: openOnDay === undefined ? point : quantileSorted(outcomes, 0.5),
    p10: quantileSorted(outcomes, 0.1),
    p90: quantileSorted(outcomes, 0.9),
    probLate: outcomes.filter((d) => d > r.terms_days).length / outcomes.length,
  };
}
