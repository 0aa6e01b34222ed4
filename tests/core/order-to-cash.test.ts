import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents, seedBasics } from '../helpers/fixtures.ts';
import { createOrder, getOrder, cancelOrder } from '../../src/orders/order.service.ts';
import { submitOrder, releaseOrder, rejectOrder, creditDecisions } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment, updateShipmentStatus } from '../../src/shipping/shipment.service.ts';
import { createCreditNote, getInvoice, listInvoices, writeOffInvoice } from '../../src/invoicing/invoice.service.ts';
import { recordPayment, reversePayment, applyPaymentToInvoice } from '../../src/payments/payment.service.ts';
import { accountStatement } from '../../src/payments/account-statement.service.ts';
import { receiveStock, adjustStock } from '../../src/catalog/inventory.service.ts';
import { getProduct } from '../../src/catalog/product.service.ts';
import { createCustomer, setCustomerStatus, updateCustomer } from '../../src/customers/customer.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { readEvents } from '../../src/events/event.repository.ts';
import { DomainError } from '../../src/shared/errors.ts';

async function expectDomainError(p: Promise<unknown>, kind: DomainError['kind'], message?: RegExp) {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).kind).toBe(kind);
  if (message) expect((err as DomainError).message).toMatch(message);
  return err as DomainError;
}

