import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { signedIn, textOf, type Browser } from '../helpers/workspace.ts';
import { buildServer } from '../../src/api/server.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { getOrder } from '../../src/orders/order.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';

describe(`prepayment terms in the workspace on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let sales: Browser;
  let finance: Browser;
  let viewer: Browser;
  let customerId: number;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    await setSetting(t.core, 'credit.prepayment_classes', 'E', 'test');
    customerId = (await createCustomer(t.core, { name: 'Risky Ltd', creditLimit: '5000', paymentTermsDays: 30, currency: 'EUR', riskClass: 'E' }, 'test')).id;
    await createProduct(t.core, { sku: 'WIDGET', name: 'Widget', price: '12.50', taxRate: '20' }, 'test');
    await receiveStock(t.core, { sku: 'WIDGET', quantity: 100 }, 'test');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    sales = await signedIn(app, t.core, 'sales', 'sam');
    finance = await signedIn(app, t.core, 'finance', 'fin');
    viewer = await signedIn(app, t.core, 'viewer', 'vera');
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('shows prepayment terms at entry, holds the order until a payment covers it, and releases it then', async () => {
    const preview = textOf((await sales.get(`/app/orders/preview?customerId=${customerId}&sku=WIDGET&quantity=8`)).body);
    expect(preview).toContain('Prepayment terms');
    expect(preview).toContain('waits for a payment of 120.00 EUR');
    const entered = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '8', idempotencyKey: 'pre-1' });
    expect(entered.statusCode, entered.body).toBe(303);
    const orderId = Number(/\/app\/orders\/(\d+)/.exec(entered.headers.location as string)![1]);
    expect((await getOrder(t.core, orderId)).status).toBe('awaiting_prepayment');

    const before = textOf((await finance.get(`/app/orders/${orderId}`)).body);
    expect(before).toContain('Free for this order 0.00 EUR');
    const early = await finance.post(`/app/orders/${orderId}/prepaid`, {});
    expect(early.statusCode).toBe(200);
    expect(textOf(early.body)).toContain('prepayment_not_covered');
    expect((await viewer.post(`/app/orders/${orderId}/prepaid`, {})).statusCode).toBe(403);
    expect((await finance.post(`/app/orders/${orderId}/prepaid`, {}, { csrf: null })).statusCode).toBe(403);

    // The payment that covers it releases it as it is recorded.
    expect((await recordPayment(t.core, { customerId, amount: '120.00', externalId: 'pay-1' }, 'test')).releasedOrders).toEqual([orderId]);
    expect((await getOrder(t.core, orderId)).status).toBe('approved');
    expect(textOf((await finance.post(`/app/orders/${orderId}/prepaid`, {})).body)).toContain('only an order awaiting its prepayment');

    // Cash paid before the order was entered: the order waits, and the button releases it.
    await recordPayment(t.core, { customerId, amount: '120.00', externalId: 'pay-2' }, 'test');
    const second = await sales.post('/app/orders', { customerId: String(customerId), sku: 'WIDGET', quantity: '8', idempotencyKey: 'pre-2' });
    const secondId = Number(/\/app\/orders\/(\d+)/.exec(second.headers.location as string)![1]);
    expect((await getOrder(t.core, secondId)).status).toBe('awaiting_prepayment');
    expect(textOf((await finance.get(`/app/orders/${secondId}`)).body)).toContain('Free for this order 120.00 EUR');
    const done = await finance.post(`/app/orders/${secondId}/prepaid`, {});
    expect(done.statusCode, done.body).toBe(303);
    expect(textOf((await finance.get(done.headers.location as string)).body)).toContain('the prepayment covers it, and it can ship');
    expect((await getOrder(t.core, secondId)).status).toBe('approved');
  });
});
