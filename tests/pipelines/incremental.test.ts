import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, seedBasics } from '../helpers/fixtures.ts';
import { runChange } from '../../src/core.ts';
import { createOrder } from '../../src/orders/order.service.ts';
import { submitOrder } from '../../src/credit/credit.service.ts';
import { createShipment, deliverShipment } from '../../src/shipping/shipment.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { loadRates, parseRatesCsv } from '../../src/rates/rates.service.ts';
import { runPipeline, type PipelineRunResult } from '../../pipelines/run.ts';
import type { TransformResult } from '../../pipelines/transform/transform.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { loadModels, partExpression, qualified } from '../../pipelines/transform/models.ts';
import { dumpPublic, dumpSchemas, Ledger, parquetDifferences, readWarehouse, tempDir } from './ledger.ts';

/**
 * Incremental = full, exactly. One warehouse is brought up to date run after run while the
 * core's history grows with the cases that make in-place updates hard (a late payment to an
 * old invoice, a payment dated in the past, a reversal, a credit note and a write-off dated
 * back, an invoice older than any before, a new currency, a renamed customer, orders through
 * their whole lifecycle, a payment dated after the as-of date, replays of other dates).
 * After every run it must equal, table for table, a warehouse built in one go from the same
 * core, and its published snapshot and Parquet copies must equal it.
 */
