// npm run eval -- --extract DIR [--mapping FILE] [--as-of DATE]
// Loads an extract into a temporary warehouse through the pipeline, runs the forecast step
// (which evaluates every model walking forward, features from each past date only) and
// prints each metric beside its baselines; for the sales forecast (models sales/<level>),
// each level's backtest MASE and each series' chosen method. Without --extract it evaluates
// the warehouse of the data directory (CASHLOOP_DATA_DIR, default ./data) as it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPipeline } from '../pipelines/run.ts';
import { openWarehouse, rowsJs } from '../src/warehouse/warehouse.ts';

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
  order by model, case when model like 'sales/%' then (case metric when 'mase' then 0 when 'mase_best_in_backtest' then 1 else 2 end) else 0 end, metric, baseline <> 'seasonal_naive', baseline`);
const series = await salesSeries();
wh.close();
console.log(`walk-forward evaluation, data as of ${run.asOf} (${extract ?? dataDir})`);
let last = '';
for (const r of rows) {
  const model = String(r.model);
  const sales = model.startsWith('sales/');
  if (model !== last) {
    if (last.startsWith('sales/')) printSeries(last);
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
if (last.startsWith('sales/')) printSeries(last);

/** One row per sales series and method of the latest forecast (forecast.sales_backtest), when there is one. */
async function salesSeries(): Promise<{ level: string; key: string; method: string; chosen: boolean; mase: number }[]> {
  const has = await rowsJs(wh.conn, `select count(*) as n from duckdb_tables() where schema_name = 'forecast' and table_name = 'sales_backtest'`);
  if (Number(has[0]!.n) === 0) return [];
  const out = await rowsJs(wh.conn, `select level, key, method, chosen, mase from forecast.sales_backtest where as_of = (select max(as_of) from forecast.sales_backtest) order by level, key, method`);
  return out.map((x) => ({ level: String(x.level), key: String(x.key), method: String(x.method), chosen: x.chosen === true, mase: Number(x.mase) }));
}

/**
 * Per series of a sales level: the published method and each candidate's MASE, and whether
 * the selection replayed in time order beat seasonal naive (products: the count only).
 */
function printSeries(model: string) {
  const level = model.slice('sales/'.length);
  const keys = [...new Set(series.filter((x) => x.level === level).map((x) => x.key))];
  let beat = 0;
  let bestBeat = 0;
  const lines: string[] = [];
  for (const key of keys) {
    const mine = series.filter((x) => x.level === level && x.key === key);
    const of = (m: string) => mine.find((x) => x.method === m)?.mase;
    const selected = of('selected');
    const baseline = of('seasonal_naive') ?? of('naive');
    if (selected !== undefined && baseline !== undefined && selected < baseline - 1e-9) beat++;
    const chosen = mine.find((x) => x.chosen)?.method ?? '?';
    const chosenMase = mine.find((x) => x.chosen)?.mase;
    if (chosenMase !== undefined && baseline !== undefined && chosenMase < baseline - 1e-9) bestBeat++;
    const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '     –' : v.toFixed(3).padStart(6));
    lines.push(`    ${key.slice(0, 22).padEnd(22)} ${chosen.padEnd(14)} ${fmt(of('seasonal_naive') ?? of('naive'))} ${fmt(of('holt_winters'))} ${fmt(of('regression'))} ${fmt(of('combination'))} ${fmt(selected)}`);
  }
  console.log(`  beats the seasonal naive baseline on: ${beat} of ${keys.length} series (selection replayed in time order), ${bestBeat} of ${keys.length} (published method, chosen on the whole backtest)`);
  if (level === 'product' || keys.length === 0) return;
  console.log(`    ${'series'.padEnd(22)} ${'published'.padEnd(14)} ${'s.naive'.padStart(6)} ${'h-w'.padStart(6)} ${'regr.'.padStart(6)} ${'comb.'.padStart(6)} ${'select'.padStart(6)}`);
  for (const l of lines) console.log(l);
}
if (extract) fs.rmSync(dataDir, { recursive: true, force: true });
