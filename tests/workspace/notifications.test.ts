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

  it('shows a credit controller the new hold, links to it, and marks it read', async () => {
    const entered = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '2', idempotencyKey: 'n-1' });
    expect(entered.statusCode, entered.body).toBe(303);
    const page = await carla.get('/app/notifications');
    expect(page.statusCode).toBe(200);
    const text = textOf(page.body);
    expect(text).toContain('For carla: 1 unread');
    expect(text).toMatch(/Credit hold new Order \d+ of Acme GmbH \(30\.00 EUR\) is on credit hold: exposure 30\.00 EUR exceeds credit limit 10\.00 EUR/);
    expect(page.body).toMatch(/href="\/app\/credit#hold-\d+"/);
    expect(textOf((await sales.get('/app/notifications')).body)).toContain('Nothing to tell you yet.');
    expect((await carla.post('/app/notifications/read', {}, { csrf: null })).statusCode).toBe(403);
    const read = await carla.post('/app/notifications/read', {});
    expect(read.statusCode).toBe(303);
    expect(await unreadNotifications(t.core, 'carla')).toBe(0);
    expect(textOf((await carla.get('/app/notifications?show=unread')).body)).toContain('Nothing unread.');
    expect((await carla.get('/app/notifications?after=abc')).statusCode).toBe(400);
  });
});
