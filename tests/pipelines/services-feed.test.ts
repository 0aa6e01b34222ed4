import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { createCreditNote } from '../../src/invoicing/invoice.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { readWarehouse, tempDir } from './ledger.ts';

/** End to end: the real core services write the feed, the pipeline loads it and reconciles. */
describe(`the core's services feed the warehouse (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  const q = (sql: string) => readWarehouse(warehousePaths(dir).snapshot, sql);

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { core, clock } = t;
    const { customer } = await seedBasics(core, { stock: 100 });
    const order = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 80 }] }, actor);
    clock.advance(3_600_000);
    await submitOrder(core, order.id, actor);
    clock.advanceDays(1);
    const shipment = await createShipment(core, { orderId: order.id, carrier: 'DHL', trackingNumber: 'T1' }, actor);
    clock.advanceDays(2);
    await deliverShipment(core, shipment.id, { signedBy: 'J. Doe' }, actor);
    clock.advanceDays(10);
    await recordPayment(core, { customerId: customer.id, amount: '500.00', reference: 'INV-2026-000001' }, actor);
    await createCreditNote(core, { invoice: 'INV-2026-000001', amount: '100.00', reason: 'damaged box', kind: 'price_correction' }, actor);
    clock.advanceDays(5);
    await recordPayment(core, { customerId: customer.id, amount: '600.00', reference: 'INV-2026-000001' }, actor);
    process.env.CASHLOOP_CLOCK = clock.now().toISOString();
    dir = tempDir();
    await runPipeline({ dataDir: dir, coreUrl: t.url, quiet: true });
  });
  afterAll(async () => {
    delete process.env.CASHLOOP_CLOCK;
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds orders with their lifecycle, lines, shipments, invoices, payments and credit notes, and reconciles', async () => {
    const [order] = await q(`select status, total_cents, created_at is not null and approved_at is not null and shipped_at is not null
        and delivered_at is not null and invoiced_at is not null and paid_at is not null as full_lifecycle from marts.fct_orders`);
    expect(order).toEqual({ status: 'paid', total_cents: '120000', full_lifecycle: true });
    expect(await q(`select p.sku, l.quantity, l.net_cents from marts.fct_order_lines l join marts.dim_product p using (product_key)`)).toEqual([
      { sku: 'WIDGET', quantity: '80', net_cents: '100000' },
    ]);
    expect(await q(`select status, carrier, round(days_in_transit, 3) d from marts.fct_shipments`)).toEqual([{ status: 'delivered', carrier: 'DHL', d: 2 }]);
    expect(await q(`select amount_cents, credited_cents, paid_cents, open_cents, days_to_pay from marts.fct_invoices`)).toEqual([
      { amount_cents: '120000', credited_cents: '10000', paid_cents: '110000', open_cents: '0', days_to_pay: 15 },
    ]);
    expect(await q(`select count(*) n, sum(amount_cents) s from marts.fct_payment_allocations where not is_reversed`)).toEqual([{ n: '2', s: '110000' }]);
    expect(await q(`select step, orders, round(median_days, 4) d from metrics.order_cycle_times order by step_order`)).toEqual([
      { step: 'order_to_approval', orders: '1', d: 0.0417 },
      { step: 'approval_to_shipment', orders: '1', d: 1 },
      { step: 'shipment_to_delivery', orders: '1', d: 2 },
      { step: 'delivery_to_invoice', orders: '1', d: 0 },
      { step: 'invoice_to_payment', orders: '1', d: 15 },
      { step: 'order_to_cash', orders: '1', d: 18.0417 },
    ]);
    const [run] = await q(`select status, as_of::varchar a from ops.pipeline_runs`);
    expect(run).toEqual({ status: 'succeeded', a: '2026-03-20' });
    expect(await q(`select count(*) filter (where not ok) bad, count(*) n from ops.reconciliation`)).toEqual([{ bad: '0', n: '6' }]);
  });
});
