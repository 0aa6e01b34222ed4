import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { createCustomer, updateCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { generateDemo, type DemoResult } from '../../src/demo/generator.ts';
import { runReminders, planReminders } from '../../src/collections/reminder.service.ts';
import { worklist } from '../../src/collections/worklist.service.ts';
import { replaceInvoiceForecasts } from '../../src/forecasts/forecast.service.ts';
import { recordPromise } from '../../src/collections/promise.service.ts';
import { openDispute } from '../../src/collections/dispute.service.ts';
import { assignCustomer } from '../../src/collections/policy.service.ts';
import { logAction } from '../../src/collections/action.service.ts';
import { addDays } from '../../src/shared/dates.ts';
import { accountStatement, accountStatements } from '../../src/payments/account-statement.service.ts';

describe(`collector worklist (${testDialect})`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-03-01T09:00:00Z');
    const { core } = t;
    const mk = async (name: string, collector: string, riskClass: 'A' | 'E', invoices: [string, string, string][]) => {
      const c = await createCustomer(core, { name, creditLimit: '10000', paymentTermsDays: 30, currency: 'EUR' }, actor);
      await updateCustomer(core, c.id, { riskClass }, actor);
      await assignCustomer(core, { customerId: c.id, collector }, actor);
      for (const [ref, due, amount] of invoices) await importHistoricalInvoice(core, { customerId: c.id, externalRef: ref, invoiceDate: addDays(due, -30), dueDate: due, amount }, actor);
      return c.id;
    };
    await mk('Alpha', 'dana', 'A', [['A1', '2026-02-19', '1000.00'], ['A2', '2026-03-11', '500.00']]); // 10 days overdue; not yet due
    await mk('Echo', 'eli', 'E', [['E1', '2026-02-27', '300.00'], ['E2', '2026-01-30', '100.00']]); // 2 and 30 days overdue
  });
  afterAll(async () => t.cleanup());

  it('ranks by days overdue × amount without forecasts, by the amount at risk the forecast step handed back with them', async () => {
    const { core } = t;
    const plain = await worklist(core, { asOf: '2026-03-01' });
    expect(plain.basis).toBe('days_overdue');
    // A1 10 days × 1000; E2 30 × 100; E1 2 × 300; A2 not yet due. No amount at risk without forecasts.
    expect(plain.items.map((i) => [i.invoice, i.amountAtRiskMinor])).toEqual([['IMP-A1', null], ['IMP-E2', null], ['IMP-E1', null], ['IMP-A2', null]]);
    expect(plain.items.map((i) => i.rank)).toEqual([1, 2, 3, 4]);

    // Forecasts as the forecast step hands them back through the core's service; the
    // worklist ranks by their amount at risk as given, never computing one of its own.
    const ids = await core.db.kysely.selectFrom('invoices').select(['id', 'external_ref', 'customer_id']).execute();
    const inv = (ref: string) => ids.find((r) => r.external_ref === ref)!;
    const f = (ref: string, predicted: string, probLateBp: number, amountAtRiskMinor: number) => ({
      invoiceId: inv(ref).id, customerId: inv(ref).customer_id, asOf: '2026-02-28', predictedPayDate: predicted, payDateLow: '2026-03-01', payDateHigh: '2026-05-31', probLateBp, amountAtRiskMinor, model: 'm',
    });
    await replaceInvoiceForecasts(core, [f('A1', '2026-03-05', 9000, 90_000), f('A2', '2026-03-11', 3000, 15_000), f('E1', '2026-04-10', 8000, 24_000)], actor);
    const w = await worklist(core, { asOf: '2026-03-01' });
    expect(w).toMatchObject({ basis: 'forecast', forecastAsOf: '2026-02-28' });
    // A1 900.00 at risk; E1 240.00; A2 150.00; E2 has no forecast and is overdue: its whole 100.00.
    expect(w.items.map((i) => [i.invoice, i.amountAtRiskMinor, i.probLate])).toEqual([['IMP-A1', 90_000, 0.9], ['IMP-E1', 24_000, 0.8], ['IMP-A2', 15_000, 0.3], ['IMP-E2', 10_000, null]]);
    expect(w.items[1]).toMatchObject({ predictedDate: '2026-04-10', riskClass: 'E', collector: 'eli', amountAtRisk: '240.00' });

    // A collector sees their own customers; promises, disputes and the log show on the items.
    t.clock.set('2026-03-01T10:00:00Z');
    await recordPromise(core, { customerId: 1, invoices: ['IMP-A1'], date: '2026-03-06' }, actor);
    await openDispute(core, { invoice: 'IMP-A2', reason: 'wrong quantity' }, actor);
    await logAction(core, { customerId: 1, kind: 'call', note: 'spoke to AP', nextAction: 'call back', nextActionOn: '2026-03-04' }, actor);
    const dana = await worklist(core, { asOf: '2026-03-01', collector: 'dana' });
    expect(dana.items.map((i) => [i.invoice, i.amountAtRiskMinor])).toEqual([['IMP-A1', 90_000], ['IMP-A2', 15_000]]);
    expect(dana.items.find((i) => i.invoice === 'IMP-A1')).toMatchObject({ promise: { date: '2026-03-06', reliability: null }, disputed: false });
    expect(dana.items.find((i) => i.invoice === 'IMP-A2')).toMatchObject({ disputed: true, lastAction: { kind: 'call', date: '2026-03-01' }, nextAction: { what: 'call back', on: '2026-03-04', overdue: false } });
  });
});

