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
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { beginRequest, LEASE_MS } from '../../src/idempotency/idempotency.service.ts';

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
 * Retries that arrive together: 1,000 POSTs carrying 20 Idempotency-Keys, all at once through
 * the API (PostgreSQL's pool runs 10 at a time). Each key's work runs exactly once; every
 * other request answers with that first response or 409 (still in flight), never a 5xx.
 */
describe('Idempotency-Key under concurrent retries', () => {
  let t: TestCore;
  let app: Awaited<ReturnType<typeof buildServer>>;
  let secret: string;
  let keyId: number;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    app = await buildServer(t.core, { rateLimitPerMinute: 10_000_000 });
    ({ key: secret, id: keyId } = await createApiKey(t.core, { role: 'admin', name: 'storm' }, actor));
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });

  /** Sends 1,000 POSTs to `url` at once, request i with key i % 20 and that key's body; checks every answer. */
  async function storm(url: string, bodyOf: (key: number) => object) {
    const answers = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${secret}`, 'idempotency-key': `${url}-${i % 20}` }, payload: bodyOf(i % 20) }).then((r) => ({ key: i % 20, r })),
      ),
    );
    expect(answers.filter(({ r }) => r.statusCode >= 500).map(({ r }) => r.body)).toEqual([]);
    const original = new Map<number, string>();
    for (const { key, r } of answers) {
      if (r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined) {
        expect(original.has(key), `key ${key} ran twice`).toBe(false);
        original.set(key, r.body);
      }
    }
    expect(original.size).toBe(20);
    let replayed = 0;
    for (const { key, r } of answers) {
      if (r.headers['idempotent-replayed'] === 'true') {
        expect(r.statusCode).toBe(201);
        expect(r.body).toBe(original.get(key));
        replayed++;
      } else if (r.statusCode !== 201) {
        expect(r.statusCode).toBe(409);
        expect(r.json().rule).toBe('idempotency_in_flight');
      }
    }
    return { replayed, inFlight: 1_000 - 20 - replayed };
  }

  it('1,000 concurrent POST /customers with 20 keys create exactly 20 customers', async () => {
    const outcome = await storm('/customers', (k) => ({ name: `Storm ${k}`, currency: 'EUR' }));
    const n = await t.core.db.kysely.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).where('name', 'like', 'Storm %').executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(20);
    expect(outcome.replayed + outcome.inFlight).toBe(980);
  });

  it('1,000 concurrent POST /payments with 20 keys record exactly 20 payments', async () => {
    const customer = await createCustomer(t.core, { name: 'Storm Payer', currency: 'EUR' }, actor);
    await storm('/payments', (k) => ({ customerId: customer.id, amount: `${k + 1}.00` }));
    const rows = await t.core.db.kysely.selectFrom('payments').select(['amount_minor']).where('customer_id', '=', customer.id).execute();
    expect(rows).toHaveLength(20);
    expect(rows.reduce((s, p) => s + Number(p.amount_minor), 0)).toBe(((20 * 21) / 2) * 100);
  });

  it('lets one of many retries take over a key whose holder crashed, and one of many reuse an expired key', async () => {
    const customers = async (name: string) => Number((await t.core.db.kysely.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).where('name', '=', name).executeTakeFirstOrThrow()).n);
    const burst = (key: string, body: object) =>
      Promise.all(Array.from({ length: 200 }, () => app.inject({ method: 'POST', url: '/customers', headers: { authorization: `Bearer ${secret}`, 'idempotency-key': key }, payload: body })));
    // A reservation whose process died: never completed, its lease runs out.
    const body = { name: 'Orphan Ltd', currency: 'EUR' };
    expect((await beginRequest(t.core, { scope: String(keyId), key: 'orphan', method: 'POST', path: '/customers', body })).outcome).toBe('reserved');
    t.clock.advance(LEASE_MS + 1_000);
    const takeOver = await burst('orphan', body);
    expect(takeOver.filter((r) => r.statusCode >= 500)).toEqual([]);
    expect(takeOver.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await customers('Orphan Ltd')).toBe(1);
    // A key past its period is new again: one request of the burst uses it.
    t.clock.advance(25 * 3_600_000);
    const reuse = await burst('orphan', { name: 'Reborn Ltd', currency: 'EUR' });
    expect(reuse.filter((r) => r.statusCode >= 500)).toEqual([]);
    expect(reuse.filter((r) => r.statusCode === 201 && r.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
    expect(await customers('Reborn Ltd')).toBe(1);
  });
});
