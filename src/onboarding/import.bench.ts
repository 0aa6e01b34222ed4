/**
 * Memory and speed of the legacy import on big files (`npm run bench:import`): writes
 * invoices files of growing size, validates each (the streaming pass every import makes),
 * loads a smaller one, and prints peak heap and RSS per size. If memory grew with the file,
 * the peak would grow with the rows; it should stay flat apart from the id set kept to
 * reject duplicate ids (a few dozen bytes per row).
 *
 * Options: `--rows 50000,200000,800000` sizes to validate; `--load 20000` rows to load.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCore, closeCore } from '../core.ts';
import { ManualClock } from '../shared/clock.ts';
import { importFile } from './import.service.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const sizes = arg('rows', '50000,200000,800000').split(',').map(Number);
const loadRows = Number(arg('load', '20000'));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-import-bench-'));
const core = await openCore({ url: `sqlite:${path.join(dir, 'bench.db')}`, clock: new ManualClock('2026-01-10T09:00:00Z') });
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

function writeInvoices(file: string, rows: number) {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, 'invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed,settled_date\n');
  let buf = '';
  for (let i = 1; i <= rows; i += 1) {
    const month = String((i % 12) + 1).padStart(2, '0');
    buf += `B-${i},C${i % 100},2025-${month}-01,2025-${month}-28,${(i % 9000) + 10}.${String(i % 100).padStart(2, '0')},EUR,false,${i % 3 === 0 ? `2025-${month}-20` : ''}\n`;
    if (buf.length > 1 << 20) {
      fs.writeSync(fd, buf);
      buf = '';
    }
  }
  fs.writeSync(fd, buf);
  fs.closeSync(fd);
}

async function measure(label: string, run: () => Promise<unknown>) {
  globalThis.gc?.();
  const base = process.memoryUsage();
  let peakHeap = base.heapUsed;
  let peakRss = base.rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
  }, 20);
  const started = performance.now();
  await run();
  clearInterval(timer);
  const seconds = (performance.now() - started) / 1000;
  return { label, seconds, heapGrowth: peakHeap - base.heapUsed, peakRss };
}

try {
  const customers = path.join(dir, 'customers.csv');
  fs.writeFileSync(customers, `customer_id,name,currency\n${Array.from({ length: 100 }, (_, i) => `C${i},Customer ${i},EUR`).join('\n')}\n`);
  await importFile(core, { entity: 'customers', file: customers, actor: 'bench' });
  const results = [];
  for (const rows of sizes) {
    const file = path.join(dir, `invoices-${rows}.csv`);
    writeInvoices(file, rows);
    const r = await measure(`validate ${rows} rows (${mb(fs.statSync(file).size)})`, () => importFile(core, { entity: 'invoices', file, actor: 'bench', dryRun: true }));
    results.push({ ...r, rowsPerSecond: rows / r.seconds });
    fs.rmSync(file);
  }
  const file = path.join(dir, `invoices-load-${loadRows}.csv`);
  writeInvoices(file, loadRows);
  const r = await measure(`load ${loadRows} rows`, () => importFile(core, { entity: 'invoices', file, actor: 'bench' }));
  results.push({ ...r, rowsPerSecond: loadRows / r.seconds });
  for (const x of results) {
    console.log(`${x.label.padEnd(34)} ${x.seconds.toFixed(1).padStart(6)} s  ${Math.round(x.rowsPerSecond).toString().padStart(7)} rows/s  heap +${mb(x.heapGrowth).padStart(9)}  peak RSS ${mb(x.peakRss)}`);
  }
} finally {
  await closeCore(core);
  fs.rmSync(dir, { recursive: true, force: true });
}
