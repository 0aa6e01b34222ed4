import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { dumpPublic, readWarehouse, tempDir } from './ledger.ts';
import { runPipeline, type PipelineRunResult } from '../../pipelines/run.ts';
import type { TransformResult } from '../../pipelines/transform/transform.ts';
import { openWarehouse, warehousePaths } from '../../src/warehouse/warehouse.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { importHistoricalInvoice } from '../../src/invoicing/invoice-import.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { runReminders } from '../../src/collections/reminder.service.ts';
import { recordPromise, resolvePromises } from '../../src/collections/promise.service.ts';
import { openDispute, resolveDispute } from '../../src/collections/dispute.service.ts';

/**
 * A customer's collections history through the real services (EUR cents), both invoices
 * dated 2025-12-11, due 2026-01-10:
 *
 *   01-12  dispute on IMP-I2 (200.00): 50.00 contested, "two units arrived damaged"
 *   01-17  reminder run: IMP-I1 reminded (IMP-I2 is disputed, so its dunning is paused)
 *   01-18  promise: 100.00 for IMP-I1 by 01-25
 *   01-20  dispute ended with a 50.00 credit note
 *   01-24  100.00 paid for IMP-I1 → the promise is kept on 01-24
 *   01-27  promise: 150.00 (IMP-I2's balance) by 01-30, never paid → broken on 02-03 (three grace days)
 *
 * The marts are checked row by row as of 2026-02-10 and as of 2026-01-19 (a replay: the
 * promise and the dispute still open then), and a warehouse updated after every step equals
 * one built in one go.
 */
