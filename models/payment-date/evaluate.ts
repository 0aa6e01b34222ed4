import { addDays, monthEnd } from '../../src/shared/dates.ts';
import type { FeatureRow } from './features.ts';
import { fitPaymentDate, predictPaymentDate } from './model.ts';

/**
 * Walk-forward evaluation of the payment-date model: for every month-end M from the sixth
 * month of history on, fit on the invoices settled by M (features as of their own issue
 * dates), then predict the invoices issued in the month after M (features as of their issue
 * dates, so nothing after it is seen) that have settled since. Baselines on the same
 * invoices: paid on the due date; the customer's mean days to pay so far (global mean for a
 * new customer); the global mean so far.
 */
export interface Evaluation {
  asOf: string;
  months: number;
  invoices: number;
  metrics: { metric: string; value: number; baseline: string; baselineValue: number }[];
}

interface Scored {
  actual: number;
  terms: number;
  model: number;
  p10: number;
  p90: number;
  probLate: number;
  due: number;
  customerMean: number;
  globalMean: number;
}

export function walkForward(rows: FeatureRow[], options: { warmupMonths?: number } = {}): Evaluation {
  const dates = rows.map((r) => r.invoice_date).sort();
  if (dates.length === 0) throw new Error('no invoices to evaluate');
  const first = dates[0]!;
  const last = dates.at(-1)!;
  const scored: Scored[] = [];
  let m = monthEnd(addDays(monthEnd(first), 1 + 28 * ((options.warmupMonths ?? 6) - 1)));
  let months = 0;
  let lastM = m;
  while (m < last) {
    const next = monthEnd(addDays(m, 1));
    const train = rows.filter((r) => r.invoice_date <= m && r.settled_date !== null && r.settled_date <= m);
    const test = rows.filter((r) => r.invoice_date > m && r.invoice_date <= next && r.days_to_pay !== null);
    if (train.length >= 20 && test.length > 0) {
      const model = fitPaymentDate(train);
      months++;
      lastM = m;
      for (const r of test) {
        const p = predictPaymentDate(model, r);
        scored.push({ actual: r.days_to_pay!, terms: r.terms_days, model: p.days, p10: p.p10, p90: p.p90, probLate: p.probLate, due: r.terms_days, customerMean: r.hist_mean ?? model.globalMean, globalMean: model.globalMean });
      }
    }
    m = next;
  }
  const mae = (f: (s: Scored) => number) => scored.reduce((a, s) => a + Math.abs(f(s) - s.actual), 0) / scored.length;
  const rmse = (f: (s: Scored) => number) => Math.sqrt(scored.reduce((a, s) => a + (f(s) - s.actual) ** 2, 0) / scored.length);
  const lateAcc = (late: (s: Scored) => boolean) => scored.filter((s) => late(s) === s.actual > s.terms).length / scored.length;
  const coverage = scored.filter((s) => s.actual >= s.p10 && s.actual <= s.p90).length / scored.length;
  const metrics: Evaluation['metrics'] = [];
  for (const [name, f] of [['due_date', (s: Scored) => s.due], ['customer_mean', (s: Scored) => s.customerMean], ['global_mean', (s: Scored) => s.globalMean]] as const) {
    metrics.push({ metric: 'mae_days', value: mae((s) => s.model), baseline: name, baselineValue: mae(f) });
    metrics.push({ metric: 'rmse_days', value: rmse((s) => s.model), baseline: name, baselineValue: rmse(f) });
    metrics.push({ metric: 'late_accuracy', value: lateAcc((s) => s.probLate > 0.5), baseline: name, baselineValue: lateAcc((s) => f(s) > s.terms) });
  }
  metrics.push({ metric: 'interval_80_coverage', value: coverage, baseline: 'nominal', baselineValue: 0.8 });
  return { asOf: lastM, months, invoices: scored.length, metrics };
}
