import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import type { Core } from '../../src/core.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { cancelOrder, createOrder } from '../../src/orders/order.service.ts';
import { releaseOrder, submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { createCreditNote, listInvoices, writeOffInvoice } from '../../src/invoicing/invoice.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { applyPaymentToInvoice, listPayments, recordPayment, reversePayment } from '../../src/payments/payment.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { exposureFromHistory, maintainedExposure } from '../../src/exposure/exposure.repository.ts';
import { rebuildExposure, verifyExposure } from '../../src/exposure/exposure.service.ts';
import * as exposureMigration from '../../src/db/migrations/0019_customer_exposure.ts';

/** A small seeded generator (mulberry32), so a failing sequence can be run again. */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)), pick: <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]! };
}

/** The largest value each figure took at the checks: the walk must reach every figure, or the equality is one of zeros. */
const reached: Record<string, number> = {};

async function expectMaintainedEqualsHistory(core: Core, customerIds: number[], step: string) {
  const today = core.clock.now().toISOString().slice(0, 10);
  for (const id of customerIds) {
    const maintained = await maintainedExposure(core.db.kysely, id, today);
    const recomputed = await exposureFromHistory(core.db.kysely, id, today);
    expect(maintained, `customer ${id} after ${step}`).toEqual(recomputed);
    for (const [k, v] of Object.entries(recomputed)) reached[k] = Math.max(reached[k] ?? 0, v);
  }
}

/** Business refusals (a credit hold, nothing left to pay) are part of a random walk; anything else fails the test. */
async function attempt(work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    if (process.env.EXPOSURE_TEST_DEBUG) console.log(error.message);
  }
}

