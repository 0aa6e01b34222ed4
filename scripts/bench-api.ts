// npm run bench:api — drives the HTTP API with autocannon and prints requests/s and p50/p99
// latency beside the same rows written directly with the core's own database settings in the
// same run (the baseline):
//   - SQLite (a fresh file): order create, order submit for a customer who already has
//     BENCH_APPROVED_ORDERS (default 10,000) approved orders — beside the same submissions
//     called in-process and the credit check's figures read maintained and recomputed from
//     history —, invoice list, 10 connections;
//   - PostgreSQL (a fresh database on CASHLOOP_BENCH_PG_URL, default the local server), when it
//     answers: order create and payment record with 10 and 50 connections, the pool sized by
//     CASHLOOP_DB_POOL_SIZE (default: as many as the connections).
// `npm run bench:api -- --profile`: where an order creation's time goes instead (SQLite, one
// request at a time, in-process): the direct insert, the service's SQL (statements and the
// commit's sync) and its own work, then the HTTP layer (authentication and validation before
// the handler, serialisation after), the Idempotency-Key and the request log, each measured
// as the difference it makes (BENCH_PROFILE_ORDERS, default 1,000 each).
// `npm run bench:api -- --submit-profile`: where an order submission's time goes instead
// (SQLite, in-process, BENCH_PROFILE_WORKERS (10) at once for a customer with
// BENCH_APPROVED_ORDERS approved orders, BENCH_PROFILE_ORDERS (2,000) submissions): this
// process's CPU per submission, and the time in each SQL statement (the commit's sync among
// them) beside the service's own work.
// `npm run bench:api -- --payment-profile`: where a payment's time goes on PostgreSQL instead:
// the statements one recording sends, then BENCH_PROFILE_WORKERS (10) at once
// (BENCH_PROFILE_PAYMENTS, default 200).
// BENCH_DB=sqlite|postgres|both (default both), BENCH_SECONDS (default 10), BENCH_CONNECTIONS
// (SQLite, default 10), BENCH_PG_CONNECTIONS (default "10,50"), BENCH_PG_SCENARIOS (default
// "order,payment": which PostgreSQL scenarios run, with their baselines).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { openCore, closeCore, type Core } from '../src/core.ts';
import { createCustomer } from '../src/customers/customer.service.ts';
import { createProduct } from '../src/catalog/product.service.ts';
import { receiveStock } from '../src/catalog/inventory.service.ts';
import { createOrder } from '../src/orders/order.service.ts';
import { submitOrder } from '../src/credit/credit.service.ts';
import { createShipment } from '../src/shipping/shipment.service.ts';
import { recordPayment } from '../src/payments/payment.service.ts';
import { setSetting } from '../src/settings/settings.service.ts';
import { buildServer } from '../src/api/server.ts';
import { sqliteSynchronous } from '../src/db/connection.ts';
import { createApiKey } from '../src/api/keys.service.ts';
import { rebuildExposure } from '../src/exposure/exposure.service.ts';
import { groupCommitStats } from '../src/core.ts';
import { exposureFromHistory, maintainedExposure } from '../src/exposure/exposure.repository.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const which = process.env.BENCH_DB ?? 'both';
const pgAdmin = process.env.CASHLOOP_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Figure {
  perSecond: number;
  p50: number;
  p99: number;
}

async function serve(core: Core) {
  const { key } = await createApiKey(core, { role: 'admin', name: 'bench' }, 'bench');
  const app = await buildServer(core, { rateLimitPerMinute: 100_000_000 });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return { app, base, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };
}

function drive(title: string, opts: autocannon.Options): Promise<Figure> {
  return new Promise<autocannon.Result>((resolve, reject) => {
    autocannon({ duration: seconds, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  }).then((res) => {
    if (res.non2xx > 0 || res.errors > 0) throw new Error(`${title}: ${res.non2xx} responses were not 2xx and ${res.errors} failed; the figures would not mean anything`);
    console.log(`${title.padEnd(28)} ${res.requests.average.toFixed(0).padStart(6)} req/s  p50 ${res.latency.p50} ms  p99 ${res.latency.p99} ms  (0 non-2xx, 0 errors)`);
    return { perSecond: res.requests.average, p50: res.latency.p50, p99: res.latency.p99 };
  });
}

const share = (api: number, direct: number) => `${((api / direct) * 100).toFixed(0)} %`;

/** The load average of the machine (1, 5, 15 minutes): the figures are read beside it. */
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' / ');

/** p50 and p99 of a list of durations in ms. */
function percentiles(times: number[]): { p50: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0) * 100) / 100;
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Writes `count` orders of 30.00 (one line of two widgets) for a customer straight into the
 * tables, in `status`: the history a long-standing customer has, made in seconds instead of
 * through ten thousand requests. Answers their ids. The maintained exposure is rebuilt after.
 */
