// npm run eval -- --extract DIR [--mapping FILE] [--as-of DATE]
// Loads an extract into a temporary warehouse through the pipeline, runs the forecast step
// (which evaluates every model walking forward, features from each past date only) and
// prints each metric beside its baselines; for the sales forecast (models sales/<level>),
// the replayed MASE of each method and of the weighted forecast, and interval coverage. Without --extract it evaluates
// the warehouse of the data directory (CASHLOOP_DATA_DIR, default ./data) as it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPipeline } from '../pipelines/run.ts';
import { openWarehouse, rowsJs } from '../src/warehouse/warehouse.ts';
import { salesEvaluationText } from '../models/sales/evaluation-text.ts';
import { cashEvaluationText } from '../models/cash-in/evaluation-text.ts';
import { HAZARD_MODEL, LINEAR_MODEL } from '../models/payment-date/replay.ts';
import { paymentDateEvaluationText } from '../models/payment-date/evaluation-text.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const extract = arg('extract');
const dataDir = extract ? fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-eval-')) : path.resolve(process.env.CASHLOOP_DATA_DIR ?? 'data');
// An extract is evaluated on its own, without the core's feed.
if (extract) delete process.env.DATABASE_URL;
const run = await runPipeline({ dataDir, extract, mapping: arg('mapping'), asOf: arg('as-of'), quiet: true, steps: ['ingest', 'transform', 'forecast'] });
const wh = await openWarehouse(path.join(dataDir, 'warehouse.duckdb'), { readOnly: true });
const rows = await rowsJs(wh.conn, `select model, as_of::varchar as as_of, metric, value, baseline, baseline_value, invoices, months from forecast.model_evaluations
  where (model not in ('${HAZARD_MODEL}', '${LINEAR_MODEL}') or metric in ('mae_days', 'rmse_days', 'late_accuracy', 'interval_80_coverage'))
    and metric not in ('weeks_within_band', 'replays_beating_run_rate')
  order by model, case when model like 'sales/%' then (case metric when 'mase' then 0 when 'mase_best_in_backtest' then 1 else 2 end) else 0 end, metric, baseline <> 'seasonal_naive', baseline`);
const series = await salesSeries();
const paymentDate = await paymentDateReplay();
const plain = await rowsJs(wh.conn, `select model, metric, value, baseline_value from forecast.model_evaluations where model like 'cash-in/%' and metric in ('weeks_within_band', 'replays_beating_run_rate') order by model, metric desc`);
const cashOrigins = await cashPerOrigin(run.asOf ?? "");
wh.close();
console.log(`walk-forward evaluation, data as of ${run.asOf} (${extract ?? dataDir})`);
let last = '';
for (const r of rows) {
  if (String(r.model).startsWith('sales/') || String(r.model).startsWith('cash-in/')) continue; // printed by printSales and printCash below
  const model = String(r.model);
  const sales = model.startsWith('sales/');
  if (model !== last) {
    if (sales) {
      const mine = new Set(series.filter((x) => `sales/${x.level}` === model).map((x) => x.key));
      console.log(`\n${model}: ${mine.size} series, up to ${r.months} months of history to ${r.as_of}; rolling-origin backtest, MASE (scaled by the in-sample seasonal naive error; mean over the series)`);
      console.log(`  ${'metric'.padEnd(22)} ${'model'.padStart(8)}   ${'baseline'.padEnd(14)} ${'value'.padStart(8)}  improvement`);
    } else {
      console.log(model.startsWith('cash-in/') ? `\n${model}: the 13-week forecast replayed at past month-ends, ${r.months} of them with a calibrated interval compared here: ${r.invoices} weeks set against the cash received, as of ${r.as_of}` : `\n${model}: ${r.invoices} invoices predicted over ${r.months} months, last month-end ${r.as_of}`);
      console.log(`  ${'metric'.padEnd(22)} ${'model'.padStart(8)}   ${'baseline'.padEnd(14)} ${'value'.padStart(8)}  improvement`);
    }
    last = model;
  }
  const v = Number(r.value);
  const b = Number(r.baseline_value);
  const metric = String(r.metric);
  const better = metric.startsWith('late') || metric.includes('coverage') ? v - b : (b - v) / b;
  const shown = metric === 'bias' ? `${Math.abs(v) <= Math.abs(b) ? 'closer to' : 'further from'} zero (${(v * 100).toFixed(1)} % against ${(b * 100).toFixed(1)} %)` : metric.includes('coverage') ? `${(v * 100).toFixed(1)} % (nominal 80 %)` : metric.startsWith('late') ? `${(better * 100).toFixed(1)} points` : `${Math.abs(better * 100).toFixed(1)} % ${better < 0 ? 'higher' : 'lower'}`;
  const name = sales && metric === 'mase' ? 'mase (selection)' : metric;
  console.log(`  ${name.padEnd(22)} ${v.toFixed(3).padStart(8)}   ${String(r.baseline).padEnd(14)} ${b.toFixed(3).padStart(8)}  ${shown}`);
}
printCash();
printSales();
printPaymentDate();
printPlainWords();

