import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { invoiceBalances } from '../../src/invoicing/invoice.repository.ts';
import { getPayment, recordPayment } from '../../src/payments/payment.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { importStatement } from '../../src/bank/bank.service.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
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

/**
 * The same rules under load, the way users meet them: many HTTP requests in flight at once
 * (in-process, started together), on a pool that runs up to twelve transactions in
 * parallel on PostgreSQL. Every change that moves a customer's money or uses their credit
 * is serialised per customer (lockCustomer); a retried external id gives the first answer.
 */
describe('money and credit under concurrent HTTP requests', () => {
  let t: TestCore;
  let app: FastifyInstance;
  let key: string;
  const post = (url: string, body?: object) => app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${key}` }, ...(body ? { payload: body } : {}) });
  const serverErrors = (answers: LightMyRequestResponse[]) => answers.filter((a) => a.statusCode >= 500).map((a) => a.body);
  const customer = (name: string, creditLimit = '100000', externalId?: string, iban?: string) => createCustomer(t.core, { name, creditLimit, paymentTermsDays: 30, currency: 'EUR', externalId, iban }, actor);
  let shipments = 0;
  /** An approved order of `quantity` boxes at 100.00 (no tax), shipped; delivering it invoices it. */
  async function shipped(customerId: number, quantity: number) {
    const o = await createOrder(t.core, { customerId, lines: [{ sku: 'BOX', quantity }] }, actor);
    expect((await submitOrder(t.core, o.id, actor)).status).toBe('approved');
    return createShipment(t.core, { orderId: o.id, carrier: 'DHL', trackingNumber: `T-${++shipments}` }, actor);
  }
  const invoiced = async (customerId: number, quantity: number) => (await deliverShipment(t.core, (await shipped(customerId, quantity)).id, { signedBy: 'J. Doe' }, actor)).invoiceNumber!;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z', testDialect, { poolSize: 12 });
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000 });
    key = (await createApiKey(t.core, { role: 'admin', name: 'concurrency' }, actor)).key;
    await createProduct(t.core, { sku: 'BOX', name: 'Box', price: '100.00', taxRate: '0', category: 'Hardware' }, actor);
    await receiveStock(t.core, { sku: 'BOX', quantity: 100_000 }, actor);
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });

  it('200 payments at once on three invoices of one customer: none over-applied, none failed', async () => {
    const c = await customer('Busy Payer GmbH');
    const numbers = [await invoiced(c.id, 10), await invoiced(c.id, 5), await invoiced(c.id, 3)]; // 1,000.00 + 500.00 + 300.00
    const amounts = ['7.00', '25.00', '100.00', '300.00', '0.01'];
    const references = [numbers[0], numbers[1], numbers[2], `${numbers[2]} ${numbers[0]}`, null, null, null];
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        const reference = references[i % references.length];
        return post('/payments', { customerId: c.id, amount: amounts[i % amounts.length]!, ...(reference ? { reference } : {}) });
      }),
    );
    expect(serverErrors(answers)).toEqual([]);
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));
    const db = t.core.db.kysely;
    const invoices = await invoiceBalances(db, { customerId: c.id });
    expect(invoices.map((i) => [i.number, i.paid_minor, i.balance_minor, i.status])).toEqual(numbers.map((n, i) => [n, [100_000, 50_000, 30_000][i], 0, 'paid']));
    const perPayment = await db
      .selectFrom('payments as p')
      .leftJoin('payment_allocations as pa', (j) => j.onRef('pa.payment_id', '=', 'p.id').on('pa.reversed', '=', 0))
      .select((eb) => ['p.id', 'p.amount_minor', eb.fn.coalesce(eb.fn.sum<number>('pa.amount_minor'), eb.lit(0)).as('applied')])
      .where('p.customer_id', '=', c.id)
      .groupBy(['p.id', 'p.amount_minor'])
      .execute();
    expect(perPayment).toHaveLength(200);
    expect(perPayment.filter((p) => Number(p.applied) > p.amount_minor)).toEqual([]);
    expect(perPayment.reduce((s, p) => s + Number(p.applied), 0)).toBe(180_000);
  });

  it('a payment applied by hand while a delivery invoices the same customer is used once (20 rounds)', async () => {
    const overApplied: { round: number; appliedMinor: number }[] = [];
    for (let round = 0; round < 20; round++) {
      const c = await customer(`Race ${round}`);
      const shipment = await shipped(c.id, 1);
      // 100.00 received while nothing is open, then an old invoice imported beside it: the
      // payment's cash is free, and both the hand application and the new invoice want it.
      const payment = await recordPayment(t.core, { customerId: c.id, amount: '100.00' }, actor);
      const old = await importHistoricalInvoice(t.core, { customerId: c.id, externalRef: `OLD-${round}`, invoiceDate: '2026-02-01', dueDate: '2026-03-01', amount: '100.00' }, actor);
      // A delivery does more work before it reads the cash than a hand application does: the
      // application starts 0–18 ms later, so the two reads meet in most rounds.
      const [deliver, apply] = await Promise.all([
        post(`/shipments/${shipment.id}/deliver`, { signedBy: 'J. Doe' }),
        sleep((round % 10) * 2).then(() => post(`/payments/${payment.id}/apply`, { invoice: old.number })),
      ]);
      expect(deliver.statusCode, deliver.body).toBe(200);
      // Whoever comes second finds the cash gone: the hand application is refused with 409.
      expect([200, 409], apply.body).toContain(apply.statusCode);
      const after = await getPayment(t.core, payment.id);
      if (after.appliedMinor !== 10_000) overApplied.push({ round, appliedMinor: after.appliedMinor });
    }
    expect(overApplied).toEqual([]);
  });

  it('credit notes, payments and a bad-debt write-off racing on one invoice never take it below zero', async () => {
    const c = await customer('Crowded Invoice KG');
    const number = await invoiced(c.id, 1); // 100.00
    const answers = await Promise.all([
      ...Array.from({ length: 4 }, () => post('/credit-notes', { invoice: number, amount: '40.00', reason: 'damaged', kind: 'return' })),
      ...Array.from({ length: 4 }, () => post('/payments', { customerId: c.id, amount: '30.00', reference: number })),
      ...Array.from({ length: 2 }, () => post(`/invoices/${number}/write-off`, { reason: 'insolvent', badDebt: true })),
    ]);
    expect(serverErrors(answers)).toEqual([]);
    expect(answers.filter((a) => a.statusCode >= 400).map((a) => a.statusCode)).toEqual(answers.filter((a) => a.statusCode >= 400).map(() => 409));
    const inv = await getInvoice(t.core, number);
    expect(inv.creditedMinor + inv.paidMinor + inv.writtenOffMinor).toBeLessThanOrEqual(10_000);
    expect(inv.balanceMinor).toBeGreaterThanOrEqual(0);
  });

  it('20 orders of 100.00 submitted at once against a 1,000.00 limit: exactly 10 approved', async () => {
    const c = await customer('Tight Limit AG', '1000');
    const orders = [];
    for (let i = 0; i < 20; i++) orders.push(await createOrder(t.core, { customerId: c.id, lines: [{ sku: 'BOX', quantity: 1 }] }, actor));
    const answers = await Promise.all(orders.map((o) => post(`/orders/${o.id}/submit`)));
    expect(serverErrors(answers)).toEqual([]);
    const statuses = answers.map((a) => (a.json() as { status: string }).status);
    expect(statuses.filter((s) => s === 'approved')).toHaveLength(10);
    expect(statuses.filter((s) => s === 'credit_hold')).toHaveLength(10);
  });

  it('one external id sent 50 times at once: one payment, the first answer for all', async () => {
    const c = await customer('Retrying Bank Feed');
    const number = await invoiced(c.id, 2);
    const answers = await Promise.all(Array.from({ length: 50 }, () => post('/payments', { customerId: c.id, amount: '150.00', reference: number, externalId: 'BANK-2026-0001' })));
    expect(serverErrors(answers)).toEqual([]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([...Array(49).fill(200), 201]);
    expect(new Set(answers.map((a) => (a.json() as { id: number }).id)).size).toBe(1);
    const rows = await t.core.db.kysely.selectFrom('payments').select('id').where('external_id', '=', 'BANK-2026-0001').execute();
    expect(rows).toHaveLength(1);
    expect((await getInvoice(t.core, number)).paidMinor).toBe(15_000);
  });

  it('one external id sent for two customers at once: one payment, the other customer gets 409', async () => {
    const [a, b] = [await customer('First Payer'), await customer('Second Payer')];
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => post('/payments', { customerId: i % 2 ? b.id : a.id, amount: '10.00', externalId: 'BANK-2026-0002' })));
    expect(serverErrors(answers)).toEqual([]);
    const rows = await t.core.db.kysely.selectFrom('payments').select(['id', 'customer_id']).where('external_id', '=', 'BANK-2026-0002').execute();
    expect(rows).toHaveLength(1);
    const owner = rows[0]!.customer_id;
    const mine = answers.filter((_, i) => (i % 2 ? b.id : a.id) === owner);
    const theirs = answers.filter((_, i) => (i % 2 ? b.id : a.id) !== owner);
    expect(mine.map((r) => r.statusCode).sort()).toEqual([...Array(19).fill(200), 201]);
    expect(theirs.map((r) => [r.statusCode, (r.json() as { rule: string }).rule])).toEqual(theirs.map(() => [409, 'idempotent_retry']));
  });

  it('one bank statement imported three times at once: each entry booked once with its payment', async () => {
    const customers = [
      await customer('Acme GmbH', '100000', undefined, 'DE89370400440532013000'),
      await customer('Beta AG', '100000', undefined, 'DE02120300000000202051'),
      await customer('Gamma SARL'),
    ];
    for (const [i, ref, amount] of [[0, 'AR-10001', '150.00'], [0, 'AR-10002', '80.00'], [1, 'AR-10003', '240.50'], [2, 'AR-10004', '99.00'], [1, 'AR-10005', '60.00']] as const) {
      await importHistoricalInvoice(t.core, { customerId: customers[i]!.id, externalRef: ref, invoiceDate: '2026-01-15', dueDate: '2026-02-14', amount }, actor);
    }
    const file = path.resolve(import.meta.dirname, '../fixtures/bank/camt053-2026-03-02.xml');
    const runs = await Promise.allSettled([1, 2, 3].map(() => importStatement(t.core, { file, actor })));
    expect(runs.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const reports = runs.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof importStatement>>>).value);
    // Every entry was booked by exactly one of the three runs; the others found it booked.
    const keys = reports[0]!.results.map((x) => x.key);
    expect(keys).toHaveLength(7);
    expect(keys.map((k) => reports.flatMap((r) => r.results).filter((x) => x.key === k && x.outcome === 'created').length)).toEqual(keys.map(() => 1));
    const db = t.core.db.kysely;
    const entries = await db.selectFrom('bank_entries').select(['entry_key', 'status', 'payment_id']).where('entry_key', 'like', 'STMT-2026-03-02/%').orderBy('entry_key').execute();
    expect(entries.map((e) => e.status)).toEqual(['reversed', 'matched', 'matched', 'matched', 'unmatched', 'matched', 'ignored']);
    const payments = await db.selectFrom('payments').select(['external_id', 'status']).where('external_id', 'like', 'STMT-2026-03-02/%').orderBy('external_id').execute();
    expect(payments).toEqual([
      { external_id: 'STMT-2026-03-02/0001', status: 'reversed' },
      { external_id: 'STMT-2026-03-02/0002', status: 'received' },
      { external_id: 'STMT-2026-03-02/0003', status: 'received' },
      { external_id: 'STMT-2026-03-02/0004', status: 'received' },
    ]);
    expect((await getInvoice(t.core, 'AR-10001')).balanceMinor).toBe(15_000);
    expect((await getInvoice(t.core, 'AR-10003')).status).toBe('paid');
  });

  it("a customer's external id sent 50 times at once: one customer, the first answer for all", async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => post('/customers', { name: 'Imported Once Ltd', creditLimit: '500', paymentTermsDays: 30, currency: 'EUR', externalId: 'ERP-C-77' })));
    expect(serverErrors(answers)).toEqual([]);
    expect(answers.map((a) => a.statusCode).sort()).toEqual([...Array(49).fill(200), 201]);
    expect(new Set(answers.map((a) => (a.json() as { id: number }).id)).size).toBe(1);
    expect(await t.core.db.kysely.selectFrom('customers').select('id').where('external_id', '=', 'ERP-C-77').execute()).toHaveLength(1);
  });

  it("an order's idempotency key used 50 times at once: one order, the first answer for all", async () => {
    const c = await customer('Web Shop Buyer');
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => createOrder(t.core, { customerId: c.id, lines: [{ sku: 'BOX', quantity: 2 }], idempotencyKey: 'web-9001' }, actor)));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const orders = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof createOrder>>>).value);
    expect(orders.filter((o) => o.created)).toHaveLength(1);
    expect(new Set(orders.map((o) => o.id)).size).toBe(1);
    expect(await t.core.db.kysely.selectFrom('orders').select('id').where('idempotency_key', '=', 'web-9001').execute()).toHaveLength(1);
  });
});
