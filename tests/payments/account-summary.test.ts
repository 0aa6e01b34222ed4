import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { accountSummary, labelledStatement } from '../../src/payments/account.service.ts';

/**
 * The account summary the portal's balance card shows: the balance, the open invoices and the
 * credit on account are read in one snapshot, so they agree even while payments arrive.
 */
describe(`account summary on ${testDialect}`, () => {
  let t: TestCore;
  let customerId: number;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z', undefined, { poolSize: 12 });
    const { customer } = await seedBasics(t.core, { stock: 1000 });
    customerId = customer.id;
    await setSetting(t.core, 'invoicing.trigger', 'shipment', actor);
    // Five invoices of 150.00: 750.00 open.
    for (let i = 0; i < 5; i++) {
      const o = await createOrder(t.core, { customerId, lines: [{ sku: 'WIDGET', quantity: 10 }] }, actor);
      await submitOrder(t.core, o.id, actor);
      await createShipment(t.core, { orderId: o.id, carrier: 'UPS', trackingNumber: `T${i}` }, actor);
    }
  }, 60_000);
  afterAll(async () => t.cleanup());

  it('agrees with itself while payments are recorded at the same time', async () => {
    // Payments of 1.00, each applied in full to the oldest invoice: never any credit on
    // account. A summary whose reads straddled one payment's commit would count the payment's
    // allocation but not the payment (or the other way round) and show a credit or a debt
    // that does not exist.
    let writing = true;
    const writers = (async () => {
      const batch = (k: number) => Promise.all(Array.from({ length: 4 }, (_, i) => recordPayment(t.core, { customerId, amount: '1.00', externalId: `c-${k}-${i}` }, actor)));
      for (let k = 0; k < 30; k++) await batch(k);
      writing = false;
    })();
    const seen: { credit: number; open: number; balance: number; count: number }[] = [];
    const readers = Array.from({ length: 4 }, async () => {
      while (writing) {
        // Yield to the event loop between reads, as requests do: on SQLite the driver answers
        // in the same turn, and changes commit in groups started from the event loop (group
        // commit), so a reader that never yields would keep the payments from ever committing.
        await new Promise((resolve) => setImmediate(resolve));
        const s = await accountSummary(t.core, customerId);
        seen.push({ credit: s.creditOnAccountMinor, open: s.openMinor, balance: s.balanceMinor, count: s.openInvoices.length });
      }
    });
    await Promise.all([writers, ...readers]);
    expect(seen.length).toBeGreaterThan(20);
    expect(seen.filter((s) => s.credit !== 0 || s.balance !== s.open)).toEqual([]);
    const end = await accountSummary(t.core, customerId);
    expect([end.openMinor, end.balanceMinor, end.creditOnAccountMinor]).toEqual([75_000 - 12_000, 75_000 - 12_000, 0]);
    expect(end.openInvoices.map((i) => i.balanceMinor)).toEqual([15_000 - 12_000, 15_000, 15_000, 15_000, 15_000]);
  }, 120_000);

  it('labels every line of the statement, and refuses a period that ends before it starts', async () => {
    const st = await labelledStatement(t.core, { customerId, from: '2026-03-01', to: '2026-03-02' });
    expect(new Set(st.lines.map((l) => l.label))).toEqual(new Set(['Invoice', 'Payment']));
    expect(st.lines.filter((l) => l.label === 'Invoice').every((l) => l.dueDate === '2026-04-01' && l.orderId !== null)).toBe(true);
    expect(st.lines.filter((l) => l.label === 'Payment').every((l) => l.detail === 'bank transfer')).toBe(true);
    expect(st.summary.balanceMinor).toBe(st.closingBalanceMinor);
    await expect(labelledStatement(t.core, { customerId, from: '2026-03-02', to: '2026-03-01' })).rejects.toMatchObject({ detail: { field: 'from', rule: 'from_not_after_to' } });
  });
});
