import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { countEvents } from '../helpers/fixtures.ts';
import { buildServer, coreRouteSpecs, scrubUrl } from '../../src/api/server.ts';
import { createApiKey, createPortalToken } from '../../src/api/keys.service.ts';
import { ROLES, allowed, type Role } from '../../src/api/permissions.ts';

describe(`HTTP API on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  const keys = {} as Record<Role, string>;
  const call = (method: string, url: string, role: Role | null = 'admin', body?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: method as 'GET', url, headers: { ...(role ? { authorization: `Bearer ${keys[role]}` } : {}), ...headers }, ...(body === undefined ? {} : { payload: body as object }) });

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    for (const role of ROLES) keys[role] = (await createApiKey(t.core, { role, name: `${role}-key` }, 'test')).key;
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });

  it('walks one order from entry to paid over HTTP', async () => {
    const c = await call('POST', '/customers', 'sales', { name: 'Acme GmbH', creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR' });
    expect(c.statusCode).toBe(201);
    const customerId = c.json().id as number;
    expect((await call('POST', '/products', 'logistics', { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' })).statusCode).toBe(201);
    expect((await call('POST', '/stock/receipts', 'logistics', { sku: 'WIDGET', quantity: 100 })).statusCode).toBe(201);
    expect((await call('POST', '/stock/adjustments', 'logistics', { sku: 'WIDGET', delta: -10, reason: 'count' })).json().onHand).toBe(90);
    expect((await call('GET', '/products/WIDGET', 'viewer')).json().available).toBe(90);
    const o = await call('POST', '/orders', 'sales', { customerId, lines: [{ sku: 'WIDGET', quantity: 80 }] }, { 'idempotency-key': 'web-1' });
    expect(o.statusCode).toBe(201);
    const orderId = o.json().id as number;
    const submitted = (await call('POST', `/orders/${orderId}/submit`, 'sales')).json();
    expect(submitted.status).toBe('credit_hold');
    const holds = (await call('GET', '/credit/holds', 'credit')).json();
    expect(holds).toMatchObject({ items: [{ id: orderId, customerId, customerName: 'Acme GmbH', totalMinor: 120_000, total: '1200.00', currency: 'EUR', reasons: [expect.stringContaining('credit limit')] }], next: null });
    expect((await call('POST', `/orders/${orderId}/release`, 'credit', { reason: 'known customer' })).json().status).toBe('approved');
    const decisions = (await call('GET', `/orders/${orderId}/credit-decisions`, 'finance')).json();
    expect(decisions.items).toHaveLength(2);
    expect(decisions.items[0]).toMatchObject({ decision: 'credit_hold', currency: 'EUR', exposureMinor: 120_000, exposure: '1200.00', creditLimit: '1000.00' });
    const s = (await call('POST', '/shipments', 'logistics', { orderId, carrier: 'DHL', trackingNumber: 'T1', lines: [{ sku: 'WIDGET', quantity: 50 }] })).json();
    expect((await call('POST', `/shipments/${s.id}/status`, 'logistics', { status: 'in_transit' })).json().status).toBe('in_transit');
    expect((await call('POST', `/shipments/${s.id}/deliver`, 'logistics', { signedBy: 'J. Doe' })).json().invoiceNumber).toBe('INV-2026-000001');
    const s2 = (await call('POST', '/shipments', 'logistics', { orderId, carrier: 'DHL', trackingNumber: 'T2' })).json();
    await call('POST', `/shipments/${s2.id}/deliver`, 'logistics', { signedBy: 'J. Doe' });
    expect((await call('GET', `/shipments/${s2.id}`, 'viewer')).json().status).toBe('delivered');
    const open = (await call('GET', `/invoices?customerId=${customerId}&open=true`, 'collector')).json();
    expect(open.items.map((i: { number: string }) => i.number)).toEqual(['INV-2026-000001', 'INV-2026-000002']);
    expect((await call('POST', '/credit-notes', 'finance', { invoice: 'INV-2026-000002', amount: '10.00', reason: 'damaged', kind: 'return' })).statusCode).toBe(201);
    const p1 = await call('POST', '/payments', 'finance', { customerId, amount: '500', reference: 'INV-2026-000001' }, { 'idempotency-key': 'bank-1' });
    expect(p1.json().appliedMinor).toBe(50_000);
    expect((await call('POST', '/payments', 'finance', { customerId, amount: '685.01' })).json().unappliedMinor).toBe(0);
    // 1200.00 invoiced − 10.00 credited − 1185.01 paid leaves 4.99 on INV-2026-000002: within the 5.00 tolerance
    expect((await call('POST', '/invoices/INV-2026-000002/write-off', 'finance', { reason: 'rounding' })).json().writtenOffMinor).toBe(499);
    const order = (await call('GET', `/orders/${orderId}`, 'viewer')).json();
    expect(order.status).toBe('paid');
    expect((await call('GET', `/orders/${orderId}/history`, 'viewer')).json().items.at(-1).toStatus).toBe('paid');
    expect((await call('GET', `/customers/${customerId}/account-statement`, 'collector')).json().closingBalanceMinor).toBe(0);
    const pay = (await call('GET', `/payments?customerId=${customerId}`, 'finance')).json().items[0];
    expect((await call('POST', `/payments/${pay.id}/reverse`, 'finance', { reason: 'returned by the bank' })).json().status).toBe('reversed');
    expect((await call('GET', `/orders/${orderId}`, 'viewer')).json().status).toBe('invoiced');
    expect((await call('PATCH', `/customers/${customerId}`, 'credit', { creditLimit: '5000', riskClass: 'B' })).json().creditLimitMinor).toBe(500_000);
    expect((await call('POST', `/customers/${customerId}/block`, 'credit', { reason: 'unpaid' })).json().status).toBe('blocked');
    expect((await call('POST', `/customers/${customerId}/activate`, 'credit', { reason: 'paid' })).json().status).toBe('active');
    const o2 = (await call('POST', '/orders', 'sales', { customerId, lines: [{ sku: 'WIDGET', quantity: 1 }] })).json();
    expect((await call('POST', `/orders/${o2.id}/cancel`, 'sales', { reason: 'changed mind' })).json().status).toBe('cancelled');
    const o3 = (await call('POST', '/orders', 'sales', { customerId, lines: [{ sku: 'WIDGET', quantity: 1 }] })).json();
    expect((await call('POST', `/orders/${o3.id}/reject`, 'credit', { reason: 'x' })).statusCode).toBe(409); // a draft is not held
    await call('PATCH', `/customers/${customerId}`, 'credit', { riskClass: 'E' });
    expect((await call('POST', `/orders/${o3.id}/submit`, 'sales')).json().status).toBe('credit_hold');
    expect((await call('POST', `/orders/${o3.id}/reject`, 'credit', { reason: 'class E' })).json().status).toBe('rejected');
    await call('PATCH', `/customers/${customerId}`, 'credit', { riskClass: 'B' });
    expect((await call('GET', '/customers?limit=1', 'viewer')).json().next).toBe(String(customerId));
    expect((await call('GET', '/orders?limit=2', 'viewer')).json()).toMatchObject({ next: expect.any(String) });
    expect((await call('GET', `/payments/${pay.id}`, 'viewer')).json().status).toBe('reversed');
    expect((await call('POST', `/payments/${p1.json().id}/apply`, 'finance', { invoice: 'INV-2026-000001' })).statusCode).toBe(409); // nothing unapplied
    const ahead = (await call('POST', '/payments', 'finance', { customerId, amount: '20.00' })).json(); // the reversal re-opened INV-1: oldest due first
    const extra = (await call('POST', '/payments', 'finance', { customerId, amount: '2000.00' })).json();
    expect(extra.unappliedMinor).toBeGreaterThan(0);
    const o4 = (await call('POST', '/orders', 'sales', { customerId, lines: [{ sku: 'WIDGET', quantity: 1 }] })).json();
    expect(ahead.appliedMinor).toBe(2_000);
    expect(o4.status).toBe('draft');
    // The 20.00 bounces: INV-2026-000001 opens again, and the unapplied 2000.00 is applied to it by hand.
    await call('POST', `/payments/${ahead.id}/reverse`, 'finance', { reason: 'returned' });
    const applied = await call('POST', `/payments/${extra.id}/apply`, 'finance', { invoice: 'INV-2026-000001' });
    expect(applied.statusCode).toBe(200);
    expect(applied.json().allocations.at(-1)).toMatchObject({ invoiceNumber: 'INV-2026-000001', rule: 'manual' });
    expect((await call('GET', '/products?limit=5', 'viewer')).json().items).toHaveLength(1);
    expect((await call('GET', `/customers/${customerId}`, 'viewer')).json().riskClass).toBe('B');
  });

  it('answers 401 without a key and 403 for every role the matrix leaves out, on every route', async () => {
    for (const spec of coreRouteSpecs) {
      const url = spec.url.replace(':id', '1').replace(':sku', 'WIDGET').replace(':number', 'INV-2026-000001');
      const none = await call(spec.method, url, null, spec.method === 'GET' ? undefined : {});
      expect(none.statusCode, `${spec.method} ${spec.url} without key`).toBe(401);
      for (const role of ROLES) {
        const r = await call(spec.method, url, role, spec.method === 'GET' ? undefined : {});
        if (allowed(role, spec.permission)) expect([401, 403], `${role} ${spec.method} ${spec.url}`).not.toContain(r.statusCode);
        else {
          expect(r.statusCode, `${role} ${spec.method} ${spec.url}`).toBe(403);
          expect(r.json().detail).toBe(`role ${role} may not ${spec.permission.replace(':', ' ')}`);
        }
      }
    }
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ready' })).json().status).toBe('ready');
    expect((await app.inject({ method: 'GET', url: '/openapi.json' })).statusCode).toBe(401);
  });

  it('refuses malformed requests with problem+json and writes nothing', async () => {
    const before = await countEvents(t.core);
    const cases: [string, string, unknown, number, RegExp][] = [
      ['POST', '/customers', { name: 42 }, 400, /body\.name/],
      ['POST', '/customers', {}, 400, /^body\.name is required$/],
      ['POST', '/customers', { name: 'X', colour: 'red' }, 400, /^body\.colour is not a known field$/],
      // The CLI's words for the same mistake: the field, the rule, the value.
      ['POST', '/payments', { customerId: 1, amount: '1,5' }, 400, /^body\.amount must be a decimal amount with a dot, got "1,5"$/],
      ['POST', '/customers', { name: 'X', riskClass: 'Z' }, 400, /^body\.riskClass must be one of A, B, C, D, E, got "Z"$/],
      ['POST', '/promises', { customerId: 1, date: '2026-3-1' }, 400, /^body\.date must be a date written YYYY-MM-DD, got "2026-3-1"$/],
      ['POST', '/payments', { customerId: 1, amount: '5', date: '2099-01-01' }, 400, /in the future/],
      ['POST', '/orders', { customerId: 1, lines: [] }, 400, /body\.lines/],
      ['POST', '/orders', { customerId: 999, lines: [{ sku: 'WIDGET', quantity: 1 }] }, 404, /customer 999 does not exist/],
    ];
    for (const [method, url, body, status, detail] of cases) {
      const r = await call(method, url, 'admin', body);
      expect(r.statusCode, `${url} ${JSON.stringify(body)}`).toBe(status);
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.json().detail).toMatch(detail);
    }
    const badJson = await app.inject({ method: 'POST', url: '/customers', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, payload: '{"name": ' });
    expect(badJson.statusCode).toBe(400);
    expect(badJson.json().rule).toBe('json');
    const big = await app.inject({ method: 'POST', url: '/customers', headers: { authorization: `Bearer ${keys.admin}`, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(300_000) }) });
    expect(big.statusCode).toBe(413);
    expect(big.json().rule).toBe('body_limit');
    expect(await countEvents(t.core)).toBe(before);
  });

  it('replays a POST retried with the same Idempotency-Key', async () => {
    const body = { name: 'Retry Ltd', currency: 'EUR' };
    const first = await call('POST', '/customers', 'admin', body, { 'idempotency-key': 'cust-77' });
    const again = await call('POST', '/customers', 'admin', body, { 'idempotency-key': 'cust-77' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    const n = await t.core.db.kysely.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).where('name', '=', 'Retry Ltd').executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1);
    expect((await call('POST', '/products', 'admin', { sku: 'X1', name: 'x', price: '1' }, { 'idempotency-key': 'cust-77' })).statusCode).toBe(409);
  });

  it("keeps a portal customer to its own documents: another's answer 404 like missing ones", async () => {
    const a = (await call('POST', '/customers', 'admin', { name: 'Alpha', creditLimit: '10000', currency: 'EUR' })).json();
    const b = (await call('POST', '/customers', 'admin', { name: 'Beta', creditLimit: '10000', currency: 'EUR' })).json();
    await call('POST', '/stock/receipts', 'admin', { sku: 'WIDGET', quantity: 10 });
    const docs = async (customerId: number) => {
      const o = (await call('POST', '/orders', 'admin', { customerId, lines: [{ sku: 'WIDGET', quantity: 1 }] })).json();
      await call('POST', `/orders/${o.id}/submit`, 'admin');
      const s = (await call('POST', '/shipments', 'admin', { orderId: o.id, carrier: 'UPS', trackingNumber: `1Z${o.id}` })).json();
      const d = (await call('POST', `/shipments/${s.id}/deliver`, 'admin', { signedBy: 'Sam' })).json();
      const p = (await call('POST', '/payments', 'admin', { customerId, amount: '5.00' })).json();
      return { order: o.id as number, invoice: d.invoiceNumber as string, payment: p.id as number };
    };
    const da = await docs(a.id);
    const db = await docs(b.id);
    const tokenA = (await createPortalToken(t.core, a.id, 'test')).token;
    const portal = (url: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${tokenA}` } });
    const mine = await portal(`/portal/api/orders/${da.order}`);
    expect(mine.statusCode).toBe(200);
    expect(mine.json().shipments[0]).toMatchObject({ trackingNumber: `1Z${da.order}`, status: 'delivered', signedBy: 'Sam' });
    expect(mine.json().history.length).toBeGreaterThan(3);
    expect((await portal('/portal/api/invoices')).json().items.map((i: { customerId: number }) => i.customerId)).toEqual([a.id]);
    expect((await portal('/portal/api/payments')).json().items.every((p: { customerId: number }) => p.customerId === a.id)).toBe(true);
    expect((await portal('/portal/api/account-statement')).json().customerId).toBe(a.id);
    for (const [other, missing] of [[`/portal/api/orders/${db.order}`, '/portal/api/orders/99999'], [`/portal/api/invoices/${db.invoice}`, '/portal/api/invoices/INV-2099-000001'], [`/portal/api/payments/${db.payment}`, '/portal/api/payments/99999']] as const) {
      const r1 = await portal(other);
      const r2 = await portal(missing);
      expect(r1.statusCode).toBe(404);
      expect(r2.statusCode).toBe(404);
      const strip = (x: Record<string, unknown>) => ({ ...x, detail: String(x.detail).replace(/\S+ does not exist/, 'X does not exist'), instance: undefined });
      expect(strip(r1.json())).toEqual(strip(r2.json()));
      expect(r1.json().detail).not.toMatch(/Beta|another|forbidden/i);
    }
    expect((await app.inject({ method: 'GET', url: '/portal/api/orders' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/portal/api/orders', headers: { authorization: `Bearer ${keys.admin}` } })).statusCode).toBe(401);
    // The token in the link becomes a portal session; the browser goes on without it.
    const exchange = await app.inject({ method: 'GET', url: `/portal?token=${tokenA}` });
    expect(exchange.statusCode).toBe(303);
    expect(exchange.headers.location).toBe('/portal');
    const session = exchange.cookies.find((c) => c.name === 'cashloop_portal')!;
    const page = await app.inject({ method: 'GET', url: '/portal', cookies: { cashloop_portal: session.value } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Alpha');
    expect(page.body).not.toContain('Beta');
    expect(page.body).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('publishes OpenAPI and docs, rate-limits per key, and keeps secrets out of logs', async () => {
    const spec = (await call('GET', '/openapi.json', 'viewer')).json();
    expect(spec.openapi).toMatch(/^3\./);
    for (const s of coreRouteSpecs) expect(Object.keys(spec.paths), s.url).toContain(s.url.replace(/:(\w+)/g, '{$1}'));
    const docs = await call('GET', '/docs/', 'viewer');
    expect(docs.statusCode).toBe(200);
    expect(docs.body).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)/);
    const limited = await buildServer(t.core, { rateLimitPerMinute: 3 });
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await limited.inject({ method: 'GET', url: '/customers', headers: { authorization: `Bearer ${keys.viewer}` } })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
    await limited.close();
    const lines: string[] = [];
    const logged = await buildServer(t.core, { logger: { level: 'info', stream: { write: (l: string) => lines.push(l) } } });
    await logged.inject({ method: 'GET', url: `/customers?key=${keys.viewer}`, headers: { authorization: `Bearer ${keys.viewer}` } });
    await logged.close();
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toContain(keys.viewer);
    expect(scrubUrl('/portal?token=abc&x=1')).toBe('/portal?token=***&x=1');
  });
});