describe(`reminder run on the demo company (${testDialect})`, () => {
  let t: TestCore;
  let demo: DemoResult;
  beforeAll(async () => {
    t = await createTestCore('2024-01-01T07:00:00Z');
    demo = await generateDemo(t.core, t.clock, { seed: 5, customers: 15, months: 4, start: '2024-01-01' });
  }, 120_000);
  afterAll(async () => t.cleanup());

  it('writes exactly one message per customer with invoices at a level, skipping disputed and promised ones, and nothing on a second run', async () => {
    const { core, clock } = t;
    const asOf = demo.manifest.end;
    clock.set(`${asOf}T18:00:00Z`);
    // The demo's own collections history (reminders sent, promises, disputes) is set aside: the
    // run below starts from a fresh desk, so what it must write can be said independently.
    for (const table of ['dunning_notices', 'promise_invoices', 'promises_to_pay', 'disputes'] as const) await sql`delete from ${sql.table(table)}`.execute(core.db.kysely);
    // Independently of the collections code: invoices open at the end (nothing is dated after it)
    // whose due date is at most 3 days away (the standard policy's first level), per customer.
    const due = await sql<{ customer_id: number; number: string }>`
      select i.customer_id, i.number from invoices i where i.status in ('open', 'partially_paid') and i.due_date <= ${addDays(asOf, 3)} order by i.customer_id, i.due_date`.execute(core.db.kysely);
    const byCustomer = new Map<number, string[]>();
    for (const r of due.rows) byCustomer.set(Number(r.customer_id), [...(byCustomer.get(Number(r.customer_id)) ?? []), r.number]);
    expect(byCustomer.size).toBeGreaterThanOrEqual(4);

    // One customer disputes everything at a level, another promises to pay all of it.
    const [disputer, promiser] = [...byCustomer.keys()];
    for (const n of byCustomer.get(disputer!)!) await openDispute(core, { invoice: n, reason: 'contested in full' }, actor);
    await recordPromise(core, { customerId: promiser!, invoices: byCustomer.get(promiser!)!, date: addDays(asOf, 10) }, actor);

    const run = await runReminders(core, actor, { asOf });
    const expected = [...byCustomer.keys()].filter((c) => c !== disputer && c !== promiser).sort((x, y) => x - y);
    expect(run.messages.map((m) => m.customerId)).toEqual(expected);
    for (const m of run.messages) expect(m.invoices, `customer ${m.customerId}`).toBe(byCustomer.get(m.customerId)!.length);
    const notices = await core.db.kysely.selectFrom('dunning_notices').select(['customer_id', 'level', 'days_past_due']).execute();
    expect(notices).toHaveLength(expected.reduce((s, c) => s + byCustomer.get(c)!.length, 0));
    for (const n of notices) {
      const want = n.days_past_due >= 45 ? 4 : n.days_past_due >= 21 ? 3 : n.days_past_due >= 7 ? 2 : 1;
      expect(n.level, `${n.days_past_due} days past due`).toBe(want);
    }
    expect((await runReminders(core, actor, { asOf })).messages).toEqual([]);
    expect((await planReminders(core, asOf)).plans).toEqual([]);
  });

  it("reads many customers' statements together exactly as one by one (the letters enclose them)", async () => {
    const { core } = t;
    const ids = (await core.db.kysely.selectFrom('customers').select('id').orderBy('id').execute()).map((r) => r.id);
    const end = demo.manifest.end;
    for (const [from, to] of [[addDays(end, -90), end], ['2024-01-01', end], [addDays(end, -40), addDays(end, -10)]] as const) {
      const together = await accountStatements(core, [...ids, ...ids.slice(0, 3)], from, to);
      expect([...together.keys()].sort((a, b) => a - b)).toEqual(ids);
      for (const id of ids) expect(together.get(id), `customer ${id}, ${from} to ${to}`).toEqual(await accountStatement(core, { customerId: id, from, to }));
    }
    expect((await accountStatements(core, [999_999], end, end)).size).toBe(0);
  });
});
