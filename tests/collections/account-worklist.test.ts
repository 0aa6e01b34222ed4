import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { assignCustomer } from '../../src/collections/policy.service.ts';
import { recordPromise } from '../../src/collections/promise.service.ts';
import { openDispute } from '../../src/collections/dispute.service.ts';
import { logAction } from '../../src/collections/action.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { worklist } from '../../src/collections/worklist.service.ts';
import { accountPriority, accountWorklist } from '../../src/collections/account-worklist.service.ts';
import { addDays, daysBetween } from '../../src/shared/dates.ts';
import { createCreditNote, writeOffInvoice } from '../../src/invoicing/invoice.service.ts';
import { invoiceBalances } from '../../src/invoicing/invoice.repository.ts';
import { replaceInvoiceForecasts } from '../../src/forecasts/forecast.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

describe('accountPriority', () => {
  const base = { free: 0, promised: 0, disputed: 0, promiseReliability: null, brokenPromiseRecently: false };
  it('weighs the free exposure fully, a promise by the chance it is broken, a dispute not at all, a broken promise up', () => {
    expect(accountPriority({ ...base, free: 1000 })).toBe(1000);
    expect(accountPriority({ ...base, promised: 1000 })).toBe(500);
    expect(accountPriority({ ...base, promised: 1000, promiseReliability: 0.8 })).toBe(200);
    expect(accountPriority({ ...base, disputed: 1000 })).toBe(0);
    expect(accountPriority({ ...base, free: 1000, brokenPromiseRecently: true })).toBe(1500);
  });
});

