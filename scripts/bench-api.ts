// npm run bench:api — drives the HTTP API with autocannon on a fresh SQLite database (order
// create, order submit, invoice list) and prints requests/s and p50/p99 latency, beside the
// same order inserts done directly with better-sqlite3 in the same run (the baseline).
// Target on a 2-core machine: ≥ 2,000 order creations/s with p99 ≤ 25 ms.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import SQLite from 'better-sqlite3';
import { openCore, closeCore } from '../src/core.ts';
import { createCustomer } from '../src/customers/customer.service.ts';
import { createProduct } from '../src/catalog/product.service.ts';
import { receiveStock } from '../src/catalog/inventory.service.ts';
import { buildServer } from '../src/api/server.ts';
import { createApiKey } from '../src/api/keys.service.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-bench-api-'));
const core = await openCore({ url: `sqlite:${path.join(dir, 'cashloop.db')}` });
const customer = await createCustomer(core, { name: 'Bench Ltd', creditLimit: '1000000000', currency: 'EUR' }, 'bench');
await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'bench');
await receiveStock(core, { sku: 'WIDGET', quantity: 100_000_000 }, 'bench');
const { key } = await createApiKey(core, { role: 'admin', name: 'bench' }, 'bench');
const app = await buildServer(core, { rateLimitPerMinute: 100_000_000 });
await app.listen({ port: 0, host: '127.0.0.1' });
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };

function run(title: string, opts: Partial<autocannon.Options>): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url: base, connections, duration: seconds, headers, ...opts } as autocannon.Options, (err, result) => (err ? reject(err) : resolve(result)));
  }).then((r) => {
    const res = r as autocannon.Result;
    if (res.non2xx > 0) throw new Error(`${title}: ${res.non2xx} responses were not 2xx; the figures would not mean anything`);
    console.log(`${title.padEnd(16)} ${res.requests.average.toFixed(0).padStart(6)} req/s  p50 ${res.latency.p50} ms  p99 ${res.latency.p99} ms  (${res.non2xx} non-2xx, ${res.errors} errors)`);
    return res;
  });
}

console.log(`cashloop API benchmark: ${connections} connections, ${seconds} s per scenario, SQLite at ${dir}`);
const body = JSON.stringify({ customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 2 }] });
const created = await run('order create', { method: 'POST', url: `${base}/orders`, body });
const ordersMade = Number((await core.db.kysely.selectFrom('orders').select((eb) => eb.fn.max('id').as('m')).executeTakeFirstOrThrow()).m);
let next = 0;
await run('order submit', { requests: [{ method: 'POST', setupRequest: (req) => ({ ...req, path: `/orders/${(next++ % ordersMade) + 1}/submit` }) }] });
await run('invoice list', { method: 'GET', url: `${base}/invoices?customerId=${customer.id}&limit=50` });
await app.close();
await closeCore(core);

// Baseline: the same order rows (order, line, status history, event) written straight into
// SQLite with prepared statements, one transaction per order, as fast as the file allows.
const db = new SQLite(path.join(dir, 'cashloop.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const now = new Date().toISOString();
const insOrder = db.prepare(`insert into orders (customer_id, status, currency, order_date, subtotal_minor, discount_minor, tax_minor, total_minor, created_at, updated_at) values (?, 'draft', 'EUR', ?, 2500, 0, 500, 3000, ?, ?)`);
const insLine = db.prepare(`insert into order_lines (order_id, line_no, product_id, quantity, unit_price_minor, discount_bp, tax_rate_bp, gross_minor, discount_minor, net_minor, tax_minor, total_minor, reserved_qty, shipped_qty, invoiced_qty) values (?, 1, 1, 2, 1250, 0, 2000, 2500, 0, 2500, 500, 3000, 0, 0, 0)`);
const insHist = db.prepare(`insert into order_status_history (order_id, from_status, to_status, actor, at) values (?, null, 'draft', 'bench', ?)`);
const insEvent = db.prepare(`insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at) values ('order.created', 'order', ?, ?, 'bench', ?)`);
const one = db.transaction(() => {
  const id = Number(insOrder.run(customer.id, now.slice(0, 10), now, now).lastInsertRowid);
  insLine.run(id);
  insHist.run(id, now);
  insEvent.run(String(id), '{}', now);
});
const t0 = performance.now();
let n = 0;
while (performance.now() - t0 < 3000) {
  one();
  n++;
}
const baseline = n / ((performance.now() - t0) / 1000);
db.close();
console.log(`${'baseline'.padEnd(16)} ${baseline.toFixed(0).padStart(6)} orders/s written directly with better-sqlite3 (same rows, one transaction each)`);
console.log(`order create over HTTP: ${((created.requests.average / baseline) * 100).toFixed(0)} % of the direct-insert baseline; target ≥ 2000 req/s with p99 ≤ 25 ms: ${created.requests.average >= 2000 && created.latency.p99 <= 25 ? 'met' : 'not met'}`);
fs.rmSync(dir, { recursive: true, force: true });
