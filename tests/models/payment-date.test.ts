import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/run.ts';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';
import { issueTimeFeatures, openItemFeatures, type FeatureRow } from '../../models/payment-date/features.ts';
import { fitPaymentDate, predictPaymentDate } from '../../models/payment-date/model.ts';
import { walkForward } from '../../models/payment-date/evaluate.ts';
import { cashWeekly } from '../../models/cash-in/cash-weekly.ts';
import { addDays } from '../../src/shared/dates.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** Loads invoices (canonical extract CSV) through the real pipeline and returns issue-time features. */
async function featuresOf(invoices: [string, string, string, string, string | null][], openOn?: string): Promise<FeatureRow[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-models-'));
  dirs.push(dir);
  const extract = path.join(dir, 'extract');
  fs.mkdirSync(extract);
  const lines = invoices.map(([id, customer, date, due, settled]) => `${id},${customer},${date},${due},100.00,EUR,no,${settled ?? ''}`);
  fs.writeFileSync(path.join(extract, 'invoices.csv'), `invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed,settled_date\n${lines.join('\n')}\n`);
  const saved = process.env.DATABASE_URL;
  delete process.env.DATABASE_URL;
  try {
    await runPipeline({ dataDir: dir, extract, quiet: true, steps: ['ingest', 'transform'], ...(openOn ? { asOf: openOn } : {}) });
  } finally {
    if (saved !== undefined) process.env.DATABASE_URL = saved;
  }
  const wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'), { readOnly: true });
  try {
    return openOn ? await openItemFeatures(wh.conn, openOn) : await issueTimeFeatures(wh.conn);
  } finally {
    wh.close();
  }
}