describe(`promises, disputes and reminders in the warehouse (${testDialect})`, () => {
  let t: TestCore;
  const dirs: string[] = [];
  const asOf = '2026-02-10';
  let inc = '';
  const runs: PipelineRunResult[] = [];
  const q = (dir: string, sql: string) => readWarehouse(warehousePaths(dir).warehouse, sql);
  const run = (dir: string, date = asOf) => runPipeline({ dataDir: dir, coreUrl: t.url, asOf: date, quiet: true, steps: ['ingest', 'transform'] });
  const modes = (r: PipelineRunResult) => Object.fromEntries((r.steps.find((s) => s.name === 'transform')!.detail as TransformResult).models.map((m) => [m.model, m.mode]));

  beforeAll(async () => {
    t = await createTestCore('2026-01-05T09:00:00Z');
    const { core, clock } = t;
    inc = tempDir();
    dirs.push(inc);
    const step = async (date: string, change: () => Promise<unknown>) => {
      clock.set(`${date}T09:00:00Z`);
      await change();
      runs.push(await run(inc));
    };
    const c = await createCustomer(core, { name: 'Delta KG', creditLimit: '5000', paymentTermsDays: 30, currency: 'EUR' }, actor);
    for (const [ref, amount] of [['I1', '100.00'], ['I2', '200.00']]) {
      await importHistoricalInvoice(core, { customerId: c.id, externalRef: ref!, invoiceDate: '2025-12-11', dueDate: '2026-01-10', amount: amount! }, actor);
    }
    runs.push(await run(inc));
    let dispute = 0;
    await step('2026-01-12', async () => {
      dispute = (await openDispute(core, { invoice: 'IMP-I2', reason: 'two units arrived damaged', amount: '50.00' }, actor)).id;
    });
    await step('2026-01-17', async () => expect((await runReminders(core, actor, { asOf: '2026-01-17', send: false })).messages).toHaveLength(1));
    await step('2026-01-18', () => recordPromise(core, { customerId: c.id, invoices: ['IMP-I1'], date: '2026-01-25' }, actor));
    await step('2026-01-20', () => resolveDispute(core, dispute, { outcome: 'credit', amount: '50.00' }, actor));
    await step('2026-01-24', () => recordPayment(core, { customerId: c.id, amount: '100.00', reference: 'IMP-I1', date: '2026-01-24' }, actor));
    await step('2026-01-26', () => resolvePromises(core, '2026-01-26', actor));
    await step('2026-01-27', () => recordPromise(core, { customerId: c.id, invoices: ['IMP-I2'], date: '2026-01-30' }, actor));
    await step('2026-02-10', () => resolvePromises(core, '2026-02-10', actor));
  });
  afterAll(async () => {
    await t.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  const promises = `select cast(p.promise_key like 'core:%' as int) as core, p.currency, p.amount_cents::int as amount, cast(p.promised_date as varchar) as promised,
      cast(p.recorded_on as varchar) as recorded, p.status, p.is_kept, p.is_broken, p.paid_cents::int as paid, cast(p.resolved_on as varchar) as resolved, c.customer_name
    from marts.fct_promises p join marts.dim_customer c on c.customer_key = p.customer_key order by p.recorded_on`;
  const disputes = `select i.invoice_number, d.currency, d.amount_cents::int as amount, d.reason, d.is_line, cast(d.opened_on as varchar) as opened, d.status, d.is_open,
      cast(d.resolved_on as varchar) as resolved, n.amount_cents::int as credited, n.kind as credit_kind
    from marts.fct_disputes d join marts.fct_invoices i using (invoice_key) left join marts.fct_credit_notes n using (credit_note_key) order by d.opened_on`;
  const reminders = `select i.invoice_number, r.currency, r.policy, r.level, cast(r.notice_date as varchar) as notice_date, r.days_past_due, r.balance_cents::int as balance,
      r.fee_cents::int as fee, r.interest_cents::int as interest, r.message_key is not null as has_message
    from marts.fct_reminders r join marts.fct_invoices i using (invoice_key) order by r.notice_date, i.invoice_number`;

  it('publishes each promise with its outcome, each dispute with its end, each reminder with its level', async () => {
    expect(await q(inc, promises)).toEqual([
      { core: 1, currency: 'EUR', amount: 10_000, promised: '2026-01-25', recorded: '2026-01-18', status: 'kept', is_kept: true, is_broken: false, paid: 10_000, resolved: '2026-01-24', customer_name: 'Delta KG' },
      { core: 1, currency: 'EUR', amount: 15_000, promised: '2026-01-30', recorded: '2026-01-27', status: 'broken', is_kept: false, is_broken: true, paid: 0, resolved: '2026-02-03', customer_name: 'Delta KG' },
    ]);
    expect(await q(inc, disputes)).toEqual([
      { invoice_number: 'IMP-I2', currency: 'EUR', amount: 5_000, reason: 'two units arrived damaged', is_line: false, opened: '2026-01-12', status: 'credited', is_open: false, resolved: '2026-01-20', credited: 5_000, credit_kind: 'dispute' },
    ]);
    expect(await q(inc, reminders)).toEqual([
      { invoice_number: 'IMP-I1', currency: 'EUR', policy: 'standard', level: 2, notice_date: '2026-01-17', days_past_due: 7, balance: 10_000, fee: 0, interest: 0, has_message: true },
    ]);
  });

  it('replays an earlier date: what was still open then is open, what came later is absent', async () => {
    const dir = tempDir();
    dirs.push(dir);
    await run(dir, '2026-01-19');
    expect((await q(dir, promises)).map((r) => [r.amount, r.status, r.is_kept, r.is_broken, r.paid, r.resolved])).toEqual([[10_000, 'open', false, false, 0, null]]);
    expect((await q(dir, disputes)).map((r) => [r.invoice_number, r.status, r.is_open, r.resolved, r.credited])).toEqual([['IMP-I2', 'open', true, null, null]]);
    expect((await q(dir, reminders)).map((r) => [r.invoice_number, r.notice_date])).toEqual([['IMP-I1', '2026-01-17']]);
  });

  it('a warehouse updated after every step equals one built in one go, the new marts updated in place', async () => {
    const full = tempDir();
    dirs.push(full);
    await run(full);
    expect(await dumpPublic(warehousePaths(inc).warehouse)).toEqual(await dumpPublic(warehousePaths(full).warehouse));
    // The dispute's opening (second run) and the first promise (fourth) update their marts in place.
    expect(modes(runs[1]!)['marts.fct_disputes']).toBe('incremental');
    expect(modes(runs[2]!)['marts.fct_reminders']).toBe('incremental');
    expect(modes(runs[3]!)['marts.fct_promises']).toBe('incremental');
  });

  it('a warehouse made before promises, disputes and actions were staged takes them from the events it already staged', async () => {
    const old = tempDir();
    dirs.push(old);
    await run(old);
    // As such a warehouse was: the events staged, these tables and their marts never made.
    const wh = await openWarehouse(warehousePaths(old).warehouse);
    try {
      for (const table of ['promises_to_pay', 'disputes', 'collection_actions']) await wh.conn.run(`drop table staging.core_${table}`);
      for (const mart of ['fct_promises', 'fct_disputes']) {
        await wh.conn.run(`drop table marts.${mart}`);
        await wh.conn.run(`delete from ops.model_state where model = 'marts.${mart}'`);
      }
    } finally {
      wh.close();
    }
    await run(old);
    const actions = await t.core.db.kysely.selectFrom('collection_actions').select((e) => e.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(await q(old, 'select count(*)::int as n from staging.core_collection_actions')).toEqual([{ n: Number(actions.n) }]);
    expect(Number(actions.n)).toBeGreaterThan(0);
    expect(await dumpPublic(warehousePaths(old).warehouse)).toEqual(await dumpPublic(warehousePaths(inc).warehouse));
  });
});
