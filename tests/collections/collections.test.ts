import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents, seedBasics } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { getInvoice } from '../../src/invoicing/invoice.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { runMonthlyStatements } from '../../src/collections/statement-run.service.ts';
import { exportOutbox, getMessage, listOutbox } from '../../src/collections/outbox.service.ts';
import { listPromises, recordPromise } from '../../src/collections/promise.service.ts';
import { openDispute, resolveDispute } from '../../src/collections/dispute.service.ts';
import { listActions, logAction } from '../../src/collections/action.service.ts';
import { assignCustomer, savePolicy } from '../../src/collections/policy.service.ts';
import { DomainError } from '../../src/shared/errors.ts';
import type { Core } from '../../src/core.ts';

async function expectError(p: Promise<unknown>, kind: DomainError['kind'], detail: Record<string, unknown>) {
  const err = await p.then(() => null, (e: unknown) => e);
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).kind).toBe(kind);
  expect((err as DomainError).detail).toMatchObject(detail);
}

async function notices(core: Core) {
  const rows = await core.db.kysely
    .selectFrom('dunning_notices as n')
    .innerJoin('invoices as i', 'i.id', 'n.invoice_id')
    .select(['i.external_ref', 'n.level', 'n.notice_date', 'n.fee_minor'])
    .orderBy('n.id')
    .execute();
  return rows.map((r) => [r.external_ref, r.level, r.notice_date]);
}

async function lastEventOf(core: Core, type: string): Promise<Record<string, Record<string, unknown>[] | undefined>> {
  const row = await core.db.kysely.selectFrom('events').select('payload').where('event_type', '=', type).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
  return JSON.parse(row.payload) as Record<string, Record<string, unknown>[] | undefined>;
}

