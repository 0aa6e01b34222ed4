import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { readWarehouse, tempDir } from './ledger.ts';

/**
 * The real IBM accounts-receivable sample, loaded through `pipelines/mappings/ibm-ar.json`,
 * checked against the measures computed here in plain TypeScript straight from the CSV
 * (no SQL, no shared code): to the cent and to 0.01 day. Skipped when the data is absent.
 */
const repo = path.resolve(import.meta.dirname, '../..');
const dataDir = process.env.CASHLOOP_IBM_AR_DIR ?? path.resolve(repo, '../shared/data/ibm-ar');
const csvFile = path.join(dataDir, 'accounts-receivable-asof-2013-06-30.csv');

interface Inv {
  customer: string;
  number: string;
  issued: number;
  due: number;
  cents: number;
  settled: number | null;
  daysToSettle: number | null;
  daysLate: number | null;
}

const day = (mdy: string) => {
  const [m, d, y] = mdy.split('/').map(Number);
  return Date.UTC(y!, m! - 1, d!) / 86_400_000;
};
const iso = (n: number) => new Date(n * 86_400_000).toISOString().slice(0, 10);
const cents = (s: string) => {
  const [whole, frac = ''] = s.split('.');
  return Number(whole) * 100 + Number(frac.padEnd(2, '0').slice(0, 2));
};
const bucketOf = (dpd: number) => (dpd <= 0 ? 'current' : dpd <= 30 ? '1-30' : dpd <= 60 ? '31-60' : dpd <= 90 ? '61-90' : dpd <= 120 ? '91-120' : '120+');