describe('payment-date features', () => {
  it('never see the future: only invoices settled before the prediction date count', async () => {
    const base: [string, string, string, string, string | null][] = [
      ['I1', 'K1', '2025-01-05', '2025-02-04', '2025-02-10'],
      ['I2', 'K1', '2025-02-01', '2025-03-03', '2025-03-20'],
      ['I3', 'K1', '2025-03-01', '2025-03-31', '2025-04-15'],
    ];
    const a = (await featuresOf(base)).find((r) => r.invoice_key.endsWith('I3'))!;
    expect(a.hist_n).toBe(1); // I1 settled 2025-02-10, before 2025-03-01; I2 only on 2025-03-20
    expect(a.hist_mean).toBe(36); // 2025-02-10 − 2025-01-05
    expect(a.overdue_cents).toBe(0); // I2 is due 2025-03-03, after the prediction date
    // A later settlement of I2, anything after I3's issue date, changes nothing for I3.
    const later = base.map((r) => (r[0] === 'I2' ? ([...r.slice(0, 4), '2025-09-30'] as typeof r) : r));
    const b = (await featuresOf(later)).find((r) => r.invoice_key.endsWith('I3'))!;
    const { settled_date: _s1, days_to_pay: _d1, ...fa } = a;
    const { settled_date: _s2, days_to_pay: _d2, ...fb } = b;
    expect(fb).toEqual(fa);
  }, 30_000);

  it('as of a date: an overdue open invoice counts in its customer\'s overdue balance, not in its own', async () => {
    const rows = await featuresOf([
      ['I1', 'K1', '2025-01-02', '2025-02-01', null],
      ['I2', 'K1', '2025-01-16', '2025-02-15', null],
      ['I3', 'K1', '2025-03-20', '2025-04-19', null],
      ['I4', 'K1', '2024-12-01', '2024-12-31', '2025-01-20'],
    ], '2025-03-31');
    const by = Object.fromEntries(rows.map((r) => [r.invoice_key.split(':')[1], r]));
    expect(Object.keys(by).sort()).toEqual(['I1', 'I2', 'I3']);
    // On 31 March I1 and I2 are overdue (100.00 each), I3 is not due yet.
    expect(by.I1!.overdue_cents).toBe(10_000);
    expect(by.I2!.overdue_cents).toBe(10_000);
    expect(by.I3!.overdue_cents).toBe(20_000);
    // The one settled invoice, 50 days to pay, 20 days late, is each one's history.
    expect(by.I1).toMatchObject({ hist_n: 1, hist_mean: 50, hist_ew_mean: 50, hist_sd: null, hist_share_late: 1, hist_mean_late: 20, hist_mean_amount: 10_000 });
  }, 30_000);

  it('walk forward: baselines as computed by hand, and the model learns each customer', async () => {
    // Customer A always pays 10 days after the invoice, B 40 days; terms 30 days; four invoices each a month.
    const rows: [string, string, string, string, string | null][] = [];
    let n = 0;
    for (let month = 1; month <= 10; month++) {
      for (const day of [3, 10, 17, 24]) {
        const date = `2025-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
        rows.push([`A${n}`, 'A', date, addDays(date, 30), addDays(date, 10)]);
        rows.push([`B${n}`, 'B', date, addDays(date, 30), addDays(date, 40)]);
        n++;
      }
    }
    const ev = walkForward(await featuresOf(rows));
    const get = (metric: string, baseline: string) => ev.metrics.find((m) => m.metric === metric && m.baseline === baseline)!;
    // Paid on the due date: |30 − 10| and |30 − 40| → 15 days; never late → right for A only.
    expect(get('mae_days', 'due_date').baselineValue).toBeCloseTo(15, 6);
    expect(get('late_accuracy', 'due_date').baselineValue).toBeCloseTo(0.5, 6);
    // The customer's own mean so far is exact for both.
    expect(get('mae_days', 'customer_mean').baselineValue).toBeCloseTo(0, 6);
    expect(get('late_accuracy', 'customer_mean').baselineValue).toBeCloseTo(1, 6);
    // The global mean of what had settled: half A, half B → 25 → 15 days off for everyone.
    expect(get('mae_days', 'global_mean').baselineValue).toBeCloseTo(15, 0);
    expect(get('mae_days', 'due_date').value).toBeLessThan(1);
    expect(get('late_accuracy', 'due_date').value).toBe(1);
  }, 30_000);
});

/** A small deterministic PRNG and normal draws, so the synthetic test is the same every run. */
function normalDraws(seed: number) {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 2 ** 32;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

describe('payment-date intervals', () => {
  it('cover about 80 % of outcomes drawn from known distributions', () => {
    const z = normalDraws(7);
    const make = (count: number): FeatureRow[] => {
      const out: FeatureRow[] = [];
      for (let c = 0; c < 40; c++) {
        const mu = 10 + c;
        const past = Array.from({ length: 8 }, () => mu + 5 * z());
        const m = past.reduce((a, b) => a + b, 0) / past.length;
        for (let i = 0; i < count; i++) {
          const days = Math.max(0, Math.round(mu + 5 * z()));
          out.push({ invoice_key: `${c}-${i}`, customer_key: String(c), invoice_date: '2025-01-01', due_date: '2025-01-31', pred_date: '2025-01-01', terms_days: 30, amount_cents: 10_000, open_cents: 0, settled_date: '2025-03-01', days_to_pay: days,
            hist_n: 8, hist_mean: m, hist_ew_mean: m, hist_sd: 5, hist_share_late: mu > 30 ? 1 : 0, hist_mean_late: Math.max(0, mu - 30), hist_mean_amount: 10_000, overdue_cents: 0, currency: 'EUR', is_disputed: false, is_electronic: false, month: 1 });
        }
      }
      return out;
    };
    const model = fitPaymentDate(make(40));
    const test = make(30);
    const covered = test.filter((r) => { const p = predictPaymentDate(model, r); return r.days_to_pay! >= p.p10 && r.days_to_pay! <= p.p90; }).length / test.length;
    expect(covered).toBeGreaterThan(0.75);
    expect(covered).toBeLessThan(0.85);
    // Conditioned on still being open at day 45, every outcome is later than that.
    const p = predictPaymentDate(model, test[0]!, 45);
    expect(p.p10).toBeGreaterThan(45);
  });
});

describe('cash-in weeks', () => {
  it('spreads an open amount over the weeks of its possible payment dates', () => {
    // As of Sunday 2025-06-01: weeks start Monday 2025-06-02; two outcomes in each of the first two weeks.
    const weeks = cashWeekly('2025-06-01', [{ openCents: 10_000, outcomes: ['2025-06-03', '2025-06-05', '2025-06-10', '2025-06-12'] }], 3);
    expect(weeks.map((w) => w.weekStart)).toEqual(['2025-06-02', '2025-06-09', '2025-06-16']);
    expect(weeks.map((w) => w.expectedCents)).toEqual([5_000, 5_000, 0]);
    // p = 0.5: sd = 100.00 × 0.5 = 50.00; 80 % interval ± 1.2816 sd
    expect(weeks[0]).toMatchObject({ lowCents: 0, highCents: 11_408 });
  });
});