describe(`account-level worklist (${testDialect})`, () => {
  let t: TestCore;
  const ids: Record<string, number> = {};
  beforeAll(async () => {
    t = await createTestCore('2026-03-01T09:00:00Z');
    const { core } = t;
    const mk = async (name: string, collector: string | null, invoices: [string, string, string][]) => {
      const c = await createCustomer(core, { name, creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR' }, actor);
      if (collector) await assignCustomer(core, { customerId: c.id, collector }, actor);
      for (const [ref, due, amount] of invoices) await importHistoricalInvoice(core, { customerId: c.id, externalRef: ref, invoiceDate: addDays(due, -30), dueDate: due, amount }, actor);
      ids[name] = c.id;
    };
    // Days × amount on 2026-03-01: Alpha 10 × 1000 + 0 = 10,000; Bravo 30 × 100 + 2 × 300 = 3,600; Charlie 60 × 500 = 30,000 less a paid 200 → 60 × 300 = 18,000; Delta nothing overdue.
    await mk('Alpha', 'dana', [['A1', '2026-02-19', '1000.00'], ['A2', '2026-03-11', '500.00']]);
    await mk('Bravo', 'eli', [['B1', '2026-02-27', '300.00'], ['B2', '2026-01-30', '100.00']]);
    await mk('Charlie', 'dana', [['C1', '2025-12-31', '500.00']]);
    await mk('Delta', null, [['D1', '2026-03-20', '700.00']]);
    await mk('Echo (all paid)', 'dana', [['E1', '2026-01-01', '50.00']]);
    await recordPayment(core, { customerId: ids['Charlie']!, amount: '200.00', reference: 'IMP-C1' }, actor);
    await recordPayment(core, { customerId: ids['Echo (all paid)']!, amount: '50.00' }, actor);
  });
  afterAll(async () => t.cleanup());

  it('gives one row per account with an open balance, ranked by days overdue × amount, agreeing with the invoice-level worklist', async () => {
    const w = await accountWorklist(t.core, { limit: 10 });
    expect(w).toMatchObject({ asOf: '2026-03-01', basis: 'days_overdue', forecastAsOf: null, totalAccounts: 4 });
    expect(w.accounts.map((a) => [a.customer, a.priority])).toEqual([['Charlie', 1_800_000], ['Alpha', 1_000_000], ['Bravo', 360_000], ['Delta', 0]]);
    expect(w.accounts.map((a) => a.rank)).toEqual([1, 2, 3, 4]);
    // The invoice-level worklist lists the same invoices one by one, with their balances read its own way: days overdue × balance summed per customer is the account's priority.
    const items = await worklist(t.core, { limit: 1000 });
    expect(items.basis).toBe('days_overdue');
    const byCustomer = new Map<number, number>();
    for (const i of items.items) byCustomer.set(i.customerId, (byCustomer.get(i.customerId) ?? 0) + Math.max(0, i.daysPastDue) * i.balanceMinor);
    for (const a of w.accounts) expect(a.priority, a.customer).toBe(byCustomer.get(a.customerId));

    const charlie = w.accounts[0]!;
    expect(charlie).toMatchObject({ collector: 'dana', currency: 'EUR', openItems: 1, openMinor: 30_000, overdueItems: 1, overdueMinor: 30_000, amountAtRiskMinor: null, oldestItem: { invoice: 'IMP-C1', dueDate: '2025-12-31', daysPastDue: 60, balanceMinor: 30_000 }, lastContact: null, nextPromise: null, dispute: null });
    const alpha = w.accounts[1]!;
    expect(alpha).toMatchObject({ openItems: 2, openMinor: 150_000, overdueItems: 1, overdueMinor: 100_000, oldestItem: { invoice: 'IMP-A1', daysPastDue: 10 } });
    expect(w.accounts[3]).toMatchObject({ customer: 'Delta', overdueMinor: 0, overdueItems: 0, oldestItem: { invoice: 'IMP-D1', daysPastDue: -19 } });
  });

  it('pages on the server and filters to one collector', async () => {
    const p1 = await accountWorklist(t.core, { limit: 2 });
    const p2 = await accountWorklist(t.core, { limit: 2, from: 2 });
    expect(p1.accounts.map((a) => a.customer)).toEqual(['Charlie', 'Alpha']);
    expect(p2.accounts.map((a) => [a.rank, a.customer])).toEqual([[3, 'Bravo'], [4, 'Delta']]);
    expect(p2.totalAccounts).toBe(4);
    const dana = await accountWorklist(t.core, { collector: 'dana' });
    expect(dana.accounts.map((a) => a.customer)).toEqual(['Charlie', 'Alpha']);
    expect(dana.totalAccounts).toBe(2);
    expect((await accountWorklist(t.core, { collector: 'nobody' })).accounts).toEqual([]);
  });

  it('refuses a bad page with the field and the rule', async () => {
    for (const [options, field, rule] of [[{ limit: 0 }, 'limit', 'page_size'], [{ limit: '1e3' }, 'limit', 'page_size'], [{ from: -1 }, 'from', 'page_offset'], [{ limit: 100_001 }, 'limit', 'page_size']] as const) {
      const error = await accountWorklist(t.core, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).detail).toMatchObject({ field, rule });
    }
  });

  it('moves a customer at once when a promise or a dispute is recorded, and shows the contact, promise and dispute', async () => {
    const { core } = t;
    await recordPromise(core, { customerId: ids['Charlie']!, invoices: ['IMP-C1'], date: '2026-03-06' }, actor);
    let w = await accountWorklist(core);
    // Charlie's 18,000 halved by the promise (no history: reliability 0.5) = 9,000 drops below Alpha's 10,000.
    expect(w.accounts.map((a) => [a.customer, a.priority])).toEqual([['Alpha', 1_000_000], ['Charlie', 900_000], ['Bravo', 360_000], ['Delta', 0]]);
    expect(w.accounts[1]).toMatchObject({ nextPromise: { date: '2026-03-06', amountMinor: 30_000 }, exposure: { promised: 1_800_000, free: 0 } });

    await openDispute(core, { invoice: 'IMP-A1', reason: 'wrong quantity' }, actor);
    await logAction(core, { customerId: ids['Alpha']!, kind: 'call', note: 'spoke to AP' }, actor);
    w = await accountWorklist(core);
    expect(w.accounts.map((a) => [a.customer, a.priority])).toEqual([['Charlie', 900_000], ['Bravo', 360_000], ['Alpha', 0], ['Delta', 0]]);
    const alpha = w.accounts.find((a) => a.customer === 'Alpha')!;
    expect(alpha).toMatchObject({ dispute: { count: 1, amountMinor: 100_000 }, lastContact: { kind: 'call', note: 'spoke to AP', date: '2026-03-01' } });
    // Alpha still outranks Delta on ties: more overdue.
    expect(w.accounts.slice(2).map((a) => a.customer)).toEqual(['Alpha', 'Delta']);

    // A promise whose date has passed no longer holds the account back.
    t.clock.set('2026-03-07T09:00:00Z');
    w = await accountWorklist(core);
    expect(w.accounts[0]).toMatchObject({ customer: 'Charlie', priority: 66 * 30_000, exposure: { free: 66 * 30_000, promised: 0 } });
    t.clock.set('2026-03-01T09:00:00Z');
  });

  it('ranks by the published forecasts when there are some', async () => {
    const { core } = t;
    const db = core.db.kysely;
    const inv = async (ref: string) => db.selectFrom('invoices').select(['id', 'customer_id']).where('external_ref', '=', ref).executeTakeFirstOrThrow();
    const row = async (ref: string, atRisk: number, asOf = '2026-02-28') => {
      const i = await inv(ref);
      return { invoiceId: i.id, customerId: i.customer_id, asOf, predictedPayDate: '2026-03-20', payDateLow: '2026-03-10', payDateHigh: '2026-04-10', probLateBp: 5000, amountAtRiskMinor: atRisk, model: 'test' };
    };
    await replaceInvoiceForecasts(core, [
      await row('D1', 60_000), // Delta: not overdue, but the forecast says the money is at risk
      await row('B1', 10_000, '2026-02-20'), // written by an earlier run of the same model: still the published figure
      // B2 (overdue) is not in the forecast, as an invoice issued after the run would not be: its whole 100.00 is at risk.
      await row('C1', 20_000), // under a promise: halved
      await row('A1', 90_000), // disputed: not counted
      await row('E1', 7_000), // paid: not read
    ], actor);
    const w = await accountWorklist(core);
    expect(w).toMatchObject({ basis: 'forecast', forecastAsOf: '2026-02-28' });
    expect(w.accounts.map((a) => [a.customer, a.priority, a.amountAtRiskMinor])).toEqual([['Delta', 60_000, 60_000], ['Bravo', 20_000, 20_000], ['Charlie', 10_000, 20_000], ['Alpha', 0, 90_000]]);
  });
});

describe(`account totals after credit notes, write-offs and part payments (${testDialect})`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-03-01T09:00:00Z');
    const { core } = t;
    for (const [name, invoices] of [
      ['Foxtrot', [['F1', '2026-01-31', '400.00'], ['F2', '2026-02-20', '250.00'], ['F3', '2026-03-20', '90.00']]],
      ['Golf', [['G1', '2026-02-01', '300.00'], ['G2', '2026-02-15', '120.00']]],
      ['Hotel', [['H1', '2026-01-15', '80.00']]],
    ] as const) {
      const c = await createCustomer(core, { name, creditLimit: '100000', paymentTermsDays: 30, currency: 'EUR' }, actor);
      for (const [ref, due, amount] of invoices) await importHistoricalInvoice(core, { customerId: c.id, externalRef: ref, invoiceDate: addDays(due, -30), dueDate: due, amount }, actor);
      if (name === 'Golf') await recordPayment(core, { customerId: c.id, amount: '100.00', reference: 'G1' }, actor); // G1 partly paid
    }
    await createCreditNote(core, { invoice: 'F1', amount: '150.00', reason: 'returned goods' }, actor); // F1 partly credited
    await createCreditNote(core, { invoice: 'F3', amount: '90.00', reason: 'price correction' }, actor); // F3 credited in full
    await writeOffInvoice(core, 'F2', 'customer insolvent', actor, undefined, { badDebt: true }); // F2 written off
    await createCreditNote(core, { invoice: 'G2', amount: '20.00', reason: 'price correction' }, actor);
  });
  afterAll(async () => t.cleanup());

  it('counts each open invoice at its balance, as the invoice balances read one by one', async () => {
    const w = await accountWorklist(t.core, { limit: 10 });
    const open = (await invoiceBalances(t.core.db.kysely, { openOnly: true })).filter((i) => i.balance_minor > 0);
    const expected = new Map<number, { openItems: number; openMinor: number; overdueItems: number; overdueMinor: number; priority: number }>();
    for (const i of open) {
      const e = expected.get(i.customer_id) ?? { openItems: 0, openMinor: 0, overdueItems: 0, overdueMinor: 0, priority: 0 };
      e.openItems++;
      e.openMinor += i.balance_minor;
      if (i.due_date < w.asOf) {
        e.overdueItems++;
        e.overdueMinor += i.balance_minor;
        e.priority += daysBetween(i.due_date, w.asOf) * i.balance_minor;
      }
      expected.set(i.customer_id, e);
    }
    expect(w.totalAccounts).toBe(expected.size);
    for (const a of w.accounts) expect({ openItems: a.openItems, openMinor: a.openMinor, overdueItems: a.overdueItems, overdueMinor: a.overdueMinor, priority: a.priority }).toEqual(expected.get(a.customerId));
    // Foxtrot: F1 250.00 open of 400.00 (overdue 29 days), F2 written off, F3 credited in full.
    expect(w.accounts.find((a) => a.customer === 'Foxtrot')).toMatchObject({ openItems: 1, openMinor: 25_000, overdueItems: 1, overdueMinor: 25_000, priority: 29 * 25_000 });
  });
});
