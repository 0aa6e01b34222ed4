import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { createCustomer, updateCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { generateDemo, type DemoResult } from '../../src/demo/generator.ts';
import { runReminders, planReminders } from '../../src/collections/reminder.service.ts';
import { worklist } from '../../src/collections/worklist.service.ts';
import { recordPromise } from '../../src/collections/promise.service.ts';
import { openDispute } from '../../src/collections/dispute.service.ts';
import { assignCustomer } from '../../src/collections/policy.service.ts';
import { logAction } from '../../src/collections/action.service.ts';
import { addDays } from '../../src/shared/dates.ts';

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

  it('ranks by days overdue × amount without forecasts, by expected loss with them', async () => {
    const { core } = t;
    const plain = await worklist(core, { asOf: '2026-03-01', forecastFile: null });
    expect(plain.basis).toBe('days_overdue');
    // A1 10 × 1000 = 10,000; E2 30 × 100 = 3,000; E1 2 × 300 = 600; A2 0.
    expect(plain.items.map((i) => [i.invoice, i.expectedLoss])).toEqual([['IMP-A1', 1_000_000], ['IMP-E2', 300_000], ['IMP-E1', 60_000], ['IMP-A2', 0]]);
    expect(plain.items.map((i) => i.rank)).toEqual([1, 2, 3, 4]);

    // A published forecast (as the pipeline's forecast step writes it): prob_late × amount × risk weight.
    const file = path.join(t.dataDir, 'published', 'warehouse.duckdb');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(file), { recursive: true });
    const ids = await core.db.kysely.selectFrom('invoices').select(['id', 'external_ref']).execute();
    const id = (ref: string) => ids.find((r) => r.external_ref === ref)!.id;
    const db = await DuckDBInstance.create(file);
    const conn = await db.connect();
    await conn.run(`create schema forecast; create table forecast.invoice_payment (as_of date, invoice_key varchar, customer_key varchar, open_cents bigint, due_date date, predicted_date date, p10_date date, p90_date date, prob_late double, model varchar)`);
    await conn.run(`insert into forecast.invoice_payment values
      ('2026-02-28', 'core:${id('A1')}', 'core:1', 100000, '2026-02-19', '2026-03-05', '2026-03-02', '2026-03-20', 0.9, 'm'),
      ('2026-02-28', 'core:${id('A2')}', 'core:1', 50000, '2026-03-11', '2026-03-11', '2026-03-05', '2026-03-25', 0.3, 'm'),
      ('2026-02-28', 'core:${id('E1')}', 'core:2', 30000, '2026-02-27', '2026-04-10', '2026-03-10', '2026-05-20', 0.8, 'm'),
      ('2026-01-31', 'core:${id('E2')}', 'core:2', 10000, '2026-01-30', '2026-02-10', '2026-02-01', '2026-02-20', 0.1, 'old')`);
    conn.closeSync();
    db.closeSync();
    const w = await worklist(core, { asOf: '2026-03-01', forecastFile: file });
    expect(w).toMatchObject({ basis: 'forecast', forecastAsOf: '2026-02-28' });
    // E1 0.8 × 300 × 1.0 = 240; A1 0.9 × 1000 × 0.2 = 180; E2 (not in the latest forecast, overdue) 1 × 100 × 1.0 = 100; A2 0.3 × 500 × 0.2 = 30.
    expect(w.items.map((i) => [i.invoice, i.expectedLoss, i.probLate])).toEqual([['IMP-E1', 24_000, 0.8], ['IMP-A1', 18_000, 0.9], ['IMP-E2', 10_000, null], ['IMP-A2', 3_000, 0.3]]);
    expect(w.items[0]).toMatchObject({ predictedDate: '2026-04-10', riskClass: 'E', collector: 'eli' });

    // A collector sees their own customers; promises, disputes and the log show on the items.
    t.clock.set('2026-03-01T10:00:00Z');
    await recordPromise(core, { customerId: 1, invoices: ['IMP-A1'], date: '2026-03-06' }, actor);
    await openDispute(core, { invoice: 'IMP-A2', reason: 'wrong quantity' }, actor);
    await logAction(core, { customerId: 1, kind: 'call', note: 'spoke to AP', nextAction: 'call back', nextActionOn: '2026-03-04' }, actor);
    const dana = await worklist(core, { asOf: '2026-03-01', collector: 'dana', forecastFile: file });
    expect(dana.items.map((i) => [i.invoice, i.expectedLoss])).toEqual([['IMP-A1', 9_000], ['IMP-A2', 3_000]]); // A1 halved by its promise (no promise history: 0.5)
    expect(dana.items.find((i) => i.invoice === 'IMP-A1')).toMatchObject({ expectedLoss: 9_000, promise: { date: '2026-03-06', reliability: null }, disputed: false });
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
});