describe(`incremental runs equal full builds (${testDialect})`, () => {
  let t: TestCore;
  let l: Ledger;
  const dirs: string[] = [];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  let inc: string;
  const steps = ['ingest', 'transform', 'reconcile', 'publish'];
  const run = (dataDir: string, asOf: string) => runPipeline({ dataDir, coreUrl: t.url, asOf, quiet: true, steps });
  const modes = (r: PipelineRunResult) => Object.fromEntries((r.steps.find((s) => s.name === 'transform')!.detail as TransformResult).models.map((m) => [m.model, m.mode]));

  /** Runs the incremental warehouse, builds a fresh one from the same core, and compares everything. */
  async function runAndCompare(asOf: string): Promise<PipelineRunResult> {
    const r = await run(inc, asOf);
    const full = dir();
    await run(full, asOf);
    const [a, b] = [await dumpPublic(warehousePaths(inc).warehouse), await dumpPublic(warehousePaths(full).warehouse)];
    expect(Object.keys(a)).toEqual(Object.keys(b));
    for (const table of Object.keys(b)) expect({ table, rows: a[table] }).toEqual({ table, rows: b[table] });
    // The row counts the run reports are the tables' own, the unchanged ones (counted together at the end) too.
    const reported = (r.steps.find((s) => s.name === 'transform')!.detail as TransformResult).models.filter((m) => m.mode !== 'view');
    expect(reported.length).toBeGreaterThan(0);
    for (const m of reported) expect({ model: m.model, mode: m.mode, rows: m.rows }).toEqual({ model: m.model, mode: m.mode, rows: a[m.model]!.length });
    // The part records count the rows of each part (an update in place adds its delta to them).
    const tables = loadModels().filter((m) => m.layer !== 'staging');
    const counted = await readWarehouse(
      warehousePaths(inc).warehouse,
      tables.map((m) => `select ${`'${qualified(m)}'`} as t, ${partExpression(m)} as part, count(*) as n from ${qualified(m)} group by all`).join(' union all ') + ' order by all',
    );
    const recorded = await readWarehouse(warehousePaths(inc).warehouse, `select table_name as t, part, row_count as n from ops.table_parts where table_name not like 'forecast.%' order by all`);
    expect(recorded).toEqual(counted);
    // What analysts read is what the run built: the snapshot updated in place and the Parquet parts.
    const schemas = ['marts', 'metrics', 'forecast'];
    expect(await dumpSchemas(warehousePaths(inc).snapshot, schemas)).toEqual(await dumpSchemas(warehousePaths(inc).warehouse, schemas));
    expect(await parquetDifferences(inc)).toEqual({});
    return r;
  }

  beforeAll(async () => {
    t = await createTestCore('2026-05-02T09:00:00Z');
    l = new Ledger(t.core);
    inc = dir();
  });
  afterAll(async () => {
    await t.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  let ids: Record<string, number> = {};

  it('first run builds everything whole', async () => {
    const c1 = await l.customer('C1');
    const c2 = await l.customer('C2');
    const c3 = await l.customer('C3');
    const i1 = await l.invoice(c1, 'I1', '2026-01-10', '2026-02-09', 100_000);
    const i2 = await l.invoice(c2, 'I2', '2026-01-20', '2026-02-19', 50_000);
    const i3 = await l.invoice(c3, 'I3', '2026-02-05', '2026-03-07', 80_000);
    const i4 = await l.invoice(c1, 'I4', '2026-03-01', '2026-03-31', 30_000);
    await l.payment(c1, '2026-01-25', 40_000, [[i1, 40_000]]);
    const p2 = await l.payment(c3, '2026-03-01', 80_000, [[i3, 80_000]]);
    ids = { c1, c2, c3, i1, i2, i3, i4, p2 };
    const r = await runAndCompare('2026-06-30');
    const m = modes(r);
    expect(m['marts.fct_invoices']).toBe('full');
    expect(m['metrics.ar_open_items']).toBe('full');
  });

  it('a late payment to an old invoice, a payment dated in the past, a back-dated credit note: only the invoices touched are recomputed', async () => {
    await l.payment(ids.c1!, '2026-05-20', 60_000, [[ids.i1!, 60_000]]); // I1 paid off four months late
    await l.payment(ids.c2!, '2026-02-10', 20_000, [[ids.i2!, 20_000]]); // recorded now, dated in February
    await l.creditNote(ids.i4!, ids.c1!, '2026-03-15', 10_000);
    ids.i5 = await l.invoice(ids.c2!, 'I5', '2026-06-15', '2026-07-15', 25_000);
    const r = await runAndCompare('2026-06-30');
    const m = modes(r);
    for (const model of ['marts.fct_invoices', 'marts.fct_payments', 'marts.fct_payment_allocations', 'marts.fct_invoice_movements', 'marts.fct_credit_notes', 'metrics.ar_open_items', 'metrics.ar_aging', 'metrics.customer_payment_behaviour']) {
      expect({ model, mode: m[model] }).toEqual({ model, mode: 'incremental' });
    }
    // Nothing about orders or customers changed; write-offs read invoices, which did, but none is touched.
    expect(m['marts.fct_write_offs']).toBe('incremental');
    // The small totals the KPIs read move by the changes alone; the calendar does not move at all.
    for (const model of ['metrics.ar_aging_totals', 'metrics.ar_invoiced_monthly', 'metrics.ar_settled_monthly', 'marts.dim_date']) {
      expect({ model, mode: m[model] }).toEqual({ model, mode: 'incremental' });
    }
    expect(m['marts.dim_customer']).toBe('unchanged');
    expect(m['marts.fct_orders']).toBe('unchanged');
  });

  it('a reversal, a write-off, an invoice older than any before, a new currency and a renamed customer', async () => {
    await l.reversePayment(ids.p2!, '2026-04-10'); // I3 open again from April
    await l.writeOff(ids.i2!, '2026-06-20', 30_000);
    await l.invoice(ids.c3!, 'I0', '2025-12-15', '2026-01-14', 15_000); // before the first month measured
    const c4 = await l.customer('C4', 'USD');
    const i7 = await l.invoice(c4, 'I7', '2026-04-01', '2026-05-01', 70_000, 'USD');
    ids = { ...ids, c4, i7 };
    await l.payment(c4, '2026-06-01', 20_000, [[i7, 20_000]], 'USD');
    await runChange(t.core, actor, async ({ trx }) => {
      const row = await trx.updateTable('customers').set({ name: 'C2 Renamed GmbH' }).where('id', '=', ids.c2!).returningAll().executeTakeFirstOrThrow();
      return { result: null, events: [{ type: 'customer.updated', aggregate: 'customer', id: ids.c2!, after: { customers: [row] } }] };
    });
    const r = await runAndCompare('2026-06-30');
    const m = modes(r);
    // New months and a new currency change the periods: what depends on them is rebuilt whole.
    expect(m['metrics.ar_periods']).toBe('full');
    expect(m['metrics.ar_open_items']).toBe('full');
    expect(m['marts.fct_invoices']).toBe('incremental');
    expect(m['marts.fct_write_offs']).toBe('incremental');
    expect(m['marts.dim_customer']).toBe('full');
    // An invoice before the first day: the calendar grows backwards in place.
    expect(m['marts.dim_date']).toBe('incremental');
  });

  it('orders through their lifecycle, and a payment dated after the as-of date', async () => {
    const { customer } = await seedBasics(t.core, { stock: 200 });
    const order = await createOrder(t.core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 40 }] }, actor);
    t.clock.advance(3_600_000);
    await submitOrder(t.core, order.id, actor);
    t.clock.advanceDays(1);
    const shipment = await createShipment(t.core, { orderId: order.id, carrier: 'DHL', trackingNumber: 'T1' }, actor);
    t.clock.advanceDays(2);
    await deliverShipment(t.core, shipment.id, { signedBy: 'J. Doe' }, actor); // invoices the order
    t.clock.advanceDays(5);
    await recordPayment(t.core, { customerId: customer.id, amount: '200.00', reference: 'INV-2026-000001' }, actor);
    await l.payment(ids.c2!, '2026-07-05', 5_000, [[ids.i5!, 5_000]]); // after the as-of date: not there yet
    const r = await runAndCompare('2026-06-30');
    const m = modes(r);
    expect(m['marts.fct_orders']).toBe('incremental');
    expect(m['marts.fct_order_lines']).toBe('incremental');
    expect(m['marts.fct_shipments']).toBe('incremental');
    expect(m['metrics.order_cycle_times']).toBe('incremental');

    // A second order the next run: only its month of cycle times moves.
    const second = await createOrder(t.core, { customerId: customer.id, lines: [{ sku: 'WIDGET', quantity: 10 }] }, actor);
    t.clock.advance(7_200_000);
    await submitOrder(t.core, second.id, actor);
    await runAndCompare('2026-06-30');
  });

  it('exchange rates loaded, then changed, with a late payment into an old month in the other currency', async () => {
    await loadRates(t.core, parseRatesCsv('Date,USD,\n2026-03-31,1.1000,\n', 'EUR'), 'rates-1.csv', 'test');
    await runAndCompare('2026-06-30');
    await loadRates(t.core, parseRatesCsv('Date,USD,\n2026-03-31,1.1200,\n2026-05-29,1.0900,\n', 'EUR'), 'rates-2.csv', 'test');
    const usd = await l.customer('C5', 'USD');
    const i8 = await l.invoice(usd, 'I8', '2026-04-03', '2026-05-03', 40_000, 'USD');
    await l.payment(usd, '2026-04-28', 40_000, [[i8, 40_000]], 'USD'); // settled in April, recorded now
    await l.payment(ids.c4!, '2026-05-10', 10_000, [[ids.i7!, 10_000]], 'USD'); // I7's May and June balances fall
    const m = modes(await runAndCompare('2026-06-30'));
    for (const model of ['metrics.ar_aging_totals', 'metrics.ar_invoiced_monthly', 'metrics.ar_settled_monthly', 'marts.dim_date']) {
      expect({ model, mode: m[model] }).toEqual({ model, mode: 'incremental' });
    }
  }, 600_000);

  it('a replay of another date rebuilds whole, and so does the return to the usual date; then runs are incremental again', async () => {
    const replay = await runAndCompare('2026-04-30');
    expect((replay.steps.find((s) => s.name === 'transform')!.detail as TransformResult).fullReason).toMatch(/as-of date 2026-06-30 → 2026-04-30/);
    await runAndCompare('2026-06-30');
    await l.payment(ids.c3!, '2026-06-25', 80_000, [[ids.i3!, 80_000]]);
    const again = await runAndCompare('2026-06-30');
    expect(modes(again)['metrics.ar_open_items']).toBe('incremental');
    // Nothing new: nothing is rebuilt, nothing is republished.
    const idle = await run(inc, '2026-06-30');
    expect(Object.values(modes(idle)).filter((m) => m !== 'view' && m !== 'unchanged')).toEqual([]);
    const published = idle.steps.find((s) => s.name === 'publish')!.detail as { tablesChanged: string[]; partsWritten: number };
    expect(published).toMatchObject({ tablesChanged: [], partsWritten: 0 });
  }, 600_000); // nine pipeline runs: minutes on a loaded machine
});