async function seedOrders(core: Core, customerId: number, status: 'draft' | 'approved', count: number): Promise<number[]> {
  const now = new Date().toISOString();
  const ids: number[] = [];
  await core.db.kysely.transaction().execute(async (trx) => {
    for (let done = 0; done < count; done += 500) {
      const n = Math.min(500, count - done);
      const rows = await trx
        .insertInto('orders')
        .values(Array.from({ length: n }, () => ({
          customer_id: customerId, status, currency: 'EUR', order_date: now.slice(0, 10), idempotency_key: null, external_id: null, subtotal_minor: 2500, discount_minor: 0, tax_minor: 500, total_minor: 3000,
          cancel_reason: null, created_at: now, submitted_at: status === 'draft' ? null : now, approved_at: status === 'draft' ? null : now, shipped_at: null, delivered_at: null, invoiced_at: null, paid_at: null, cancelled_at: null, updated_at: now,
        })))
        .returning('id')
        .execute();
      await trx
        .insertInto('order_lines')
        .values(rows.map((r) => ({ order_id: r.id, line_no: 1, product_id: 1, quantity: 2, unit_price_minor: 1250, discount_bp: 0, tax_rate_bp: 2000, gross_minor: 2500, discount_minor: 0, net_minor: 2500, tax_minor: 500, total_minor: 3000, reserved_qty: 0, shipped_qty: 0, invoiced_qty: 0 })))
        .execute();
      ids.push(...rows.map((r) => r.id));
    }
  });
  return ids;
}

async function seedCatalog(core: Core, customers: number) {
  const ids: number[] = [];
  for (let i = 0; i < customers; i++) ids.push((await createCustomer(core, { name: `Bench ${i}`, creditLimit: '1000000000', currency: 'EUR' }, 'bench')).id);
  await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'bench');
  await receiveStock(core, { sku: 'WIDGET', quantity: 100_000_000 }, 'bench');
  return ids;
}