describe('maintained exposure', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-02-02T09:00:00Z');
  });
  afterAll(async () => t.cleanup());

  it('equals the recomputation from history after a random sequence of orders, shipments, invoices, credit notes, write-offs and payments', async () => {
    const { core, clock } = t;
    const { customer: a } = await seedBasics(core, { stock: 10_000, creditLimit: '2000' });
    const b = await createCustomer(core, { name: 'Borealis Oy', creditLimit: '300', paymentTermsDays: 14, currency: 'EUR' }, actor);
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const customers = [a.id, b.id];
    const rnd = generator(19);
    const orders: number[] = [];
    for (let step = 0; step < 160; step++) {
      const customerId = rnd.pick(customers);
      const op = rnd.int(0, 11);
      const label = `step ${step} (operation ${op})`;
      if (op <= 2) {
        const o = await createOrder(core, { customerId, lines: [{ sku: 'WIDGET', quantity: rnd.int(1, 12) }] }, actor);
        await attempt(() => submitOrder(core, o.id, actor));
        orders.push(o.id);
      } else if (op === 3 && orders.length) {
        const id = rnd.pick(orders);
        await attempt(() => (rnd.next() < 0.5 ? cancelOrder(core, id, 'customer changed their mind', actor) : releaseOrder(core, id, 'known customer', actor)));
      } else if (op === 4 && orders.length) {
        const id = rnd.pick(orders);
        await attempt(async () => {
          const s = await createShipment(core, { orderId: id, carrier: 'DHL', trackingNumber: `T${step}` }, actor);
          if (rnd.next() < 0.5) await deliverShipment(core, s.id, { signedBy: 'R. Receiver' }, actor);
        });
      } else if (op <= 6) {
        const open = await listInvoices(core, { customerId, openOnly: true });
        const reference = open.length && rnd.next() < 0.6 ? rnd.pick(open).number : null;
        await attempt(() => recordPayment(core, { customerId, amount: `${rnd.int(5, 120)}.${String(rnd.int(0, 99)).padStart(2, '0')}`, reference, externalId: `pay-${step}` }, actor));
      } else if (op === 7) {
        const payments = (await listPayments(core, { customerId })).filter((p) => p.status === 'received');
        if (payments.length) await attempt(() => reversePayment(core, rnd.pick(payments).id, 'returned by the bank', actor));
      } else if (op === 8) {
        const open = await listInvoices(core, { customerId, openOnly: true });
        const payments = (await listPayments(core, { customerId })).filter((p) => p.status === 'received' && p.unappliedMinor > 0);
        if (open.length && payments.length) await attempt(() => applyPaymentToInvoice(core, { paymentId: rnd.pick(payments).id, invoice: rnd.pick(open).number }, actor));
      } else if (op === 9) {
        const open = await listInvoices(core, { customerId, openOnly: true });
        if (open.length) {
          const inv = rnd.pick(open);
          await attempt(() => (rnd.next() < 0.5 ? createCreditNote(core, { invoice: inv.number, amount: '3.00', reason: 'price correction' }, actor) : writeOffInvoice(core, inv.number, 'insolvency', actor, undefined, { badDebt: true })));
        }
      } else if (op === 10) {
        await importHistoricalInvoice(core, { customerId, externalRef: `OLD-${step}`, invoiceDate: '2025-11-01', dueDate: '2025-12-01', amount: `${rnd.int(1, 90)}.50` }, actor);
      } else {
        clock.advanceDays(rnd.int(1, 20));
      }
      if (step % 5 === 4) await expectMaintainedEqualsHistory(core, customers, label);
    }
    await expectMaintainedEqualsHistory(core, customers, 'the whole sequence');
    for (const figure of ['openArMinor', 'unappliedCashMinor', 'unbilledMinor', 'overdueMinor', 'oldestDaysOverdue']) expect(reached[figure], figure).toBeGreaterThan(0);
    expect((await verifyExposure(core)).differences).toEqual([]);
    // The migration's backfill computes the same from the rows of a database that had no such tables.
    const maintainedBefore = await core.db.kysely.selectFrom('customer_exposure').selectAll().orderBy('customer_id').execute();
    await sql`drop table customer_exposure`.execute(core.db.kysely);
    await sql`drop table customer_exposure_items`.execute(core.db.kysely);
    await exposureMigration.up(core.db.kysely as never);
    expect(await core.db.kysely.selectFrom('customer_exposure').selectAll().orderBy('customer_id').execute()).toEqual(maintainedBefore);
    expect((await verifyExposure(core)).differences).toEqual([]);
  }, 240_000);

  it('brings a change\'s touched rows into the figures once per change: a shipment that moves its order, issues its invoice and moves the order again writes the customer\'s row once', async () => {
    const { core } = t;
    const c = await createCustomer(core, { name: 'Once Oy', creditLimit: '5000', paymentTermsDays: 30, currency: 'EUR' }, actor);
    await setSetting(core, 'invoicing.trigger', 'shipment', actor);
    const o = await createOrder(core, { customerId: c.id, lines: [{ sku: 'WIDGET', quantity: 3 }] }, actor);
    await submitOrder(core, o.id, actor);
    // Every write of the customer's running sums, counted by the database itself (a trigger),
    // whichever way the statement was built.
    const db = core.db.kysely;
    if (testDialect === 'postgres') {
      await sql`create table exposure_writes (n integer)`.execute(db);
      await sql`create function count_exposure_write() returns trigger language plpgsql as $$ begin insert into exposure_writes values (1); return null; end $$`.execute(db);
      await sql`create trigger count_exposure_writes after insert or update on customer_exposure for each row execute function count_exposure_write()`.execute(db);
    } else {
      await sql`create temp table exposure_writes (n integer)`.execute(db);
      await sql`create temp trigger count_exposure_inserts after insert on customer_exposure begin insert into exposure_writes values (1); end`.execute(db);
      await sql`create temp trigger count_exposure_updates after update on customer_exposure begin insert into exposure_writes values (1); end`.execute(db);
    }
    await createShipment(core, { orderId: o.id, carrier: 'DHL', trackingNumber: 'ONCE-1' }, actor);
    const counted = await sql<{ n: number }>`select count(*) as n from exposure_writes`.execute(db);
    const writes = Number(counted.rows[0]!.n);
    const today = core.clock.now().toISOString().slice(0, 10);
    const figures = await maintainedExposure(core.db.kysely, c.id, today);
    // The order left unbilled for an open invoice of the same 45.00: both moves are in the one write.
    expect(figures).toEqual(await exposureFromHistory(core.db.kysely, c.id, today));
    expect(figures.unbilledMinor).toBe(0);
    expect(figures.openArMinor).toBe(4_500);
    expect(writes).toBe(1);
  });

  it('finds a maintained row that drifted from history, and rebuilds it', async () => {
    const { core } = t;
    const c = await createCustomer(core, { name: 'Drift AB', creditLimit: '500', paymentTermsDays: 30, currency: 'EUR' }, actor);
    await recordPayment(core, { customerId: c.id, amount: '40.00', externalId: 'drift-1' }, actor);
    await core.db.kysely.updateTable('customer_exposure').set({ unapplied_cash_minor: 1 }).where('customer_id', '=', c.id).execute();
    const found = await verifyExposure(core);
    expect(found.differences.map((d) => d.customerId)).toEqual([c.id]);
    expect(found.differences[0]!.recomputed.unappliedCashMinor).toBe(4_000);
    expect(await rebuildExposure(core, actor)).toEqual([c.id]);
    expect((await verifyExposure(core)).differences).toEqual([]);
  });
});

