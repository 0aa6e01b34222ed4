import pg from 'pg';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder, getOrder, orderHistory } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment, reversePayment } from '../../src/payments/payment.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

/**
 * A reversed payment takes back the cash that released orders on prepayment terms: the
 * orders not yet shipped wait for their prepayment again, in the reversal's transaction. On
 * PostgreSQL a reversal races a shipment of the same order: the order either ships (and stays
 * shipped) or waits (and the shipment is refused), never both.
 */
describe(`a payment reversal sends released prepaid orders back to wait (${testDialect})`, () => {
  let t: TestCore;
  let n = 0;
  const q = <T>(text: string, params: unknown[] = []) => t.core.db.kysely.executeQuery<T>(CompiledQuery.raw(t.core.db.dialect === 'postgres' ? text : text.replace(/\$\d+/g, '?'), params));
  const reserved = async () => (await q<{ reserved: number }>(`select reserved from stock_levels`)).rows.map((r) => Number(r.reserved));
  const linesReserved = async () => Number((await q<{ s: number }>(`select coalesce(sum(reserved_qty), 0) as s from order_lines`)).rows[0]!.s);

  /** A customer of class E with an order of 120.00 waiting for its prepayment. */
  async function waitingOrder(quantity = 8) {
    n++;
    const c = await createCustomer(t.core, { name: `Risky ${n} Ltd`, currency: 'EUR', creditLimit: '100000', paymentTermsDays: 30, riskClass: 'E' }, actor);
    const o = await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity }] }, actor);
    expect((await submitOrder(t.core, o.id, actor)).status).toBe('awaiting_prepayment');
    return { customerId: c.id, orderId: o.id };
  }

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z', testDialect, { poolSize: 12 });
    await seedBasics(t.core, { stock: 10_000 });
    await setSetting(t.core, 'credit.prepayment_classes', 'E', actor);
  });
  afterAll(async () => t?.cleanup());

  it('sends the order back to wait, with an event and its reason, and gives its stock back; the next payment releases it again', async () => {
    const { customerId, orderId } = await waitingOrder();
    const before = await reserved();
    const paid = await recordPayment(t.core, { customerId, amount: '120.00', externalId: `rev-${n}` }, actor);
    expect(paid.releasedOrders).toEqual([orderId]);
    expect(await reserved()).toEqual(before.map((r) => r + 8));

    const reversed = await reversePayment(t.core, paid.id, 'returned by the bank: account closed', actor);
    expect(reversed.status).toBe('reversed');
    expect(reversed.rewaitedOrders).toEqual([orderId]);
    expect((await getOrder(t.core, orderId)).status).toBe('awaiting_prepayment');
    expect(await reserved()).toEqual(before);
    expect(await linesReserved()).toBe(before.reduce((s, r) => s + r, 0));
    const last = (await orderHistory(t.core, orderId)).at(-1)!;
    expect(last).toMatchObject({ from_status: 'approved', to_status: 'awaiting_prepayment' });
    expect(last.reason).toBe(`payment ${paid.id} was reversed: the customer's unapplied payments no longer cover the order (120.00 EUR short); it waits for a payment of 120.00 EUR again`);
    const events = (await q<{ event_type: string; aggregate_id: string }>(`select event_type, aggregate_id from events order by seq desc limit 2`)).rows;
    expect(events.map((e) => [e.event_type, e.aggregate_id])).toEqual([['order.prepayment_reversed', String(orderId)], ['payment.reversed', String(paid.id)]]);
    await expect(createShipment(t.core, { orderId, carrier: 'UPS', trackingNumber: 'X1' }, actor)).rejects.toMatchObject({ kind: 'transition' });

    const again = await recordPayment(t.core, { customerId, amount: '120.00', externalId: `rev-${n}-again` }, actor);
    expect(again.releasedOrders).toEqual([orderId]);
    expect((await createShipment(t.core, { orderId, carrier: 'UPS', trackingNumber: 'X2' }, actor)).status).toBe('shipped');
  });

  it('leaves a shipped order shipped, and waits no order the rest of the cash still covers', async () => {
    const shipped = await waitingOrder();
    const p1 = await recordPayment(t.core, { customerId: shipped.customerId, amount: '120.00', externalId: `rev-${n}` }, actor);
    await createShipment(t.core, { orderId: shipped.orderId, carrier: 'UPS', trackingNumber: `S${n}` }, actor);
    expect((await reversePayment(t.core, p1.id, 'bounced', actor)).rewaitedOrders).toEqual([]);
    expect((await getOrder(t.core, shipped.orderId)).status).toBe('shipped');

    const covered = await waitingOrder();
    const a = await recordPayment(t.core, { customerId: covered.customerId, amount: '120.00', externalId: `rev-${n}-a` }, actor);
    await recordPayment(t.core, { customerId: covered.customerId, amount: '120.00', externalId: `rev-${n}-b` }, actor);
    expect((await reversePayment(t.core, a.id, 'bounced', actor)).rewaitedOrders).toEqual([]);
    expect((await getOrder(t.core, covered.orderId)).status).toBe('approved');
  });

  it('sends back the newest released orders until the cash left covers the rest', async () => {
    const first = await waitingOrder();
    const second = await createOrder(t.core, { customerId: first.customerId, lines: [{ sku: 'WIDGET', quantity: 8 }] }, actor);
    await submitOrder(t.core, second.id, actor);
    const big = await recordPayment(t.core, { customerId: first.customerId, amount: '200.00', externalId: `rev-${n}-big` }, actor);
    expect(big.releasedOrders).toEqual([first.orderId]);
    const small = await recordPayment(t.core, { customerId: first.customerId, amount: '130.00', externalId: `rev-${n}-small` }, actor);
    expect(small.releasedOrders).toEqual([second.id]);
    // 330.00 held for 240.00 of orders; without the 200.00, 130.00 is left, enough for one: the newest waits again.
    expect((await reversePayment(t.core, big.id, 'bounced', actor)).rewaitedOrders).toEqual([second.id]);
    expect((await getOrder(t.core, first.orderId)).status).toBe('approved');
    expect((await getOrder(t.core, second.id)).status).toBe('awaiting_prepayment');
  });

  it.runIf(testDialect === 'postgres')('never ships an order on a reversed payment, nor sends a shipped order back to wait, when both happen at once', async () => {
    const outcomes = { shipped: 0, waiting: 0 };
    for (let round = 0; round < 8; round++) {
      const { customerId, orderId } = await waitingOrder();
      const paid = await recordPayment(t.core, { customerId, amount: '120.00', externalId: `race-${round}` }, actor);
      expect(paid.releasedOrders).toEqual([orderId]);
      // Someone else holds the order a moment, so the reversal and the shipment meet at it;
      // every other round the shipment asks first.
      const blocker = new pg.Client({ connectionString: t.url });
      await blocker.connect();
      await blocker.query('begin');
      await blocker.query('select id from orders where id = $1 for update', [orderId]);
      const ship = () => createShipment(t.core, { orderId, carrier: 'UPS', trackingNumber: `RACE-${round}` }, actor);
      const reverse = () => reversePayment(t.core, paid.id, 'bounced', actor);
      // Settled from the start: either side may be refused while the blocker still holds the row.
      const racing = Promise.allSettled(round % 2 === 0 ? [ship(), new Promise((r) => setTimeout(r, 30)).then(reverse)] : [reverse(), new Promise((r) => setTimeout(r, 30)).then(ship)]);
      await new Promise((r) => setTimeout(r, 300));
      await blocker.query('commit');
      await blocker.end();
      const settled = await racing;
      for (const s of settled) if (s.status === 'rejected') expect((s.reason as DomainError).kind, String(s.reason)).toBe('transition');

      const order = await getOrder(t.core, orderId);
      const shipments = Number((await q<{ n: number }>(`select count(*) as n from shipments where order_id = $1`, [orderId])).rows[0]!.n);
      expect((await q<{ status: string }>(`select status from payments where id = $1`, [paid.id])).rows[0]!.status, `round ${round}`).toBe('reversed');
      if (shipments > 0) {
        expect(order.status, `round ${round}: shipped, so it stays shipped`).toBe('shipped');
        outcomes.shipped++;
      } else {
        expect(order.status, `round ${round}: not shipped, so it waits again`).toBe('awaiting_prepayment');
        outcomes.waiting++;
      }
      // Stock reserved is what the order lines hold, whatever the order of the two.
      expect(Number((await q<{ r: number }>(`select reserved as r from stock_levels`)).rows[0]!.r), `round ${round}`).toBe(await linesReserved());
    }
    expect(outcomes.shipped + outcomes.waiting).toBe(8);
  }, 120_000);
});
