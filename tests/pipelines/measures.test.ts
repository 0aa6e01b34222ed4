import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { Ledger, readWarehouse, tempDir } from './ledger.ts';

/**
 * Hand-computed receivables measures on a small history written through the core's event
 * feed (EUR, amounts in cents):
 *
 *   INV1  C1  2026-01-10 due 02-09  1000.00   paid 400.00 on 01-25, 600.00 on 03-20 (partial payments)
 *   INV2  C2  2026-01-20 due 02-19   500.00   never paid
 *   February: no invoices (a zero-sales month)
 *   INV3  C1  2026-03-05 due 04-04  2000.00   credit note 200.00 on 03-31
 *   INV4  C2  2026-03-25 due 04-24   300.00
 *
 * Month-ends:        AR      current   credit sales
 *   2026-01-31     1100.00   1100.00     1500.00
 *   2026-02-28     1100.00      0.00        0.00      (INV1 19 and INV2 9 days past due)
 *   2026-03-31     2600.00   2100.00     2100.00      (INV2 40 days past due; 2000 + 300 − 200)
 */
describe(`receivables measures, hand-computed (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  let file: string;
  const q = (sql: string) => readWarehouse(file, sql);

  beforeAll(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    const l = new Ledger(t.core);
    const c1 = await l.customer('C1');
    const c2 = await l.customer('C2');
    const inv1 = await l.invoice(c1, 'INV1', '2026-01-10', '2026-02-09', 100_000);
    await l.invoice(c2, 'INV2', '2026-01-20', '2026-02-19', 50_000);
    await l.payment(c1, '2026-01-25', 40_000, [[inv1, 40_000]]);
    const inv3 = await l.invoice(c1, 'INV3', '2026-03-05', '2026-04-04', 200_000);
    await l.payment(c1, '2026-03-20', 60_000, [[inv1, 60_000]]);
    await l.invoice(c2, 'INV4', '2026-03-25', '2026-04-24', 30_000);
    await l.creditNote(inv3, c1, '2026-03-31', 20_000);
    dir = tempDir();
    file = warehousePaths(dir).warehouse;
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: '2026-03-31', quiet: true });
  });
  afterAll(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('invoices: partial payments, credit notes, open balance, settled date, days to pay and late', async () => {
    const rows = await q(
      `select invoice_number, amount_cents, credited_cents, paid_cents, open_cents, cast(settled_date as varchar) as settled, days_to_pay, days_late
       from marts.fct_invoices order by invoice_number`,
    );
    expect(rows).toEqual([
      { invoice_number: 'INV1', amount_cents: '100000', credited_cents: '0', paid_cents: '100000', open_cents: '0', settled: '2026-03-20', days_to_pay: 69, days_late: 39 },
      { invoice_number: 'INV2', amount_cents: '50000', credited_cents: '0', paid_cents: '0', open_cents: '50000', settled: null, days_to_pay: null, days_late: null },
      { invoice_number: 'INV3', amount_cents: '200000', credited_cents: '20000', paid_cents: '0', open_cents: '180000', settled: null, days_to_pay: null, days_late: null },
      { invoice_number: 'INV4', amount_cents: '30000', credited_cents: '0', paid_cents: '0', open_cents: '30000', settled: null, days_to_pay: null, days_late: null },
    ]);
  });

  it('AR, DSO standard and countback (stopping at the zero-sales month), best possible DSO, ADD and CEI', async () => {
    const rows = await q(
      `select cast(month_end as varchar) as m, ar_total_cents as ar, ar_current_cents as cur, credit_sales_cents as sales,
              dso_standard, dso_countback, bpdso, add_days, cei, avg_days_to_pay, weighted_days_late
       from metrics.ar_kpis_monthly order by month_end`,
    );
    expect(rows.map((r) => [r.m, r.ar, r.cur, r.sales])).toEqual([
      ['2026-01-31', '110000', '110000', '150000'],
      ['2026-02-28', '110000', '0', '0'],
      ['2026-03-31', '260000', '210000', '210000'],
    ]);
    // Currency units are exact decimals, not floats.
    expect(await q(`select ar_total, ar_current, ar_overdue, credit_sales, typeof(ar_total) t from metrics.ar_kpis_monthly where month_end = '2026-03-31'`)).toEqual([
      { ar_total: '2600.000', ar_current: '2100.000', ar_overdue: '500.000', credit_sales: '2100.000', t: 'DECIMAL(18,3)' },
    ]);
    const [jan, feb, mar] = rows as Record<string, number>[];
    // January: one month of history. 1100 / 1500 × 31.
    expect(jan!.dso_standard).toBeCloseTo((1100 / 1500) * 31, 9);
    // Countback: 1100 < 1500, so 31 × 1100 / 1500.
    expect(jan!.dso_countback).toBeCloseTo((31 * 1100) / 1500, 9);
    expect(jan!.cei).toBeCloseTo(100, 9); // (0 + 1500 − 1100) / (0 + 1500 − 1100)
    // February: 1100 / (1500 + 0) × (31 + 28); countback stops at once, February has no sales.
    expect(feb!.dso_standard).toBeCloseTo((1100 / 1500) * 59, 9);
    expect(feb!.dso_countback).toBe(0);
    expect(feb!.bpdso).toBe(0);
    expect(feb!.add_days).toBeCloseTo((1100 / 1500) * 59, 9);
    expect(feb!.cei).toBeCloseTo(0, 9); // (1100 + 0 − 1100) / (1100 + 0 − 0)
    // March: 2600 / 3600 × 90 = 65; countback takes March whole (2600 ≥ 2100: 31 days, 500
    // left) and stops at February's zero sales instead of going on into January.
    expect(mar!.dso_standard).toBeCloseTo(65, 9);
    expect(mar!.dso_countback).toBeCloseTo(31, 9);
    expect(mar!.bpdso).toBeCloseTo((2100 / 3600) * 90, 9); // 52.5
    expect(mar!.add_days).toBeCloseTo(12.5, 9);
    expect(mar!.cei).toBeCloseTo((100 * (1100 + 2100 - 2600)) / (1100 + 2100 - 2100), 9); // 54.54…
    // INV1 settled in March by its last payment: 69 days to pay, 39 late.
    expect(mar!.avg_days_to_pay).toBeCloseTo(69, 9);
    expect(mar!.weighted_days_late).toBeCloseTo(39, 9);
    expect(jan!.avg_days_to_pay).toBeNull();
  });

  it('aging buckets per customer add up to the open total at every as-of date', async () => {
    const aging = await q(`select cast(as_of as varchar) as d, c.customer_name as c, bucket, amount_cents, invoice_count
      from metrics.ar_aging a join marts.dim_customer c on c.customer_key = a.customer_id order by d, c, bucket_order`);
    expect(aging).toEqual([
      { d: '2026-01-31', c: 'C1', bucket: 'current', amount_cents: '60000', invoice_count: '1' },
      { d: '2026-01-31', c: 'C2', bucket: 'current', amount_cents: '50000', invoice_count: '1' },
      { d: '2026-02-28', c: 'C1', bucket: '1-30', amount_cents: '60000', invoice_count: '1' },
      { d: '2026-02-28', c: 'C2', bucket: '1-30', amount_cents: '50000', invoice_count: '1' },
      { d: '2026-03-31', c: 'C1', bucket: 'current', amount_cents: '180000', invoice_count: '1' },
      { d: '2026-03-31', c: 'C2', bucket: 'current', amount_cents: '30000', invoice_count: '1' },
      { d: '2026-03-31', c: 'C2', bucket: '31-60', amount_cents: '50000', invoice_count: '1' },
    ]);
    const mismatches = await q(`select k.month_end from metrics.ar_kpis_monthly k
      left join (select as_of, sum(amount_cents) s from metrics.ar_aging group by as_of) a on a.as_of = k.month_end
      where coalesce(a.s, 0) <> k.ar_total_cents`);
    expect(mismatches).toEqual([]);
  });

  it('customer payment behaviour', async () => {
    const rows = await q(`select c.customer_name as c, invoices_issued, invoices_paid, mean_days_to_pay, median_days_to_pay, share_paid_late, open_cents, overdue_cents
      from metrics.customer_payment_behaviour b join marts.dim_customer c on c.customer_key = b.customer_id order by c`);
    expect(rows).toEqual([
      { c: 'C1', invoices_issued: '2', invoices_paid: '1', mean_days_to_pay: 69, median_days_to_pay: 69, share_paid_late: 1, open_cents: '180000', overdue_cents: '0' },
      { c: 'C2', invoices_issued: '2', invoices_paid: '0', mean_days_to_pay: null, median_days_to_pay: null, share_paid_late: null, open_cents: '80000', overdue_cents: '50000' },
    ]);
  });

  it('replays an earlier date: later payments, invoices and credit notes do not exist yet', async () => {
    const replay = tempDir();
    try {
      await runPipeline({ dataDir: replay, coreUrl: t.url, asOf: '2026-03-15', quiet: true });
      const f = warehousePaths(replay).warehouse;
      const inv = await readWarehouse(f, `select invoice_number, paid_cents, open_cents, settled_date from marts.fct_invoices order by 1`);
      expect(inv).toEqual([
        { invoice_number: 'INV1', paid_cents: '40000', open_cents: '60000', settled_date: null },
        { invoice_number: 'INV2', paid_cents: '0', open_cents: '50000', settled_date: null },
        { invoice_number: 'INV3', paid_cents: '0', open_cents: '200000', settled_date: null },
      ]);
      // The as-of row of an unfinished month: March 1–15, 15 days.
      const k = await readWarehouse(f, `select cast(month_end as varchar) m, is_month_end, ar_total_cents, ar_current_cents, credit_sales_cents, days_3m, dso_standard, dso_countback
        from metrics.ar_kpis_monthly order by month_end desc limit 1`);
      expect(k[0]).toMatchObject({ m: '2026-03-15', is_month_end: false, ar_total_cents: '310000', ar_current_cents: '200000', credit_sales_cents: '200000', days_3m: 74 });
      expect(k[0]!.dso_standard as number).toBeCloseTo((3100 / 3500) * 74, 9);
      expect(k[0]!.dso_countback as number).toBeCloseTo(15, 9); // 3100 ≥ 2000: 15 days, then February stops the walk
      const aging = await readWarehouse(f, `select bucket, sum(amount_cents) s from metrics.ar_aging where as_of = '2026-03-15' group by bucket order by bucket`);
      expect(aging).toEqual([
        { bucket: '1-30', s: '50000' }, // INV2, 24 days
        { bucket: '31-60', s: '60000' }, // INV1's rest, 34 days
        { bucket: 'current', s: '200000' },
      ]);
    } finally {
      fs.rmSync(replay, { recursive: true, force: true });
    }
  });

  it('documents every mart and metric table and column with a DuckDB comment', async () => {
    const missing = await q(`select schema_name || '.' || table_name || '.' || column_name as c from duckdb_columns()
      where schema_name in ('marts', 'metrics') and (comment is null or comment = '')`);
    expect(missing).toEqual([]);
    const tables = await q(`select table_name from duckdb_tables() where schema_name in ('marts', 'metrics') and (comment is null or comment = '')`);
    expect(tables).toEqual([]);
  });

  it('publishes every mart and metric as a Hive-partitioned Parquet dataset that reads back as the tables', async () => {
    const parquet = path.join(dir, 'published', 'parquet');
    for (const name of ['dim_customer', 'dim_product', 'dim_date', 'fct_orders', 'fct_order_lines', 'fct_shipments', 'fct_invoices', 'fct_payments', 'fct_payment_allocations', 'fct_credit_notes']) {
      expect(fs.readdirSync(path.join(parquet, `marts.${name}`)).length).toBeGreaterThan(0);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(parquet, '_manifest.json'), 'utf8')) as { tables: Record<string, { column: string | null }> };
    const column = manifest.tables['marts.fct_invoices']!.column!;
    const key = `${column}_month`;
    expect(fs.readdirSync(path.join(parquet, 'marts.fct_invoices')).sort()).toEqual([`${key}=2026-01`, `${key}=2026-03`]);
    expect(fs.readdirSync(path.join(parquet, 'marts.fct_invoices', `${key}=2026-01`))).toEqual(['data.parquet']);
    expect(fs.readdirSync(path.join(parquet, 'metrics.ar_kpis_monthly'))).toEqual(['all.parquet']);
    // The files of a table read back as the table, as any engine reading the folder with Hive partitioning would.
    for (const table of ['marts.fct_invoices', 'metrics.ar_aging', 'metrics.ar_kpis_monthly', 'marts.fct_orders']) {
      const folders = fs.readdirSync(path.join(parquet, table)).filter((f) => f.includes('='));
      const exclude = folders.length === 0 ? '' : ` exclude (${folders[0]!.split('=')[0]})`;
      const fromParquet = await q(`select *${exclude} from read_parquet('${path.join(parquet, table)}/**/*.parquet', hive_partitioning = true) order by all`);
      expect(fromParquet).toEqual(await q(`select * from ${table} order by all`));
    }
    // The partition key is a column of the dataset: totals by it equal the table's by month.
    const byKey = await q(
      `select ${key} as m, count(*) as n, sum(amount_cents) as total from read_parquet('${path.join(parquet, 'marts.fct_invoices')}/**/*.parquet', hive_partitioning = true) group by all order by m`,
    );
    expect(byKey).toEqual(await q(`select strftime(${column}, '%Y-%m') as m, count(*) as n, sum(amount_cents) as total from marts.fct_invoices group by all order by m`));
  });
});
