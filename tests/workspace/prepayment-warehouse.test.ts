import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createOrder, getOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { readWarehouse, tempDir } from '../pipelines/ledger.ts';

/**
 * An order on prepayment terms in the warehouse: its wait for the prepayment is staged from
 * the order's moves, shown in the orders mart (also when an earlier date is replayed), and
 * measured as its own step of the cycle times, which still add up to the whole loop.
 */
describe(`prepayment terms reach the warehouse's staging and cycle times (${testDialect})`, () => {
  let t: TestCore;
  const dirs: string[] = [];
  let prepaid: number;
  let waiting: number;
  let normal: number;
  const warehouse = async (asOf?: string) => {
    const dir = tempDir();
    dirs.push(dir);
    await runPipeline({ dataDir: dir, coreUrl: t.url, quiet: true, ...(asOf ? { asOf } : {}) });
    const q = (sql: string) => readWarehouse(warehousePaths(dir).snapshot, sql);
    return Object.assign(q, { staging: (sql: string) => readWarehouse(warehousePaths(dir).warehouse, sql) });
  };

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    const { core, clock } = t;
    await setSetting(core, 'credit.prepayment_classes', 'E', actor);
    const { customer } = await seedBasics(core, { stock: 100 });
    const risky = await createCustomer(core, { name: 'Risky Ltd', creditLimit: '10000', paymentTermsDays: 30, currency: 'EUR', riskClass: 'E' }, actor);
    // Prepaid: entered 09:00, decided 10:00 (waits), paid two days later, shipped a day after, delivered a day after that.
    prepaid = (await createOrder(core, { customerId: risky.id, lines: [{ sku: 'WIDGET', quantity: 8 }] }, actor)).id;
    normal = (await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor)).id;
    clock.advance(3_600_000);
    expect((await submitOrder(core, prepaid, actor)).status).toBe('awaiting_prepayment');
    expect((await submitOrder(core, normal, actor)).status).toBe('approved');
    clock.advanceDays(2);
    expect((await recordPayment(core, { customerId: risky.id, amount: '120.00', externalId: 'pre-1' }, actor)).releasedOrders).toEqual([prepaid]);
    clock.advanceDays(1);
    const shipment = await createShipment(core, { orderId: prepaid, carrier: 'DHL', trackingNumber: 'P1' }, actor);
    clock.advanceDays(1);
    await deliverShipment(core, shipment.id, { signedBy: 'R. Isky' }, actor);
    // A second order of the same customer still waits.
    waiting = (await createOrder(core, { customerId: risky.id, lines: [{ sku: 'WIDGET', quantity: 2 }] }, actor)).id;
    await submitOrder(core, waiting, actor);
    expect((await getOrder(core, waiting)).status).toBe('awaiting_prepayment');
    expect((await getOrder(core, prepaid)).status).toBe('paid');
    process.env.CASHLOOP_CLOCK = clock.now().toISOString();
  });
  afterAll(async () => {
    delete process.env.CASHLOOP_CLOCK;
    await t.cleanup();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('stages the wait from the order moves and shows it in the orders mart', async () => {
    const q = await warehouse();
    expect(await q.staging(`select order_id, from_status, to_status, "at" from staging.core_order_status_history where 'awaiting_prepayment' in (from_status, to_status) order by id`)).toEqual([
      { order_id: String(prepaid), from_status: 'submitted', to_status: 'awaiting_prepayment', at: '2026-03-02T10:00:00.000Z' },
      { order_id: String(prepaid), from_status: 'awaiting_prepayment', to_status: 'approved', at: '2026-03-04T10:00:00.000Z' },
      { order_id: String(waiting), from_status: 'submitted', to_status: 'awaiting_prepayment', at: '2026-03-06T10:00:00.000Z' },
    ]);
    expect(await q(`select order_key, status, awaiting_prepayment_at::varchar w, prepaid_at::varchar p, approved_at::varchar a from marts.fct_orders order by order_key`)).toEqual([
      { order_key: `core:${prepaid}`, status: 'paid', w: '2026-03-02 10:00:00', p: '2026-03-04 10:00:00', a: '2026-03-04 10:00:00' },
      { order_key: `core:${normal}`, status: 'approved', w: null, p: null, a: '2026-03-02 10:00:00' },
      { order_key: `core:${waiting}`, status: 'awaiting_prepayment', w: '2026-03-06 10:00:00', p: null, a: null },
    ]);
  });

  it('measures the wait as its own step; the steps add up to the whole loop', async () => {
    const q = await warehouse();
    const rows = await q(`select step, step_order, orders, round(median_days, 4) d from metrics.order_cycle_times order by step_order`);
    expect(rows).toEqual([
      // Both decided an hour after entry: the prepaid order's wait is not in its approval time.
      { step: 'order_to_approval', step_order: 1, orders: '3', d: 0.0417 },
      { step: 'prepayment_wait', step_order: 2, orders: '1', d: 2 },
      { step: 'approval_to_shipment', step_order: 3, orders: '1', d: 1 },
      { step: 'shipment_to_delivery', step_order: 4, orders: '1', d: 1 },
      // Its invoice was paid as it was made, by the prepayment (delivered → paid): no invoice steps.
      { step: 'order_to_cash', step_order: 7, orders: '1', d: 4.0417 },
    ]);
  });

  it('replays an earlier date: the prepaid order was waiting then, and no wait had ended', async () => {
    const q = await warehouse('2026-03-03');
    expect(await q(`select order_key, status, awaiting_prepayment_at::varchar w, prepaid_at, approved_at from marts.fct_orders where order_key = 'core:${prepaid}'`)).toEqual([
      { order_key: `core:${prepaid}`, status: 'awaiting_prepayment', w: '2026-03-02 10:00:00', prepaid_at: null, approved_at: null },
    ]);
    expect(await q(`select count(*) n from metrics.order_cycle_times where step = 'prepayment_wait'`)).toEqual([{ n: '0' }]);
  });
});
