// npm run bench:workspace — the workspace's list pages at size: BENCH_CUSTOMERS customers
// (default 5,000) and BENCH_INVOICES open invoices (default 100,000, imported through the core's
// invoice import), BENCH_ORDERS orders (default 2,000). For each page it prints the server time
// of BENCH_REQUESTS requests (default 20, after 2 to warm up) as p50 and p95, beside a baseline
// measured in the same run: the rows the page shows, read directly with one query. Target: p95
// under 200 ms on a quiet machine. SQLite, a fresh file in a temporary folder.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { openCore, closeCore } from '../src/core.ts';
import { ManualClock } from '../src/shared/clock.ts';
import { createCustomer } from '../src/customers/customer.service.ts';
import { createProduct } from '../src/catalog/product.service.ts';
import { receiveStock } from '../src/catalog/inventory.service.ts';
import { createOrder } from '../src/orders/order.service.ts';
import { submitOrder } from '../src/credit/credit.service.ts';
import { importHistoricalInvoice } from '../src/invoicing/invoice-import.service.ts';
import { assignCustomer } from '../src/collections/policy.service.ts';
import { addDays } from '../src/shared/dates.ts';
import { buildServer } from '../src/api/server.ts';
import { createApiKey } from '../src/api/keys.service.ts';
import { importBankStatement } from '../src/bank/bank.service.ts';

const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 5_000);
const INVOICES = Number(process.env.BENCH_INVOICES ?? 100_000);
const ORDERS = Number(process.env.BENCH_ORDERS ?? 2_000);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20);
const REPS = 50;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-bench-workspace-'));
process.env.CASHLOOP_DATA_DIR = dir;
const clock = new ManualClock('2026-03-02T09:00:00Z');
const core = await openCore({ url: `sqlite:${path.join(dir, 'cashloop.db')}`, clock });
const db = core.db.kysely;

const t0 = performance.now();
const ids: number[] = [];
for (let i = 0; i < CUSTOMERS; i++) {
  ids.push((await createCustomer(core, { name: `Customer ${i}`, creditLimit: i % 10 === 0 ? '100' : '1000000', currency: 'EUR', salesRep: `rep-${i % REPS}` }, 'bench')).id);
  if (i % 100 === 0) await assignCustomer(core, { customerId: ids[i]!, collector: `collector-${i % 7}` }, 'bench');
}
await createProduct(core, { sku: 'BENCH', name: 'Bench item', price: '10.00', taxRate: '20' }, 'bench');
await receiveStock(core, { sku: 'BENCH', quantity: 1_000_000 }, 'bench');
for (let i = 0; i < INVOICES; i++) {
  const date = addDays('2025-01-01', i % 400);
  await importHistoricalInvoice(core, { customerId: ids[i % ids.length]!, externalRef: `B${i}`, invoiceDate: date, dueDate: addDays(date, 30), amount: `${100 + (i % 900)}.00` }, 'bench');
}
for (let i = 0; i < ORDERS; i++) {
  const o = await createOrder(core, { customerId: ids[(i * 7) % ids.length]!, lines: [{ sku: 'BENCH', quantity: 1 + (i % 5) }] }, 'bench');
  if (i % 4 === 0) await submitOrder(core, o.id, 'bench');
}
// A day's bank lines nobody could match: payers on file by name, amounts no single invoice has, so
// the cash page suggests matches for each (several invoices adding up, oldest first).
const LINES = 20;
const statement = path.join(dir, 'bank-day.csv');
const bankMapping = path.resolve(import.meta.dirname, '../tests/fixtures/bank/bank-export.mapping.json');
fs.writeFileSync(statement, ['Buchungstag;Valuta;Betrag;Waehrung;Auftraggeber;IBAN;Verwendungszweck;Buchungsreferenz', ...Array.from({ length: LINES }, (_, i) => `02.03.2026;02.03.2026;${1234 + i},56;EUR;Customer ${(i * 37) % CUSTOMERS} Ltd;;Zahlung;B-${i}`)].join('\n') + '\n');
await importBankStatement(core, { file: statement, mapping: bankMapping, actor: 'bench' });
console.log(`seeded ${CUSTOMERS} customers, ${INVOICES} open invoices, ${ORDERS} orders through the core in ${((performance.now() - t0) / 1000).toFixed(0)} s`);