/**
 * The sales forecast per level, replayed walking forward: seasonal naive, each single
 * method, the combination and the weighted forecast that is published (mean MASE over the
 * level's series), its ratio to the best single method, the replays in which it beat
 * seasonal naive, and the 80 % intervals' coverage beside the 95 % binomial band for the
 * number judged; then each level's series.
 */
function printSales() {
  const sales = rows.filter((r) => String(r.model).startsWith('sales/'));
  if (sales.length === 0) return;
  const first = sales[0]!;
  console.log(`
sales: 12-month forecast replayed at past month-ends (rolling origin, weights and intervals learned from earlier months only), history to ${first.as_of}; MASE, mean over each level's series`);
  console.log(salesEvaluationText(sales.map((r) => ({ level: String(r.model).slice('sales/'.length), metric: String(r.metric), baseline: String(r.baseline), value: r.value === null ? null : Number(r.value), baselineValue: r.baseline_value === null ? null : Number(r.baseline_value) }))));
  // What is published: the replay reconciled at each origin (models/sales/forecast.ts, replayReconciled).
  for (const level of ['total', 'category', 'segment', 'product']) {
    const get = (metric: string) => sales.find((r) => r.model === `sales/${level}` && r.metric === metric);
    const rec = get('mase_reconciled');
    const ratio = get('mase_reconciled_to_best_single');
    const pairs = get('reconciled_replays');
    if (!rec || rec.value === null) continue;
    console.log(`  ${level.padEnd(8)} reconciled (published): MASE ${Number(rec.value).toFixed(3)} (before reconciliation ${Number(rec.baseline_value).toFixed(3)}), ÷ best single ${ratio?.value == null ? '–' : `${Number(ratio.value).toFixed(3)} (${String(ratio.baseline).replace('_', ' ')})`}, on ${pairs?.value} of ${pairs?.baseline_value} forecasts replayed (the origins at which every series had one)`);
  }
  for (const level of ['total', 'category', 'segment', 'product']) if (sales.some((r) => r.model === `sales/${level}`)) {
    console.log(`
sales/${level}:`);
    printSeries(`sales/${level}`);
  }
}

/** The cash-in forecast's trust in words, as the cash page shows it, per currency. */
function printPlainWords() {
  for (const c of plain) {
    const k = Number(c.value);
    const n = Number(c.baseline_value);
    const currency = String(c.model).split(' ')[1] ?? '';
    if (n > 0) console.log(c.metric === 'weeks_within_band' ? `\ncash-in ${currency} in words: in ${k} of the last ${n} weeks the cash received was within the forecast's 80 % band.` : `cash-in ${currency} in words: the forecast beat the run rate in ${k} of ${n} replays.`);
  }
}

/**
 * The cash-in forecast per currency: the combination and its parts beside the run rate and the
 * due dates (models/cash-in/evaluation-text.ts), then each month-end replayed with a calibrated
 * interval: the WAPE of each over its ended weeks.
 */
function printCash() {
  const cash = rows.filter((r) => String(r.model).startsWith('cash-in/'));
  if (cash.length === 0) return;
  console.log(`\n13-week cash-in, replayed at past month-ends walking forward (weights and interval learned from the weeks ended before each), as of ${cash[0]!.as_of}`);
  console.log(cashEvaluationText(cash.map((r) => ({ model: String(r.model), metric: String(r.metric), baseline: String(r.baseline), value: r.value === null ? null : Number(r.value), baselineValue: r.baseline_value === null ? null : Number(r.baseline_value), weeks: Number(r.invoices), origins: Number(r.months) }))));
  for (const currency of [...new Set(cashOrigins.map((o) => o.currency))]) {
    console.log(`  ${currency} per month-end: ${'weeks'.padStart(5)} ${'comb.'.padStart(6)} ${'bottom'.padStart(6)} ${'top'.padStart(6)} ${'run r.'.padStart(6)} ${'due d.'.padStart(6)}`);
    for (const o of cashOrigins.filter((x) => x.currency === currency)) {
      const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : '–').padStart(6);
      console.log(`    ${o.origin.padEnd(18)} ${String(o.weeks).padStart(5)} ${fmt(o.combination)} ${fmt(o.bottom_up)} ${fmt(o.top_down)} ${fmt(o.run_rate)} ${fmt(o.due_date)}${o.combination < o.run_rate && o.combination < o.due_date ? '' : '  (lost)'}`);
    }
  }
}

