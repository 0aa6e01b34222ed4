import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment } from '../../src/shipping/shipment.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { appendEvents, readEvents } from '../../src/events/event.repository.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Concurrent users, on the database the suite runs on (`.ci/run` runs it on SQLite and on
 * PostgreSQL). SQLite serialises writers, so the PostgreSQL pass is the one that proves the
 * locks; each invariant is asserted on both.
 */
describe('concurrent writers', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
  });
  afterAll(async () => t.cleanup());

  it('never over-applies one invoice when payments arrive at once', async () => {
    const { core } = t;
    const { customer } = await seedBasics(core, { stock: 100 });
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const o = await createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 4 }] }, actor); // 60.00
    await submitOrder(core, o.id, actor);
    const number = (await createShipment(core, { orderId: o.id, carrier: 'UPS', trackingNumber: 'T' }, actor)).invoiceNumber!;
    const payments = await Promise.all(
      Array.from({ length: 8 }, (_, i) => recordPayment(core, { customerId: customer.id, amount: '25.00', reference: number, externalId: `p-${i}` }, actor)),
    );
    const invoice = await getInvoice(core, number);
    expect(invoice.paidMinor).toBe(6_000);
    expect(invoice.balanceMinor).toBe(0);
    expect(payments.reduce((s, p) => s + p.appliedMinor, 0)).toBe(6_000);
    expect(payments.reduce((s, p) => s + p.unappliedMinor, 0)).toBe(8 * 2_500 - 6_000);
  });

  it.skipIf(testDialect !== 'postgres')('a reader following the sequence never skips an event committed after a later number was read', async () => {
    const { core } = t;
    const db = core.db.kysely;
    const start = Number((await db.selectFrom('events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirst())?.m ?? 0);
    const writers = 6;
    const perWriter = 15;
    let running = true;
    const seen = new Set<number>();
    const reader = (async () => {
      let watermark = start;
      while (running) {
        for (const e of await readEvents(db, watermark)) {
          seen.add(e.seq);
          watermark = Math.max(watermark, e.seq);
        }
        await sleep(1);
      }
      for (const e of await readEvents(db, watermark)) seen.add(e.seq);
    })();
    // Each writer holds its transaction open for a random while after drawing its number,
    // the worst case for a naive feed: later numbers commit first.
    await Promise.all(
      Array.from({ length: writers }, (_, w) =>
        (async () => {
          for (let i = 0; i < perWriter; i++) {
            await db.transaction().execute(async (trx) => {
              await appendEvents(trx, 'postgres', [{ type: 'test.tick', aggregate: 'test', id: `${w}-${i}`, after: {} }], actor, new Date().toISOString());
              await sleep(Math.floor(Math.random() * 4));
            });
          }
        })(),
      ),
    );
    await sleep(20);
    running = false;
    await reader;
    const all = await readEvents(db, start, 100_000);
    expect(all).toHaveLength(writers * perWriter);
    expect([...seen].sort((a, b) => a - b)).toEqual(all.map((e) => e.seq));
  });
});
