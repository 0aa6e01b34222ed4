import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents, seedBasics } from '../helpers/fixtures.ts';
import { startSmtp } from '../helpers/smtp.ts';
import { closeCore, openCore, type Core } from '../../src/core.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createUser, disableUser, getUser, setUserEmail } from '../../src/users/user.service.ts';
import { listNotifications } from '../../src/notifications/notification.service.ts';
import { runNotificationDigest } from '../../src/notifications/digest.service.ts';
import { getMessage, listOutbox, sendOutbox } from '../../src/collections/outbox.service.ts';
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
 * The daily digest of unread notifications, through the outbox: one message per user per
 * day, however often (or however many at once) the job runs.
 */
describe(`the notification digest on ${testDialect}`, () => {
  let t: TestCore;
  let other: Core;
  let customerId: number;
  let n = 0;
  const hold = async () => {
    const o = await createOrder(t.core, { customerId, lines: [{ sku: 'WIDGET', quantity: 2 }] }, actor);
    expect((await submitOrder(t.core, o.id, actor)).status).toBe('credit_hold');
    n++;
    return o.id;
  };
  const digestsOf = async (user: string) => (await listOutbox(t.core.db.kysely, { kind: 'digest' })).filter((m) => m.subject.includes(` for ${user}, `));

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    other = await openCore({ url: t.url, clock: t.clock });
    await createUser(t.core, { name: 'Carla', role: 'credit', password: 'carla-controls-credit', email: 'carla@example.com' }, actor);
    await createUser(t.core, { name: 'Dora', role: 'credit', password: 'dora-controls-credit' }, actor);
    await createUser(t.core, { name: 'Cid', role: 'credit', password: 'cid-controls-credit', email: 'cid@example.com' }, actor);
    await createUser(t.core, { name: 'Sam', role: 'sales', password: 'sam-sells-widgets', email: 'sam@example.com' }, actor);
    await disableUser(t.core, 'Cid', actor);
    customerId = (await seedBasics(t.core, { creditLimit: '10', stock: 1000 })).customer.id;
  }, 60_000);
  afterAll(async () => {
    await closeCore(other);
    await t?.cleanup();
  });

  it('keeps an optional e-mail address per user, refusing a malformed one with the field and the rule', async () => {
    for (const bad of ['carla', 'carla@', 'a b@example.com', `${'x'.repeat(250)}@example.com`]) {
      const events = await countEvents(t.core);
      const e = await refusal(setUserEmail(t.core, 'Dora', bad, actor));
      expect(e.detail).toMatchObject({ field: 'email' });
      expect(['email', 'max_length']).toContain(e.detail.rule);
      expect(await countEvents(t.core)).toBe(events);
    }
    expect((await refusal(createUser(t.core, { name: 'Eve', role: 'sales', password: 'eve-sells-widgets', email: 'eve at example' }, actor))).detail).toMatchObject({ field: 'email', rule: 'email' });
    await expect(getUser(t.core, 'Eve')).rejects.toBeInstanceOf(DomainError);
    expect((await setUserEmail(t.core, 'Dora', ' dora@example.com ', actor)).email).toBe('dora@example.com');
    expect((await setUserEmail(t.core, 'Dora', '', actor)).email).toBeNull();
    expect((await getUser(t.core, 'Carla')).email).toBe('carla@example.com');
  });

  it('writes one digest per user with unread notices and an address, marks them digested, and sends it over SMTP', async () => {
    const orderId = await hold();
    const run = await runNotificationDigest(t.core, actor, { baseUrl: 'https://cash.example.com/' });
    expect(run).toMatchObject({ date: '2026-03-02', withoutEmail: ['Dora'], alreadyWritten: [] });
    expect(run.digests).toEqual([{ user: 'Carla', messageId: expect.any(Number), notifications: 1 }]);
    const message = await getMessage(t.core.db.kysely, run.digests[0]!.messageId);
    expect(message).toMatchObject({ kind: 'digest', customerId: null, to: 'carla@example.com', status: 'pending', subject: '1 new notification for Carla, 2026-03-02 — Our company' });
    expect(message.text).toContain(`https://cash.example.com/app/credit#hold-${orderId}`);
    expect(message.html).toContain(`href="https://cash.example.com/app/credit#hold-${orderId}"`);
    // The notice is still unread in the workspace; it is only not e-mailed again.
    expect((await listNotifications(t.core, 'Carla')).unread).toBe(1);
    expect((await runNotificationDigest(t.core, actor)).digests).toEqual([]);

    const smtp = await startSmtp();
    try {
      const sent = await sendOutbox(t.core, actor, { smtpUrl: smtp.url });
      expect([sent.sent, sent.failed]).toEqual([1, 0]);
      expect(smtp.envelopes).toEqual([['carla@example.com']]);
      expect(smtp.received[0]!.subject).toBe('1 new notification for Carla, 2026-03-02 — Our company');
      expect(smtp.received[0]!.text).toContain('is on credit hold');
    } finally {
      await smtp.close();
    }
    expect((await getMessage(t.core.db.kysely, run.digests[0]!.messageId)).status).toBe('sent');
  });

  it('sends once a day: a notice raised after the day\'s digest waits for the next day\'s', async () => {
    await hold();
    const again = await runNotificationDigest(t.core, actor);
    expect(again).toMatchObject({ digests: [], alreadyWritten: ['Carla'], withoutEmail: ['Dora'] });
    expect(await digestsOf('Carla')).toHaveLength(1);
    t.clock.advanceDays(1);
    const next = await runNotificationDigest(t.core, actor);
    expect(next.digests).toEqual([{ user: 'Carla', messageId: expect.any(Number), notifications: 1 }]);
    expect(await digestsOf('Carla')).toHaveLength(2);
  });

  it('writes the day\'s digest once when the job runs several times at once', async () => {
    // Two connections on PostgreSQL, where the runs truly overlap; SQLite's single writer takes them one by one.
    const second = testDialect === 'postgres' ? other : t.core;
    for (let round = 0; round < 3; round++) {
      t.clock.advanceDays(1);
      await hold();
      const runs = await Promise.all([runNotificationDigest(t.core, actor), runNotificationDigest(second, actor), runNotificationDigest(t.core, actor), runNotificationDigest(second, actor)]);
      expect(runs.flatMap((r) => r.digests).map((d) => d.user), `round ${round}`).toEqual(['Carla']);
      const day = t.clock.now().toISOString().slice(0, 10);
      expect((await digestsOf('Carla')).filter((m) => m.asOf === day), `round ${round}`).toHaveLength(1);
    }
    // Every notice was e-mailed in exactly one digest.
    const digests = await digestsOf('Carla');
    expect(digests.length).toBeGreaterThanOrEqual(3);
    const listed = await Promise.all(digests.map(async (m) => (await getMessage(t.core.db.kysely, m.id)).text.split('\n').filter((l) => l.startsWith('- ')).length));
    expect(listed.reduce((a, b) => a + b, 0)).toBe(n);
  }, 120_000);
});
