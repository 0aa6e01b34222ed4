import { describe, expect, it } from 'vitest';
import { featureVector, FEATURE_NAMES } from '../../models/payment-date/model.ts';
import type { FeatureRow } from '../../models/payment-date/features.ts';

const row = (currency: string, overdueMinor: number): FeatureRow => ({
  invoice_key: 'core:1', customer_key: 'core:9', currency, invoice_date: '2026-01-05', due_date: '2026-02-04', pred_date: '2026-01-05', terms_days: 30,
  amount_cents: 100_000, open_cents: 100_000, settled_date: null, days_to_pay: null, hist_n: 0, hist_mean: null, hist_ew_mean: null, hist_sd: null,
  hist_share_late: null, hist_mean_late: null, hist_mean_amount: null, overdue_cents: overdueMinor, is_disputed: false, is_electronic: false, month: 1,
});

describe('the payment-date features that spread the cash-in, in each currency’s units', () => {
  it('reads an overdue balance in units of the invoice’s currency: 5,000 yen, 50.00 euros and 5.000 dinars are 5,000, 50 and 5 units', () => {
    const at = FEATURE_NAMES.indexOf('log_overdue');
    expect(featureVector(row('JPY', 5_000), 30, 0.2)[at]).toBeCloseTo(Math.log1p(5_000), 12);
    expect(featureVector(row('EUR', 5_000), 30, 0.2)[at]).toBeCloseTo(Math.log1p(50), 12);
    expect(featureVector(row('KWD', 5_000), 30, 0.2)[at]).toBeCloseTo(Math.log1p(5), 12);
  });
});
