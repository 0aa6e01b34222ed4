import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { databaseSnapshot, snapshotChanges } from '../helpers/fuzz.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey, createPortalToken } from '../../src/api/keys.service.ts';
import { createProduct, getProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { MAX_AMOUNT_MINOR, MAX_QUANTITY } from '../../src/shared/bounds.ts';

/**
 * The inputs that answered 500 or stored a wrong value before the bounds, one by one, on
 * the database the suite runs on: each now answers 4xx problem+json naming the field, the
 * value and the rule, and writes nothing; the largest accepted values round-trip exactly.
 */
describe(`bounds over HTTP on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let key: string;
  let token: string;
  let snapshot: () => Promise<Record<string, string>>;
  const call = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: method as 'GET', url, headers: { authorization: `Bearer ${key}`, ...headers }, ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body), headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers } }) });

  /** The request is refused with this status and rule (and field), and nothing is written. */
  async function refused(method: string, url: string, body: unknown, expected: { status?: number; rule: string; field?: string; value?: unknown }, headers: Record<string, string> = {}) {
    const before = await snapshot();
    const res = await call(method, url, body, headers);
    const label = `${method} ${url} ${typeof body === 'string' ? body : JSON.stringify(body) ?? ''}`.slice(0, 200);
    expect(res.statusCode, `${label}: ${res.body}`).toBe(expected.status ?? 400);
    expect(res.headers['content-type'], label).toMatch(/^application\/problem\+json/);
    const { status: _s, ...want } = expected;
    expect(res.json(), label).toMatchObject(want);
    expect(snapshotChanges(before, await snapshot()), `${label} wrote`).toBe('');
    return res.json() as { detail: string };
  }

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const site = path.join(t.dataDir, 'site');
    fs.mkdirSync(site, { recursive: true });
    fs.mkdirSync(path.join(t.dataDir, 'site-private'), { recursive: true });
    fs.writeFileSync(path.join(site, 'index.html'), '<title>reports</title>');
    fs.writeFileSync(path.join(t.dataDir, 'site-private', 'secret.txt'), 'not a report');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000, siteDir: site });
    key = (await createApiKey(t.core, { role: 'admin', name: 'bounds' }, actor)).key;
    snapshot = await databaseSnapshot(t.core);
    expect((await call('POST', '/customers', { name: 'Acme GmbH', creditLimit: '1000', currency: 'EUR' })).statusCode).toBe(201);
    token = (await createPortalToken(t.core, 1, actor)).token;
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });

  it('holds the largest amount exactly and refuses one minor unit more, in every place an amount enters', async () => {
    const c = await call('POST', '/customers', { name: 'Max AG', creditLimit: '99999999999.99', currency: 'EUR' });
    expect(c.json()).toMatchObject({ creditLimitMinor: MAX_AMOUNT_MINOR, creditLimit: '99999999999.99' });
    const id = c.json().id as number;
    expect((await call('GET', `/customers/${id}`)).json()).toMatchObject({ creditLimitMinor: MAX_AMOUNT_MINOR, creditLimit: '99999999999.99' });
    const p = await call('POST', '/payments', { customerId: id, amount: '99999999999.99' });
    expect(p.statusCode).toBe(201);
    expect((await call('GET', `/payments/${p.json().id}`)).json()).toMatchObject({ amountMinor: MAX_AMOUNT_MINOR, unappliedMinor: MAX_AMOUNT_MINOR });
    expect((await call('GET', `/customers/${id}/account-statement`)).statusCode).toBe(200);

    await refused('POST', '/customers', { name: 'Over', creditLimit: '100000000000.00' }, { rule: 'amount_max', field: 'creditLimit', value: '100000000000.00' });
    // Past 2^53: this one was stored a cent off on SQLite and could not be read back on PostgreSQL.
    await refused('POST', '/customers', { name: 'Over', creditLimit: '90071992547409.93' }, { rule: 'amount_max', field: 'creditLimit' });
    await refused('PATCH', `/customers/${id}`, { creditLimit: '1'.repeat(5000) }, { rule: 'amount_max', field: 'creditLimit' });
    await refused('POST', '/products', { sku: 'OVER', name: 'Over', price: '100000000000' }, { rule: 'amount_max', field: 'price' });
    await refused('POST', '/products', { sku: 'OVER', name: 'Over', price: '1', unitCost: '-100000000000' }, { rule: 'amount_max', field: 'unitCost' });
    await refused('POST', '/payments', { customerId: id, amount: '100000000000.00' }, { rule: 'amount_max', field: 'amount' });
    await refused('POST', '/collections/policies', { name: 'huge', levels: [{ name: 'Fee', days: 7, fee: '99999999999.00' }] }, { rule: 'amount_max', field: 'levels.0.fee' });
  });

  it('computes a line exactly and refuses a line or an order above the maximum, naming the line', async () => {
    expect((await call('POST', '/products', { sku: 'BIG', name: 'Big', price: '99999999999.99', taxRate: '0' })).statusCode).toBe(201);
    expect((await call('POST', '/products', { sku: 'MID', name: 'Mid', price: '40000000000.00', taxRate: '20' })).statusCode).toBe(201);
    // 1000 × 99,999,999,999.99: gross 10^16, past 2^53 — this was a 500.
    const e = await refused('POST', '/orders', { customerId: 1, lines: [{ sku: 'BIG', quantity: 1000 }] }, { rule: 'amount_max', field: 'lines.0.quantity', value: 1000 });
    expect(e.detail).toMatch(/lines\.0\.quantity/);
    await refused('POST', '/orders', { customerId: 1, lines: [{ sku: 'BIG', quantity: 1, unitPrice: '99999999999.99' }, { sku: 'BIG', quantity: 1, unitPrice: '0.01' }] }, { rule: 'amount_max', field: 'lines.1.quantity' });
    // 2 × 40,000,000,000.00 + 20 % tax = 96,000,000,000.00: within; 3 × is not (tax carries it over).
    const ok = await call('POST', '/orders', { customerId: 1, lines: [{ sku: 'MID', quantity: 2 }] });
    expect(ok.json()).toMatchObject({ totalMinor: 9_600_000_000_000, total: '96000000000.00' });
    await refused('POST', '/orders', { customerId: 1, lines: [{ sku: 'MID', quantity: 3 }] }, { rule: 'amount_max', field: 'lines.0.quantity' });
    await refused('POST', '/orders', { customerId: 1, lines: [{ sku: 'MID', quantity: 1_000_000_000 }] }, { rule: 'quantity_max', field: 'body.lines.0.quantity', value: 1_000_000_000 });
  });

  it('refuses quantities past the maximum, sent or reached on hand', async () => {
    expect((await call('POST', '/products', { sku: 'BOLT', name: 'Bolt', price: '0.01' })).statusCode).toBe(201);
    // This one was a 500 on PostgreSQL (an integer column).
    await refused('POST', '/stock/receipts', { sku: 'BOLT', quantity: 2_147_483_648 }, { rule: 'quantity_max', field: 'body.quantity', value: 2_147_483_648 });
    await refused('POST', '/stock/receipts', '{"sku":"BOLT","quantity":9007199254740993}', { rule: 'quantity_max', field: 'body.quantity' }); // 2^53 + 1
    await refused('POST', '/stock/receipts', '{"sku":"BOLT","quantity":1e400}', { rule: 'integer', field: 'body.quantity' });
    expect((await call('POST', '/stock/receipts', { sku: 'BOLT', quantity: MAX_QUANTITY })).json()).toMatchObject({ onHand: MAX_QUANTITY });
    await refused('POST', '/stock/receipts', { sku: 'BOLT', quantity: 1 }, { rule: 'quantity_max', field: 'quantity', value: 1 });
    await refused('POST', '/stock/adjustments', { sku: 'BOLT', delta: 1, reason: 'found one' }, { rule: 'quantity_max', field: 'delta' });
    await refused('POST', '/stock/adjustments', { sku: 'BOLT', delta: -2_000_000_000, reason: 'x' }, { rule: 'minimum', field: 'body.delta' });
    await refused('POST', '/shipments', { orderId: 1, carrier: 'DHL', trackingNumber: 'T', lines: [{ sku: 'BOLT', quantity: 1_000_000_000 }] }, { rule: 'quantity_max', field: 'body.lines.0.quantity' });
  });

  it('refuses ids, cursors and page sizes out of range before they reach the database', async () => {
    await refused('GET', '/orders/2147483648', undefined, { rule: 'id_max', field: 'params.id', value: 2_147_483_648 });
    await refused('GET', '/customers/9007199254740993/account-statement', undefined, { rule: 'id_max', field: 'params.id' });
    await refused('POST', '/payments/2147483648/reverse', { reason: 'x' }, { rule: 'id_max', field: 'params.id' });
    await refused('GET', '/customers?after=2147483648', undefined, { rule: 'id_max', field: 'querystring.after' });
    await refused('GET', '/orders?customerId=2147483648', undefined, { rule: 'id_max', field: 'querystring.customerId' });
    await refused('GET', '/invoices?limit=501', undefined, { rule: 'maximum', field: 'querystring.limit', value: 501 });
    await refused('GET', '/customers?limit=1e400', undefined, { rule: 'integer', field: 'querystring.limit' });
    await refused('GET', '/products?after=-Infinity', undefined, { rule: 'integer', field: 'querystring.after' });
    await refused('POST', '/payments', { customerId: 2_147_483_648, amount: '1.00' }, { rule: 'id_max', field: 'body.customerId' });
    const portal = await app.inject({ method: 'GET', url: '/portal/api/orders/2147483648', headers: { authorization: `Bearer ${token}` } });
    expect(portal.statusCode).toBe(400);
    expect(portal.json()).toMatchObject({ rule: 'id_max', field: 'params.id' });
  });

  it('refuses control characters in any text, and keeps line breaks where a text may span lines', async () => {
    // U+0000 was a 500 on PostgreSQL, from any field.
    await refused('POST', '/customers', { name: 'Acme\u0000GmbH' }, { rule: 'control_character', field: 'body.name' });
    await refused('POST', '/customers', { name: 'Acme', salesRep: 'dana\u0007' }, { rule: 'control_character', field: 'body.salesRep' });
    await refused('POST', '/customers', { name: 'Acme', segment: 'retail\nwholesale' }, { rule: 'control_character', field: 'segment' });
    await refused('POST', '/customers', { name: 'Acme', country: 'D\ud800E' }, { rule: 'unicode', field: 'body.country' });
    await refused('POST', '/customers', '{"name":"Acme","na\\u0000me":"x"}', { rule: 'control_character', field: 'body' });
    await refused('POST', '/shipments', { orderId: 1, carrier: 'DHL', trackingNumber: 'T\t1' }, { rule: 'control_character', field: 'trackingNumber' });
    await refused('GET', '/products?category=%00', undefined, { rule: 'control_character', field: 'querystring.category' });
    await refused('GET', '/products/WID%00GET', undefined, { rule: 'control_character', field: 'params.sku' });
    await refused('GET', '/invoices/INV%0A1', undefined, { rule: 'control_character', field: 'params.number' });
    await refused('POST', '/customers', { name: 'Idem' }, { rule: 'control_character', field: 'headers.idempotency-key' }, { 'idempotency-key': 'k\u0000' });
    const blocked = await call('POST', '/customers/1/block', { reason: 'unpaid since March:\n\tINV-2026-000001\r\n' });
    expect(blocked.json()).toMatchObject({ status: 'blocked' });
    const named = await call('POST', '/customers', { name: 'Müller & Söhne\nZweigniederlassung Nord 🚚' });
    expect(named.json()).toMatchObject({ name: 'Müller & Söhne\nZweigniederlassung Nord 🚚' });
  });

  it('answers escapes that do not decode, and bodies nested without end, with 400 problem+json', async () => {
    await refused('GET', '/orders/%E0%A4%A', undefined, { rule: 'url_encoding' });
    await refused('GET', '/orders?x=%ZZ', undefined, { rule: 'url_encoding', field: 'querystring.x' });
    await refused('GET', '/customers?limit=%', undefined, { rule: 'url_encoding', field: 'querystring.limit' });
    await refused('GET', `/invoices/${'x'.repeat(101)}`, undefined, { status: 414, rule: 'path_length' });
    // Printed back in an error, this overflowed the stack.
    await refused('POST', '/collections/policies', `{"name":"deep","levels":[{"name":"x","days":1,"actions":${'['.repeat(5000)}${']'.repeat(5000)}}]}`, { rule: 'depth', field: `body.levels.0.actions${'.0'.repeat(29)}` }); // 32 levels below the body
    // `%25` is a sound escape (for "%"); the reports answer that no such report exists. This was a 500.
    const pct = await call('GET', '/reports/%25');
    expect(pct.statusCode).toBe(404);
    expect(pct.json()).toMatchObject({ rule: 'route_exists' });
    expect((await call('GET', '/reports/')).statusCode).toBe(200);
    // A sibling folder whose name starts like the site's is not part of it.
    expect((await call('GET', '/reports/..%2Fsite-private%2Fsecret.txt')).statusCode).toBe(404);
    // A cookie whose escape does not decode matches no key: 401, not 500.
    const cookie = await app.inject({ method: 'GET', url: '/customers', headers: { cookie: 'cashloop_key=%E0%A4%A' } });
    expect(cookie.statusCode).toBe(401);
    expect(await countEvents(t.core)).toBeGreaterThan(0);
  });
});

/**
 * Receipts of one product at once on PostgreSQL: each sees the others' quantities on the
 * locked stock row, so together they cannot take stock on hand past the maximum either.
 */
describe(`concurrent receipts on ${testDialect}`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
  });
  afterAll(async () => t.cleanup());

  it('never holds more than the largest quantity on hand', async () => {
    const { core } = t;
    await createProduct(core, { sku: 'NUT', name: 'Nut', price: '0.01' }, actor);
    const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => receiveStock(core, { sku: 'NUT', quantity: 400_000_000, reference: `PO-${i}` }, actor)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    for (const e of failed) expect(e instanceof DomainError ? e.detail.rule : String(e)).toBe('quantity_max');
    expect(ok).toHaveLength(2);
    const product = await getProduct(core, 'NUT');
    expect(product.onHand).toBe(800_000_000);
    const moved = await core.db.kysely.selectFrom('stock_movements').select((eb) => eb.fn.sum<number | string>('quantity').as('q')).where('product_id', '=', product.id).executeTakeFirstOrThrow();
    expect(Number(moved.q)).toBe(800_000_000);
  });
});
