import { HAZARD_MODEL, LINEAR_MODEL } from './replay.ts';

/**
 * The payment-date candidates' replayed accuracy as a table, one line per candidate: what
 * `npm run eval` prints and what models/README.md quotes between its `eval:payment-date`
 * markers (a test regenerates that block for a pinned demo company and fails when it
 * differs). Input: rows of forecast.model_evaluations for the two candidates (metrics
 * `mae_days_open`, `brier_late`, `brier_skill`, `interval_80_coverage_open`).
 */
export interface PaymentDateEvaluationRow {
  model: string;
  metric: string;
  baseline: string;
  value: number | null;
  baselineValue: number | null;
  n: number;
}

export function paymentDateEvaluationText(rows: PaymentDateEvaluationRow[]): string {
  const get = (model: string, metric: string, baseline: string) => rows.find((r) => r.model === model && r.metric === metric && r.baseline === baseline);
  const f = (v: number | null | undefined, digits: number) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));
  const lines = [
    '| candidate | payments | MAE (days) | customer mean | due date | below customer mean | late outcomes | Brier | customer late share | skill | 80 % interval held |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const [model, label] of [[HAZARD_MODEL, 'hazard'], [LINEAR_MODEL, 'linear']] as const) {
    const mae = get(model, 'mae_days_open', 'customer_mean');
    if (!mae) continue;
    const due = get(model, 'mae_days_open', 'due_date');
    const brier = get(model, 'brier_late', 'customer_late_share');
    const skill = get(model, 'brier_skill', 'customer_late_share');
    const coverage = get(model, 'interval_80_coverage_open', 'nominal');
    const gain = mae.value !== null && mae.baselineValue ? 1 - mae.value / mae.baselineValue : null;
    lines.push(
      `| ${label} | ${mae.n} | ${f(mae.value, 2)} | ${f(mae.baselineValue, 2)} | ${f(due?.baselineValue, 2)} | ${gain === null ? '–' : `${(gain * 100).toFixed(1)} %`} | ${brier?.n ?? '–'} | ${f(brier?.value, 4)} | ${f(brier?.baselineValue, 4)} | ${f(skill?.value, 3)} | ${coverage ? `${f((coverage.value ?? Number.NaN) * 100, 1)} %` : '–'} |`,
    );
  }
  return lines.join('\n');
}
