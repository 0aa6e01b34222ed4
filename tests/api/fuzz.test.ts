import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { databaseSnapshot, Fuzzer, fuzzSeed, snapshotChanges, toJsonText } from '../helpers/fuzz.ts';
import { buildServer, coreRouteSpecs } from '../../src/api/server.ts';
import { createApiKey, createPortalToken } from '../../src/api/keys.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { recordPromise } from '../../src/collections/promise.service.ts';
import { openDispute } from '../../src/collections/dispute.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';

/**
 * Malformed requests over every route of the API, seeded (CASHLOOP_FUZZ_SEED), through
 * buildServer + inject. Whatever comes in: no answer of 500 or more, no stack trace or file
 * path in a body, every 4xx is problem+json with a rule, and a refused request leaves every
 * table's row count and the highest event number as they were.
 */

interface Example {
  params?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Who calls: an API key of the admin role (default) or the customer's portal token. */
  as?: 'portal';
}

const REQUESTS = Number(process.env.CASHLOOP_FUZZ_REQUESTS ?? 3300);
const INV = 'INV-2026-000001';

/** One valid request per route, on the data the suite seeds (customer 1, order 1 shipped and invoiced …). */
const EXAMPLES: Record<string, Example> = {
  'GET /customers': { query: { limit: '10', status: 'active' } },
  'POST /customers': { body: { name: 'Fuzz GmbH', creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR', country: 'DE', email: 'ap@fuzz.example', iban: 'DE89370400440532013000', earlyDiscountPercent: '2', earlyDiscountDays: 10 } },
  'GET /customers/:id': { params: { id: '1' } },
  'PATCH /customers/:id': { params: { id: '1' }, body: { creditLimit: '200000', riskClass: 'B', name: 'Acme GmbH' } },
  'POST /customers/:id/block': { params: { id: '2' }, body: { reason: 'fuzz' } },
  'POST /customers/:id/activate': { params: { id: '2' }, body: { reason: 'fuzz' } },
  'GET /customers/:id/account-statement': { params: { id: '1' }, query: { from: '2026-01-01', to: '2026-03-31' } },
  'GET /customers/:id/account-statement.pdf': { params: { id: '1' }, query: { from: '2026-01-01', to: '2026-03-31' } },
  'GET /products': { query: { limit: '10', category: 'Hardware', after: '0' } },
  'POST /products': { body: { sku: 'FUZZ-1', name: 'Fuzz', price: '1.00', taxRate: '20', category: 'Hardware', unitCost: '0.50', currency: 'EUR' } },
  'GET /products/:sku': { params: { sku: 'WIDGET' } },
  'POST /stock/receipts': { body: { sku: 'WIDGET', quantity: 5, reference: 'PO-1' } },
  'POST /stock/adjustments': { body: { sku: 'WIDGET', delta: -1, reason: 'count' } },
  'GET /orders': { query: { customerId: '1', status: 'invoiced', limit: '5', after: '0' } },
  'POST /orders': { body: { customerId: 1, lines: [{ sku: 'WIDGET', quantity: 2, unitPrice: '12.50', discountPercent: '5' }], orderDate: '2026-03-02', externalId: 'EXT-1' } },
  'GET /orders/:id': { params: { id: '1' } },
  'GET /orders/:id/history': { params: { id: '1' } },
  'POST /orders/:id/submit': { params: { id: '2' } },
  'POST /orders/:id/cancel': { params: { id: '2' }, body: { reason: 'fuzz' } },
  'GET /credit/holds': {},
  'GET /orders/:id/credit-decisions': { params: { id: '1' } },
  'POST /orders/:id/release': { params: { id: '3' }, body: { reason: 'fuzz' } },
  'POST /orders/:id/reject': { params: { id: '3' }, body: { reason: 'fuzz' } },
  'POST /shipments': { body: { orderId: 1, carrier: 'DHL', trackingNumber: 'T-9', lines: [{ sku: 'WIDGET', quantity: 1 }] } },
  'GET /shipments/:id': { params: { id: '1' } },
  'POST /shipments/:id/status': { params: { id: '1' }, body: { status: 'in_transit', note: 'hub' } },
  'POST /shipments/:id/deliver': { params: { id: '1' }, body: { signedBy: 'J. Doe', deliveredAt: '2026-03-02T10:00:00Z' } },
  'GET /invoices': { query: { customerId: '1', open: 'true', limit: '5' } },
  'GET /invoices/:number': { params: { number: INV } },
  'GET /invoices/:number/pdf': { params: { number: INV } },
  'POST /invoices/:number/write-off': { params: { number: INV }, body: { reason: 'fuzz', badDebt: false } },
  'POST /credit-notes': { body: { invoice: INV, amount: '1.00', reason: 'fuzz', kind: 'return', date: '2026-03-02' } },
  'GET /payments': { query: { customerId: '1', limit: '5' } },
  'POST /payments': { body: { customerId: 1, amount: '10.00', currency: 'EUR', date: '2026-03-02', method: 'bank_transfer', reference: INV, payer: 'Acme', externalId: 'BANK-1' } },
  'GET /payments/:id': { params: { id: '1' } },
  'POST /payments/:id/reverse': { params: { id: '1' }, body: { reason: 'fuzz' } },
  'POST /payments/:id/apply': { params: { id: '1' }, body: { invoice: INV, amount: '1.00' } },
  'GET /collections/worklist': { query: { collector: 'dana', asOf: '2026-03-02', limit: '10' } },
  'POST /collections/runs': { body: { asOf: '2026-03-02', dryRun: true } },
  'POST /collections/statement-runs': { body: { month: '2026-02', dryRun: true } },
  'GET /collections/outbox': { query: { status: 'pending', customerId: '1' } },
  'GET /collections/outbox/:id': { params: { id: '1' } },
  'POST /collections/outbox/send': { body: { retryFailed: false } },
  'GET /customers/:id/collections': { params: { id: '1' } },
  'POST /customers/:id/collections': { params: { id: '1' }, body: { kind: 'call', invoice: INV, note: 'AP confirms', nextAction: 'call back', nextActionOn: '2026-03-09' } },
  'POST /customers/:id/collections/assignment': { params: { id: '1' }, body: { collector: 'dana', policy: 'standard' } },
  'GET /collections/policies': {},
  'POST /collections/policies': { body: { name: 'fuzz', levels: [{ name: 'Reminder', days: 7, fee: '5.00', interestRatePercent: 8, actions: ['credit_hold'], intro: 'Dear customer' }] } },
  'GET /promises': { query: { customerId: '1', status: 'open' } },
  'POST /promises': { body: { customerId: 1, date: '2026-03-20', invoices: [INV], amount: '10.00', promisedBy: 'AP', note: 'fuzz' } },
  'POST /promises/:id/cancel': { params: { id: '1' }, body: { reason: 'fuzz' } },
  'GET /disputes': { query: { customerId: '1', status: 'open' } },
  'POST /disputes': { body: { invoice: INV, reason: 'damaged', line: 1, amount: '5.00' } },
  'GET /disputes/:id': { params: { id: '1' } },
  'POST /disputes/:id/resolve': { params: { id: '1' }, body: { outcome: 'reject', note: 'fuzz' } },
  'GET /customers/:id/portal-tokens': { params: { id: '1' } },
  'POST /customers/:id/portal-tokens': { params: { id: '2' }, body: { days: 30 } },
  'POST /customers/:id/portal-tokens/revoke': { params: { id: '2' } },
  'GET /portal/api/orders': { as: 'portal' },
  'GET /portal/api/orders/:id': { as: 'portal', params: { id: '1' } },
  'GET /portal/api/invoices': { as: 'portal' },
  'GET /portal/api/invoices/:number': { as: 'portal', params: { number: INV } },
  'GET /portal/api/payments': { as: 'portal' },
  'GET /portal/api/payments/:id': { as: 'portal', params: { id: '1' } },
  'GET /portal/api/account-statement': { as: 'portal' },
  // Routes the OpenAPI document leaves out.
  'GET /portal': { as: 'portal' },
  'GET /portal/orders': { as: 'portal', query: { page: '1' } },
  'GET /portal/orders/:id': { as: 'portal', params: { id: '1' } },
  'GET /portal/invoices/:number': { as: 'portal', params: { number: INV } },
  'GET /portal/invoices/:number.pdf': { as: 'portal', params: { number: INV } },
  'GET /portal/statement': { as: 'portal', query: { from: '2026-01-01', to: '2026-03-31' } },
  'GET /portal/statement.pdf': { as: 'portal', query: { from: '2026-01-01', to: '2026-03-31' } },
  'POST /portal/invoices/:number/dispute': { as: 'portal', params: { number: INV }, body: { reason: 'one box damaged', line: '1', amount: '5.00' } },
  'POST /portal/invoices/:number/promise': { as: 'portal', params: { number: INV }, body: { date: '2026-03-20', amount: '10.00', promisedBy: 'AP', note: 'fuzz' } },
  'GET /reports/*': { params: { '*': 'index.html' } },
  'GET /health': {},
  'GET /ready': {},
  'GET /': {},
  'GET /session': {},
  'GET /sign-in': { query: { next: '/reports/' } },
  'POST /sign-in': { body: { key: 'clk_not-a-key', next: '/' } },
  'POST /sign-out': {},
};

const STACK = [/\n\s+at /, /\bat [\w$.<>]+ \(/, /node:internal/, /node_modules/, /\.ts:\d+:\d+/, /SqliteError|error: .*relation|QueryFailedError/i];

describe(`API fuzz on ${testDialect}`, () => {
  const seed = fuzzSeed();
  let t: TestCore;
  let app: FastifyInstance;
  let adminKey: string;
  let viewerKey: string;
  let portalToken: string;
  const smtp = process.env.CASHLOOP_SMTP_URL;

  beforeAll(async () => {
    delete process.env.CASHLOOP_SMTP_URL; // the outbox must not reach for a mail server
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { core } = t;
    const site = path.join(t.dataDir, 'site');
    fs.mkdirSync(site, { recursive: true });
    fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>reports</title>');
    app = await buildServer(core, { rateLimitPerMinute: 1_000_000, siteDir: site });
    await app.ready();
    adminKey = (await createApiKey(core, { role: 'admin', name: 'fuzz-admin' }, actor)).key;
    viewerKey = (await createApiKey(core, { role: 'viewer', name: 'fuzz-viewer' }, actor)).key;
    // Customer 1 with order 1 shipped and delivered in two parts (INV-2026-000001 and 2), a payment,
    // a promise, a dispute and a reminder in the outbox; order 2 a draft; customer 2's order 3
    // on credit hold.
    await createCustomer(core, { name: 'Acme GmbH', creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR', iban: 'DE89370400440532013000' }, actor);
    await createCustomer(core, { name: 'Tiny Ltd', creditLimit: '1', paymentTermsDays: 30, currency: 'EUR' }, actor);
    await createProduct(core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20', category: 'Hardware' }, actor);
    await receiveStock(core, { sku: 'WIDGET', quantity: 1000 }, actor);
    await createOrder(core, { customerId: 1, lines: [{ sku: 'WIDGET', quantity: 10 }] }, actor);
    await submitOrder(core, 1, actor);
    await createShipment(core, { orderId: 1, carrier: 'DHL', trackingNumber: 'T-1', lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor);
    await deliverShipment(core, 1, { signedBy: 'J. Doe' }, actor);
    await createShipment(core, { orderId: 1, carrier: 'DHL', trackingNumber: 'T-2' }, actor);
    await deliverShipment(core, 2, { signedBy: 'J. Doe' }, actor); // INV-2026-000002: nothing pauses its reminders
    await createOrder(core, { customerId: 1, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    await createOrder(core, { customerId: 2, lines: [{ sku: 'WIDGET', quantity: 3 }] }, actor);
    await submitOrder(core, 3, actor);
    await recordPayment(core, { customerId: 1, amount: '20.00', reference: INV }, actor);
    await recordPromise(core, { customerId: 1, date: '2026-03-20', invoices: [INV] }, actor);
    await openDispute(core, { invoice: INV, reason: 'one box damaged', amount: '5.00' }, actor);
    t.clock.set('2026-05-20T09:00:00Z');
    await runReminders(core, actor, {});
    t.clock.set('2026-03-02T09:00:00Z');
    portalToken = (await createPortalToken(core, 1, actor)).token;
  });

  afterAll(async () => {
    if (smtp !== undefined) process.env.CASHLOOP_SMTP_URL = smtp;
    await app?.close();
    await t?.cleanup();
  });

  it('has a valid example for every route of the API and the portal', async () => {
    const documented = Object.entries((app.swagger() as { paths: Record<string, Record<string, unknown>> }).paths).flatMap(([p, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const core = coreRouteSpecs.map((s) => `${s.method} ${s.url}`);
    expect(documented).toEqual(expect.arrayContaining(core));
    expect(documented.filter((r) => !(r in EXAMPLES))).toEqual([]);
    // Each example is valid: it answers 2xx (or 409 for a move the seeded state does not allow).
    const refused: string[] = [];
    for (const route of Object.keys(EXAMPLES).filter((r) => r.startsWith('GET '))) {
      const res = await send(route, EXAMPLES[route]!, {});
      if (res.statusCode >= 300) refused.push(`${route} → ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    expect(refused).toEqual([]);
  });

  function urlOf(route: string, params: Record<string, string>, query: string): string {
    const pattern = route.slice(route.indexOf(' ') + 1);
    const p = pattern.replace(/:(\w+)|\*/g, (m, name: string | undefined) => params[name ?? '*'] ?? m);
    return query ? `${p}?${query}` : p;
  }

  async function send(route: string, example: Example, change: { params?: Record<string, string>; query?: string; body?: { text: string } | undefined; headers?: Record<string, string> }) {
    const method = route.slice(0, route.indexOf(' ')) as 'GET' | 'POST' | 'PATCH';
    const params = { ...Object.fromEntries(Object.entries(example.params ?? {}).map(([k, v]) => [k, encodeURIComponent(v)])), ...change.params };
    const query = change.query ?? new URLSearchParams(example.query ?? {}).toString();
    const auth = example.as === 'portal' ? `Bearer ${portalToken}` : `Bearer ${adminKey}`;
    const bodyText = change.body?.text ?? (example.body === undefined ? undefined : toJsonText(example.body));
    return app.inject({
      method,
      url: urlOf(route, params, query),
      headers: { authorization: auth, ...(bodyText === undefined ? {} : { 'content-type': 'application/json' }), ...change.headers },
      ...(bodyText === undefined ? {} : { payload: bodyText }),
    });
  }

  it(`answers ${REQUESTS} malformed requests without a 500, a stack trace, a bare 4xx or a partial write`, { timeout: 240_000 }, async () => {
    const f = new Fuzzer(`${seed}:${testDialect}`);
    const snapshot = await databaseSnapshot(t.core);
    const routes = Object.keys(EXAMPLES);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let before = await snapshot();
    for (let i = 0; i < REQUESTS && failures.length < 20; i++) {
      const route = routes[i % routes.length]!;
      const example = EXAMPLES[route]!;
      const change: Parameters<typeof send>[2] = {};
      let how: string;
      const choice = f.rng.int(0, 99);
      if (choice < 45 && example.body !== undefined) {
        const m = f.mutateBody(example.body);
        change.body = { text: toJsonText(m.body) };
        how = `body ${m.how}`;
      } else if (choice < 60 && example.params) {
        const name = f.rng.pick(Object.keys(example.params));
        change.params = { [name]: f.pathValue() };
        how = `param ${name}`;
      } else if (choice < 82) {
        change.query = f.query(example.query ?? {});
        how = 'query';
      } else if (choice < 88) {
        change.body = { text: f.rng.pick(['{', '{"a":', '[1,]', 'nul', '"\\ud800"', '{"a":"\\u0000"}', '\u0000', '{}'.repeat(3), ' '.repeat(10), toJsonText(f.value())]) };
        how = 'raw body';
      } else if (choice < 94) {
        change.headers = f.rng.pick<Record<string, string>>([
          { 'content-type': 'text/plain' },
          { 'content-type': 'application/json; charset=latin1' },
          { 'content-type': 'application/x-www-form-urlencoded' },
          { cookie: 'cashloop_key=%E0%A4%A; cashloop_portal=%' },
          { 'idempotency-key': `k${f.text()}` },
          { authorization: `Bearer ${viewerKey}` },
          { authorization: 'Bearer clk_%00' },
          { authorization: `Bearer ${f.text()}` },
          { authorization: '' },
        ]);
        if (f.rng.chance(0.5) && example.body !== undefined) change.body = { text: toJsonText(f.mutateBody(example.body).body) };
        how = `headers ${JSON.stringify(change.headers)}`;
      } else {
        how = 'as given';
      }
      const res = await send(route, example, change);
      const request = `#${i} ${route} (${how}): ${res.raw.req.method} ${res.raw.req.url} ${change.body?.text.slice(0, 200) ?? ''}`;
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) failures.push(`${request} → ${res.statusCode} ${res.body.slice(0, 300)}`);
      const trace = STACK.find((re) => re.test(res.body) && !/^(\/openapi\.json|\/docs)/.test(res.raw.req.url ?? ''));
      if (trace) failures.push(`${request} → body shows ${trace}: ${res.body.slice(0, 300)}`);
      if (res.statusCode >= 400) {
        const problem = /^application\/problem\+json/.test(String(res.headers['content-type'])) ? (res.json() as { rule?: unknown; status?: unknown }) : null;
        if (!problem || typeof problem.rule !== 'string' || problem.rule === '' || problem.status !== res.statusCode) {
          failures.push(`${request} → ${res.statusCode} is not problem+json with a rule: ${String(res.headers['content-type'])} ${res.body.slice(0, 300)}`);
        }
        const after = await snapshot();
        // A request with an Idempotency-Key that a service refuses keeps that answer for its
        // retries (docs/api.md, "Idempotency"): the one row it may write.
        const wrote = snapshotChanges(before, after, res.raw.req.headers['idempotency-key'] === undefined ? [] : ['api_idempotency']);
        if (wrote) failures.push(`${request} → refused with ${res.statusCode} but wrote: ${wrote}`);
        before = after;
      } else {
        before = await snapshot();
      }
    }
    const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
    if (process.env.CASHLOOP_FUZZ_VERBOSE) console.log(`seed ${seed}: ${summary}`);
    expect(failures, `seed ${seed} (set CASHLOOP_FUZZ_SEED to replay), answers ${summary}`).toEqual([]);
    // The requests did reach the services: most were refused, some went through.
    expect([...statuses.keys()].some((s) => s >= 200 && s < 300), summary).toBe(true);
    expect(statuses.get(400) ?? 0, summary).toBeGreaterThan(REQUESTS / 3);
  });
});