async function benchSqlite(): Promise<void> {
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-bench-api-'));
  const core = await openCore({ url: `sqlite:${path.join(dir, 'cashloop.db')}` });
  const [customer] = await seedCatalog(core, 1);
  const { app, base, headers } = await serve(core);
  console.log(`\nSQLite: ${connections} connections, ${seconds} s per scenario, a fresh file at ${dir}`);
  const body = JSON.stringify({ customerId: customer, lines: [{ sku: 'WIDGET', quantity: 2 }] });
  const commits = (since: { commits: number; changes: number; writes: number }) => {
    const now = groupCommitStats(core);
    const c = now.commits - since.commits;
    const n = now.changes - since.changes;
    const w = now.writes - since.writes;
    const answers = w > 0 ? ` and ${w.toLocaleString('en')} stored answers of Idempotency-Keys` : '';
    return `${n.toLocaleString('en')} changes${answers} in ${c.toLocaleString('en')} synced commits (${(n / Math.max(1, c)).toFixed(1)} changes per commit)`;
  };
  let before = groupCommitStats(core);
  const created = await drive('order create', { url: `${base}/orders`, method: 'POST', body, headers, connections });
  console.log(`  group commit: ${commits(before)}`);
  before = groupCommitStats(core);
  let keyNo = 0;
  const keyed = await drive('order create + Idem.-Key', {
    url: `${base}/orders`, method: 'POST', body, headers, connections,
    requests: [{ setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${process.pid}-${keyNo++}` } }) }],
  });
  console.log(`  group commit: ${commits(before)}`);

  // Submission for a customer with a long history: BENCH_APPROVED_ORDERS approved orders
  // already on the account, and drafts enough for the run; each request submits the next.
  const history = Number(process.env.BENCH_APPROVED_ORDERS ?? 10_000);
  const heavy = (await createCustomer(core, { name: 'Bench history', creditLimit: '1000000000', currency: 'EUR' }, 'bench')).id;
  await seedOrders(core, heavy, 'approved', history);
  const drafts = await seedOrders(core, heavy, 'draft', seconds * 4_000 + 3_000);
  await rebuildExposure(core, 'bench');
  let next = 0;
  before = groupCommitStats(core);
  const submitted = await drive(`order submit (${history.toLocaleString('en')} approved)`, {
    url: base,
    headers,
    connections,
    requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, path: `/orders/${drafts[next++]}/submit` }) }],
  });
  console.log(`  group commit: ${commits(before)}`);
  // Baseline: the same submissions (credit check, approval, stock, event) called in-process, one after the other.
  const direct: number[] = [];
  const t1 = performance.now();
  while (performance.now() - t1 < 3_000 && next < drafts.length) {
    const s = performance.now();
    await submitOrder(core, drafts[next++]!, 'bench');
    direct.push(performance.now() - s);
  }
  const directRate = direct.length / ((performance.now() - t1) / 1000);
  const dp = percentiles(direct);
  console.log(`${'baseline: submitOrder direct'.padEnd(28)} ${directRate.toFixed(0).padStart(6)} orders/s  p50 ${dp.p50} ms  p99 ${dp.p99} ms  (the same submission called in-process, one at a time)`);
  const today = new Date().toISOString().slice(0, 10);
  const timed = async (read: () => Promise<unknown>) => {
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const s = performance.now();
      await read();
      times.push(performance.now() - s);
    }
    return percentiles(times);
  };
  const kept = await timed(() => maintainedExposure(core.db.kysely, heavy, today));
  const summed = await timed(() => exposureFromHistory(core.db.kysely, heavy, today));
  console.log(`credit check figures of that customer: maintained row p50 ${kept.p50} ms; recomputed from its ${history.toLocaleString('en')}+ orders (what each check read before) p50 ${summed.p50} ms`);
  console.log(`order submit over HTTP: ${share(submitted.perSecond, directRate)} of the in-process submissions, p99 ${submitted.p99} ms`);
  await drive('invoice list', { url: `${base}/invoices?customerId=${customer}&limit=50`, method: 'GET', headers, connections });
  await app.close();
  await closeCore(core);

  // Baseline: the same order rows (order, line, status history, event) written straight into
  // SQLite with prepared statements and the core's pragmas, one transaction per order.
  const db = new SQLite(path.join(dir, 'cashloop.db'));
  db.pragma('journal_mode = WAL');
  // The core's own durability (CASHLOOP_SQLITE_SYNCHRONOUS, default full: every commit synced).
  db.pragma(`synchronous = ${sqliteSynchronous()}`);
  const now = new Date().toISOString();
  const insOrder = db.prepare(`insert into orders (customer_id, status, currency, order_date, subtotal_minor, discount_minor, tax_minor, total_minor, created_at, updated_at) values (?, 'draft', 'EUR', ?, 2500, 0, 500, 3000, ?, ?)`);
  const insLine = db.prepare(`insert into order_lines (order_id, line_no, product_id, quantity, unit_price_minor, discount_bp, tax_rate_bp, gross_minor, discount_minor, net_minor, tax_minor, total_minor, reserved_qty, shipped_qty, invoiced_qty) values (?, 1, 1, 2, 1250, 0, 2000, 2500, 0, 2500, 500, 3000, 0, 0, 0)`);
  const insHist = db.prepare(`insert into order_status_history (order_id, from_status, to_status, actor, at) values (?, null, 'draft', 'bench', ?)`);
  const insEvent = db.prepare(`insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at) values ('order.created', 'order', ?, ?, 'bench', ?)`);
  const one = db.transaction(() => {
    const id = Number(insOrder.run(customer, now.slice(0, 10), now, now).lastInsertRowid);
    insLine.run(id);
    insHist.run(id, now);
    insEvent.run(String(id), '{}', now);
  });
  const rate = () => {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 3000) {
      one();
      n++;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const baseline = rate();
  // For reference: the same inserts without a sync per commit (what an earlier baseline measured).
  db.pragma('synchronous = normal');
  const unsynced = rate();
  db.close();
  console.log(`${'baseline: direct inserts'.padEnd(28)} ${baseline.toFixed(0).padStart(6)} orders/s written directly with better-sqlite3 (same rows, one transaction each, synchronous=${sqliteSynchronous()} as the core)`);
  console.log(`${'  (synchronous=normal)'.padEnd(28)} ${unsynced.toFixed(0).padStart(6)} orders/s, the same inserts not synced at each commit (not the core's durability)`);
  console.log(`order create over HTTP: ${share(created.perSecond, baseline)} of the direct-insert baseline, p99 ${created.p99} ms; with an Idempotency-Key ${share(keyed.perSecond, baseline)}, p99 ${keyed.p99} ms`);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Time spent in SQLite, by kind of statement, while `sqlTiming.on`: every statement the core prepares is wrapped. */
const sqlTiming = { on: false, commit: 0, statements: 0, reads: 0 };
function timeSqlite(): void {
  const proto = (SQLite as unknown as { prototype: { prepare(source: string): unknown } }).prototype;
  const prepare = proto.prepare;
  proto.prepare = function (this: unknown, source: string) {
    const stmt = prepare.call(this, source) as Record<string, (...args: unknown[]) => unknown>;
    const kind = /^commit/i.test(source) ? 'commit' : /^select/i.test(source) ? 'reads' : 'statements';
    for (const method of ['all', 'run', 'get']) {
      const call = stmt[method]!;
      stmt[method] = (...args: unknown[]) => {
        if (!sqlTiming.on) return call.apply(stmt, args);
        const t = performance.now();
        try {
          return call.apply(stmt, args);
        } finally {
          sqlTiming[kind] += performance.now() - t;
        }
      };
    }
    return stmt;
  };
}

/** Where an order creation's time goes (`--profile`): each part measured as the difference it makes, one request at a time. */
async function profileCreation(): Promise<void> {
  const n = Number(process.env.BENCH_PROFILE_ORDERS ?? 1_000);
  timeSqlite();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-bench-profile-'));
  const file = path.join(dir, 'cashloop.db');
  const core = await openCore({ url: `sqlite:${file}` });
  const customer = (await seedCatalog(core, 1))[0]!;
  const { key } = await createApiKey(core, { role: 'admin', name: 'bench' }, 'bench');
  const quiet = await buildServer(core, { rateLimitPerMinute: 100_000_000 });
  const logged = await buildServer(core, { rateLimitPerMinute: 100_000_000, logger: { level: 'info', stream: { write: () => undefined } } });
  await quiet.ready();
  await logged.ready();
  const lines = [{ sku: 'WIDGET', quantity: 2 }];
  const body = JSON.stringify({ customerId: customer, lines });
  const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
  const each = async (work: (i: number) => Promise<unknown>) => {
    for (let i = 0; i < 50; i++) await work(-1 - i); // warm-up
    const t = performance.now();
    for (let i = 0; i < n; i++) await work(i);
    return (performance.now() - t) / n;
  };
  const post = (app: typeof quiet, extra: Record<string, string> = {}) => async () => {
    const res = await app.inject({ method: 'POST', url: '/orders', payload: body, headers: { ...headers, ...extra } });
    if (res.statusCode !== 201) throw new Error(`POST /orders answered ${res.statusCode}: ${res.body}`);
  };

  const direct = new SQLite(file);
  direct.pragma('journal_mode = WAL');
  direct.pragma(`synchronous = ${sqliteSynchronous()}`);
  const now = new Date().toISOString();
  const insOrder = direct.prepare(`insert into orders (customer_id, status, currency, order_date, subtotal_minor, discount_minor, tax_minor, total_minor, created_at, updated_at) values (?, 'draft', 'EUR', ?, 2500, 0, 500, 3000, ?, ?)`);
  const insLine = direct.prepare(`insert into order_lines (order_id, line_no, product_id, quantity, unit_price_minor, discount_bp, tax_rate_bp, gross_minor, discount_minor, net_minor, tax_minor, total_minor, reserved_qty, shipped_qty, invoiced_qty) values (?, 1, 1, 2, 1250, 0, 2000, 2500, 0, 2500, 500, 3000, 0, 0, 0)`);
  const insHist = direct.prepare(`insert into order_status_history (order_id, from_status, to_status, actor, at) values (?, null, 'draft', 'bench', ?)`);
  const insEvent = direct.prepare(`insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at) values ('order.created', 'order', ?, '{}', 'bench', ?)`);
  const one = direct.transaction(() => {
    const id = Number(insOrder.run(customer, now.slice(0, 10), now, now).lastInsertRowid);
    insLine.run(id);
    insHist.run(id, now);
    insEvent.run(String(id), now);
  });
  const directMs = await each(async () => one());
  direct.close();

  sqlTiming.on = true;
  const serviceMs = await each(() => createOrder(core, { customerId: customer, lines }, 'bench'));
  sqlTiming.on = false;
  const sql = { commit: sqlTiming.commit / (n + 50), statements: sqlTiming.statements / (n + 50), reads: sqlTiming.reads / (n + 50) };
  const httpMs = await each(post(quiet));
  const idemMs = await each(async (i) => post(quiet, { 'idempotency-key': `profile-${i}-${Math.random()}` })());
  const loggedMs = await each(post(logged));
  await quiet.close();
  await logged.close();
  await closeCore(core);
  fs.rmSync(dir, { recursive: true, force: true });

  const ms = (x: number) => `${x.toFixed(3).padStart(7)} ms`;
  const row = (what: string, x: number, note = '') => console.log(`  ${what.padEnd(50)} ${ms(x)}${note ? `  ${note}` : ''}`);
  console.log(`\nWhere an order creation's time goes (SQLite, synchronous=${sqliteSynchronous()}, one request at a time, in-process, mean of ${n}):`);
  row('direct insert (baseline: the same rows)', directMs);
  row('service createOrder, in all', serviceMs, `= ${(serviceMs / directMs).toFixed(1)}× the direct insert`);
  row('  SQL: the commit (its sync to disk)', sql.commit);
  row('  SQL: inserts and the event row', sql.statements);
  row('  SQL: reads (customer, product, lines)', sql.reads);
  row('  the service\'s own work (validation, pricing, query building, event JSON)', Math.max(0, serviceMs - sql.commit - sql.statements - sql.reads));
  row('POST /orders over the HTTP layer (no log), in all', httpMs, `= ${(httpMs / directMs).toFixed(1)}× the direct insert`);
  row('  the HTTP layer: authentication, parsing, validation, serialisation', httpMs - serviceMs);
  row('with an Idempotency-Key: what the key adds', idemMs - httpMs);
  row('with the request log at info: what the log adds', loggedMs - httpMs);
  console.log(`order creation in-process over HTTP: ${share(directMs, httpMs)} of the direct-insert rate`);
}

/**
 * Time spent in each SQL statement, by its text, while `bySql.on`: every statement the core
 * prepares is wrapped. Wall time and this process's CPU time (a loaded machine stretches the
 * first, not the second; a sync to disk is wall time without CPU).
 */
const bySql = { on: false, stats: new Map<string, { n: number; ms: number; cpuMs: number }>() };
function timeEachStatement(): void {
  const proto = (SQLite as unknown as { prototype: { prepare(source: string): unknown } }).prototype;
  const prepare = proto.prepare;
  proto.prepare = function (this: unknown, source: string) {
    const stmt = prepare.call(this, source) as Record<string, (...args: unknown[]) => unknown>;
    for (const method of ['all', 'run', 'get', 'iterate']) {
      const call = stmt[method]!;
      stmt[method] = (...args: unknown[]) => {
        if (!bySql.on) return call.apply(stmt, args);
        const t = performance.now();
        const c = process.cpuUsage();
        try {
          return call.apply(stmt, args);
        } finally {
          const used = process.cpuUsage(c);
          const e = bySql.stats.get(source) ?? { n: 0, ms: 0, cpuMs: 0 };
          e.n++;
          e.ms += performance.now() - t;
          e.cpuMs += (used.user + used.system) / 1000;
          bySql.stats.set(source, e);
        }
      };
    }
    return stmt;
  };
}

/**
 * Where an order submission's time goes (`--submit-profile`): submissions of a customer with
 * a long history, several at once in-process (they share group commits as the server's do),
 * this process's CPU per submission, and the time of each SQL statement.
 */
async function profileSubmission(): Promise<void> {
  const n = Number(process.env.BENCH_PROFILE_ORDERS ?? 2_000);
  const workers = Number(process.env.BENCH_PROFILE_WORKERS ?? 10);
  const history = Number(process.env.BENCH_APPROVED_ORDERS ?? 10_000);
  timeEachStatement();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-bench-submit-'));
  const core = await openCore({ url: `sqlite:${path.join(dir, 'cashloop.db')}` });
  try {
    await seedCatalog(core, 0);
    const heavy = (await createCustomer(core, { name: 'Bench history', creditLimit: '1000000000', currency: 'EUR' }, 'bench')).id;
    await seedOrders(core, heavy, 'approved', history);
    const drafts = await seedOrders(core, heavy, 'draft', n + 200);
    await rebuildExposure(core, 'bench');
    let next = 0;
    for (let i = 0; i < 200; i++) await submitOrder(core, drafts[next++]!, 'bench'); // warm-up
    const before = groupCommitStats(core);
    bySql.on = true;
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(Array.from({ length: workers }, async () => {
      while (next < drafts.length) await submitOrder(core, drafts[next++]!, 'bench');
    }));
    const wall = performance.now() - t0;
    const used = process.cpuUsage(cpu);
    bySql.on = false;
    const after = groupCommitStats(core);
    const per = (ms: number) => `${(ms / n).toFixed(3).padStart(7)} ms`;
    const cpuMs = (used.user + used.system) / 1000;
    const sqlMs = [...bySql.stats.values()].reduce((a, e) => a + e.ms, 0);
    const sqlCpu = [...bySql.stats.values()].reduce((a, e) => a + e.cpuMs, 0);
    console.log(`
Where an order submission's time goes (SQLite, synchronous=${sqliteSynchronous()}, ${workers} at once in-process, ${n.toLocaleString('en')} submissions, ${history.toLocaleString('en')} approved orders on the customer):`);
    console.log(`  ${(n / (wall / 1000)).toFixed(0)} submissions/s; ${(cpuMs / n).toFixed(3)} ms of this process's CPU per submission (user ${(used.user / 1000 / n).toFixed(3)}, system ${(used.system / 1000 / n).toFixed(3)}); ${((after.changes - before.changes) / Math.max(1, after.commits - before.commits)).toFixed(1)} submissions per synced commit`);
    console.log(`  CPU per submission: ${per(cpuMs).trim()}, of which ${per(sqlCpu).trim()} in SQLite's statements (${((sqlCpu / cpuMs) * 100).toFixed(0)} %) and ${per(cpuMs - sqlCpu).trim()} in JavaScript (query building, rules, event JSON, the group commit)`);
    console.log(`  wall per submission: ${per(wall).trim()}, of which ${per(sqlMs).trim()} in SQLite's statements (the commit's sync to disk included)`);
    console.log('  the statements, by wall time per submission (CPU beside it; count per submission):');
    for (const [source, e] of [...bySql.stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 15)) console.log(`  ${per(e.ms)} wall ${per(e.cpuMs)} CPU ${(e.n / n).toFixed(2).padStart(5)}×  ${source.replace(/\s+/g, ' ').slice(0, 100)}`);
  } finally {
    await closeCore(core);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The baseline on PostgreSQL: `workers` loops, each on its own pooled connection, writing the
 * rows a request writes (one transaction each) for `ms` milliseconds; returns rows per second
 * and the 99th percentile of a transaction's time.
 */
async function directPg(url: string, poolSize: number, workers: number, ms: number, write: (c: pg.PoolClient, i: number) => Promise<void>): Promise<Figure> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  pool.on('error', () => undefined);
  const times: number[] = [];
  const t0 = performance.now();
  let i = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (performance.now() - t0 < ms) {
        const c = await pool.connect();
        const s = performance.now();
        try {
          await c.query('begin');
          await write(c, i++);
          await c.query('commit');
        } finally {
          c.release();
        }
        times.push(performance.now() - s);
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  await pool.end();
  times.sort((a, b) => a - b);
  return { perSecond: times.length / elapsed, p50: Math.round(times[Math.floor(times.length * 0.5)] ?? 0), p99: Math.round(times[Math.floor(times.length * 0.99)] ?? 0) };
}

async function benchPostgres(): Promise<void> {
  const admin = new pg.Client({ connectionString: pgAdmin });
  // A connection the server ends (a restart, an administrator) fails the query in flight; it must not end the process unreported.
  admin.on('error', (error) => console.log(`PostgreSQL: the administrative connection was ended: ${error.message}`));
  try {
    await admin.connect();
  } catch (error) {
    console.log(`\nPostgreSQL: skipped, no server at ${pgAdmin.replace(/:[^:@/]*@/, ':***@')} (${(error as Error).message})`);
    return;
  }
  const name = `cashloop_bench_${process.pid}`;
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  const url = pgAdmin.replace(/\/[^/]*$/, `/${name}`);
  const list = (process.env.BENCH_PG_CONNECTIONS ?? '10,50').split(',').map(Number);
  const customersN = 100;
  try {
    for (const connections of list) {
      const poolSize = Number(process.env.CASHLOOP_DB_POOL_SIZE ?? connections);
      const core = await openCore({ url, poolSize });
      await core.db.kysely.deleteFrom('api_keys').execute();
      const customers = (await core.db.kysely.selectFrom('customers').select('id').orderBy('id').execute()).map((c) => c.id);
      if (customers.length === 0) {
        // 100 customers, each with one large open invoice the payments pay down.
        customers.push(...(await seedCatalog(core, customersN)));
        await setSetting(core, 'invoicing.trigger', 'shipment', 'bench');
        for (const c of customers) {
          const o = await createOrder(core, { customerId: c, lines: [{ sku: 'WIDGET', quantity: 100_000 }] }, 'bench');
          await submitOrder(core, o.id, 'bench');
          await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: `B${c}` }, 'bench');
        }
      }
      const { app, base, headers } = await serve(core);
      console.log(`\nPostgreSQL: ${connections} HTTP connections, pool of ${poolSize} (CASHLOOP_DB_POOL_SIZE), ${seconds} s per scenario, ${customers.length} customers`);
      const scenarios = (process.env.BENCH_PG_SCENARIOS ?? 'order,payment').split(',').map((x) => x.trim());
      let k = 0;
      let created: Figure | undefined;
      let paid: Figure | undefined;
      try {
        if (scenarios.includes('order')) created = await drive(`order create (${connections})`, {
          url: base,
          headers,
          connections,
          requests: [{ method: 'POST', path: '/orders', setupRequest: (req) => ({ ...req, body: JSON.stringify({ customerId: customers[k++ % customers.length], lines: [{ sku: 'WIDGET', quantity: 2 }] }) }) }],
        });
        let p = 0;
        if (scenarios.includes('payment')) paid = await drive(`payment record (${connections})`, {
          url: base,
          headers,
          connections,
          requests: [{ method: 'POST', path: '/payments', setupRequest: (req) => ({ ...req, body: JSON.stringify({ customerId: customers[p++ % customers.length], amount: '1.00' }) }) }],
        });
      } catch (error) {
        // Said before the server and its connections close, so the cause is not lost behind them.
        console.log(`PostgreSQL, ${connections} connections: ${(error as Error).message}`);
        throw error;
      } finally {
        await app.close();
        await closeCore(core);
      }
      const now = new Date().toISOString();
      const ms = Math.min(seconds, 5) * 1000;
      const orderDirect = created && await directPg(url, poolSize, connections, ms, async (c, i) => {
        const customer = customers[i % customers.length];
        const o = await c.query(`insert into orders (customer_id, status, currency, order_date, subtotal_minor, discount_minor, tax_minor, total_minor, created_at, updated_at) values ($1, 'draft', 'EUR', $2, 2500, 0, 500, 3000, $3, $3) returning id`, [customer, now.slice(0, 10), now]);
        const id = o.rows[0].id as number;
        await c.query(`insert into order_lines (order_id, line_no, product_id, quantity, unit_price_minor, discount_bp, tax_rate_bp, gross_minor, discount_minor, net_minor, tax_minor, total_minor, reserved_qty, shipped_qty, invoiced_qty) values ($1, 1, 1, 2, 1250, 0, 2000, 2500, 0, 2500, 500, 3000, 0, 0, 0)`, [id]);
        await c.query(`insert into order_status_history (order_id, from_status, to_status, actor, at) values ($1, null, 'draft', 'bench', $2)`, [id, now]);
        await c.query(`insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at) values ('order.created', 'order', $1, '{}', 'bench', $2)`, [String(id), now]);
      });
      const invoiceOf = new Map((await (async () => {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        const r = await c.query('select customer_id, min(id) as id from invoices group by customer_id');
        await c.end();
        return r.rows.map((x: { customer_id: number; id: number }) => [x.customer_id, x.id] as const);
      })()));
      const paymentDirect = paid && await directPg(url, poolSize, connections, ms, async (c, i) => {
        const customer = customers[i % customers.length]!;
        const pay = await c.query(`insert into payments (customer_id, currency, amount_minor, payment_date, method, status, created_at) values ($1, 'EUR', 100, $2, 'bank_transfer', 'received', $3) returning id`, [customer, now.slice(0, 10), now]);
        await c.query(`insert into payment_allocations (payment_id, invoice_id, amount_minor, rule, applied_on, reversed, created_at) values ($1, $2, 100, 'oldest_due', $3, 0, $4)`, [pay.rows[0].id, invoiceOf.get(customer), now.slice(0, 10), now]);
        await c.query(`insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at) values ('payment.recorded', 'payment', $1, '{}', 'bench', $2)`, [String(pay.rows[0].id), now]);
      });
      if (orderDirect) console.log(`${'baseline: order inserts'.padEnd(28)} ${orderDirect.perSecond.toFixed(0).padStart(6)} tx/s  p50 ${orderDirect.p50} ms  p99 ${orderDirect.p99} ms  (same rows written directly, ${connections} workers, pool of ${poolSize})`);
      if (paymentDirect) console.log(`${'baseline: payment inserts'.padEnd(28)} ${paymentDirect.perSecond.toFixed(0).padStart(6)} tx/s  p50 ${paymentDirect.p50} ms  p99 ${paymentDirect.p99} ms  (same rows written directly, ${connections} workers, pool of ${poolSize})`);
      const shares = [created && orderDirect && `order create over HTTP: ${share(created.perSecond, orderDirect.perSecond)} of the direct inserts`, paid && paymentDirect && `payment record over HTTP: ${share(paid.perSecond, paymentDirect.perSecond)} of the direct inserts`];
      console.log(shares.filter(Boolean).join('; '));
    }
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

/**
 * Where a payment's time goes on PostgreSQL (`--payment-profile`): the statements one
 * recording sends (counted and timed on the client, one payment at a time, in-process), then
 * BENCH_PROFILE_WORKERS (default 10) recording at once, with the server process's CPU per
 * payment. On a shared 2-core machine every statement is a round trip that waits for a core,
 * so the count is what the rate follows.
 */
async function profilePayment(): Promise<void> {
  const n = Number(process.env.BENCH_PROFILE_PAYMENTS ?? 200);
  const workers = Number(process.env.BENCH_PROFILE_WORKERS ?? 10);
  const admin = new pg.Client({ connectionString: pgAdmin });
  await admin.connect();
  const name = `cashloop_bench_pay_${process.pid}`;
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  const core = await openCore({ url: pgAdmin.replace(/\/[^/]*$/, `/${name}`), poolSize: workers });
  try {
    const customers = await seedCatalog(core, 10);
    await setSetting(core, 'invoicing.trigger', 'shipment', 'bench');
    for (const c of customers) {
      const o = await createOrder(core, { customerId: c, lines: [{ sku: 'WIDGET', quantity: 100_000 }] }, 'bench');
      await submitOrder(core, o.id, 'bench');
      await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: `P${c}` }, 'bench');
    }
    const spent = new Map<string, { ms: number; count: number }>();
    let counting = false;
    const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
    const query = proto.query;
    proto.query = function (this: unknown, ...args: unknown[]) {
      const first = args[0] as string | { text?: string };
      const text = (typeof first === 'string' ? first : String(first?.text)).replace(/\s+/g, ' ').slice(0, 90);
      const t = performance.now();
      const out = query.apply(this, args) as { then?: (a: () => void, b: () => void) => void };
      if (counting && typeof out?.then === 'function') {
        out.then(() => {
          const s = spent.get(text) ?? { ms: 0, count: 0 };
          s.ms += performance.now() - t;
          s.count++;
          spent.set(text, s);
        }, () => undefined);
      }
      return out;
    };
    for (let i = 0; i < 20; i++) await recordPayment(core, { customerId: customers[i % 10]!, amount: '1.00' }, 'bench');
    counting = true;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await recordPayment(core, { customerId: customers[i % 10]!, amount: '1.00' }, 'bench');
    const one = (performance.now() - t0) / n;
    counting = false;
    proto.query = query;
    const statements = [...spent.values()].reduce((a, s) => a + s.count, 0) / n;
    console.log(`\nWhere a payment's time goes (PostgreSQL, in-process, one at a time, mean of ${n}): ${one.toFixed(2)} ms, ${statements.toFixed(1)} statements`);
    for (const [text, s] of [...spent].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12)) console.log(`  ${(s.ms / n).toFixed(3).padStart(7)} ms  x${(s.count / n).toFixed(1)}  ${text}`);
    let next = 0;
    const cpu = process.cpuUsage();
    const t1 = performance.now();
    const total = n * 4;
    await Promise.all(Array.from({ length: workers }, async () => {
      while (next < total) {
        const i = next++;
        await recordPayment(core, { customerId: customers[i % 10]!, amount: '1.00' }, 'bench');
      }
    }));
    const wall = performance.now() - t1;
    const used = process.cpuUsage(cpu);
    console.log(`${workers} at once, in-process: ${(total / (wall / 1000)).toFixed(0)} payments/s, ${(((used.user + used.system) / 1000) / total).toFixed(2)} ms of this process's CPU per payment`);
  } finally {
    await closeCore(core);
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

console.log(`cashloop API benchmark (${new Date().toISOString()}, ${os.cpus().length} cores, load average ${load()})`);
if (process.argv.includes('--profile')) await profileCreation();
else if (process.argv.includes('--submit-profile')) await profileSubmission();
else if (process.argv.includes('--payment-profile')) await profilePayment();
else {
  if (which === 'sqlite' || which === 'both') await benchSqlite();
  if (which === 'postgres' || which === 'both') await benchPostgres();
}
console.log(`\nload average at the end: ${load()} (a figure taken on a shared machine is read beside its same-run baseline)`);