/** WAPE per currency and month-end replayed with a calibrated interval (all of them while none is), from forecast.cash_backtest. */
async function cashPerOrigin(asOf: string) {
  const has = await rowsJs(wh.conn, `select count(*) as n from duckdb_columns() where schema_name = 'forecast' and table_name = 'cash_backtest' and column_name = 'top_down_cents'`);
  if (Number(has[0]!.n) === 0) return [];
  const out = await rowsJs(wh.conn, `with b as (select * from forecast.cash_backtest where run_as_of = $1::date and currency is not null),
      measured as (select * from b where interval_method = 'calibrated' or not exists (select 1 from b c where c.currency = b.currency and c.interval_method = 'calibrated'))
    select currency, as_of::varchar as origin, count(*)::int as weeks,
      sum(abs(expected_cents - actual_cents))::double / sum(actual_cents) as combination, sum(abs(bottom_up_cents - actual_cents))::double / sum(actual_cents) as bottom_up,
      sum(abs(top_down_cents - actual_cents))::double / sum(actual_cents) as top_down, sum(abs(run_rate_baseline_cents - actual_cents))::double / sum(actual_cents) as run_rate,
      sum(abs(due_date_baseline_cents - actual_cents))::double / sum(actual_cents) as due_date
    from measured group by 1, 2 order by 1, 2`, [asOf]);
  return out.map((r) => ({ currency: String(r.currency), origin: String(r.origin), weeks: Number(r.weeks), combination: Number(r.combination), bottom_up: Number(r.bottom_up), top_down: Number(r.top_down), run_rate: Number(r.run_rate), due_date: Number(r.due_date) }));
}

/** The payment-date candidates replayed on the invoices open at past month-ends, and what the forecast step published. */
async function paymentDateReplay() {
  const evaluations = await rowsJs(wh.conn, `select model, as_of::varchar as as_of, metric, value, baseline, baseline_value, invoices, months, note from forecast.model_evaluations
    where model in ('${HAZARD_MODEL}', '${LINEAR_MODEL}') and metric not in ('mae_days', 'rmse_days', 'late_accuracy', 'interval_80_coverage') order by model, metric, baseline`);
  const runs = await rowsJs(wh.conn, `select model, status, reason from forecast.model_runs where as_of = $1::date and model like 'payment-date%' order by model`, [run.asOf ?? '']);
  // How the published late probability spreads over the invoices open on the as-of date: an overdue one is late for certain.
  const open = await rowsJs(wh.conn, `select count(*) as n, count(*) filter (where due_date <= as_of) as overdue, count(*) filter (where prob_late > 0.9) as above,
      count(*) filter (where prob_late > 0.9 and due_date > as_of) as above_not_due, count(*) filter (where prob_late < 0.1 and due_date > as_of) as below_not_due
    from forecast.invoice_payment where as_of = $1::date`, [run.asOf ?? '']);
  return { evaluations, runs, open: open[0] };
}

/**
 * Payment date and late probability, each candidate beside its baselines, with the targets
 * said plainly: MAE at least 15 % below the customer's mean on a real extract (5 % on a demo
 * company), Brier skill at least 0.10 against the customer's share paid late.
 */
