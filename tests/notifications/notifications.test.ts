import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { closeCore, openCore, type Core } from '../../src/core.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { createUser, disableUser } from '../../src/users/user.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { recordPromise, resolvePromises } from '../../src/collections/promise.service.ts';
import { listNotifications, markNotificationsRead, raiseNotifications, unreadNotifications } from '../../src/notifications/notification.service.ts';

describe(`notifications on ${testDialect}`, () => {
  let t: TestCore;
  let other: Core;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    other = await openCore({ url: t.url, clock: t.clock });
    await createUser(t.core, { name: 'Carla', role: 'credit', password: 'carla-controls-credit' }, actor);
    await createUser(t.core, { name: 'Cid', role: 'credit', password: 'cid-controls-credit' }, actor);
    await createUser(t.core, { name: 'Sam', role: 'sales', password: 'sam-sells-widgets' }, actor);
    await disableUser(t.core, 'Cid', actor);
  }, 60_000);
  afterAll(async () => {
    await closeCore(other);
    await t?.cleanup();
  });

  it('tells every enabled credit controller about a new hold, with its reasons, in the same transaction', async () => {
    const { customer } = await seedBasics(t.core, { creditLimit: '10', stock: 100 });
    const o = await createOrder(t.core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 2 }] }, actor);
    expect((await submitOrder(t.core, o.id, actor)).status).toBe('credit_hold');
    const carla = await listNotifications(t.core, 'Carla');
    expect(carla.unread).toBe(1);
    expect(carla.items[0]).toMatchObject({ kind: 'credit_hold', link: `/app/credit#hold-${o.id}`, customerId: customer.id, readAt: null });
    expect(carla.items[0]!.subject).toBe(`Order ${o.id} of Acme GmbH (30.00 EUR) is on credit hold: exposure 30.00 EUR exceeds credit limit 10.00 EUR`);
    expect((await listNotifications(t.core, 'Cid')).items).toEqual([]); // disabled
    expect((await listNotifications(t.core, 'Sam')).items).toEqual([]);
    expect(await markNotificationsRead(t.core, 'Carla', 'all', 'app:Carla')).toEqual({ read: 1 });
    expect(await unreadNotifications(t.core, 'Carla')).toBe(0);
    expect(await markNotificationsRead(t.core, 'Carla', 'all', 'app:Carla')).toEqual({ read: 0 });
  });

  it("tells the salesperson when their customer's invoice passes a dunning level or a promise is broken, once, even when raised at once", async () => {
    const mine = await createCustomer(t.core, { name: 'Late Ltd', creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR', email: 'ap@late.example', salesRep: 'Sam' }, actor);
    const nobodys = await createCustomer(t.core, { name: 'Orphan Ltd', creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR', email: 'ap@orphan.example' }, actor);
    await importHistoricalInvoice(t.core, { customerId: mine.id, externalRef: 'LATE-1', invoiceDate: '2026-01-01', dueDate: '2026-01-31', amount: '120.00' }, actor);
    await importHistoricalInvoice(t.core, { customerId: nobodys.id, externalRef: 'ORPH-1', invoiceDate: '2026-01-01', dueDate: '2026-01-31', amount: '80.00' }, actor);
    const run = await runReminders(t.core, actor, { asOf: '2026-03-02', send: false });
    expect(run.messages.length).toBeGreaterThan(0);
    // Two schedulers (two connections) raise at once: each notice is told once.
    const outcomes = await Promise.all([raiseNotifications(t.core, actor), raiseNotifications(other, actor), raiseNotifications(t.core, actor)]);
    expect(outcomes.reduce((s, o) => s + o.raised, 0)).toBe(1);
    await recordPromise(t.core, { customerId: mine.id, date: '2026-03-03', amount: '50.00' }, actor);
    t.clock.set('2026-03-10T09:00:00Z');
    await resolvePromises(t.core, '2026-03-10', actor);
    expect(await raiseNotifications(t.core, actor)).toEqual({ raised: 1 });
    const sam = await listNotifications(t.core, 'Sam');
    expect(sam.items.map((n) => n.kind).sort()).toEqual(['dunning_level', 'promise_broken']);
    const dunning = sam.items.find((n) => n.kind === 'dunning_level')!;
    expect(dunning.subject).toBe('Late Ltd: invoice IMP-LATE-1 reached dunning level 3 (Second reminder), 30 days past due, 120.00 EUR open');
    expect(dunning.link).toBe(`/app/customers/${mine.id}`);
    expect(sam.items.find((n) => n.kind === 'promise_broken')!.subject).toBe('Late Ltd broke the promise to pay 50.00 EUR by 2026-03-03');
    // Raised again later: nothing new.
    expect(await raiseNotifications(t.core, actor)).toEqual({ raised: 0 });
    // Nobody is told about a customer without a salesperson.
    const all = await t.core.db.kysely.selectFrom('notifications').select('customer_id').execute();
    expect(all.some((n) => n.customer_id === nobodys.id)).toBe(false);
  }, 60_000);

  it('pages a person’s notifications newest first', async () => {
    const page1 = await listNotifications(t.core, 'Sam', { limit: 1 });
    expect(page1.items).toHaveLength(1);
    const page2 = await listNotifications(t.core, 'Sam', { limit: 1, beforeId: page1.next });
    expect(page2.items[0]!.id).toBeLessThan(page1.items[0]!.id);
    expect(page2.next).toBeNull();
  });
});