const { key } = await createApiKey(core, { role: 'admin', name: 'rep-1' }, 'bench');
const app = await buildServer(core, { rateLimitPerMinute: 100_000_000 });
const signIn = await app.inject({ method: 'GET', url: `/app?key=${key}`, headers: { accept: 'text/html' } });
const session = signIn.cookies.find((c) => c.name === 'cashloop_session')!.value;
const mid = ids[Math.floor(ids.length / 2)]!;

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 2; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const s = performance.now();
    await fn();
    ms.push(performance.now() - s);
  }
  ms.sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95) };
}

const get = async (url: string) => {
  const r: LightMyRequestResponse = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' }, cookies: { cashloop_session: session } });
  if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}: ${r.body.slice(0, 300)}`);
};

/** Each page, and the rows it shows read directly. */
const pages: [string, string, () => Promise<unknown>][] = [
  ['customers, first page', '/app/customers', () => db.selectFrom('customers').selectAll().orderBy('id').limit(50).execute()],
  ['customers, a middle page', `/app/customers?after=${mid}`, () => db.selectFrom('customers').selectAll().where('id', '>', mid).orderBy('id').limit(50).execute()],
  ['customer 360', `/app/customers/${mid}`, () => db.selectFrom('invoices').selectAll().where('customer_id', '=', mid).execute()],
  // Order entry's customer search: names containing the text, a page of 8 (and one to know there is a next).
  ['order entry, customer search', '/app/orders/customers?q=customer%2012', () => db.selectFrom('customers').selectAll().where(sql<boolean>`lower(name) like ${'%customer 12%'}`).orderBy('name').limit(9).execute()],
  ['order board', '/app/orders', () => db.selectFrom('orders').selectAll().orderBy('id').limit(25).execute()],
  ['order board, on hold', '/app/orders?status=credit_hold', () => db.selectFrom('orders').selectAll().where('status', '=', 'credit_hold').orderBy('id').limit(25).execute()],
  ['credit holds', '/app/credit', () => db.selectFrom('orders').selectAll().where('status', '=', 'credit_hold').orderBy('id').limit(20).execute()],
  // The worklist's baseline: open invoices summed per customer, the largest 25 — the grouped read the account worklist starts from.
  ['collections worklist', '/app/collections', () => db.selectFrom('invoices').select(['customer_id', (e) => e.fn.sum('total_minor').as('s')]).where('status', 'in', ['open', 'partially_paid']).groupBy('customer_id').orderBy('s', 'desc').limit(25).execute()],
  ['worklist, one collector', '/app/collections?collector=collector-3', () => db.selectFrom('invoices').select(['customer_id', (e) => e.fn.sum('total_minor').as('s')]).where('customer_id', 'in', db.selectFrom('customers').select('id').where('collector', '=', 'collector-3')).where('status', 'in', ['open', 'partially_paid']).groupBy('customer_id').orderBy('s', 'desc').limit(25).execute()],
  ['sales portfolio', '/app/sales?rep=rep-1', () => db.selectFrom('customers').selectAll().where('sales_rep', '=', 'rep-1').orderBy('id').limit(20).execute()],
  ['cash, with suggestions', '/app/cash', () => db.selectFrom('bank_entries').selectAll().where('status', '=', 'unmatched').limit(20).execute()],
  ['logistics', '/app/logistics', () => db.selectFrom('orders').selectAll().where('status', 'in', ['approved', 'partially_shipped']).orderBy('id').limit(15).execute()],
];

console.log(`\n${REQUESTS} requests per page (server time, in process), beside the same rows read directly:`);
console.log(`${'page'.padEnd(30)} ${'p50'.padStart(9)} ${'p95'.padStart(9)}   ${'direct p95'.padStart(10)}   target p95 < 200 ms`);
for (const [label, url, direct] of pages) {
  const page = await time(() => get(url));
  const base = await time(direct);
  console.log(`${label.padEnd(30)} ${page.p50.toFixed(1).padStart(7)} ms ${page.p95.toFixed(1).padStart(7)} ms   ${base.p95.toFixed(1).padStart(7)} ms   ${page.p95 < 200 ? 'met' : 'missed'}`);
}
console.log(`\n${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end`);
await app.close();
await closeCore(core);
fs.rmSync(dir, { recursive: true, force: true });