describe.skipIf(!fs.existsSync(csvFile))('IBM accounts-receivable sample, checked by hand computation', () => {
  let dir: string;
  let invoices: Inv[];
  const asOf = day('6/30/2013');
  const q = (sql: string) => readWarehouse(warehousePaths(dir).snapshot, sql);

  // Month-ends from the first invoice's month to the as-of date, with each month's first day.
  const months: { start: number; end: number }[] = [];

  beforeAll(async () => {
    const rows = parse(fs.readFileSync(csvFile, 'utf8'), { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    invoices = rows.map((r) => ({
      customer: r.customerID!,
      number: r.invoiceNumber!,
      issued: day(r.InvoiceDate!),
      due: day(r.DueDate!),
      cents: cents(r.InvoiceAmount!),
      settled: r.SettledDate ? day(r.SettledDate) : null,
      daysToSettle: r.DaysToSettle ? Number(r.DaysToSettle) : null,
      daysLate: r.DaysLate ? Number(r.DaysLate) : null,
    }));
    const first = new Date(Math.min(...invoices.map((i) => i.issued)) * 86_400_000);
    for (let y = first.getUTCFullYear(), m = first.getUTCMonth(); ; m++) {
      const start = Date.UTC(y, m, 1) / 86_400_000;
      const end = Date.UTC(y, m + 1, 0) / 86_400_000;
      if (start > asOf) break;
      months.push({ start, end: Math.min(end, asOf) });
    }
    dir = tempDir();
    await runPipeline({ dataDir: dir, extract: dataDir, mapping: path.join(repo, 'pipelines/mappings/ibm-ar.json'), quiet: true });
  });
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const openAt = (m: number) => invoices.filter((i) => i.issued <= m && (i.settled === null || i.settled > m));

  it('loads every invoice with its amount to the cent and the file’s own days to settle and days late', async () => {
    const rows = await q(`select invoice_number, amount_cents, days_to_pay, days_late, cast(settled_date as varchar) s from marts.fct_invoices where source = 'ibm-ar'`);
    expect(rows.length).toBe(invoices.length);
    const byNumber = new Map(rows.map((r) => [r.invoice_number as string, r]));
    for (const i of invoices) {
      const r = byNumber.get(i.number)!;
      expect(Number(r.amount_cents)).toBe(i.cents);
      expect(r.days_to_pay).toBe(i.daysToSettle);
      expect(r.days_late).toBe(i.daysLate);
      expect(r.s).toBe(i.settled === null ? null : iso(i.settled));
    }
    expect(await q(`select count(*) n from marts.dim_customer where source = 'ibm-ar'`)).toEqual([{ n: String(new Set(invoices.map((i) => i.customer)).size) }]);
  });

  it('agrees with AR, DSO (standard, countback), best possible DSO, ADD, CEI and days to pay at every month-end', async () => {
    const ar = (m: number) => openAt(m).reduce((s, i) => s + i.cents, 0);
    const arCurrent = (m: number) => openAt(m).filter((i) => m - i.due <= 0).reduce((s, i) => s + i.cents, 0);
    const sales = months.map((p) => invoices.filter((i) => i.issued >= p.start && i.issued <= p.end).reduce((s, i) => s + i.cents, 0));
    const days = months.map((p) => p.end - p.start + 1);
    const rows = await q(`select cast(month_end as varchar) m, ar_total_cents, ar_current_cents, credit_sales_cents, dso_standard, dso_countback, bpdso, add_days, cei, avg_days_to_pay, weighted_days_to_pay, avg_days_late, weighted_days_late
      from metrics.ar_kpis_monthly where source = 'ibm-ar' order by month_end`);
    expect(rows.map((r) => r.m)).toEqual(months.map((p) => iso(p.end)));
    months.forEach((p, k) => {
      const r = rows[k]!;
      const A = ar(p.end);
      const C = arCurrent(p.end);
      expect(Number(r.ar_total_cents)).toBe(A);
      expect(Number(r.ar_current_cents)).toBe(C);
      expect(Number(r.credit_sales_cents)).toBe(sales[k]);
      const from = Math.max(0, k - 2);
      const s3 = sales.slice(from, k + 1).reduce((a, b) => a + b, 0);
      const d3 = days.slice(from, k + 1).reduce((a, b) => a + b, 0);
      expect(Math.abs((r.dso_standard as number) - (A / s3) * d3)).toBeLessThan(0.01);
      expect(Math.abs((r.bpdso as number) - (C / s3) * d3)).toBeLessThan(0.01);
      expect(Math.abs((r.add_days as number) - ((A / s3) * d3 - (C / s3) * d3))).toBeLessThan(0.01);
      let remaining = A;
      let countback = 0;
      for (let j = k; j >= 0; j--) {
        if (sales[j]! <= 0) break;
        if (remaining >= sales[j]!) {
          remaining -= sales[j]!;
          countback += days[j]!;
        } else {
          countback += (days[j]! * remaining) / sales[j]!;
          break;
        }
      }
      expect(Math.abs((r.dso_countback as number) - countback)).toBeLessThan(0.01);
      const prev = k === 0 ? 0 : ar(months[k - 1]!.end);
      const cei = (100 * (prev + sales[k]! - A)) / (prev + sales[k]! - C);
      expect(Math.abs((r.cei as number) - cei)).toBeLessThan(0.01);
      const settled = invoices.filter((i) => i.settled !== null && i.settled >= p.start && i.settled <= p.end);
      const mean = (f: (i: Inv) => number) => settled.reduce((s, i) => s + f(i), 0) / settled.length;
      const weighted = (f: (i: Inv) => number) => settled.reduce((s, i) => s + f(i) * i.cents, 0) / settled.reduce((s, i) => s + i.cents, 0);
      const toPay = (i: Inv) => i.settled! - i.issued;
      const late = (i: Inv) => Math.max(0, i.settled! - i.due);
      expect(Math.abs((r.avg_days_to_pay as number) - mean(toPay))).toBeLessThan(0.01);
      expect(Math.abs((r.weighted_days_to_pay as number) - weighted(toPay))).toBeLessThan(0.01);
      expect(Math.abs((r.avg_days_late as number) - mean(late))).toBeLessThan(0.01);
      expect(Math.abs((r.weighted_days_late as number) - weighted(late))).toBeLessThan(0.01);
    });
  });

  it('agrees with the aging per customer and bucket at every month-end, to the cent', async () => {
    const expected = new Map<string, { cents: number; n: number }>();
    for (const p of months) {
      for (const i of openAt(p.end)) {
        const key = `${iso(p.end)}|ibm-ar:${i.customer}|${bucketOf(p.end - i.due)}`;
        const e = expected.get(key) ?? { cents: 0, n: 0 };
        e.cents += i.cents;
        e.n += 1;
        expected.set(key, e);
      }
    }
    const rows = await q(`select cast(as_of as varchar) d, customer_id, bucket, amount_cents, invoice_count from metrics.ar_aging where source = 'ibm-ar'`);
    const actual = new Map(rows.map((r) => [`${r.d}|${r.customer_id}|${r.bucket}`, { cents: Number(r.amount_cents), n: Number(r.invoice_count) }]));
    expect(actual).toEqual(expected);
  });

  it('agrees with each customer’s payment behaviour', async () => {
    const rows = await q(`select customer_id, invoices_paid, mean_days_to_pay, median_days_to_pay, p90_days_to_pay, share_paid_late, open_cents from metrics.customer_payment_behaviour where source = 'ibm-ar'`);
    const quantile = (xs: number[], p: number) => {
      const s = [...xs].sort((a, b) => a - b);
      const h = (s.length - 1) * p;
      return s[Math.floor(h)]! + (h - Math.floor(h)) * (s[Math.ceil(h)]! - s[Math.floor(h)]!);
    };
    expect(rows.length).toBe(new Set(invoices.map((i) => i.customer)).size);
    for (const r of rows) {
      const mine = invoices.filter((i) => `ibm-ar:${i.customer}` === r.customer_id);
      const paid = mine.filter((i) => i.settled !== null).map((i) => i.settled! - i.issued);
      expect(Number(r.invoices_paid)).toBe(paid.length);
      expect(Number(r.open_cents)).toBe(mine.filter((i) => i.settled === null).reduce((s, i) => s + i.cents, 0));
      if (paid.length === 0) continue;
      expect(Math.abs((r.mean_days_to_pay as number) - paid.reduce((a, b) => a + b, 0) / paid.length)).toBeLessThan(0.01);
      expect(Math.abs((r.median_days_to_pay as number) - quantile(paid, 0.5))).toBeLessThan(0.01);
      expect(Math.abs((r.p90_days_to_pay as number) - quantile(paid, 0.9))).toBeLessThan(0.01);
      const late = mine.filter((i) => i.settled !== null && i.settled > i.due).length;
      expect(Math.abs((r.share_paid_late as number) - late / paid.length)).toBeLessThan(1e-9);
    }
  });

  it('a replay of an earlier date treats later settlements as not yet paid', async () => {
    const replay = tempDir();
    try {
      await runPipeline({ dataDir: replay, extract: dataDir, mapping: path.join(repo, 'pipelines/mappings/ibm-ar.json'), asOf: '2012-12-31', quiet: true });
      const m = day('12/31/2012');
      const rows = await readWarehouse(warehousePaths(replay).warehouse, `select sum(open_cents) s, count(*) n from marts.fct_invoices where open_cents > 0`);
      const open = openAt(m);
      expect(rows).toEqual([{ s: String(open.reduce((s, i) => s + i.cents, 0)), n: String(open.length) }]);
    } finally {
      fs.rmSync(replay, { recursive: true, force: true });
    }
  });
});
