// npm run eval -- --extract DIR [--mapping FILE] [--as-of DATE]
// Loads an extract into a temporary warehouse through the pipeline, runs the forecast step
// (which evaluates every model walking forward, features from each past date only) and
// prints each metric beside its baselines. Without --extract it evaluates the warehouse of
// the data directory (CASHLOOP_DATA_DIR, default ./data) as it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPipeline } from '../pipelines/run.ts';
import { openWarehouse, rowsJs } from '../pipelines/warehouse.ts';

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
const rows = await rowsJs(wh.conn, `select model, as_of::varchar as as_of, metric, value, baseline, baseline_value, invoices, months from forecast.model_evaluations order by model, metric, baseline`);
wh.close();
console.log(`walk-forward evaluation, data as of ${run.asOf} (${extract ?? dataDir})`);
let last = '';
for (const r of rows) {
  if (r.model !== last) {
    console.log(`\n${r.model}: ${r.invoices} invoices predicted over ${r.months} months, last month-end ${r.as_of}`);
    console.log(`  ${'metric'.padEnd(22)} ${'model'.padStart(8)}   ${'baseline'.padEnd(14)} ${'value'.padStart(8)}  improvement`);
    last = String(r.model);
  }
  const v = Number(r.value);
  const b = Number(r.baseline_value);
  const better = String(r.metric).startsWith('late') || String(r.metric).includes('coverage') ? v - b : (b - v) / b;
  const shown = String(r.metric).includes('coverage') ? `${(v * 100).toFixed(1)} % (nominal 80 %)` : String(r.metric).startsWith('late') ? `${(better * 100).toFixed(1)} points` : `${(better * 100).toFixed(1)} % lower`;
  console.log(`  ${String(r.metric).padEnd(22)} ${v.toFixed(3).padStart(8)}   ${String(r.baseline).padEnd(14)} ${b.toFixed(3).padStart(8)}  ${shown}`);
}
if (extract) fs.rmSync(dataDir, { recursive: true, force: true });