/**
 * Orders and payments of one customer at once, on PostgreSQL (SQLite has one writer). Each
 * approval reads the maintained row under the customer's lock and moves it in its own
 * transaction, so no approval may miss the one before it: the limit holds, and at the end
 * the row equals the recomputation.
 */
describe.skipIf(testDialect !== 'postgres')('maintained exposure under concurrent orders and payments', () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-02-02T09:00:00Z', 'postgres', { poolSize: 24 });
  });
  afterAll(async () => t.cleanup());

  it('never lets approvals overrun the credit limit, and ends equal to the recomputation', async () => {
    const { core } = t;
    const { customer } = await seedBasics(core, { stock: 1_000, creditLimit: '100.00' });
    const orders = await Promise.all(Array.from({ length: 40 }, () => createOrder(core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor))); // 15.00 each
    const work: Promise<unknown>[] = orders.map((o) => submitOrder(core, o.id, actor));
    for (let i = 0; i < 4; i++) work.push(recordPayment(core, { customerId: customer.id, amount: '10.00', externalId: `cash-${i}` }, actor));
    await Promise.all(work);
    const today = core.clock.now().toISOString().slice(0, 10);
    const recomputed = await exposureFromHistory(core.db.kysely, customer.id, today);
    const approved = await core.db.kysely.selectFrom('orders').select('id').where('customer_id', '=', customer.id).where('status', '=', 'approved').execute();
    expect(approved.length).toBeGreaterThanOrEqual(6); // the limit alone allows six
    // Decisions are taken one after the other under the customer's lock: each must have seen
    // every approval before it in the unbilled figure it read (a stale row would show less).
    const decisions = await core.db.kysely.selectFrom('credit_decisions').select(['decision', 'unbilled_minor']).orderBy('id').execute();
    let before = 0;
    for (const [k, d] of decisions.entries()) {
      expect(d.unbilled_minor, `decision ${k + 1}`).toBe(before * 1_500);
      if (d.decision === 'approved') before++;
    }
    expect(recomputed.unbilledMinor).toBe(approved.length * 1_500);
    // Payments only lower exposure, so each approval within the limit leaves the end within it.
    expect(recomputed.openArMinor - recomputed.unappliedCashMinor + recomputed.unbilledMinor).toBeLessThanOrEqual(10_000);
    expect(await maintainedExposure(core.db.kysely, customer.id, today)).toEqual(recomputed);
  }, 120_000);
});
