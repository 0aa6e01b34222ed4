import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { loadRates, parseRatesCsv } from '../../src/rates/rates.service.ts';
import { Ledger, readWarehouse, tempDir } from './ledger.ts';

/**
 * Converted receivables measures, hand-computed: a company selling in EUR and USD, reporting
 * in EUR, with rates (USD per EUR) that move a lot between month-ends so that a rate taken on
 * the wrong date shows.
 *
 *   E1  EUR  2026-01-10 due 02-09  1000.00 EUR   paid 02-20
 *   U1  USD  2026-01-15 due 02-14   500.00 USD   paid 03-10
 *   U2  USD  2026-02-10 due 03-12  1000.00 USD   open
 *   U3  USD  2026-03-05 due 04-04  2000.00 USD   open
 *   E2  EUR  2026-03-20 due 04-19   600.00 EUR   open
 *
 *   rates: 2026-01-30 USD 1.25 (a USD is 0.80 EUR), 2026-02-27 USD 2 (0.50), 2026-03-31 USD 2.5 (0.40);
 *   31 Jan and 28 Feb 2026 are Saturdays: they take the Friday's rate.
 *
 *             EUR: AR   current  sales  prev AR     USD: AR   current  sales  prev AR
 *   01-31         1000    1000    1000      0             500     500     500      0
 *   02-28            0       0       0   1000            1500    1000    1000    500
 *   03-31          600     600     600      0            3000    2000    2000   1500
 *
 * Converted, every input of M at M's rate (EUR):
 *   01-31  AR 1000 + 400 = 1400, current 1400, sales 1400, prev 0
 *          countback: Jan's 1400 fits → 31 days; CEI: 0 / 0 → none
 *   02-28  AR 750, current 500, sales 500, prev 1000 + 500 × 0.50 = 1250 (not Jan's 1400)
 *          countback: Feb's 500 fits (28 days, 250 left); Jan's sales at Feb's rate are
 *          1000 + 250 = 1250 → 31 × 250 / 1250 = 6.2 → 34.2 days
 *          CEI: (1250 + 500 − 750) / (1250 + 500 − 500) = 80 %
 *          DSO standard: 750 / (1000 + 1500 × 0.50) × 59 = 25.2857…; best possible 500 / 1750 × 59
 *   03-31  AR 600 + 1200 = 1800, current 600 + 800 = 1400, sales 600 + 800 = 1400, prev 1500 × 0.40 = 600
 *          countback: Mar's 1400 fits (31 days, 400 left); Feb's at Mar's rate 400 fits (28) → 59 days
 *          CEI: (600 + 1400 − 1800) / (600 + 1400 − 1400) = 33.33… %
 *          DSO standard: 1800 / (1600 + 3500 × 0.40) × 90 = 54; best possible 1400 / 3000 × 90 = 42; ADD 12
 */
describe(`converted receivables measures, hand-computed (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  let file: string;
  const q = (sql: string) => readWarehouse(file, sql);

  beforeAll(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    const l = new Ledger(t.core);
    const eur = await l.customer('Euro buyer');
    const usd = await l.customer('Dollar buyer', 'USD');
    const e1 = await l.invoice(eur, 'E1', '2026-01-10', '2026-02-09', 100_000);
    const u1 = await l.invoice(usd, 'U1', '2026-01-15', '2026-02-14', 50_000, 'USD');
    await l.invoice(usd, 'U2', '2026-02-10', '2026-03-12', 100_000, 'USD');
    await l.payment(eur, '2026-02-20', 100_000, [[e1, 100_000]]);
    await l.invoice(usd, 'U3', '2026-03-05', '2026-04-04', 200_000, 'USD');
    await l.payment(usd, '2026-03-10', 50_000, [[u1, 50_000]], 'USD');
    await l.invoice(eur, 'E2', '2026-03-20', '2026-04-19', 60_000);
    await loadRates(t.core, parseRatesCsv('Date,USD\n2026-01-30,1.25\n2026-02-27,2\n2026-03-31,2.5\n', 'EUR', 'rates.csv'), 'rates.csv', 'test');
    dir = tempDir();
    file = warehousePaths(dir).warehouse;
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: '2026-03-31', steps: ['ingest', 'transform'], quiet: true });
  });
  afterAll(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has the per-currency figures the example starts from', async () => {
    const rows = await q(`select cast(month_end as varchar) as m, currency, ar_total_cents as ar, ar_current_cents as cur, credit_sales_cents as sales, ar_previous_cents as prev
                          from metrics.ar_kpis_monthly order by currency, month_end`);
    expect(rows.map((r) => [r.m, r.currency, r.ar, r.cur, r.sales, r.prev])).toEqual([
      ['2026-01-31', 'EUR', '100000', '100000', '100000', '0'],
      ['2026-02-28', 'EUR', '0', '0', '0', '100000'],
      ['2026-03-31', 'EUR', '60000', '60000', '60000', '0'],
      ['2026-01-31', 'USD', '50000', '50000', '50000', '0'],
      ['2026-02-28', 'USD', '150000', '100000', '100000', '50000'],
      ['2026-03-31', 'USD', '300000', '200000', '200000', '150000'],
    ]);
  });

  it('converts every input of a month-end at that month-end’s rate: amounts, countback DSO, CEI, DSO standard, best possible DSO and ADD', async () => {
    const rows = await q(`select cast(month_end as varchar) as m, rates_used, ar_total_cents as ar, ar_current_cents as cur, credit_sales_cents as sales, ar_previous_cents as prev,
                                 dso_countback, cei, dso_standard, bpdso, add_days
                          from metrics.ar_kpis_converted order by month_end`);
    expect(rows.map((r) => [r.m, r.rates_used, r.ar, r.cur, r.sales, r.prev])).toEqual([
      ['2026-01-31', 'EUR at par, USD 1.25 (2026-01-30)', '140000', '140000', '140000', '0'],
      ['2026-02-28', 'EUR at par, USD 2 (2026-02-27)', '75000', '50000', '50000', '125000'],
      ['2026-03-31', 'EUR at par, USD 2.5 (2026-03-31)', '180000', '140000', '140000', '60000'],
    ]);
    const [jan, feb, mar] = rows as Record<string, number | null>[];
    expect(jan!.dso_countback).toBeCloseTo(31, 9);
    expect(jan!.cei).toBeNull();
    expect(feb!.dso_countback).toBeCloseTo(28 + (31 * 250) / 1250, 9);
    expect(feb!.cei).toBeCloseTo(80, 9);
    expect(feb!.dso_standard).toBeCloseTo((750 / 1750) * 59, 9);
    expect(feb!.bpdso).toBeCloseTo((500 / 1750) * 59, 9);
    expect(feb!.add_days).toBeCloseTo((250 / 1750) * 59, 9);
    expect(mar!.dso_countback).toBeCloseTo(31 + 28, 9);
    expect(mar!.cei).toBeCloseTo((100 * 200) / 600, 9);
    expect([mar!.dso_standard, mar!.bpdso, mar!.add_days].map((v) => Number(v!.toFixed(9)))).toEqual([54, 42, 12]);
  });
});