describe(`order to cash on ${testDialect}`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
  });
  afterEach(async () => t.cleanup());

  it('walks an order through hold, release, partial shipment, backorder, delivery, invoices and payments', async () => {
    const { core, clock } = t;
    const { customer } = await seedBasics(core, { creditLimit: '1000', stock: 50 });
    const order = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 80 }] }, actor);
    expect(order.status).toBe('draft');
    expect(order.totalMinor).toBe(120_000);

    const held = await submitOrder(core, order.id, actor);
    expect(held.status).toBe('credit_hold');
    expect(held.credit.reasons).toEqual(['exposure 1,200.00 EUR exceeds credit limit 1,000.00 EUR']);

    const released = await releaseOrder(core, order.id, 'long-standing customer', actor);
    expect(released.status).toBe('approved');
    expect(released.lines[0]).toMatchObject({ reservedQty: 50, backorderQty: 30 });
    const decisions = await creditDecisions(core, order.id);
    expect(decisions.map((d) => d.decision)).toEqual(['credit_hold', 'released']);
    expect(decisions[0]).toMatchObject({ automatic: true, exposureMinor: 120_000, creditLimitMinor: 100_000, orderTotalMinor: 120_000 });

    const s1 = await createShipment(core, { orderId: order.id, carrier: 'DHL', trackingNumber: 'T1' }, actor);
    expect(s1.lines).toEqual([{ sku: 'WIDGET', quantity: 50 }]);
    expect((await getOrder(core, order.id)).status).toBe('partially_shipped');
    expect(await getProduct(core, 'WIDGET')).toMatchObject({ onHand: 0, reserved: 0 });

    // Stock arriving is reserved for the backorder first.
    await receiveStock(core, { sku: 'WIDGET', quantity: 40 }, actor);
    expect(await getProduct(core, 'WIDGET')).toMatchObject({ onHand: 40, reserved: 30, available: 10 });

    await updateShipmentStatus(core, s1.id, 'failed', 'nobody home', actor);
    clock.advanceDays(1);
    const d1 = await deliverShipment(core, s1.id, { signedBy: 'J. Doe' }, actor);
    expect(d1.invoiceNumber).toBe('INV-2026-000001');
    const inv1 = await getInvoice(core, 'INV-2026-000001');
    expect(inv1).toMatchObject({ totalMinor: 75_000, balanceMinor: 75_000, invoiceDate: '2026-03-03', dueDate: '2026-04-02', status: 'open' });

    const s2 = await createShipment(core, { orderId: order.id, carrier: 'DHL', trackingNumber: 'T2' }, actor);
    expect((await getOrder(core, order.id)).status).toBe('shipped');
    await deliverShipment(core, s2.id, { signedBy: 'J. Doe' }, actor);
    expect((await getOrder(core, order.id)).status).toBe('invoiced');

    clock.advanceDays(10);
    const p1 = await recordPayment(core, { customerId: customer.id, amount: '500', reference: 'INV-2026-000001' }, actor);
    expect(p1.allocations).toEqual([expect.objectContaining({ invoiceNumber: 'INV-2026-000001', amountMinor: 50_000, rule: 'reference' })]);
    expect((await getInvoice(core, 'INV-2026-000001')).status).toBe('partially_paid');
    expect((await getOrder(core, order.id)).status).toBe('invoiced');

    const p2 = await recordPayment(core, { customerId: customer.id, amount: '700.00' }, actor);
    expect(p2.unappliedMinor).toBe(0);
    const final = await getOrder(core, order.id);
    expect(final.status).toBe('paid');
    expect(final.paidAt).toBe(clock.now().toISOString());
    expect((await listInvoices(core, { customerId: customer.id, openOnly: true })).length).toBe(0);

    // The history tells the whole story, and every change left an event.
    const events = await readEvents(core.db.kysely, 0);
    expect(events.map((e) => e.event_type)).toContain('order.credit_released');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it('numbers invoices without gaps per year, and a failed change gives its number back', async () => {
    const { core, clock } = t;
    const { customer } = await seedBasics(core, { stock: 100 });
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const ship = async () => {
      const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
      await submitOrder(core, o.id, actor);
      return createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: `T${o.id}` }, actor);
    };
    expect((await ship()).invoiceNumber).toBe('INV-2026-000001');
    // A shipment that fails validation writes nothing, so it takes no number.
    const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    await submitOrder(core, o.id, actor);
    await expectDomainError(createShipment(core, { orderId: o.id, lines: [{ sku: 'WIDGET', quantity: 2 }], carrier: 'UPS', trackingNumber: 'X' }, actor), 'invalid', /1 left to ship, not 2/);
    expect((await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'Y' }, actor)).invoiceNumber).toBe('INV-2026-000002');
    await recordPayment(core, { customerId: customer.id, amount: '30.00' }, actor); // nothing overdue next year
    clock.set('2027-01-02T09:00:00Z');
    expect((await ship()).invoiceNumber).toBe('INV-2027-000001');
    expect((await ship()).invoiceNumber).toBe('INV-2027-000002');
  });

  it('keeps an overpayment as credit and uses it on the next invoice; a reversal re-opens invoices', async () => {
    const { core } = t;
    const { customer } = await seedBasics(core, { stock: 100 });
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const sell = async (qty: number) => {
      const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: qty }] }, actor);
      await submitOrder(core, o.id, actor);
      const s = await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: `T${o.id}` }, actor);
      return { order: o, invoice: s.invoiceNumber! };
    };
    const a = await sell(2); // 30.00
    const pay = await recordPayment(core, { customerId: customer.id, amount: '50.00', externalId: 'BANK-1' }, actor);
    expect(pay.unappliedMinor).toBe(2_000);
    expect((await getOrder(core, a.order.id)).status).toBe('paid');
    // retry with the same bank id changes nothing
    const again = await recordPayment(core, { customerId: customer.id, amount: '50.00', externalId: 'BANK-1' }, actor);
    expect(again.created).toBe(false);
    expect(again.id).toBe(pay.id);
    await expectDomainError(recordPayment(core, { customerId: customer.id, amount: '51.00', externalId: 'BANK-1' }, actor), 'conflict');

    const b = await sell(1); // 15.00, paid from the 20.00 credit at once
    const invB = await getInvoice(core, b.invoice);
    expect(invB).toMatchObject({ status: 'paid', paidMinor: 1_500 });
    expect(invB.payments[0]).toMatchObject({ rule: 'unapplied_credit', amountMinor: 1_500 });
    expect((await getOrder(core, b.order.id)).status).toBe('paid');

    const reversed = await reversePayment(core, pay.id, 'returned by the bank: insufficient funds', actor);
    expect(reversed.status).toBe('reversed');
    expect((await getInvoice(core, a.invoice)).status).toBe('open');
    expect((await getInvoice(core, b.invoice)).balanceMinor).toBe(1_500);
    expect((await getOrder(core, a.order.id)).status).toBe('invoiced');
    await expectDomainError(reversePayment(core, pay.id, 'again', actor), 'transition', /payment \d+ cannot move from reversed to reversed/);
    await expectDomainError(applyPaymentToInvoice(core, { paymentId: pay.id, invoice: a.invoice }, actor), 'transition');

    const st = await accountStatement(core, { customerId: customer.id, from: '2026-03-01', to: '2026-03-02' });
    expect(st.closingBalanceMinor).toBe(4_500);
    expect(st.aging.current).toBe(4_500);
    expect(st.lines.map((l) => l.kind)).toEqual(['invoice', 'invoice', 'payment_reversal', 'payment']);
  });

  it('writes off only within the tolerance, and credit notes reduce the balance', async () => {
    const { core } = t;
    const { customer } = await seedBasics(core, { stock: 100 });
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor); // 60.00
    await submitOrder(core, o.id, actor);
    const inv = (await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'T' }, actor)).invoiceNumber!;
    await expectDomainError(writeOffInvoice(core, inv, 'too much', actor), 'invalid', /has 60.00 EUR open; only up to 5.00 EUR may be written off/);
    const cn = await createCreditNote(core, { invoice: inv, amount: '10.00', reason: 'one widget damaged', kind: 'return' }, actor);
    expect(cn.number).toBe('CN-2026-000001');
    expect(cn.invoice.balanceMinor).toBe(5_000);
    await expectDomainError(createCreditNote(core, { invoice: inv, amount: '50.01', reason: 'x' }, actor), 'conflict', /open balance is 50.00 EUR/);
    await recordPayment(core, { customerId: customer.id, amount: '45.01', reference: inv }, actor);
    const before = await countEvents(core);
    const w = await writeOffInvoice(core, inv, 'bank charges', actor);
    expect(w.writtenOffMinor).toBe(499);
    expect(await countEvents(core)).toBe(before + 1);
    expect(await getInvoice(core, inv)).toMatchObject({ status: 'paid', balanceMinor: 0, writtenOffMinor: 499, creditedMinor: 1_000 });
    expect((await getOrder(core, o.id)).status).toBe('paid');
    await expectDomainError(writeOffInvoice(core, inv, 'again', actor), 'transition');
    // A bad debt is written off whatever is left.
    const o2 = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor);
    await submitOrder(core, o2.id, actor);
    const inv2 = (await createShipment(core, { orderId: o2.id, carrier: 'UPS', trackingNumber: 'T2' }, actor)).invoiceNumber!;
    const bad = await writeOffInvoice(core, inv2, 'customer insolvent', actor, undefined, { badDebt: true });
    expect(bad).toMatchObject({ kind: 'bad_debt', writtenOffMinor: 6_000 });
    expect((await getOrder(core, o2.id)).status).toBe('paid');
  });

  it('applies the credit rules at submission: overdue invoices, blocked customers, risk classes', async () => {
    const { core, clock } = t;
    const { customer } = await seedBasics(core, { stock: 1000 });
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const o1 = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(core, o1.id, actor)).status).toBe('approved');
    await createShipment(core, { orderId: o1.id, carrier: 'UPS', trackingNumber: 'T' }, actor); // due in 30 days
    clock.advanceDays(60); // 30 days overdue: still fine
    const o2 = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(core, o2.id, actor)).status).toBe('approved');
    clock.advanceDays(1); // 31 days overdue
    const o3 = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    const held = await submitOrder(core, o3.id, actor);
    expect(held.status).toBe('credit_hold');
    expect(held.credit.reasons).toEqual(['an invoice is 31 days overdue (more than 30); 15.00 EUR overdue in all']);
    const rejected = await rejectOrder(core, o3.id, 'pay the overdue invoice first', actor);
    expect(rejected.status).toBe('rejected');
    await expectDomainError(releaseOrder(core, o3.id, 'x', actor), 'transition');

    const other = await createCustomer(core, { name: 'Beta', creditLimit: '100000', currency: 'EUR' }, actor);
    await updateCustomer(core, other.id, { riskClass: 'E' }, actor);
    const o4 = await createOrder(core, { customerId: other.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(core, o4.id, actor)).credit.reasons).toEqual(['risk class E: every order needs a credit controller']);
    await updateCustomer(core, other.id, { riskClass: 'A' }, actor);
    await setCustomerStatus(core, other.id, 'blocked', 'insolvency notice', actor);
    const o5 = await createOrder(core, { customerId: other.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(core, o5.id, actor)).credit.reasons).toEqual(['customer is blocked']);
    // unbilled approved orders count against the limit
    const small = await createCustomer(core, { name: 'Gamma', creditLimit: '20.00', currency: 'EUR' }, actor);
    const g1 = await createOrder(core, { customerId: small.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(core, g1.id, actor)).status).toBe('approved');
    const g2 = await createOrder(core, { customerId: small.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(core, g2.id, actor)).credit.reasons).toEqual(['exposure 30.00 EUR exceeds credit limit 20.00 EUR']);
  });

  it('refuses invalid moves and input with typed errors and writes nothing', async () => {
    const { core } = t;
    const { customer } = await seedBasics(core, { stock: 5 });
    const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    const before = await countEvents(core);
    const e1 = await expectDomainError(createOrder(core, { customerId: customer.id, lines: [{ sku: 'NOPE', quantity: 1 }, { sku: 'WIDGET', quantity: -2 }] }, actor), 'invalid');
    expect(e1.problems.map((p) => [p.field, p.rule])).toEqual([['lines.0.sku', 'product_exists'], ['lines.1.quantity', 'positive']]);
    await expectDomainError(createOrder(core, { customerId: 999, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor), 'not_found', /customer 999 does not exist/);
    await expectDomainError(createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'T' }, actor), 'transition', /order \d+ cannot move from draft to shipped: only an approved order can ship/);
    await expectDomainError(recordPayment(core, { customerId: customer.id, amount: '-5' }, actor), 'invalid', /above zero/);
    await expectDomainError(recordPayment(core, { customerId: customer.id, amount: '5', date: '2027-01-01' }, actor), 'invalid', /in the future/);
    await expectDomainError(recordPayment(core, { customerId: customer.id, amount: '5', currency: 'USD' }, actor), 'invalid', /invoiced in EUR; a payment in USD/);
    await expectDomainError(adjustStock(core, { sku: 'WIDGET', delta: -6, reason: 'count' }, actor), 'invalid');
    expect(await countEvents(core)).toBe(before);

    await submitOrder(core, o.id, actor);
    await expectDomainError(submitOrder(core, o.id, actor), 'transition', /cannot move from approved to submitted/);
    await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'T' }, actor);
    await expectDomainError(cancelOrder(core, o.id, 'too late', actor), 'transition', /goods have already shipped/);
    const o2 = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 2 }] }, actor);
    await submitOrder(core, o2.id, actor);
    expect((await getProduct(core, 'WIDGET')).reserved).toBe(2);
    const cancelled = await cancelOrder(core, o2.id, 'customer changed mind', actor);
    expect(cancelled).toMatchObject({ status: 'cancelled', cancelReason: 'customer changed mind' });
    expect((await getProduct(core, 'WIDGET')).reserved).toBe(0);
  });

  it('grants the early-payment discount inside its window only', async () => {
    const { core, clock } = t;
    const { customer } = await seedBasics(core, { stock: 100, customer: { earlyDiscountPercent: '2', earlyDiscountDays: 10 } });
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const sell = async () => {
      const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 8 }] }, actor); // 120.00
      await submitOrder(core, o.id, actor);
      return (await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: `T${o.id}` }, actor)).invoiceNumber!;
    };
    const a = await sell();
    clock.advanceDays(10);
    await recordPayment(core, { customerId: customer.id, amount: '117.60', reference: a }, actor); // 120.00 − 2 %
    expect(await getInvoice(core, a)).toMatchObject({ status: 'paid', paidMinor: 11_760, creditedMinor: 240 });
    expect((await getInvoice(core, a)).creditNotes[0]).toMatchObject({ kind: 'early_payment_discount', amountMinor: 240 });
    const b = await sell();
    clock.advanceDays(11);
    await recordPayment(core, { customerId: customer.id, amount: '117.60', reference: b }, actor);
    expect(await getInvoice(core, b)).toMatchObject({ status: 'partially_paid', balanceMinor: 240, creditedMinor: 0 });
  });

  it('returns the first order on a retry with the same idempotency key', async () => {
    const { core } = t;
    const { customer } = await seedBasics(core);
    const first = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 3 }], idempotencyKey: 'web-42' }, actor);
    const again = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 3 }], idempotencyKey: 'web-42' }, actor);
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ id: first.id, created: false });
    const retries = await Promise.all([1, 2, 3].map(() => createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }], idempotencyKey: 'web-43' }, actor)));
    expect(new Set(retries.map((r) => r.id)).size).toBe(1);
    const n = await core.db.kysely.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(2);
  });
});
