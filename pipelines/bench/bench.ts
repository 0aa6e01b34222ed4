/**
 * Pipeline benchmark: `npm run bench:pipeline -- --invoices 1000000 [--dir DIR] [--keep]`.
 *
 * Writes a synthetic core history straight into a migrated SQLite core (a fast fixture, not
 * the services: customers, invoices, payments with allocations, and their events shaped as
 * the feed contract says), then measures, in one process:
 *   - DuckDB's own read_csv of the same event rows (exported to CSV first) — the baseline;
 *   - a full pipeline run (ingest, transform, reconcile, publish) and its ingest rows/s;
 *   - an incremental run after 1 % more events;
 *   - the floor (floor.ts): the same models' SQL straight in DuckDB over the same events, and
 *     the pipeline's time over it per phase;
 *   - peak RSS.
 * `--full-only` stops after the full run and its floor (for ten million invoices).
 * `--reuse-fixture` (with `--dir`) keeps the core a run before wrote there and starts from a new
 * warehouse: ten million invoices take minutes to write, and the run is still a first, full one.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import SQLite from 'better-sqlite3';
import { connect } from '../../src/db/connection.ts';
import { migrate } from '../../src/db/migrate.ts';
import { SPARE_ROW_GROUPS } from '../compact.ts';
import { runPipeline, type PipelineRunResult } from '../run.ts';
import type { PublishResult } from '../publish.ts';
import { openWarehouse, lit } from '../../src/warehouse/warehouse.ts';
import { measureFloor, type FloorResult } from './floor.ts';

const { values } = parseArgs({
  options: {
    invoices: { type: 'string', default: '1000000' },
    dir: { type: 'string' },
    keep: { type: 'boolean', default: false },
    // Only the full run and its floor (the ten-million run: the incremental runs are measured at one million).
    'full-only': { type: 'boolean', default: false },
    'reuse-fixture': { type: 'boolean', default: false },
    // Only the incremental runs, over a folder kept from an earlier `--keep --full-only` run (a copy of it: they add to it).
    reuse: { type: 'boolean', default: false },
    // Internal: the pipeline runs happen in a child process, so its peak RSS is the pipeline's own.
    phase: { type: 'string', default: 'main' },
    baseline: { type: 'string', default: '0' },
    'baseline-ms': { type: 'string', default: '0' },
    'baseline-cpu': { type: 'string', default: '0' },
  },
});
const invoices = Number(values.invoices);
const dir = values.dir ? path.resolve(values.dir) : fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-bench-'));
fs.mkdirSync(dir, { recursive: true });
const coreFile = path.join(dir, 'cashloop.db');
const say = (s: string) => process.stdout.write(`${s}\n`);
const reuse = values['reuse-fixture'] && values.phase === 'main' && fs.existsSync(coreFile) && fs.statSync(coreFile).size > 0;
if (reuse) {
  // What a run before left beside the core: the pipeline starts again from nothing.
  for (const f of fs.readdirSync(dir)) if (!f.startsWith('cashloop.db')) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
}

if (values.phase === 'main' && !reuse && !values.reuse) {
  // The core's schema, through its own migrations; the rows below go straight into the tables.
  const db = connect({ url: `sqlite:${coreFile}` });
  await migrate(db);
  await db.close();
}

const day0 = Date.UTC(2023, 0, 1) / 86_400_000;
const iso = (d: number) => new Date(d * 86_400_000).toISOString().slice(0, 10);
const customers = Math.max(10, Math.round(invoices / 100));

/**
 * Appends `count` invoices (and their payments, ~90 % paid) after what the core already holds,
 * with their events: the rows are made by SQLite itself (a counting CTE, `json_object` for the
 * payloads), so the fixture streams from the database into the database at any size and no
 * row becomes a JavaScript object. An invoice's `invoice.issued` events come before the
 * `payment.recorded` events of the same batch, so each invoice's newest image is its paid one.
 */