describe(`collections on ${testDialect}`, () => {
  let t: TestCore;
  let a: number;
  let b: number;
  let c: number;
  beforeEach(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
    const { core } = t;
    a = (await seedBasics(core, { creditLimit: '100000', customer: { name: 'Müller & Söhne <Bau>', email: 'ap@mueller.example' } })).customer.id;
    b = (await createCustomer(core, { name: 'Beta SA', creditLimit: '5000', paymentTermsDays: 30, currency: 'EUR', email: 'ap@beta.example' }, actor)).id;
    c = (await createCustomer(core, { name: 'Gamma BV', creditLimit: '5000', paymentTermsDays: 30, currency: 'EUR' }, actor)).id;
    const inv = (customerId: number, ref: string, invoiceDate: string, dueDate: string, amount: string) => importHistoricalInvoice(core, { customerId, externalRef: ref, invoiceDate, dueDate, amount }, actor);
    await inv(a, 'A1', '2025-12-11', '2026-01-10', '100.00');
    await inv(a, 'A2', '2026-01-21', '2026-02-20', '200.00');
    await inv(a, 'A3', '2026-01-31', '2026-03-02', '50.00');
    await inv(b, 'B1', '2026-01-02', '2026-02-01', '300.00');
    await inv(b, 'B2', '2026-01-16', '2026-02-15', '80.00');
    await inv(c, 'C1', '2026-03-31', '2026-04-30', '90.00');
    await setSetting(core, 'company.name', 'Cashloop Demo GmbH', actor);
    await setSetting(core, 'company.payment_instructions', 'Transfer to IBAN DE89 3704 0044 0532 0130 00, quoting the invoice numbers.', actor);
  });
  afterEach(async () => t.cleanup());

  it('sends one consolidated reminder per customer at the right levels, skips disputes and promises, and never repeats a level', async () => {
    const { core, clock } = t;
    clock.set('2026-02-27T08:00:00Z');
    await openDispute(core, { invoice: 'IMP-B1', reason: 'goods damaged on arrival' }, actor);
    await recordPromise(core, { customerId: b, invoices: ['IMP-B2'], date: '2026-03-06', promisedBy: 'B. Buyer' }, actor);

    const first = await runReminders(core, actor, { asOf: '2026-02-27' });
    expect(first.messages.map((m) => [m.customerId, m.level, m.invoices, m.newNotices, m.paused])).toEqual([[a, 4, 3, 3, 0]]);
    expect(await notices(core)).toEqual([['A1', 4, '2026-02-27'], ['A2', 2, '2026-02-27'], ['A3', 1, '2026-02-27']]);

    // The letter reads well in text and HTML, and loads nothing from outside.
    const m = await getMessage(core.db.kysely, first.messages[0]!.messageId!);
    expect(m.to).toBe('ap@mueller.example');
    expect(m.subject).toBe('Final notice: 2 overdue invoices, 361.05 EUR — Cashloop Demo GmbH');
    expect(m.text).toContain('Dear Müller & Söhne <Bau>,');
    for (const line of ['IMP-A1', '48 days overdue', 'Final notice', 'IMP-A2', '7 days overdue', 'First reminder', 'IMP-A3', 'due in 3 days', 'Friendly reminder', 'Reminder fee', 'Total to pay', 'IBAN DE89', 'New orders are on hold', 'Statement of account']) {
      expect(m.text, line).toContain(line);
    }
    expect(m.html).toContain('Dear Müller &amp; Söhne &lt;Bau&gt;,');
    expect(m.html).not.toContain('<Bau>');
    expect(m.html).not.toMatch(/https?:|<script|\ssrc=/i);
    for (const n of ['IMP-A1', 'IMP-A2', 'IMP-A3']) expect(m.html).toContain(n);
    // Interest: 100.00 × 8 % × 48 / 365 = 1.05; fee 10.00 once; total = 350.00 + 10.00 + 1.05.
    expect(m.text).toMatch(/Interest on overdue amounts\s+1\.05 EUR/);
    expect(m.text).toMatch(/Total to pay\s+361\.05 EUR/);

    // The event names the letter and its notices, without the letter's text: that stays in the outbox.
    const event = await lastEventOf(core, 'dunning.reminder_created');
    expect(event.outbox_messages).toEqual([expect.objectContaining({ id: first.messages[0]!.messageId, kind: 'reminder', customer_id: a, subject: m.subject, status: 'pending' })]);
    expect(event.outbox_messages![0]).not.toHaveProperty('body_text');
    expect(event.outbox_messages![0]).not.toHaveProperty('body_html');
    expect(event.dunning_notices).toHaveLength(3);
    expect(JSON.stringify(event)).not.toContain('Statement of account');

    // Same day again: nothing new, nothing written.
    const events = await countEvents(core);
    const again = await runReminders(core, actor, { asOf: '2026-02-27' });
    expect(again.messages).toEqual([]);
    expect(await countEvents(core)).toBe(events);

    // The final notice holds the customer's new orders.
    const order = await createOrder(core, { customerId: a, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    const submitted = await submitOrder(core, order.id, actor);
    expect(submitted.status).toBe('credit_hold');
    expect(submitted.credit.rules.find((r) => r.rule === 'no_final_notice')).toMatchObject({ passed: false, detail: expect.stringContaining('IMP-A1') });

    // The promise is broken (03-06 + 3 days grace passes unpaid): B2 is dunned again; A3 climbs a level.
    clock.set('2026-03-12T08:00:00Z');
    const later = await runReminders(core, actor, { asOf: '2026-03-12' });
    expect(later.promisesDecided).toEqual([{ id: 1, status: 'broken' }]);
    expect(later.messages.map((x) => [x.customerId, x.level, x.invoices, x.newNotices])).toEqual([[a, 4, 3, 1], [b, 3, 1, 1]]);
    expect((await notices(core)).slice(3)).toEqual([['A3', 2, '2026-03-12'], ['B2', 3, '2026-03-12']]);
    expect((await listPromises(core.db.kysely, { customerId: b }))[0]).toMatchObject({ status: 'broken', resolvedOn: '2026-03-10', paidMinor: 0 });
    expect((await listActions(core.db.kysely, b)).map((x) => x.kind)).toEqual(['reminder', 'promise', 'promise', 'dispute']);

    // The dispute ends in a partial credit note: the flag clears, dunning resumes for the rest.
    const settled = await resolveDispute(core, 1, { outcome: 'credit', amount: '100.00', note: 'two of six boxes damaged' }, actor);
    expect(settled).toMatchObject({ status: 'credited', creditNote: expect.stringMatching(/^CN-2026-/) });
    expect(await getInvoice(core, 'IMP-B1')).toMatchObject({ disputed: false, creditedMinor: 10_000, balanceMinor: 20_000 });
    const resumed = await runReminders(core, actor, { asOf: '2026-03-12' });
    expect(resumed.messages.map((x) => [x.customerId, x.level, x.invoices, x.newNotices])).toEqual([[b, 3, 2, 1]]);

    // Paying the final-notice invoices lifts the hold.
    await recordPayment(core, { customerId: a, amount: '350.00' }, actor);
    const order2 = await createOrder(core, { customerId: a, lines: [{ sku: 'WIDGET', quantity: 1 }] }, actor);
    expect((await submitOrder(core, order2.id, actor)).credit.rules.find((r) => r.rule === 'no_final_notice')).toMatchObject({ passed: true });
  });

  it('a kept promise pauses dunning until paid; a withdrawn or rejected dispute resumes it', async () => {
    const { core, clock } = t;
    clock.set('2026-02-10T08:00:00Z');
    await recordPromise(core, { customerId: b, date: '2026-02-20', amount: '150.00' }, actor);
    clock.set('2026-02-18T08:00:00Z');
    await recordPayment(core, { customerId: b, amount: '150.00', date: '2026-02-18' }, actor);
    const run = await runReminders(core, actor, { asOf: '2026-02-19' });
    expect(run.promisesDecided).toEqual([{ id: 1, status: 'kept' }]);
    expect((await listPromises(core.db.kysely))[0]).toMatchObject({ status: 'kept', paidMinor: 15_000, resolvedOn: '2026-02-18' });
    // A: A1 40 days overdue (level 3), A2 due tomorrow (level 1). B: B1 (150 of 300 paid) 18 days
    // overdue (level 2), B2 4 days overdue (level 1).
    expect(run.messages.map((m) => [m.customerId, m.level, m.invoices])).toEqual([[a, 3, 2], [b, 2, 2]]);

    await openDispute(core, { invoice: 'IMP-A2', reason: 'price differs from the offer', amount: '20.00' }, actor);
    await openDispute(core, { invoice: 'IMP-A2', reason: 'second delivery late', amount: '10.00' }, actor);
    expect((await getInvoice(core, 'IMP-A2')).disputed).toBe(true);
    await resolveDispute(core, 1, { outcome: 'reject', note: 'price as agreed on 2026-01-15' }, actor);
    expect((await getInvoice(core, 'IMP-A2')).disputed).toBe(true); // the second one is still open
    await resolveDispute(core, 2, { outcome: 'withdraw' }, actor);
    expect((await getInvoice(core, 'IMP-A2')).disputed).toBe(false);
    await expectError(resolveDispute(core, 2, { outcome: 'credit' }, actor), 'transition', { entity: 'dispute', rule: 'transition_withdrawn_to_credited' });
  });

  it('refuses bad input with the field and rule, and writes nothing', async () => {
    const { core, clock } = t;
    clock.set('2026-02-10T08:00:00Z');
    const before = await countEvents(core);
    await expectError(recordPromise(core, { customerId: b, date: '2026-02-09' }, actor), 'invalid', { field: 'date', rule: 'not_in_past' });
    await expectError(recordPromise(core, { customerId: b, date: '2026-02-20', amount: '381.00' }, actor), 'invalid', { field: 'amount', rule: 'amount_within_balance' });
    await expectError(recordPromise(core, { customerId: b, date: '2026-02-20', invoices: ['IMP-A1'] }, actor), 'invalid', { field: 'invoices.0', rule: 'open_invoice_of_customer' });
    await expectError(openDispute(core, { invoice: 'IMP-B1', reason: 'x', amount: '300.01' }, actor), 'invalid', { field: 'amount', rule: 'amount_within_balance' });
    await expectError(openDispute(core, { invoice: 'IMP-B1', reason: 'x', line: 2 }, actor), 'invalid', { field: 'line', rule: 'line_exists' });
    await expectError(resolveDispute(core, 99, { outcome: 'credit' }, actor), 'not_found', { entity: 'dispute' });
    await expectError(logAction(core, { customerId: a, kind: 'visit' }, actor), 'invalid', { field: 'kind', rule: 'one_of' });
    await expectError(assignCustomer(core, { customerId: a, policy: 'nonexistent' }, actor), 'not_found', { entity: 'dunning policy' });
    await expectError(savePolicy(core, { name: 'Bad Name', levels: [] }, actor), 'invalid', { field: 'name', rule: 'policy_name' });
    expect(await countEvents(core)).toBe(before);
    await recordPromise(core, { customerId: b, date: '2026-02-20' }, actor);
    await expectError(recordPromise(core, { customerId: b, date: '2026-02-25', invoices: ['IMP-B2'] }, actor), 'conflict', { rule: 'one_standing_promise' });
  });

  it("dunns under the customer's own policy, and a dry run writes nothing", async () => {
    const { core } = t;
    await savePolicy(core, { name: 'gentle', levels: [{ name: 'Late', days: 30, fee: '0' }] }, actor);
    await assignCustomer(core, { customerId: a, collector: 'dana', policy: 'gentle' }, actor);
    const events = await countEvents(core);
    const dry = await runReminders(core, actor, { asOf: '2026-02-27', dryRun: true });
    expect(await countEvents(core)).toBe(events);
    expect(dry.messages.map((m) => [m.customerId, m.levelName, m.invoices])).toEqual([[a, 'Late', 1], [b, 'Second reminder', 2]]);
    const real = await runReminders(core, actor, { asOf: '2026-02-27' });
    expect(real.messages.map((m) => m.subject)).toEqual(dry.messages.map((m) => m.subject));
  });

  it('writes monthly statements once per customer and month, and exports the outbox as .eml files', async () => {
    const { core } = t;
    const r = await runMonthlyStatements(core, actor, { month: '2026-01' });
    // A (A1, A2, A3 dated by January), B (B1, B2); C's first invoice is dated in March.
    expect(r.statements.map((s) => [s.customerId, s.closingBalance])).toEqual([[a, '350.00 EUR'], [b, '380.00 EUR']]);
    expect((await runMonthlyStatements(core, actor, { month: '2026-01' })).statements).toEqual([]);
    const event = await lastEventOf(core, 'statement.created');
    expect(event.outbox_messages).toEqual([expect.objectContaining({ kind: 'statement', customer_id: b })]);
    expect(event.outbox_messages![0]).not.toHaveProperty('body_text');
    expect(event.outbox_messages![0]).not.toHaveProperty('body_html');
    const out = path.join(t.dataDir, 'outbox');
    const exported = await exportOutbox(core, out, actor);
    expect(exported.files).toHaveLength(2);
    const mail = await simpleParser(fs.readFileSync(exported.files[0]!));
    expect(mail.subject).toBe('Statement of account 2026-01-01 to 2026-01-31: balance 350.00 EUR — Cashloop Demo GmbH');
    expect(mail.text).toContain('IMP-A2');
    expect(mail.html).toContain('Statement of account');
    expect((await listOutbox(core.db.kysely)).map((m) => m.status)).toEqual(['exported', 'exported']);
  });
});
