import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { startSmtp, type SmtpSink } from '../helpers/smtp.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { listOutbox, sendOutbox } from '../../src/collections/outbox.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe(`reminders delivered over SMTP (${testDialect})`, () => {
  let t: TestCore;
  let smtp: SmtpSink;
  beforeEach(async () => {
    t = await createTestCore('2026-03-01T09:00:00Z');
    smtp = await startSmtp();
  });
  afterEach(async () => {
    await smtp.close();
    await t.cleanup();
  });

  it('sends pending messages, marks them sent, records the failures with their error, and sends nothing twice', async () => {
    const { core } = t;
    const mk = async (name: string, email: string | undefined, ref: string) => {
      const c = await createCustomer(core, { name, creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR', email }, actor);
      await importHistoricalInvoice(core, { customerId: c.id, externalRef: ref, invoiceDate: '2026-01-01', dueDate: '2026-01-31', amount: '120.00' }, actor);
      return c.id;
    };
    await mk('Ok AG', 'ap@ok.example', 'OK1');
    await mk('Full GmbH', 'full@full.example', 'FULL1');
    await mk('Nomail SA', undefined, 'NO1');
    await expect(sendOutbox(core, actor, { smtpUrl: '' })).rejects.toBeInstanceOf(DomainError);

    const run = await runReminders(core, actor, { asOf: '2026-03-01', send: false });
    expect(run.messages).toHaveLength(3);
    const events = await countEvents(core);
    const r = await sendOutbox(core, actor, { smtpUrl: smtp.url });
    expect([r.sent, r.failed]).toEqual([1, 2]);
    expect(await countEvents(core)).toBe(events + 3);

    expect(smtp.received).toHaveLength(1);
    expect(smtp.envelopes[0]).toEqual(['ap@ok.example']);
    const mail = smtp.received[0]!;
    expect(mail.subject).toBe('Second reminder: 1 overdue invoice, 125.00 EUR — Our company');
    expect(mail.from?.text).toBe('receivables@example.com');
    expect(mail.text).toContain('IMP-OK1');
    expect(mail.html).toContain('IMP-OK1');

    const box = await listOutbox(core.db.kysely);
    expect(box.map((m) => [m.to, m.status, m.attempts])).toEqual([['ap@ok.example', 'sent', 1], ['full@full.example', 'failed', 1], [null, 'failed', 1]]);
    expect(box[1]!.error).toMatch(/552|mailbox full/);
    expect(box[2]!.error).toBe('customer 3 has no e-mail address');

    // Nothing pending: a second send delivers nothing; a retry tries the failed ones again.
    expect(await sendOutbox(core, actor, { smtpUrl: smtp.url })).toMatchObject({ sent: 0, failed: 0 });
    expect(await sendOutbox(core, actor, { smtpUrl: smtp.url, retryFailed: true })).toMatchObject({ sent: 0, failed: 2 });
    expect(smtp.received).toHaveLength(1);
    expect((await listOutbox(core.db.kysely, { status: 'failed' })).map((m) => m.attempts)).toEqual([2, 2]);
  });

  it('the reminder run sends by itself when an SMTP server is configured', async () => {
    const { core } = t;
    const c = await createCustomer(core, { name: 'Ok AG', creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR', email: 'ap@ok.example' }, actor);
    await importHistoricalInvoice(core, { customerId: c.id, externalRef: 'OK1', invoiceDate: '2026-01-01', dueDate: '2026-02-27', amount: '10.00' }, actor);
    process.env.CASHLOOP_SMTP_URL = smtp.url;
    try {
      const run = await runReminders(core, actor, { asOf: '2026-03-01' });
      expect([run.sent, run.failed]).toEqual([1, 0]);
    } finally {
      delete process.env.CASHLOOP_SMTP_URL;
    }
    expect(smtp.received.map((m) => m.subject)).toEqual(['Friendly reminder: 1 invoice due or just past due — Our company']);
  });
});