function writeHistory(db: SQLite.Database, firstInvoice: number, count: number, withCustomers: boolean): number {
  const last = firstInvoice + count - 1;
  const date = (day: string) => `date((${day}) * 86400, 'unixepoch')`;
  // Whole numbers only: the issue day is floor(id × 1096 / (invoices × 1.02)) in integer arithmetic.
  const v = `with recursive s(id) as (select ${firstInvoice} union all select id + 1 from s where id < ${last}),
    v as (select id, 1 + (id % ${customers}) as customer, ${day0} + (id * 1096 * 50) / (${invoices} * 51) as issued,
                 1000 + ((id * 7919) % 500000) as amount, id % 10 <> 0 as paid from s),
    w as (select *, ${date('issued')} as invoice_date, ${date('issued + 30')} as due_date, ${date('issued + 10 + ((id * 31) % 50)')} as pay_date from v),
    x as (select *, invoice_date || 'T10:00:00.000Z' as at, pay_date || 'T11:00:00.000Z' as pat from w)`;
  const invoice = (status: string) => `json_object('id', id, 'number', 'INV-' || id, 'external_ref', null, 'customer_id', customer, 'order_id', null, 'shipment_id', null,
    'currency', 'EUR', 'invoice_date', invoice_date, 'due_date', due_date, 'status', ${status}, 'subtotal_minor', amount, 'tax_minor', 0, 'total_minor', amount,
    'disputed', 0, 'settled_date', null, 'created_at', at, 'updated_at', at)`;
  let events = 0;
  db.transaction(() => {
    if (withCustomers) {
      const at = `${iso(day0)}T08:00:00.000Z`;
      const c = `with recursive s(id) as (select 1 union all select id + 1 from s where id < ${customers}),
        c as (select id, 'Customer ' || id as name, case when id % 3 = 0 then 'retail' else 'wholesale' end as segment from s)`;
      db.exec(`${c} insert into customers (id, name, country, segment, currency, payment_terms_days, credit_limit_minor, status, created_at, updated_at)
        select id, name, 'DE', segment, 'EUR', 30, 1000000, 'active', '${at}', '${at}' from c`);
      events += db.prepare(`${c} insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at)
        select 'customer.created', 'customer', cast(id as text), json_object('customers', json_array(json_object('id', id, 'external_id', null, 'name', name, 'country', 'DE',
          'segment', segment, 'currency', 'EUR', 'payment_terms_days', 30, 'credit_limit_minor', 1000000, 'risk_class', null, 'status', 'active',
          'created_at', '${at}', 'updated_at', '${at}'))), 'bench', '${at}' from c`).run().changes;
    }
    db.exec(`${v} insert into invoices (id, number, customer_id, currency, invoice_date, due_date, status, subtotal_minor, tax_minor, total_minor, disputed, created_at, updated_at)
      select id, 'INV-' || id, customer, 'EUR', invoice_date, due_date, case when paid then 'paid' else 'open' end, amount, 0, amount, 0, at, at from x`);
    events += db.prepare(`${v} insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at)
      select 'invoice.issued', 'invoice', cast(id as text), json_object('invoices', json_array(${invoice(`'open'`)})), 'bench', at from x`).run().changes;
    db.exec(`${v} insert into payments (id, customer_id, currency, amount_minor, payment_date, method, status, created_at)
      select id, customer, 'EUR', amount, pay_date, 'transfer', 'received', pat from x where paid`);
    db.exec(`${v} insert into payment_allocations (id, payment_id, invoice_id, amount_minor, rule, applied_on, reversed, created_at)
      select id, id, id, amount, 'reference', pay_date, 0, pat from x where paid`);
    events += db.prepare(`${v} insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at)
      select 'payment.recorded', 'payment', cast(id as text), json_object(
        'payments', json_array(json_object('id', id, 'customer_id', customer, 'currency', 'EUR', 'amount_minor', amount, 'payment_date', pay_date, 'method', 'transfer',
          'bank_reference', null, 'external_id', null, 'status', 'received', 'reversal_reason', null, 'reversed_at', null, 'created_at', pat)),
        'payment_allocations', json_array(json_object('id', id, 'payment_id', id, 'invoice_id', id, 'amount_minor', amount, 'rule', 'reference', 'applied_on', pay_date,
          'reversed', 0, 'created_at', pat)),
        'invoices', json_array(${invoice(`'paid'`)})), 'bench', pat from x where paid`).run().changes;
  })();
  return events;
}

