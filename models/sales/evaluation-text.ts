/**
 * The sales forecast's replayed accuracy in words and a table, one line per level: what
 * `npm run eval` prints and what models/README.md quotes between its `eval:sales` markers
 * (a test regenerates that block for a pinned demo company and fails when it differs).
 * Input: the rows of forecast.model_evaluations for the models `sales/<level>`.
 */
export interface EvaluationRow {
  level: string;
  metric: string;
  baseline: string;
  value: number | null;
  baselineValue: number | null;
}

const ORDER = ['total', 'category', 'segment', 'product'];

export function salesEvaluationText(rows: EvaluationRow[]): string {
  const levels = ORDER.filter((l) => rows.some((r) => r.level === l));
  const get = (level: string, metric: string, baseline?: string) => rows.find((r) => r.level === level && r.metric === metric && (baseline === undefined || r.baseline === baseline));
  const f3 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));
  const f2 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));
  const lines = [
    '| level | seasonal naive | Holt-Winters | regression | combination | weighted (published) | ÷ best single (≤ 1.02) | beat seasonal naive (replays) | 80 % coverage | 95 % band | intervals judged |',
    '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const level of levels) {
    const mase = get(level, 'mase', 'seasonal_naive') ?? get(level, 'mase', 'naive');
    const ratio = get(level, 'mase_to_best_single');
    const beat = get(level, 'replays_beating_baseline');
    const cov = get(level, 'interval_80_coverage', 'nominal');
    const lo = get(level, 'interval_80_coverage', 'band_low');
    const hi = get(level, 'interval_80_coverage', 'band_high');
    const judged = get(level, 'interval_80_judged');
    const inBand = cov?.value != null && lo?.baselineValue != null && hi?.baselineValue != null ? (cov.value >= lo.baselineValue - 1e-12 && cov.value <= hi.baselineValue + 1e-12 ? '' : ' (outside)') : '';
    const within = ratio?.value != null ? (ratio.value <= (ratio.baselineValue ?? 1.02) + 1e-12 ? '' : ' (above)') : '';
    lines.push(
      `| ${level} | ${f3(mase?.baselineValue)} | ${f3(get(level, 'mase', 'holt_winters')?.baselineValue)} | ${f3(get(level, 'mase', 'regression')?.baselineValue)} | ${f3(get(level, 'mase', 'combination')?.baselineValue)} | ${f3(mase?.value)} | ${f3(ratio?.value)} ${ratio ? `(${ratio.baseline.replace('_', ' ')})` : ''}${within} | ${beat ? `${beat.value} of ${beat.baselineValue}` : '–'} | ${f2(cov?.value)}${inBand} | ${lo && hi ? `${f2(lo.baselineValue)}–${f2(hi.baselineValue)}` : '–'} | ${judged?.value ?? '–'} |`,
    );
  }
  return lines.join('\n');
}
