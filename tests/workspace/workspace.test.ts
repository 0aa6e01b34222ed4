import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { countEvents } from '../helpers/fixtures.ts';
import { camtStatement, FORM, HTML, importUnmatchedCredits, multipart, signedIn, textOf, type Browser } from '../helpers/workspace.ts';
import { buildServer } from '../../src/api/server.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { createOrder, getOrder, listOrders } from '../../src/orders/order.service.ts';
import { listShipments } from '../../src/shipping/shipment.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { listInvoices } from '../../src/invoicing/invoice.service.ts';
import { topicsOf } from '../../src/workspace/live.ts';
import { html } from '../../src/workspace/html.ts';

/**
 * The workspace at /app over the real server and database, through its pages and forms the
 * way a browser sends them: the whole loop from order entry to paid, refusals with the
 * field and the rule, sessions and CSRF, roles, paging, CSV, and the live feed.
 */
describe(`workspace on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let sales: Browser;
  let credit: Browser;
  let logistics: Browser;
  let finance: Browser;
  let collector: Browser;
  let viewer: Browser;
  let customerId: number;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    customerId = (await createCustomer(t.core, { name: 'Acme GmbH', creditLimit: '500', paymentTermsDays: 30, currency: 'EUR', salesRep: 'sam' }, 'test')).id;
    await createProduct(t.core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'test');
    await createProduct(t.core, { sku: 'GADGET', name: 'Gadget de luxe', price: '99.00', taxRate: '20' }, 'test');
    await receiveStock(t.core, { sku: 'WIDGET', quantity: 100 }, 'test');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000, workspace: { live: { pollMs: 50 } } });
    sales = await signedIn(app, t.core, 'sales', 'sam');
    credit = await signedIn(app, t.core, 'credit', 'carla');
    logistics = await signedIn(app, t.core, 'logistics', 'leo');
    finance = await signedIn(app, t.core, 'finance', 'fin');
    collector = await signedIn(app, t.core, 'collector', 'cole');
    viewer = await signedIn(app, t.core, 'viewer', 'vera');
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('walks one order from entry to paid through the workspace: hold, release, two shipments, deliveries with signatures, a bank line matched', async () => {
    // Entry: the product search finds it with its stock and price, the preview gives the check's verdict and figures.
    const search = await sales.get('/app/orders/products?q=widg');
    expect(textOf(search.body)).toContain('WIDGET Widget 12.50 EUR · 100 available');
    const preview = textOf((await sales.get(`/app/orders/preview?customerId=${customerId}&sku=WIDGET&quantity=60`)).body);
    expect(preview).toContain('Would go on credit hold');
    expect(preview).toContain('exposure 900.00 EUR exceeds credit limit 500.00 EUR');

    const entered = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '60', idempotencyKey: 'walk-1' });
    expect(entered.statusCode, entered.body).toBe(303);
    const orderId = Number(/\/app\/orders\/(\d+)/.exec(entered.headers.location as string)![1]);
    expect((await getOrder(t.core, orderId)).status).toBe('credit_hold');
    expect(textOf((await sales.get(entered.headers.location as string)).body)).toContain(`Order ${orderId} submitted.`);

    // Credit control sees why, in money, and releases with a reason.
    const queue = textOf((await credit.get('/app/credit')).body);
    expect(queue).toContain('exposure 900.00 EUR exceeds credit limit 500.00 EUR');
    expect(queue).toMatch(/\( ?400\.00 EUR over\)/);
    const released = await credit.post(`/app/credit/orders/${orderId}/decide`, { decision: 'release', reason: 'long-standing customer' });
    expect(released.statusCode, released.body).toBe(303);
    expect((await getOrder(t.core, orderId)).status).toBe('approved');

    // Logistics ships 40 of 60, delivers with a signature (invoiced), then the other 20.
    expect(textOf((await logistics.get('/app/logistics')).body)).toContain(`Order ${orderId}`);
    const first = await logistics.post(`/app/logistics/orders/${orderId}/ship`, { qty_WIDGET: '40', carrier: 'DHL', trackingNumber: '00340434' });
    expect(first.statusCode, first.body).toBe(303);
    expect((await getOrder(t.core, orderId)).status).toBe('partially_shipped');
    const shipmentId = Number(new URL(first.headers.location as string, 'http://x').searchParams.get('shipment'));
    const delivered = await logistics.post(`/app/logistics/shipments/${shipmentId}/deliver`, { signedBy: 'J. Doe' });
    expect(delivered.statusCode, delivered.body).toBe(303);
    expect(new URL(delivered.headers.location as string, 'http://x').searchParams.get('invoice')).toBe('INV-2026-000001');
    const second = await logistics.post(`/app/logistics/orders/${orderId}/ship`, { qty_WIDGET: '20', carrier: 'DHL', trackingNumber: '00340435' });
    expect(second.statusCode, second.body).toBe(303);
    const secondId = Number(new URL(second.headers.location as string, 'http://x').searchParams.get('shipment'));
    expect((await logistics.post(`/app/logistics/shipments/${secondId}/deliver`, { signedBy: 'J. Doe' })).statusCode).toBe(303);
    expect((await getOrder(t.core, orderId)).status).toBe('invoiced');

    // The bank line of 900.00 nobody could match; finance matches it to the first invoice, which settles both.
    await importUnmatchedCredits(t.core, t.dataDir, [{ amount: '900.00', ref: 'WALK-1', date: '2026-03-02' }]);
    const cash = textOf((await finance.get('/app/cash')).body);
    expect(cash).toContain('900.00 EUR on 2026-03-02');
    const entryId = Number(/Bank line (\d+): 900\.00 EUR/.exec(cash)![1]);
    const matched = await finance.post(`/app/cash/entries/${entryId}/match`, { invoice: 'INV-2026-000001' });
    expect(matched.statusCode, matched.body).toBe(303);
    expect((await getOrder(t.core, orderId)).status).toBe('paid');
    expect((await listInvoices(t.core, { customerId })).map((i) => i.status)).toEqual(['paid', 'paid']);

    // The customer's 360° page shows it all: the proof of delivery, the invoices, the payment.
    const c360 = textOf((await sales.get(`/app/customers/${customerId}`)).body);
    expect(c360).toContain('signed by J. Doe');
    expect(c360).toContain('INV-2026-000002');
    expect(c360).toContain('INV-2026-000001 600.00, INV-2026-000002 300.00');
  });

  it('refuses bad input with the field and the rule beside the field, and writes nothing', async () => {
    const before = await countEvents(t.core);
    const order = await sales.post('/app/orders', { customerId: String(customerId), sku: ['WIDGET', 'GADGET'], quantity: ['2', '0'], idempotencyKey: 'bad-1' });
    expect(order.statusCode).toBe(200);
    expect(order.body).toMatch(/<input id="qty-GADGET-1"[^>]*aria-invalid="true"/);
    expect(textOf(order.body)).toContain('lines.1.quantity must be at least 1, got 0 (rule: positive)');
    // What was typed stays in the form.
    expect(order.body).toContain('value="WIDGET"');

    const noCustomer = await sales.post('/app/orders', { customerId: '', sku: 'WIDGET', quantity: '1', idempotencyKey: 'bad-2' });
    expect(textOf(noCustomer.body)).toContain('(rule: integer)');
    // The customer is chosen by search: the search field is the one marked, its error beside it.
    expect(noCustomer.body).toMatch(/<input id="customer-q"[^>]*aria-invalid="true"[^>]*aria-describedby="customer-chosen f-customerId-error"/);
    expect(noCustomer.body).toMatch(/<p class="field-error" id="f-customerId-error">customerId [^<]*\(rule: integer\)/);

    const held = await submitOrder(t.core, (await createOrder(t.core, { customerId, lines: [{ sku: 'WIDGET', quantity: 50 }] }, 'test')).id, 'test');
    expect(held.status).toBe('credit_hold');
    const noReason = await credit.post(`/app/credit/orders/${held.id}/decide`, { decision: 'release', reason: '  ' });
    expect(noReason.body).toMatch(/<textarea id="reason-\d+"[^>]*aria-invalid="true"/);
    expect(textOf(noReason.body)).toContain('reason is required (rule: required)');
    const limit = await credit.post(`/app/credit/customers/${customerId}/limit`, { creditLimit: '12.345' });
    expect(textOf(limit.body)).toContain('creditLimit has 3 decimals; EUR allows 2 (rule: amount_precision)');
    expect(limit.body).toMatch(/<input id="limit-\d+"[^>]*aria-invalid="true"/);

    const promise = await collector.post(`/app/collections/customers/${customerId}/promise`, { date: '2026-01-01', amount: '' });
    expect(textOf(promise.body)).toContain('date 2026-01-01 is in the past; a promise is for today or later (today is 2026-03-02) (rule: not_in_past)');
    expect(promise.body).toMatch(/<input id="promise-date"[^>]*aria-invalid="true"/);
    const dispute = await collector.post(`/app/collections/customers/${customerId}/dispute`, { invoice: '', reason: 'damaged' });
    expect(textOf(dispute.body)).toContain('invoice is required (rule: required)');

    await credit.post(`/app/credit/orders/${held.id}/decide`, { decision: 'reject', reason: 'test over' });
    const after = await countEvents(t.core);
    // Only the order made for this test and its rejection were written.
    expect(after - before).toBe(3);
  });

  it('refuses a write without a session or without its CSRF token, and one the role may not make', async () => {
    const before = await countEvents(t.core);
    const noSession = await app.inject({ method: 'POST', url: '/app/orders', headers: FORM, payload: `customerId=${customerId}&sku=WIDGET&quantity=1` });
    expect(noSession.statusCode).toBe(401);
    const noToken = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '1' }, { csrf: null });
    expect(noToken.statusCode).toBe(403);
    expect(noToken.json().rule).toBe('csrf_token');
    const wrongToken = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '1' }, { csrf: credit.csrf });
    expect(wrongToken.statusCode).toBe(403);
    const notMine = await viewer.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '1' });
    expect(notMine.statusCode).toBe(403);
    expect(notMine.json().rule).toBe('permission_orders_write');
    expect(await countEvents(t.core)).toBe(before);
    // A page without a session sends the browser to sign in, and back afterwards.
    const page = await app.inject({ method: 'GET', url: '/app/credit', headers: HTML });
    expect(page.statusCode).toBe(303);
    expect(page.headers.location).toBe('/sign-in?next=%2Fapp%2Fcredit');
  });

  it('shows each role the pages and actions of its permissions', async () => {
    const nav = async (b: Browser) => [...(await b.get('/app')).body.split('</nav>')[0]!.matchAll(/<li><a href="(\/app\/[a-z]+)"/g)].map((m) => m[1]);
    expect(await nav(logistics)).toEqual(['/app/orders', '/app/logistics', '/app/sales', '/app/customers']);
    expect(await nav(collector)).toEqual(['/app/orders', '/app/credit', '/app/logistics', '/app/cash', '/app/collections', '/app/sales', '/app/customers']);
    expect((await logistics.get('/app/credit')).statusCode).toBe(403);
    // The order form shows to who may enter orders; the release button to who may decide.
    expect((await viewer.get('/app/orders')).body).not.toContain('id="order-form"');
    expect((await sales.get('/app/orders')).body).toContain('id="order-form"');
    expect((await viewer.get(`/app/customers/${customerId}`)).body).not.toContain('Change limit');
    expect((await credit.get(`/app/customers/${customerId}`)).body).toContain('Change limit');
  });

  it('pages the lists on the server and downloads them as formula-safe CSV', async () => {
    const evil = await createCustomer(t.core, { name: '=HYPERLINK("http://x","y")', creditLimit: '100000', currency: 'EUR' }, 'test');
    for (let i = 0; i < 26; i++) await createOrder(t.core, { customerId: evil.id, lines: [{ sku: 'GADGET', quantity: 1 }] }, 'test');
    const first = await sales.get(`/app/orders?customer=${evil.id}`);
    const ids = [...first.body.matchAll(/>Order (\d+)<\/a>/g)].map((m) => Number(m[1]));
    expect(ids).toHaveLength(25);
    const next = /href="([^"]+)" rel="next"/.exec(first.body)![1]!.replaceAll('&amp;', '&');
    const second = [...(await sales.get(next)).body.matchAll(/>Order (\d+)<\/a>/g)].map((m) => Number(m[1]));
    expect(second).toHaveLength(1);
    // The board pages from the newest order: the second page holds the oldest.
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(second[0]).toBeLessThan(ids.at(-1)!);
    const csv = await sales.get(`/app/orders?customer=${evil.id}&format=csv`);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.trim().split('\n');
    expect(lines).toHaveLength(27);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    const customers = (await sales.get('/app/customers?format=csv')).body;
    expect(customers).toContain(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(customers.split('\n')[0]).toBe('id,name,country,segment,currency,payment_terms_days,credit_limit,risk_class,sales_rep,collector,email,iban,status');
    // The page itself shows the name as text.
    expect((await sales.get(`/app/customers/${evil.id}`)).body).toContain('=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)');
  });

  it('streams order changes to a signed-in page as server-sent events, and only the topics the role may read', async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const listen = (session: string) => {
      let text = '';
      const req = http.get({ host: '127.0.0.1', port, path: '/app/live', headers: { accept: 'text/event-stream', cookie: `cashloop_session=${session}` } }, (res) => {
        expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
      });
      return { read: () => text, close: () => req.destroy() };
    };
    const salesStream = listen(sales.session);
    const logisticsStream = listen(logistics.session);
    try {
      await until(() => salesStream.read().includes('following the event feed') && logisticsStream.read().includes('following the event feed'));
      const order = await createOrder(t.core, { customerId, lines: [{ sku: 'WIDGET', quantity: 1 }] }, 'test');
      await collector.post(`/app/collections/customers/${customerId}/log`, { kind: 'call', note: 'AP confirms' });
      await until(() => salesStream.read().includes('event: collections'));
      expect(salesStream.read()).toMatch(new RegExp(`event: order\\ndata: \\{[^\\n]*"orders":\\[\\{"id":${order.id},"status":"draft"\\}\\]`));
      await until(() => logisticsStream.read().includes(`"id":${order.id}`));
      // Logistics may not read collections: that topic never reaches its page.
      await new Promise((r) => setTimeout(r, 200));
      expect(logisticsStream.read()).not.toContain('event: collections');
    } finally {
      salesStream.close();
      logisticsStream.close();
    }
  });

  it('does the work of a form once when it is sent several times at once (its one-time token), and lets a refused form be sent again', async () => {
    const buyer = (await createCustomer(t.core, { name: 'Twice KG', creditLimit: '100000', currency: 'EUR' }, 'test')).id;
    const order = await submitOrder(t.core, (await createOrder(t.core, { customerId: buyer, lines: [{ sku: 'WIDGET', quantity: 30 }] }, 'test')).id, 'test');
    expect(order.status).toBe('approved');
    const once = randomUUID();
    const ship = () => logistics.post(`/app/logistics/orders/${order.id}/ship`, { _once: once, qty_WIDGET: '10', carrier: 'DHL', trackingNumber: 'T-1' });
    const answers = await Promise.all([ship(), ship(), ship(), ship()]);
    expect(answers.map((a) => a.statusCode)).toEqual([303, 303, 303, 303]);
    expect(new Set(answers.map((a) => a.headers.location)).size).toBe(1);
    expect(await listShipments(t.core, order.id)).toHaveLength(1);

    const formOnce = randomUUID();
    const enter = () => sales.post('/app/orders', { _once: formOnce, customerId: String(buyer), sku: 'WIDGET', quantity: '1', idempotencyKey: `twice-${formOnce}` });
    const entered = await Promise.all([enter(), enter(), enter()]);
    expect(entered.map((a) => a.statusCode)).toEqual([303, 303, 303]);
    expect(new Set(entered.map((a) => a.headers.location)).size).toBe(1);
    const orderId = Number(/\/app\/orders\/(\d+)/.exec(entered[0]!.headers.location as string)![1]);
    expect((await listOrders(t.core, { customerId: buyer })).map((o) => o.id)).toEqual([order.id, orderId]);
    expect((await getOrder(t.core, orderId)).status).toBe('approved');

    // Refused, the token is free again: the corrected form goes through with it.
    const again = randomUUID();
    const refused = await logistics.post(`/app/logistics/orders/${order.id}/ship`, { _once: again, qty_WIDGET: '10', carrier: '', trackingNumber: 'T-2' });
    expect(textOf(refused.body)).toContain('carrier is required (rule: required)');
    const fixed = await logistics.post(`/app/logistics/orders/${order.id}/ship`, { _once: again, qty_WIDGET: '10', carrier: 'DHL', trackingNumber: 'T-2' });
    expect(fixed.statusCode, fixed.body).toBe(303);
    expect(await listShipments(t.core, order.id)).toHaveLength(2);
  });

  it('imports a bank statement uploaded on the cash page, and refuses one without a file or a CSRF token', async () => {
    const send = (fields: Record<string, string>, file?: { field: string; filename: string; content: string }, csrf: string | null = finance.csrf) => {
      const body = multipart({ ...(csrf === null ? {} : { _csrf: csrf }), ...fields }, file);
      return app.inject({ method: 'POST', url: '/app/cash/statements', headers: { ...HTML, 'content-type': body.contentType }, cookies: { cashloop_session: finance.session }, payload: body.payload });
    };
    const statement = { field: 'file', filename: 'day-2026-03-02.xml', content: camtStatement('UP-1', [{ ref: 'U1', amount: '77.70', date: '2026-03-02' }, { ref: 'U2', amount: '12.00', date: '2026-03-02' }]) };
    const before = await countEvents(t.core);
    expect((await send({}, statement, null)).statusCode).toBe(403);
    const empty = await send({});
    expect(textOf(empty.body)).toContain('file is required: choose the statement file (rule: required)');
    expect(empty.body).toMatch(/<input id="f-file"[^>]*aria-invalid="true"/);
    const future = await send({}, { ...statement, filename: 'later.xml', content: camtStatement('UP-2', [{ ref: 'F1', amount: '1.00', date: '2026-04-01' }]) });
    expect(textOf(future.body)).toContain('later.xml: 1 entries are booked after today (2026-03-02); nothing was written');
    expect(await countEvents(t.core)).toBe(before);
    const done = await send({}, statement);
    expect(done.statusCode, done.body).toBe(303);
    const page = textOf((await finance.get(done.headers.location as string)).body);
    expect(page).toContain('Statement imported: 2 entries read, 0 matched, 2 waiting for a match, 0 returned, 0 other debits.');
    expect(page).toContain('77.70 EUR on 2026-03-02');
    // The same file again changes nothing.
    const again = await send({}, statement);
    expect(textOf((await finance.get(again.headers.location as string)).body)).toContain('2 imported before');
  });

  it('answers no malformed request with a server error', async () => {
    const admin = await signedIn(app, t.core, 'admin', 'ada');
    const ids = ['0', '-1', 'abc', '99999999999', '1.5', ''];
    const gets = [
      ...ids.flatMap((id) => [`/app/orders/${id}`, `/app/orders/${id}/status`, `/app/customers/${id}`, `/app/customers/${id}?fragment=orders`, `/app/collections/customers/${id}`, `/app/collections/customers/${id}/reminder`]),
      ...['after=abc', 'after=-3', 'status=bogus', 'customer=x', 'customer=0', 'format=csv&customer=-1', 'after=99999999999'].map((q) => `/app/orders?${q}`),
      '/app/orders/board?status=nope', '/app/orders/products?q=' + 'x'.repeat(300), '/app/orders/line?sku=NOPE', '/app/orders/line',
      '/app/orders/customers?q=' + 'x'.repeat(300), '/app/orders/customers?q=a&from=-1', '/app/orders/customers?q=a&from=1e9', '/app/orders/customers?q=a&from=99999999999', '/app/orders/customer?id=abc', '/app/orders/customer?id=99999999999', '/app/orders/customer', '/app/orders/preview?customerId=abc&sku=WIDGET&quantity=1',
      '/app/orders/preview?customerId=1&sku=WIDGET&quantity=99999999999999', '/app/orders/preview?customerId=1&sku=WIDGET&sku=GADGET&quantity=1', '/app/credit?after=zz', '/app/cash?from=-4', '/app/cash?from=1e9',
      '/app/collections?from=abc&collector=' + 'c'.repeat(300), '/app/sales?rep=' + 'r'.repeat(500), '/app/sales?after=-1', '/app/customers?after=x', '/app/logistics?view=zz&after=abc', '/app/customers/1?format=csv&list=nope', '/app/assets/..%2F..%2Fpackage.json',
    ];
    for (const url of gets) {
      const r = await admin.get(url);
      expect(r.statusCode, `${url} → ${r.statusCode} ${r.body.slice(0, 300)}`).toBeLessThan(500);
    }
    const posts: [string, Record<string, string | string[]>][] = [
      ['/app/orders', {}], ['/app/orders', { customerId: '1', sku: ['WIDGET', 'GADGET'], quantity: ['1'] }], ['/app/orders', { customerId: '1', sku: 'x'.repeat(500), quantity: '1' }],
      ['/app/orders/abc/cancel', { reason: 'x' }], ['/app/orders/1/cancel', {}], ['/app/credit/orders/abc/decide', { decision: 'release', reason: 'r' }], ['/app/credit/orders/1/decide', { decision: 'zz' }],
      ['/app/credit/customers/abc/limit', { creditLimit: '1' }], ['/app/credit/customers/1/limit', { creditLimit: '1e9999' }], ['/app/logistics/orders/abc/ship', {}], ['/app/logistics/orders/1/ship', { qty_NOPE: '5', carrier: 'c', trackingNumber: 't' }],
      ['/app/logistics/shipments/abc/deliver', { signedBy: 'x' }], ['/app/cash/entries/abc/match', { invoice: 'x' }], ['/app/cash/entries/999/match', { invoice: '' }],
      ['/app/collections/customers/abc/log', { kind: 'call' }], ['/app/collections/customers/1/log', { kind: 'shout', nextActionOn: '2026-02-30' }], ['/app/collections/customers/1/promise', { date: 'tomorrow', amount: '-5' }],
      ['/app/collections/customers/1/dispute', { invoice: 'INV-0', reason: 'x', amount: 'abc' }], ['/app/collections/customers/abc/reminder', {}], ['/app/orders', { _once: 'x'.repeat(300), customerId: '1' }],
    ];
    for (const [url, fields] of posts) {
      const r = await admin.post(url, fields);
      expect(r.statusCode, `POST ${url} → ${r.statusCode} ${r.body.slice(0, 300)}`).toBeLessThan(500);
    }
    const broken = [
      { 'content-type': 'multipart/form-data', payload: 'x' },
      { 'content-type': 'multipart/form-data; boundary=zz', payload: '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.xml"\r\n\r\n<not xml' },
      { 'content-type': 'multipart/form-data; boundary=zz', payload: `--zz\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${admin.csrf}\r\n--zz\r\nContent-Disposition: form-data; name="file"; filename="a.xml"\r\n\r\n<Document>broken\r\n--zz--\r\n` },
    ];
    for (const b of broken) {
      const r = await app.inject({ method: 'POST', url: '/app/cash/statements', headers: { ...HTML, 'content-type': b['content-type'] }, cookies: { cashloop_session: admin.session }, payload: b.payload });
      expect(r.statusCode, `multipart → ${r.statusCode} ${r.body.slice(0, 300)}`).toBeLessThan(500);
    }
  });

  it('announces topics from the tables an event wrote', () => {
    const messages = topicsOf([
      { seq: 7, event_type: 'order.approved', aggregate_type: 'order', aggregate_id: '3', actor: 'x', occurred_at: '', payload: { orders: [{ id: 3, customer_id: 9, status: 'approved' }], stock_levels: [{ product_id: 1 }] } },
      { seq: 8, event_type: 'payment.recorded', aggregate_type: 'payment', aggregate_id: '1', actor: 'x', occurred_at: '', payload: { payments: [{ id: 1, customer_id: 9 }], invoices: [{ id: 2, customer_id: 9 }], orders: [{ id: 3, customer_id: 9, status: 'paid' }] } },
    ]);
    expect(messages).toEqual([
      { topic: 'order', seq: 8, customers: [9], orders: [{ id: 3, status: 'paid' }] },
      { topic: 'money', seq: 8, customers: [9], orders: [] },
    ]);
  });

  it('escapes every value put into a page unless it is markup built the same way', () => {
    const name = '<img src=x onerror=alert(1)> & "Söhne"';
    expect(html`<p title="${name}">${name}</p>`.text).toBe('<p title="&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Söhne&quot;">&lt;img src=x onerror=alert(1)&gt; &amp; &quot;Söhne&quot;</p>');
    expect(html`<ul>${['a<b', html`<li>${'c>d'}</li>`]}</ul>${false}${null}`.text).toBe('<ul>a&lt;b<li>c&gt;d</li></ul>');
  });
});

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}