if (values.phase === 'main' && values.reuse) {
  // The fixture, its baseline and the full run are those kept in the folder: straight to the runs.
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--phase', 'run', '--dir', dir, '--invoices', String(invoices), '--reuse'], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}
if (values.phase === 'main') {
  await main();
  process.exit(0);
}

if (values.phase === 'floor') {
  // In its own process too: the floor's memory is not counted in the pipeline's peak RSS.
  const c0 = process.cpuUsage();
  const f = await measureFloor(path.join(dir, 'warehouse.duckdb'), dir);
  const c = process.cpuUsage(c0);
  fs.writeFileSync(path.join(dir, 'floor.json'), JSON.stringify(f));
  say(
    `floor (the same SQL straight in DuckDB, plain tables, no bookkeeping): staging the events ${(f.stagingMs / 1000).toFixed(2)} s, models ${(f.modelsMs / 1000).toFixed(2)} s (${f.tables} tables, ${f.views} views), Parquet once ${(f.parquetMs / 1000).toFixed(2)} s (${f.parquetFiles} parts) — ${f.cpuS.toFixed(1)} s CPU (${((c.user + c.system) / 1e6).toFixed(1)} s with copying the events in), load average ${os.loadavg()[0]!.toFixed(1)}`,
  );
  say(`  floor's slowest models: ${f.slowest.map((m) => `${m.model} ${(m.ms / 1000).toFixed(2)} s`).join(', ')}`);
  say(`  peak RSS of the floor process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  process.exit(0);
}

async function main() {
  const t0 = Date.now();
  const db = new SQLite(coreFile);
  if (reuse) {
    const n = (db.prepare('select count(*) as n from invoices').get() as { n: number }).n;
    if (n !== invoices) throw new Error(`--reuse-fixture: ${dir} holds ${n} invoices, not ${invoices}`);
  }
  // A fixture, written once: no rollback journal, and the secondary indexes made after the rows
  // (sorting once instead of inserting ten million keys at random places).
  // (A file in WAL mode leaves it for DELETE first: SQLite does not go from WAL to OFF in one step.)
  db.pragma('journal_mode = DELETE');
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144');
  const indexes = reuse ? [] : db
    .prepare(`select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in ('customers', 'invoices', 'payments', 'payment_allocations', 'events')`)
    .all() as { name: string; sql: string }[];
  for (const i of indexes) db.exec(`drop index "${i.name}"`);
  const events = reuse ? (db.prepare('select count(*) as n from events').get() as { n: number }).n : writeHistory(db, 1, invoices, true);
  for (const i of indexes) db.exec(i.sql);
  db.pragma('journal_mode = WAL');
  say(`fixture: ${invoices.toLocaleString('en')} invoices, ${events.toLocaleString('en')} events ${reuse ? 'kept from a run before' : 'written'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  // DuckDB's own scan of the same rows, as CSV: the baseline the ingest is compared with.
  const csv = path.join(dir, 'events.csv');
  {
    const out = fs.openSync(csv, 'w');
    // SQLite joins each batch of rows into CSV text itself (quoting the payloads), as the ingest reads the feed.
    fs.writeSync(out, 'seq,event_type,aggregate_type,aggregate_id,payload,actor,occurred_at\n');
    const batch = db.prepare(`select count(*) as n, max(seq) as last, group_concat(seq || ',' || event_type || ',' || aggregate_type || ',' || aggregate_id || ',"' ||
        replace(payload, '"', '""') || '",' || actor || ',' || occurred_at, char(10)) || char(10) as text
      from (select * from events where seq > ? order by seq limit 100000)`);
    for (let after = 0; ; ) {
      const b = batch.get(after) as { n: number; last: number; text: string | null };
      if (b.n === 0) break;
      fs.writeSync(out, b.text!);
      after = b.last;
    }
    fs.closeSync(out);
    say(`events exported to CSV for the baseline (${((Date.now() - t0) / 1000).toFixed(1)} s since the start)`);
  }
  let baselineRowsPerS: number;
  let baselineMs: number;
  let baselineCpu: number;
  {
    // In DuckDB's own default format and storage choices: the baseline is DuckDB left to itself.
    const wh = await openWarehouse(path.join(dir, 'baseline.duckdb'), { defaultFormat: true });
    const s = performance.now();
    const c0 = process.cpuUsage();
    await wh.conn.run(`create or replace table events as select * from read_csv(${lit(csv)}, header = true)`);
    const secs = (performance.now() - s) / 1000;
    baselineMs = secs * 1000;
    wh.close();
    baselineRowsPerS = events / secs;
    const c = process.cpuUsage(c0);
    baselineCpu = (c.user + c.system) / 1e6;
    say(`DuckDB read_csv baseline: ${events.toLocaleString('en')} rows in ${secs.toFixed(2)} s (${((c.user + c.system) / 1e6).toFixed(1)} s CPU) = ${Math.round(baselineRowsPerS).toLocaleString('en')} rows/s`);
  }

  db.close();
  const child = spawnSync(
    process.execPath,
    [
      '--import', 'tsx', fileURLToPath(import.meta.url), '--phase', 'run', '--dir', dir, '--invoices', String(invoices), '--baseline', String(baselineRowsPerS),
      '--baseline-ms', String(baselineMs), '--baseline-cpu', String(baselineCpu), ...(values['full-only'] ? ['--full-only'] : []),
    ],
    { stdio: 'inherit' },
  );
  if (child.status !== 0) throw new Error(`pipeline phase failed (${child.status ?? child.signal})`);
  if (!values.keep && !values.dir) fs.rmSync(dir, { recursive: true, force: true });
  else say(`kept ${dir}`);
}

// Phase "run", in its own process: full run, 1 % more events, incremental run, peak RSS.
const kept = values.reuse ? (JSON.parse(fs.readFileSync(path.join(dir, 'full-run.json'), 'utf8')) as { ms: number; baseline: number }) : null;
const baselineRowsPerS = kept ? kept.baseline : Number(values.baseline);
const db = new SQLite(coreFile);
const events = (db.prepare('select count(*) as n from events').get() as { n: number }).n;
const coreUrl = `sqlite:${coreFile}`;
// CPU time beside wall time: on a shared machine the wall clock also counts other people's work.
// The wall time is the whole call, closing the warehouse (DuckDB's last checkpoint) included.
const timed = async (fn: () => Promise<PipelineRunResult>) => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { r, ms, cpu: (c.user + c.system) / 1e6 };
};
const describe = (label: string, { r, ms, cpu }: { r: PipelineRunResult; ms: number; cpu: number }) => {
  const ingest = r.steps.find((s) => s.name === 'ingest')!;
  const rate = ingest.rowsRead / (ingest.ms / 1000);
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const cpuSec = (ms: number | undefined) => `${((ms ?? 0) / 1000).toFixed(2)} CPU`;
  say(`${label}${r.compacted ? ' (vacuums the file)' : ''}: ${(ms / 1000).toFixed(2)} s total (${cpu.toFixed(1)} s CPU, load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores) — ${r.steps.map((s) => `${s.name} ${sec(s.ms)} (${cpuSec(s.cpuMs)})`).join(', ')}, outside the steps ${((ms - r.steps.reduce((a, s) => a + s.ms, 0)) / 1000).toFixed(2)} s (${(cpu - r.steps.reduce((a, s) => a + (s.cpuMs ?? 0), 0) / 1000).toFixed(2)} s CPU)`);
  const o = r.overhead;
  say(`  outside the steps: opening the file ${sec(o.open.ms)} (${cpuSec(o.open.cpuMs)}), schema and compaction checks ${sec(o.setup.ms)} (${cpuSec(o.setup.cpuMs)}), closing it with its checkpoint ${sec(o.close.ms)} (${cpuSec(o.close.cpuMs)}), the rest (loading code, the core) ${sec(ms - r.steps.reduce((a, s) => a + s.ms, 0) - o.open.ms - o.setup.ms - o.close.ms)}`);
  const transform = r.steps.find((s) => s.name === 'transform')?.detail as { fullReason?: string | null; stagedMs?: number; models?: { model: string; mode: string; ms: number }[] } | undefined;
  if (transform?.models) {
    const count = (mode: string) => transform.models!.filter((m) => m.mode === mode).length;
    const names = (mode: string) => (mode === 'full' && transform.fullReason ? '' : ` [${transform.models!.filter((m) => m.mode === mode).map((m) => m.model).join(', ')}]`);
    say(`  models: ${count('full')} rebuilt whole${transform.fullReason ? ` (${transform.fullReason})` : names('full')}, ${count('incremental')} updated in place, ${count('unchanged')} unchanged`);
    const stepMs = r.steps.find((s) => s.name === 'transform')!.ms;
    const modelMs = transform.models.reduce((s, m) => s + m.ms, 0);
    const stagedMs = transform.stagedMs ?? 0;
    say(`  transform: staging the events ${(stagedMs / 1000).toFixed(2)} s, models ${(modelMs / 1000).toFixed(2)} s, the rest (state checks, commit) ${((stepMs - stagedMs - modelMs) / 1000).toFixed(2)} s`);
  }
  const published = r.steps.find((s) => s.name === 'publish')?.detail as PublishResult | undefined;
  if (published) {
    say(
      `  published: ${published.partsWritten} parts written, ${published.partsKept} kept — finding them ${sec(published.ms.parts)}, Parquet ${sec(published.ms.parquet)}, snapshot ${sec(published.ms.snapshot)} (views over the Parquet)`,
    );
    const slowestParts = [...published.written].sort((a, b) => b.ms - a.ms).slice(0, 6);
    if (slowestParts.length) say(`  Parquet written: ${slowestParts.map((w) => `${w.table} ${w.parts} part${w.parts === 1 ? '' : 's'} ${sec(w.ms)}`).join(', ')}${published.written.length > 6 ? ` and ${published.written.length - 6} more tables` : ''}`);
  }
  const models = transform?.models ?? [];
  const slowest = [...models].sort((a, b) => b.ms - a.ms).slice(0, 6);
  if (slowest.length) say(`  slowest models: ${slowest.map((m) => `${m.model} ${(m.ms / 1000).toFixed(2)} s`).join(', ')}`);
  // On an incremental run, every model that did any work, with how: where its seconds go.
  const worked = models.filter((m) => m.mode !== 'unchanged' && m.mode !== 'view');
  if (transform?.fullReason === null && worked.length) say(`  per model: ${worked.map((m) => `${m.model.replace(/^\w+\./, '')} ${m.mode} ${(m.ms / 1000).toFixed(2)} s`).join(', ')}`);
  say(`  peak RSS of the process when each step ended: ${r.steps.map((s) => `${s.name} ${s.peakRssMb ?? '?'} MB`).join(', ')}`);
  say(`  ingest ${ingest.rowsRead.toLocaleString('en')} rows at ${Math.round(rate).toLocaleString('en')} rows/s (${(rate / baselineRowsPerS).toFixed(2)}× DuckDB read_csv)`);
  return { r, ms, cpu };
};
// The forecast step (models/) is left out: these are the warehouse's figures, and the models'
// fitting in JavaScript would dominate them at this size.
const steps = ['ingest', 'transform', 'reconcile', 'publish'];
// The ten-million run shows its progress (on stderr) as it goes.
// `--reuse`: the full run was made before in this folder (kept with `--keep --full-only`, and
// copied before each use: the runs below add to it); its time is read back, not measured again.
const fullFile = path.join(dir, 'full-run.json');
const full = kept
  ? { ms: kept.ms }
  : describe('full run', await timed(() => runPipeline({ dataDir: dir, coreUrl, quiet: !values['full-only'], job: 'bench', steps })));
if (values.reuse) say(`full run (measured before, read from ${fullFile}): ${(full.ms / 1000).toFixed(2)} s`);
else fs.writeFileSync(fullFile, JSON.stringify({ ms: full.ms, baseline: baselineRowsPerS }));
const baselineMs = Number(values['baseline-ms']);
if (!values.reuse) say(`full run / read_csv baseline: ${(full.ms / baselineMs).toFixed(2)}×; peak RSS of the pipeline process so far: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

// The floor, from the same landed events, then the pipeline's time over it per phase.
if (!values.reuse && 'r' in full) {
  const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--phase', 'floor', '--dir', dir, '--invoices', String(invoices)], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`floor phase failed (${child.status ?? child.signal})`);
  const f = JSON.parse(fs.readFileSync(path.join(dir, 'floor.json'), 'utf8')) as FloorResult;
  const step = (name: string) => full.r.steps.find((s) => s.name === name)?.ms ?? 0;
  const detail = full.r.steps.find((s) => s.name === 'transform')?.detail as { stagedMs?: number; models?: { ms: number }[] };
  const pipelineModelsMs = (detail.models ?? []).reduce((a, m) => a + m.ms, 0);
  const floorTotal = baselineMs + f.stagingMs + f.modelsMs + f.parquetMs;
  const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  say(
    `pipeline ÷ floor: ingest ${x(step('ingest'), baselineMs)} read_csv; transform ${x(step('transform'), f.stagingMs + f.modelsMs)} (staging ${x(detail.stagedMs ?? 0, f.stagingMs)}, models ${x(pipelineModelsMs, f.modelsMs)}); publish ${x(step('publish'), f.parquetMs)}`,
  );
  const baselineCpu = Number(values['baseline-cpu']);
  const cpu = (name: string) => full.r.steps.find((s) => s.name === name)?.cpuMs ?? 0;
  say(
    `pipeline ÷ floor in CPU seconds: ingest ${(cpu('ingest') / 1000).toFixed(1)} ÷ read_csv ${baselineCpu.toFixed(1)} = ${x(cpu('ingest'), baselineCpu * 1000)}; transform ${(cpu('transform') / 1000).toFixed(1)} ÷ ${((f.stagingCpuMs + f.modelsCpuMs) / 1000).toFixed(1)} (staging ${(f.stagingCpuMs / 1000).toFixed(1)} + models ${(f.modelsCpuMs / 1000).toFixed(1)}) = ${x(cpu('transform'), f.stagingCpuMs + f.modelsCpuMs)}; publish ${(cpu('publish') / 1000).toFixed(1)} ÷ ${(f.parquetCpuMs / 1000).toFixed(1)} = ${x(cpu('publish'), f.parquetCpuMs)}`,
  );
  say(`in CPU seconds (every thread): full run ${full.cpu.toFixed(1)} s ÷ floor ${(baselineCpu + f.cpuS).toFixed(1)} s (read_csv ${baselineCpu.toFixed(1)} + ${f.cpuS.toFixed(1)}) = ${x(full.cpu, baselineCpu + f.cpuS)}`);
  say(`full run ${(full.ms / 1000).toFixed(2)} s ÷ floor ${(floorTotal / 1000).toFixed(2)} s (read_csv + staging + models + Parquet) = ${x(full.ms, floorTotal)}; the floor itself is ${x(floorTotal, baselineMs)} read_csv`);
}
if (values['full-only']) {
  say(`peak RSS of the pipeline process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  process.exit(0);
}

const more = Math.max(1, Math.round(invoices / 100));
const added = writeHistory(db, invoices + 1, more, false);
db.close();
say(`added ${more.toLocaleString('en')} invoices, ${added.toLocaleString('en')} events (${((100 * added) / events).toFixed(1)} % more)`);
const inc = describe('incremental run', await timed(() => runPipeline({ dataDir: dir, coreUrl, quiet: true, job: 'bench', steps })));
say(`incremental / full: ${((100 * inc.ms) / full.ms).toFixed(1)} %`);
// A second 1 % on top: the tables now carry the first update's changes, as they do in service.
const db2 = new SQLite(coreFile);
const again = writeHistory(db2, invoices + more + 1, more, false);
db2.close();
say(`added ${more.toLocaleString('en')} invoices more, ${again.toLocaleString('en')} events`);
const inc2 = describe('second incremental run', await timed(() => runPipeline({ dataDir: dir, coreUrl, quiet: true, job: 'bench', steps })));
say(`second incremental / full: ${((100 * inc2.ms) / full.ms).toFixed(1)} %`);
// Then 1 % runs go on until one is due to vacuum the warehouse file (pipelines/compact.ts) and
// does: the compaction then merges what that many runs left, as it does in service, and the
// average is that of the whole cycle (every run after the full one, the compacting one included).
const cycle = [inc, inc2];
let compacting: Awaited<ReturnType<typeof timed>> | null = null;
for (let k = 2; compacting === null; k++) {
  const dbk = new SQLite(coreFile);
  writeHistory(dbk, invoices + k * more + 1, more, false);
  dbk.close();
  // A run well past the spare row groups compacts even if the rule did not say so: the bench ends.
  const force = k >= SPARE_ROW_GROUPS + 8;
  const run = await timed(() => runPipeline({ dataDir: dir, coreUrl, quiet: true, job: 'bench', steps, compact: force }));
  cycle.push(run);
  if (run.r.compacted) compacting = run;
  else say(`incremental run ${k + 1}: ${(run.ms / 1000).toFixed(2)} s (${run.cpu.toFixed(1)} s CPU, load average ${os.loadavg()[0]!.toFixed(1)}), closing ${(run.r.overhead.close.ms / 1000).toFixed(2)} s`);
}
say(`added ${more.toLocaleString('en')} invoices more before each run`);
describe(`incremental run ${cycle.length}, due to compact`, compacting);
const ordinary = cycle.filter((c) => c !== compacting);
const ordinaryMean = ordinary.reduce((a, c) => a + c.ms, 0) / ordinary.length;
const ordinaryCpu = ordinary.reduce((a, c) => a + c.cpu, 0) / ordinary.length;
const average = cycle.reduce((a, c) => a + c.ms, 0) / cycle.length;
say(
  `compacting incremental / full: ${((100 * compacting.ms) / full.ms).toFixed(1)} % (compaction itself about ${((compacting.ms - ordinaryMean) / 1000).toFixed(2)} s, ${(compacting.cpu - ordinaryCpu).toFixed(1)} s CPU: that run less the mean of the ${ordinary.length} before it); average incremental run over the cycle of ${cycle.length} runs, the compacting one included: ${(average / 1000).toFixed(2)} s = ${((100 * average) / full.ms).toFixed(1)} % of full`,
);
say(`peak RSS of the pipeline process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
