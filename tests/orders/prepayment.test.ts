import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder, getOrder } from '../../src/orders/order.service.ts';
import { confirmPrepayment, creditDecisions, prepaymentCover, previewCredit, releaseAllPrepaidOrders, releasePrepaidOrders, submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

/**
 * Prepayment terms: a customer whose risk class is listed in `credit.prepayment_classes`
 * pays before the goods leave. On PostgreSQL the race test proves the customer lock.
 */
describe(`prepayment terms on ${testDialect}`, () => {
  let t: TestCore;
  let risky: number;
  let safe: number;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    safe = (await seedBasics(t.core, { stock: 1000, creditLimit: '100000' })).customer.id;
    risky = (await createCustomer(t.core, { name: 'Risky Ltd', currency: 'EUR', creditLimit: '100000', paymentTermsDays: 30, riskClass: 'E' }, actor)).id;
  });
  afterAll(async () => t?.cleanup());

  it('takes the classes from a setting, refusing anything but risk classes', async () => {
    const e = await refusal(setSetting(t.core, 'credit.prepayment_classes', 'E,Z', actor));
    expect(e.detail).toMatchObject({ field: 'credit.prepayment_classes', rule: 'risk_classes' });
    // Off by default: a class E order goes on credit hold as before.
    const before = await createOrder(t.core, { customerId: risky, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(t.core, before.id, actor)).status).toBe('credit_hold');
    await setSetting(t.core, 'credit.prepayment_classes', 'e', actor);
  });

  it('shows prepayment terms at order entry, makes the order wait, and refuses to ship it', async () => {
    const preview = await previewCredit(t.core, risky, [{ sku: 'WIDGET', quantity: 8 }]); // 8 × 12.50 + 20 % = 120.00
    expect(preview.prepayment).toBe(true);
    expect((await previewCredit(t.core, safe, [{ sku: 'WIDGET', quantity: 8 }])).prepayment).toBe(false);
    const o = await createOrder(t.core, { customerId: risky, lines: [{ sku: 'WIDGET', quantity: 8 }] }, actor);
    const submitted = await submitOrder(t.core, o.id, actor);
    expect(submitted.status).toBe('awaiting_prepayment');
    expect(submitted.lines[0]!.reservedQty).toBe(0);
    const [decision] = await creditDecisions(t.core, o.id);
    expect(decision).toMatchObject({ decision: 'prepayment', riskClass: 'E' });
    expect(decision!.reasons[0]).toContain('ships once a payment covers 120.00 EUR');
    const ship = await refusal(createShipment(t.core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'P1' }, actor));
    expect(ship.kind).toBe('transition');
    expect(ship.message).toContain('prepayment');

    // 100.00 paid: not enough, and the refusal gives the figures.
    await recordPayment(t.core, { customerId: risky, amount: '100.00', externalId: 'pre-1' }, actor);
    const short = await refusal(confirmPrepayment(t.core, o.id, actor));
    expect(short.detail).toMatchObject({ rule: 'prepayment_not_covered', field: 'payment', value: 10_000 });
    expect(short.message).toContain('needs a prepayment of 120.00 EUR');
    expect((await getOrder(t.core, o.id)).status).toBe('awaiting_prepayment');
    // Another 20.00 covers it: released as the payment is recorded, stock reserved, it ships; the invoice takes the cash.
    const covering = await recordPayment(t.core, { customerId: risky, amount: '20.00', externalId: 'pre-2' }, actor);
    expect(covering.releasedOrders).toEqual([o.id]);
    // The scheduler's catch-up finds nothing left to do.
    expect(await releaseAllPrepaidOrders(t.core, actor)).toEqual([]);
    expect(await releasePrepaidOrders(t.core, risky, actor)).toEqual([]);
    const approved = await getOrder(t.core, o.id);
    expect(approved.status).toBe('approved');
    expect(approved.lines[0]!.reservedQty).toBe(8);
    const shipment = await createShipment(t.core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'P2' }, actor);
    const delivered = await deliverShipment(t.core, shipment.id, { signedBy: 'R. Isky' }, actor);
    const invoice = await getInvoice(t.core, delivered.invoiceNumber!);
    expect(invoice.balanceMinor).toBe(0);
    expect((await getOrder(t.core, o.id)).status).toBe('paid');
  });

  it('lets one payment cover one order, not two: the second waits for more cash', async () => {
    const a = await createOrder(t.core, { customerId: risky, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor); // 60.00
    const b = await createOrder(t.core, { customerId: risky, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor);
    await submitOrder(t.core, a.id, actor);
    await submitOrder(t.core, b.id, actor);
    expect((await recordPayment(t.core, { customerId: risky, amount: '100.00', externalId: 'pre-3' }, actor)).releasedOrders).toEqual([a.id]);
    expect((await getOrder(t.core, a.id)).status).toBe('approved');
    expect((await getOrder(t.core, b.id)).status).toBe('awaiting_prepayment');
    const cover = await prepaymentCover(t.core, b.id);
    expect(cover).toMatchObject({ unappliedCashMinor: 10_000, heldForOtherOrdersMinor: 6_000, availableMinor: 4_000, covered: false });
    expect((await refusal(confirmPrepayment(t.core, b.id, actor))).detail.rule).toBe('prepayment_not_covered');
    expect((await refusal(confirmPrepayment(t.core, a.id, actor))).kind).toBe('transition');
  });

  it('keeps the cash of a prepaid order from the automatic application to older invoices', async () => {
    await setSetting(t.core, 'credit.prepayment_classes', 'E', actor);
    const c = await createCustomer(t.core, { name: 'Late Ltd', currency: 'EUR', creditLimit: '100000', paymentTermsDays: 30, riskClass: 'D' }, actor);
    // An invoice of 60.00 from before the customer's class moved onto prepayment terms.
    const old = await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor);
    expect((await submitOrder(t.core, old.id, actor)).status).toBe('approved');
    const s1 = await createShipment(t.core, { orderId: old.id, carrier: 'UPS', trackingNumber: 'K1' }, actor);
    const oldInvoice = (await deliverShipment(t.core, s1.id, { signedBy: 'Late' }, actor)).invoiceNumber!;
    await setSetting(t.core, 'credit.prepayment_classes', 'D,E', actor);
    const waiting = await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity: 8 }] }, actor); // 120.00
    expect((await submitOrder(t.core, waiting.id, actor)).status).toBe('awaiting_prepayment');

    // 150.00 without a remittance: 120.00 pays for the waiting order (released), only 30.00 goes to the old invoice.
    const p1 = await recordPayment(t.core, { customerId: c.id, amount: '150.00', externalId: 'late-1' }, actor);
    expect(p1.releasedOrders).toEqual([waiting.id]);
    expect(p1).toMatchObject({ appliedMinor: 3_000, unappliedMinor: 12_000 });
    expect((await getInvoice(t.core, oldInvoice)).balanceMinor).toBe(3_000);
    // The next payment is not released against anything and pays the old invoice; the held 120.00 stays held.
    const p2 = await recordPayment(t.core, { customerId: c.id, amount: '50.00', externalId: 'late-2' }, actor);
    expect(p2).toMatchObject({ releasedOrders: [], appliedMinor: 3_000, unappliedMinor: 2_000 });
    expect((await getInvoice(t.core, oldInvoice)).balanceMinor).toBe(0);
    // Once the prepaid order is invoiced, its invoice takes the cash held for it.
    const s2 = await createShipment(t.core, { orderId: waiting.id, carrier: 'UPS', trackingNumber: 'K2' }, actor);
    const invoice = await getInvoice(t.core, (await deliverShipment(t.core, s2.id, { signedBy: 'Late' }, actor)).invoiceNumber!);
    expect(invoice.balanceMinor).toBe(0);
    await setSetting(t.core, 'credit.prepayment_classes', 'E', actor);
  });

  it('keeps for a waiting order only once when two payments arrive at once; the other pays the old invoice', async () => {
    for (let round = 0; round < 3; round++) {
      await setSetting(t.core, 'credit.prepayment_classes', 'E', actor);
      const c = await createCustomer(t.core, { name: `Twin ${round} Ltd`, currency: 'EUR', creditLimit: '100000', paymentTermsDays: 30, riskClass: 'D' }, actor);
      const old = await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor); // 60.00
      await submitOrder(t.core, old.id, actor);
      const s1 = await createShipment(t.core, { orderId: old.id, carrier: 'UPS', trackingNumber: `T${round}` }, actor);
      const oldInvoice = (await deliverShipment(t.core, s1.id, { signedBy: 'Twin' }, actor)).invoiceNumber!;
      await setSetting(t.core, 'credit.prepayment_classes', 'D,E', actor);
      const waiting = await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor); // 60.00
      await submitOrder(t.core, waiting.id, actor);
      const [a, b] = await Promise.all([
        recordPayment(t.core, { customerId: c.id, amount: '60.00', externalId: `twin-${round}-a` }, actor),
        recordPayment(t.core, { customerId: c.id, amount: '60.00', externalId: `twin-${round}-b` }, actor),
      ]);
      // One payment is held for the order it released, the other paid the invoice: not both kept, not both spent.
      expect([...a.releasedOrders!, ...b.releasedOrders!], `round ${round}`).toEqual([waiting.id]);
      expect((await getInvoice(t.core, oldInvoice)).balanceMinor, `round ${round}`).toBe(0);
      expect(a.unappliedMinor + b.unappliedMinor).toBe(6_000);
    }
    await setSetting(t.core, 'credit.prepayment_classes', 'E', actor);
  }, 120_000);

  it('leaves a person\'s own split as chosen, then releases with what it left unapplied', async () => {
    await setSetting(t.core, 'credit.prepayment_classes', 'E', actor);
    const c = await createCustomer(t.core, { name: 'Split Ltd', currency: 'EUR', creditLimit: '100000', paymentTermsDays: 30, riskClass: 'E' }, actor);
    const o = await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor); // 60.00
    await submitOrder(t.core, o.id, actor);
    const p = await recordPayment(t.core, { customerId: c.id, amount: '60.00', externalId: 'split-1', allocations: [] }, actor);
    expect(p.releasedOrders).toEqual([o.id]);
    expect((await getOrder(t.core, o.id)).status).toBe('approved');
  });

  it('never lets two orders count the same payment when they are released at once', async () => {
    await setSetting(t.core, 'credit.prepayment_classes', 'E', actor);
    const c = await createCustomer(t.core, { name: 'Race Ltd', currency: 'EUR', creditLimit: '100000', paymentTermsDays: 30, riskClass: 'E' }, actor);
    for (let round = 0; round < 3; round++) {
      const orders = [];
      for (let i = 0; i < 4; i++) {
        const o = await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor); // 60.00 each
        expect((await submitOrder(t.core, o.id, actor)).status).toBe('awaiting_prepayment');
        orders.push(o.id);
      }
      // Cash for exactly one of the four, in two payments of 30.00 recorded at once, while people press "release" on every order.
      const outcomes = await Promise.allSettled([
        ...orders.map((id) => confirmPrepayment(t.core, id, actor)),
        recordPayment(t.core, { customerId: c.id, amount: '30.00', externalId: `race-${round}-a` }, actor),
        recordPayment(t.core, { customerId: c.id, amount: '30.00', externalId: `race-${round}-b` }, actor),
      ]);
      const statuses = await Promise.all(orders.map(async (id) => (await getOrder(t.core, id)).status));
      expect(statuses.filter((s) => s === 'approved'), `round ${round}`).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected' && (o.reason as DomainError).kind !== 'conflict' && (o.reason as DomainError).kind !== 'transition')).toEqual([]);
      // Leave the round's other orders out of the next: cancel them.
      for (const id of orders) if ((await getOrder(t.core, id)).status === 'awaiting_prepayment') await (await import('../../src/orders/order.service.ts')).cancelOrder(t.core, id, 'test round over', actor);
      // The released order is invoiced so its cash is used and the next round starts from nothing.
      const approvedId = orders.find((_, i) => statuses[i] === 'approved')!;
      const s = await createShipment(t.core, { orderId: approvedId, carrier: 'UPS', trackingNumber: `R${round}` }, actor);
      await deliverShipment(t.core, s.id, { signedBy: 'Race' }, actor);
    }
  }, 120_000);
});