function printPaymentDate() {
  const { evaluations, runs, open } = paymentDate;
  if (evaluations.length === 0) {
    for (const r of runs) console.log(`\n${r.model}: ${r.status}${r.reason ? ` — ${r.reason}` : ''}`);
    return;
  }
  const maeTarget = extract ? 0.15 : 0.05;
  const get = (model: string, metric: string, baseline: string) => evaluations.find((e) => e.model === model && e.metric === metric && e.baseline === baseline);
  const first = evaluations[0]!;
  console.log(`\npayment date, replayed on the invoices open at ${first.months} past month-ends (last ${first.as_of}); each model and baseline told the invoice is still open`);
  for (const r of runs) console.log(`  forecast step: ${r.model} ${r.status}${r.reason ? ` — ${r.reason}` : ''}`);
  console.log(`\n${paymentDateEvaluationText(evaluations.map((e) => ({ model: String(e.model), metric: String(e.metric), baseline: String(e.baseline), value: e.value === null ? null : Number(e.value), baselineValue: e.baseline_value === null ? null : Number(e.baseline_value), n: Number(e.invoices) })))}`);
  if (open && Number(open.n) > 0) {
    const n = Number(open.n);
    const overdue = Number(open.overdue);
    const above = Number(open.above);
    console.log(`\n  published late probability on the ${n} invoices open on ${run.asOf}: above 0.9 for ${above} (${((100 * above) / n).toFixed(1)} %) — ${overdue} of the open are already at or past their due date unpaid (late for certain); of the ${n - overdue} not yet due, ${open.above_not_due} above 0.9 and ${open.below_not_due} below 0.1`);
  }
  for (const model of [HAZARD_MODEL, LINEAR_MODEL]) {
    const mae = get(model, 'mae_days_open', 'customer_mean');
    const due = get(model, 'mae_days_open', 'due_date');
    const skill = get(model, 'brier_skill', 'customer_late_share');
    const brier = get(model, 'brier_late', 'customer_late_share');
    if (!mae) continue;
    const gain = 1 - Number(mae.value) / Number(mae.baseline_value);
    console.log(`\n${model}`);
    console.log(`  MAE ${Number(mae.value).toFixed(2)} days over ${mae.invoices} payments; customer's mean ${Number(mae.baseline_value).toFixed(2)}, due date ${Number(due?.baseline_value).toFixed(2)}: ${(Math.abs(gain) * 100).toFixed(1)} % ${gain >= 0 ? 'below' : 'above'} the customer's mean — target ${maeTarget * 100} % below: ${gain >= maeTarget ? 'met' : 'MISSED'}`);
    if (brier && skill) {
      const s = Number(skill.value);
      console.log(`  late probability over ${brier.invoices} invoices not yet due at the month-end: Brier ${Number(brier.value).toFixed(4)} against ${Number(brier.baseline_value).toFixed(4)} for the customer's share paid late, skill ${Number.isFinite(s) ? s.toFixed(3) : 'none'} — target 0.10: ${s >= 0.1 ? 'met' : 'MISSED'}`);
    }
    const coverage = get(model, 'interval_80_coverage_open', 'nominal');
    if (coverage) console.log(`  80 % interval held ${(Number(coverage.value) * 100).toFixed(1)} % of the payments`);
    const bands = evaluations.filter((e) => e.model === model && String(e.metric).startsWith('reliability_'));
    if (bands.length > 0) {
      console.log(`  reliability: ${'band'.padEnd(9)} ${'predicted'.padStart(9)} ${'observed'.padStart(9)} ${'invoices'.padStart(8)}`);
      for (const b of bands) console.log(`               ${String(b.metric).slice('reliability_'.length).padEnd(9)} ${Number(b.baseline_value).toFixed(3).padStart(9)} ${Number(b.value).toFixed(3).padStart(9)} ${String(b.invoices).padStart(8)}`);
    }
  }
}

/** One row per sales series and method of the latest forecast (forecast.sales_backtest), when there is one. */
async function salesSeries(): Promise<{ level: string; key: string; method: string; chosen: boolean; mase: number }[]> {
  const has = await rowsJs(wh.conn, `select count(*) as n from duckdb_tables() where schema_name = 'forecast' and table_name = 'sales_backtest'`);
  if (Number(has[0]!.n) === 0) return [];
  const out = await rowsJs(wh.conn, `select level, key, method, chosen, mase from forecast.sales_backtest where as_of = (select max(as_of) from forecast.sales_backtest) order by level, key, method`);
  return out.map((x) => ({ level: String(x.level), key: String(x.key), method: String(x.method), chosen: x.chosen === true, mase: Number(x.mase) }));
}

/** Per series of a sales level: each candidate's MASE and the weighted forecast's replayed (products: the count only). */
function printSeries(model: string) {
  const level = model.slice('sales/'.length);
  const keys = [...new Set(series.filter((x) => x.level === level).map((x) => x.key))];
  let beat = 0;
  const lines: string[] = [];
  for (const key of keys) {
    const mine = series.filter((x) => x.level === level && x.key === key);
    const of = (m: string) => mine.find((x) => x.method === m)?.mase;
    const selected = of('selected');
    const baseline = of('seasonal_naive') ?? of('naive');
    if (selected !== undefined && baseline !== undefined && selected < baseline - 1e-9) beat++;
    const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '     –' : v.toFixed(3).padStart(6));
    lines.push(`    ${key.slice(0, 22).padEnd(22)} ${fmt(of('seasonal_naive') ?? of('naive'))} ${fmt(of('holt_winters'))} ${fmt(of('regression'))} ${fmt(of('combination'))} ${fmt(selected)}`);
  }
  console.log(`  the weighted forecast, replayed, beats seasonal naive on ${beat} of ${keys.length} series`);
  if (level === 'product' || keys.length === 0) return;
  console.log(`    ${'series'.padEnd(22)} ${'s.naive'.padStart(6)} ${'h-w'.padStart(6)} ${'regr.'.padStart(6)} ${'comb.'.padStart(6)} ${'weight.'.padStart(6)}`);
  for (const l of lines) console.log(l);
}
if (extract) fs.rmSync(dataDir, { recursive: true, force: true });
