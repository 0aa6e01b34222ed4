import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { getPayment, recordPayment } from '../../src/payments/payment.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { appendEvents, readEvents } from '../../src/events/event.repository.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { beginRequest, LEASE_MS } from '../../src/idempotency/idempotency.service.ts';
import fs from 'node:fs';
import path from 'node:path';
import { closeCore, openCore, type Core } from '../../src/core.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { exportOutbox, listOutbox, messageIdFor, OUTBOX_LEASE_MS, sendOutbox } from '../../src/collections/outbox.service.ts';
import { claimMessages, recordClaimed, renewClaim } from '../../src/collections/outbox.repository.ts';
import { installationId } from '../../src/settings/settings.service.ts';
import { startSmtp } from '../helpers/smtp.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { invoiceBalances } from '../../src/invoicing/invoice.repository.ts';
import { createProduct } from '../../src/catalog/product.service.ts';
import { receiveStock } from '../../src/catalog/inventory.service.ts';
import { importBankStatement } from '../../src/bank/bank.service.ts';

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


/**
 * The outbox is delivered once: senders claim messages (a lease) before sending or
 * exporting, so concurrent senders — here two connections, each running two sends at once,
 * like two processes and two API calls — never take one message twice. Counted at a real
 * SMTP listener on loopback, by Message-ID.
 */
