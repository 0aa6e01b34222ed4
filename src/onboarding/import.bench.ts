/**
 * Memory and speed of the legacy import on big files (`npm run bench:import`): writes
 * invoices files of growing size, validates each (the streaming pass every import makes),
 * loads a smaller one, and prints peak heap and RSS per size. If memory grew with the file,
 * the peak would grow with the rows; it should stay flat apart from the id set kept to
 * reject duplicate ids (a few dozen bytes per row).
 *
 * Options: `--rows 50000,200000,800000` sizes to validate; `--load 20000` rows to load.
 *
 * `--messy 500000` instead writes a real-shaped messy extract of about that many order lines
 * (pipelines/bench/messy-extract.ts: odd product codes, zero-amount invoices, lines written
 * twice, customers missing from the customers file) and measures both ways in: the warehouse
 * ingest (`pipeline run --extract`: ingest, transform, reconcile) and onboarding's check of
 * the whole folder (`import folder --dry-run`), printing whether the reconciliation agrees.
 * `--messy-load 20000` also loads a messy extract of that many lines into the core and
 * prints its tie-out.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openCore, closeCore } from '../core.ts';
import { ManualClock } from '../shared/clock.ts';
import { dryRunMemory, importFile } from './import.service.ts';
import { tieOut } from './tieout.ts';
import { writeMessyExtract } from '../../pipelines/bench/messy-extract.ts';
import { runPipeline } from '../../pipelines/run.ts';

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

const FOLDER = [['customers', 'customers'], ['products', 'products'], ['orders', 'order_lines'], ['invoices', 'invoices'], ['payments', 'payments']] as const;
const print = (x: { label: string; seconds: number; heapGrowth: number; peakRss: number }, rows: number) =>
  console.log(`${x.label.padEnd(44)} ${x.seconds.toFixed(1).padStart(6)} s  ${Math.round(rows / x.seconds).toString().padStart(7)} rows/s  heap +${mb(x.heapGrowth).padStart(9)}  peak RSS ${mb(x.peakRss)}`);

/** Both ways in for a messy extract of about `lines` order lines. */
async function messy(lines: number, loadLines: number) {
  const extract = writeMessyExtract(path.join(dir, 'shop'), { orders: Math.max(10, Math.round(lines / 2.5)) });
  const rows = extract.lines + extract.invoices + extract.payments;
  console.log(`messy extract: ${extract.lines} order lines, ${extract.invoices} invoices, ${extract.payments} payments (${mb(FOLDER.reduce((n, [, f]) => n + fs.statSync(path.join(extract.dir, `${f}.csv`)).size, 0))})`);
  let status = '';
  const wh = await measure('warehouse: ingest, transform, reconcile', async () => {
    const r = await runPipeline({ dataDir: path.join(dir, 'warehouse'), extract: extract.dir, quiet: true, steps: ['ingest', 'transform', 'reconcile'] });
    status = `${r.reconciliation?.status}: ${(r.reconciliation?.checks ?? []).map((c) => `${c.check} ${c.expected}/${c.actual}`).join(', ')}`;
  });
  print(wh, rows);
  console.log(`  reconciliation ${status}`);
  const memory = dryRunMemory();
  const check = await measure('onboarding: check the folder (dry run)', async () => {
    for (const [entity, file] of FOLDER) await importFile(core, { entity, file: path.join(extract.dir, `${file}.csv`), actor: 'bench', dryRun: true, dryRunMemory: memory });
  });
  memory.close();
  print(check, rows);
  if (loadLines > 0) {
    const small = writeMessyExtract(path.join(dir, 'shop-load'), { orders: Math.max(10, Math.round(loadLines / 2.5)) });
    const touched = new Set<number>();
    const load = await measure(`onboarding: load ${small.lines} lines into the core`, async () => {
      for (const [entity, file] of FOLDER) {
        const r = await importFile(core, { entity, file: path.join(small.dir, `${file}.csv`), actor: 'bench' });
        for (const c of r.tieOut ?? []) touched.add(c.customerId);
      }
    });
    print(load, small.lines + small.invoices + small.payments);
    const t = await tieOut(core, touched);
    console.log(`  tie-out: ${t.filter((c) => c.agrees).length} of ${t.length} customers agree`);
  }
}

try {
  if (process.argv.includes('--messy')) {
    await messy(Number(arg('messy', '500000')), Number(arg('messy-load', '0')));
  } else {
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
  }
} finally {
  await closeCore(core);
  fs.rmSync(dir, { recursive: true, force: true });
}
