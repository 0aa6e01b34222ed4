import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { signedIn, textOf, type Browser } from '../helpers/workspace.ts';
import { buildServer } from '../../src/api/server.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { createUser } from '../../src/users/user.service.ts';
import { unreadNotifications } from '../../src/notifications/notification.service.ts';

describe(`notifications in the workspace on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let sales: Browser;
  let carla: Browser;
  let customerId: number;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    await createUser(t.core, { name: 'carla', role: 'credit', password: 'carla-controls-credit' }, 'test');
    customerId = (await createCustomer(t.core, { name: 'Acme GmbH', creditLimit: '10', paymentTermsDays: 30, currency: 'EUR' }, 'test')).id;
    await createProduct(t.core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'test');
    await receiveStock(t.core, { sku: 'WIDGET', quantity: 100 }, 'test');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    sales = await signedIn(app, t.core, 'sales', 'sam');
    // A key of the same name as the credit controller's user: the notices are for the name.
    carla = await signedIn(app, t.core, 'credit', 'carla');
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('counts the unread in every page header, and marks them read when the notifications page opens', async () => {
    const entered = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '2', idempotencyKey: 'n-1' });
    expect(entered.statusCode, entered.body).toBe(303);
    // The header of any page carries the count; the salesperson has nothing to read.
    const credit = await carla.get('/app/credit');
    expect(credit.statusCode).toBe(200);
    expect(credit.body).toMatch(/<span class="count" id="unread-count">1<span class="sr-only"> unread<\/span><\/span>/);
    expect(textOf(credit.body)).toContain('Notifications 1 unread');
    expect((await sales.get('/app/orders')).body).not.toContain('unread-count');
    expect(await unreadNotifications(t.core, 'carla')).toBe(1);

    const page = await carla.get('/app/notifications');
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain('For carla: 1 new');
    expect(text).toMatch(/Credit hold new Order \d+ of Acme GmbH \(30\.00 EUR\) is on credit hold: exposure 30\.00 EUR exceeds credit limit 10\.00 EUR/);
    expect(page.body).toMatch(/href="\/app\/credit#hold-\d+"/);
    // Opening the page read them: its own header has no count, and neither has the next page's.
    expect(page.body).not.toContain('unread-count');
    expect(await unreadNotifications(t.core, 'carla')).toBe(0);
    expect((await carla.get('/app/credit')).body).not.toContain('unread-count');
    expect(textOf((await carla.get('/app/notifications')).body)).toContain('For carla: 0 new');
    expect(textOf((await sales.get('/app/notifications')).body)).toContain('Nothing to tell you yet.');
    expect(textOf((await carla.get('/app/notifications?show=unread')).body)).toContain('Nothing unread.');
    expect((await carla.get('/app/notifications?after=abc')).statusCode).toBe(400);
  });

  it('reads only the page shown; "Mark all read" clears the rest, and needs the CSRF token', async () => {
    for (let i = 2; i <= 28; i++) {
      const r = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '2', idempotencyKey: `n-${i}` });
      expect(r.statusCode, r.body).toBe(303);
    }
    expect(await unreadNotifications(t.core, 'carla')).toBe(27);
    expect(textOf((await carla.get('/app/credit')).body)).toContain('Notifications 27 unread');
    const first = textOf((await carla.get('/app/notifications')).body);
    expect(first).toContain('For carla: 25 new, 2 more unread on other pages');
    expect(await unreadNotifications(t.core, 'carla')).toBe(2);
    expect((await carla.post('/app/notifications/read', {}, { csrf: null })).statusCode).toBe(403);
    expect(await unreadNotifications(t.core, 'carla')).toBe(2);
    const read = await carla.post('/app/notifications/read', {});
    expect(read.statusCode).toBe(303);
    expect(await unreadNotifications(t.core, 'carla')).toBe(0);
  });
});