describe('concurrent outbox senders', () => {
  let t: TestCore;
  let other: Core;
  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    other = await openCore({ url: t.url, clock: t.clock });
  });
  afterAll(async () => {
    await closeCore(other);
    await t.cleanup();
  });

  /** `n` customers with an overdue invoice each, and one pending reminder per customer. */
  const reminders = async (n: number, tag: string): Promise<number[]> => {
    const { core } = t;
    for (let i = 0; i < n; i++) {
      const c = await createCustomer(core, { name: `${tag} ${i}`, creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR', email: `ap${i}@${tag}.example` }, actor);
      await importHistoricalInvoice(core, { customerId: c.id, externalRef: `${tag}-${i}`, invoiceDate: '2026-01-01', dueDate: '2026-01-31', amount: '120.00' }, actor);
    }
    const run = await runReminders(core, actor, { asOf: t.clock.now().toISOString().slice(0, 10), send: false });
    t.clock.advanceDays(1); // the next call's reminders fall on a new day
    return run.messages.map((m) => m.messageId!);
  };

  it('delivers every message exactly once when four senders run at once', async () => {
    const ids = await reminders(24, 'once');
    expect(ids).toHaveLength(24);
    const smtp = await startSmtp({ delayMs: 5 });
    try {
      const runs = await Promise.all([t.core, t.core, other, other].map((core) => sendOutbox(core, actor, { smtpUrl: smtp.url })));
      const delivered = smtp.received.map((m) => m.messageId!);
      const installation = await installationId(t.core.db.kysely);
      expect(new Set(delivered).size).toBe(delivered.length);
      expect(delivered.sort()).toEqual(ids.map((id) => messageIdFor(id, installation)).sort());
      expect(runs.reduce((s, r) => s + r.sent, 0)).toBe(24);
      expect(runs.reduce((s, r) => s + r.takenOver, 0)).toBe(0);
      const box = await listOutbox(t.core.db.kysely);
      expect(box.filter((m) => ids.includes(m.id)).map((m) => [m.status, m.attempts])).toEqual(ids.map(() => ['sent', 1]));
    } finally {
      await smtp.close();
    }
  });

  it('two cashloop processes sending at once deliver every message once', async () => {
    const ids = await reminders(12, 'procs');
    const smtp = await startSmtp({ delayMs: 5 });
    try {
      const env = { ...cliEnv(t.url, t.dataDir, t.clock.now().toISOString()), CASHLOOP_SMTP_URL: smtp.url };
      const runs = await Promise.all([1, 2].map(() => cli(['collections', 'outbox', '--send', '--json'], env)));
      expect(runs.map((r) => [r.code, r.stderr])).toEqual([[0, ''], [0, '']]);
      const sent = runs.map((r) => (JSON.parse(r.stdout) as { sent: number }).sent);
      expect(sent[0]! + sent[1]!).toBe(12);
      const delivered = smtp.received.map((m) => m.messageId!);
      const installation = await installationId(t.core.db.kysely);
      expect(delivered.sort()).toEqual(ids.map((id) => messageIdFor(id, installation)).sort());
    } finally {
      await smtp.close();
    }
  });

  it('an export and a send at once never both take a message', async () => {
    const ids = await reminders(16, 'split');
    const smtp = await startSmtp({ delayMs: 5 });
    const dir = path.join(t.dataDir, 'outbox');
    try {
      const [sent, exported] = await Promise.all([sendOutbox(t.core, actor, { smtpUrl: smtp.url }), exportOutbox(other, dir, actor)]);
      const sentIds = smtp.received.map((m) => Number(/^<outbox-(\d+)\./.exec(m.messageId!)![1]));
      const exportedIds = fs.readdirSync(dir).map((f) => Number(f.split('-')[0]));
      expect(sentIds.filter((id) => exportedIds.includes(id))).toEqual([]);
      expect([...sentIds, ...exportedIds].sort((a, b) => a - b)).toEqual(ids);
      expect(sent.sent + exported.files.length).toBe(16);
      const box = (await listOutbox(t.core.db.kysely)).filter((m) => ids.includes(m.id));
      expect(box.filter((m) => m.status === 'sent').map((m) => m.id).sort((a, b) => a - b)).toEqual([...sentIds].sort((a, b) => a - b));
      expect(box.filter((m) => m.status === 'exported').map((m) => m.id).sort((a, b) => a - b)).toEqual([...exportedIds].sort((a, b) => a - b));
    } finally {
      await smtp.close();
    }
  });

  it("a crashed sender's claim holds its messages until the lease ends, then they are sent and its late outcome is refused", async () => {
    const ids = await reminders(3, 'lease');
    const db = t.core.db.kysely;
    const now = t.clock.now();
    const held = await claimMessages(db, t.core.db.dialect, { statuses: ['pending'], claimant: 'crashed', afterId: 0, now: now.toISOString(), expiresAt: new Date(now.getTime() + OUTBOX_LEASE_MS).toISOString(), limit: 10 });
    expect(held.map((r) => r.id)).toEqual(ids);
    const smtp = await startSmtp();
    try {
      t.clock.advance(OUTBOX_LEASE_MS - 1000);
      expect(await sendOutbox(t.core, actor, { smtpUrl: smtp.url })).toMatchObject({ sent: 0, failed: 0 });
      expect(smtp.received).toHaveLength(0);
      t.clock.advance(1000); // the lease ends now
      expect(await sendOutbox(other, actor, { smtpUrl: smtp.url })).toMatchObject({ sent: 3, failed: 0 });
      expect(smtp.received).toHaveLength(3);
      // The crashed sender comes back: it can neither renew nor record anything.
      expect(await renewClaim(db, ids[0]!, 'crashed', new Date(t.clock.now().getTime() + OUTBOX_LEASE_MS).toISOString())).toBe(false);
      expect(await db.transaction().execute((trx) => recordClaimed(trx, ids[0]!, 'crashed', { status: 'failed', error: 'late' }, true))).toBeUndefined();
      expect((await listOutbox(db)).filter((m) => ids.includes(m.id)).map((m) => [m.status, m.attempts])).toEqual(ids.map(() => ['sent', 1]));
    } finally {
      await smtp.close();
    }
  });

  it('the Message-ID carries the installation id and stays the same when a failed message is sent again', async () => {
    const [id] = await reminders(1, 'resend');
    const installation = await installationId(t.core.db.kysely);
    expect(installation).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const smtp = await startSmtp({ failFirst: true });
    try {
      expect(await sendOutbox(t.core, actor, { smtpUrl: smtp.url })).toMatchObject({ sent: 0, failed: 1 });
      expect(await sendOutbox(t.core, actor, { smtpUrl: smtp.url, retryFailed: true })).toMatchObject({ sent: 1, failed: 0 });
      expect(smtp.refused).toEqual([`<outbox-${id}.${installation}@cashloop>`]);
      expect(smtp.received.map((m) => m.messageId)).toEqual(smtp.refused);
    } finally {
      await smtp.close();
    }
    // Another database is another installation: its message ids never meet these.
    const elsewhere = await createTestCore('2026-03-02T09:00:00Z');
    try {
      const theirs = await installationId(elsewhere.core.db.kysely);
      expect(theirs).not.toBe(installation);
      expect(await installationId(elsewhere.core.db.kysely)).toBe(theirs);
    } finally {
      await elsewhere.cleanup();
    }
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
    const runs = await Promise.allSettled([1, 2, 3].map(() => importBankStatement(t.core, { file, actor })));
    expect(runs.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
    const reports = runs.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof importBankStatement>>>).value);
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
