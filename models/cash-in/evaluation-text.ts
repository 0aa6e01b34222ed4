/**
 * The cash-in forecast's replayed accuracy in the words `npm run eval` prints and
 * models/README.md quotes between its `eval:cash` markers (a test rebuilds that block for a
 * pinned demo company): per currency, the published combination and each of its parts beside
 * the run rate and the due dates — WAPE over the replayed weeks, WAPE averaged over the
 * month-ends replayed, at how many of them each model beat each baseline, bias — the 80 %
 * interval's coverage beside the 95 % binomial band around 80 % for the number of weeks, and
 * whether the targets are met. Reads the `forecast.model_evaluations` rows of the cash-in
 * models (their names end in the currency).
 */
export interface CashEvaluationRow {
  model: string;
  metric: string;
  baseline: string;
  value: number | null;
  baselineValue: number | null;
  weeks: number;
  origins: number;
}

const PARTS = [
  ['cash-in/13-week@2', 'combination'],
  ['cash-in/bottom-up@1', 'bottom-up'],
  ['cash-in/top-down@1', 'top-down'],
] as const;

/** The 95 % binomial band around `p` for `n` trials (normal approximation). */
export function binomialBand(n: number, p = 0.8): [number, number] {
  const half = 1.96 * Math.sqrt((p * (1 - p)) / n);
  return [p - half, p + half];
}

const f3 = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(3));
const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)} %`);

export function cashEvaluationText(rows: readonly CashEvaluationRow[]): string {
  const currencies = [...new Set(rows.filter((r) => r.model.startsWith('cash-in/13-week@2 ')).map((r) => r.model.slice('cash-in/13-week@2 '.length)))].sort();
  const out: string[] = [];
  for (const currency of currencies) {
    const get = (model: string, metric: string, baseline: string) => rows.find((r) => r.model === `${model} ${currency}` && r.metric === metric && r.baseline === baseline);
    const head = get('cash-in/13-week@2', 'wape', 'run_rate');
    if (!head) continue;
    out.push(`cash-in ${currency}: the 13 weeks replayed at ${head.origins} month-ends with a calibrated interval, ${head.weeks} weeks against the cash received`);
    out.push(`  ${'forecast'.padEnd(12)} ${'WAPE'.padStart(6)} ${'mean/origin'.padStart(11)} ${'beat run rate'.padStart(13)} ${'beat due date'.padStart(13)} ${'bias'.padStart(8)}`);
    for (const [model, label] of PARTS) {
      const wape = get(model, 'wape', 'run_rate');
      const mean = get(model, 'wape_mean_over_origins', 'run_rate');
      const wonRun = get(model, 'origins_won', 'run_rate');
      const wonDue = get(model, 'origins_won', 'due_date');
      const bias = get(model, 'bias', 'run_rate');
      const won = (r: CashEvaluationRow | undefined) => (r ? `${r.value} of ${r.baselineValue}` : '–');
      out.push(`  ${label.padEnd(12)} ${f3(wape?.value).padStart(6)} ${f3(mean?.value).padStart(11)} ${won(wonRun).padStart(13)} ${won(wonDue).padStart(13)} ${pct(bias?.value).padStart(8)}`);
    }
    for (const [baseline, label] of [['run_rate', 'run rate'], ['due_date', 'due date']] as const) {
      const wape = get('cash-in/13-week@2', 'wape', baseline);
      const mean = get('cash-in/13-week@2', 'wape_mean_over_origins', baseline);
      const bias = get('cash-in/13-week@2', 'bias', baseline);
      out.push(`  ${label.padEnd(12)} ${f3(wape?.baselineValue).padStart(6)} ${f3(mean?.baselineValue).padStart(11)} ${''.padStart(13)} ${''.padStart(13)} ${pct(bias?.baselineValue).padStart(8)}`);
    }
    const coverage = get('cash-in/13-week@2', 'interval_80_coverage', 'nominal');
    const own = get('cash-in/13-week@2', 'interval_80_coverage', 'model_interval');
    const [low, high] = binomialBand(head.weeks);
    const covered = coverage?.value ?? NaN;
    const inBand = covered >= low && covered <= high;
    out.push(`  80 % interval held ${pct(covered)} of the ${head.weeks} weeks (95 % band for ${head.weeks} weeks: ${pct(low)}–${pct(high)}: ${inBand ? 'within' : 'OUTSIDE'}); the model's own interval ${pct(own?.baselineValue)}`);
    const beats = (baseline: 'run_rate' | 'due_date') => {
      const mean = get('cash-in/13-week@2', 'wape_mean_over_origins', baseline);
      const won = get('cash-in/13-week@2', 'origins_won', baseline);
      return !!mean && !!won && mean.value! < mean.baselineValue! && won.value! * 2 > won.baselineValue!;
    };
    out.push(`  target (mean WAPE over the month-ends below the run rate's and the due dates', and below both at more than half of them; coverage within the band): ${beats('run_rate') && beats('due_date') && inBand ? 'met' : 'MISSED'}`);
  }
  return out.join('\n');
}
