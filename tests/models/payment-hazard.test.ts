import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { applyIsotonic, chooseBlend, detectHabit, fitHazard, isotonic, predictHazard, standingOut, towardOwn, type BlendCase } from '../../models/payment-date/hazard.ts';
import { replayPaymentDates } from '../../models/payment-date/replay.ts';
import { PAID_INVOICES, type FeatureRow } from '../../models/payment-date/features.ts';
import { addDays, daysBetween } from '../../src/shared/dates.ts';

const row = (customer: string, invoiceDate: string, paidAfter: number | null, terms = 30): FeatureRow => ({
  invoice_key: `x:${customer}:${invoiceDate}:${Math.random()}`, customer_key: customer, invoice_date: invoiceDate, due_date: addDays(invoiceDate, terms), pred_date: invoiceDate,
  terms_days: terms, amount_cents: 10_000, open_cents: paidAfter === null ? 10_000 : 0, settled_date: paidAfter === null ? null : addDays(invoiceDate, paidAfter),
  days_to_pay: paidAfter, hist_n: 0, hist_mean: null, hist_ew_mean: null, hist_sd: null, hist_share_late: null, hist_mean_late: null, hist_mean_amount: null,
  overdue_cents: 0, currency: 'EUR', is_disputed: false, is_electronic: false, month: Number(invoiceDate.slice(5, 7)),
});

describe('payment timing as time to event', () => {
  it('learns from open invoices as censored: half never paid makes paying late even odds, not certain on time', () => {
    const rows: FeatureRow[] = [];
    for (let i = 0; i < 60; i++) {
      const d = addDays('2025-01-06', i * 3);
      rows.push(row('core:1', d, i % 2 === 0 ? 20 : null));
    }
    const asOf = '2025-12-31';
    const model = fitHazard(rows, asOf);
    const p = predictHazard(model, { customer_key: 'core:1', invoice_date: '2025-12-30', terms_days: 30 }, asOf);
    // Paid ones pay on day 20 (before the due date); the other half never pays within the horizon.
    expect(p.probLate).toBeGreaterThan(0.4);
    expect(p.probLate).toBeLessThan(0.6);
    expect(p.days).toBeGreaterThanOrEqual(14);
    expect(p.days).toBeLessThanOrEqual(27);
    // Learning from the paid ones only (everything open dropped) would call the same invoice nearly certain to be on time.
    const paidOnly = fitHazard(rows.filter((r) => r.settled_date !== null), asOf);
    expect(predictHazard(paidOnly, { customer_key: 'core:1', invoice_date: '2025-12-30', terms_days: 30 }, asOf).probLate).toBeLessThan(0.1);
  });

  it('detects a payment run on a fixed weekday and puts the predicted date on it', () => {
    expect(detectHabit([0, 0, 0, 8, 0, 0, 0], new Array(31).fill(0.25), 8)).toMatchObject({ kind: 'weekday', day: 3 });
    expect(detectHabit([1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0], 7)).toMatchObject({ kind: 'day_of_month', day: 15 });
    expect(detectHabit([2, 1, 1, 1, 1, 0, 0], new Array(31).fill(0.2), 6)).toMatchObject({ kind: 'none' });
    expect(detectHabit([0, 0, 0, 5, 0, 0, 0], new Array(31).fill(0), 5).kind).toBe('none'); // too few payments to tell
    // A customer who always pays on the Thursday after about three weeks.
    const rows: FeatureRow[] = [];
    for (let i = 0; i < 40; i++) {
      const d = addDays('2025-01-01', i * 5);
      let pay = 21;
      while (new Date(`${addDays(d, pay)}T00:00:00Z`).getUTCDay() !== 4) pay++;
      rows.push(row('core:7', d, pay));
    }
    const model = fitHazard(rows, '2025-09-30');
    expect(model.habits.get('core:7')).toMatchObject({ kind: 'weekday', day: 3 });
    const p = predictHazard(model, { customer_key: 'core:7', invoice_date: '2025-09-29', terms_days: 30 }, '2025-09-30');
    expect(new Date(`${addDays('2025-09-29', p.days)}T00:00:00Z`).getUTCDay()).toBe(4);
  });

  it("follows a customer's own season: late for invoices due at the turn of the year, as it was a year earlier", () => {
    // Pays on the due date, except 40 days late for invoices due in December or January.
    const rows: FeatureRow[] = [];
    for (let i = 0; i < 170; i++) {
      const d = addDays('2024-01-02', i * 4);
      const month = addDays(d, 30).slice(5, 7);
      rows.push(row('core:9', d, 30 + (month === '12' || month === '01' ? 40 : 0)));
    }
    const asOf = '2025-11-30';
    const model = fitHazard(rows.filter((r) => r.invoice_date <= asOf), asOf);
    const inSeason = predictHazard(model, { customer_key: 'core:9', invoice_date: '2025-11-29', terms_days: 30 }, asOf);
    // Due 2025-12-29: a year earlier the invoices due then were paid 40 days late.
    expect(inSeason.days).toBeGreaterThanOrEqual(60);
    expect(inSeason.days).toBeLessThanOrEqual(80);
    expect(inSeason.probLate).toBeGreaterThan(0.8);
    // Without the season (its December and January invoices paid on time too) the same invoice is expected near its due date.
    const plain = rows.map((r) => ({ ...r, settled_date: addDays(r.invoice_date, 30), days_to_pay: 30 }));
    const flat = predictHazard(fitHazard(plain, asOf), { customer_key: 'core:9', invoice_date: '2025-11-29', terms_days: 30 }, asOf);
    expect(flat.days).toBeLessThanOrEqual(36);
    expect(flat.probLate).toBeLessThan(0.5);
  });

  it("learns the predicted day's blend apart for customers keeping their habit and for those changing", () => {
    // Customers keeping their habit (nothing standing out) are paid on their own median wait, the
    // model's median 6 days off; customers whose change stands out are paid on the model's median,
    // their old median 12 days off. The customer's mean is off for both.
    const cases: BlendCase[] = [];
    for (let i = 0; i < 60; i++) {
      const actual = 30 + (i % 7);
      cases.push({ t: 0.1, h: actual + (i % 2 === 0 ? 20 : -20), median: actual, mean: actual + 9, actual });
      cases.push({ t: 1.5, h: actual, median: actual - 12, mean: actual - 15, actual });
    }
    const blend = chooseBlend(cases);
    expect(blend.standOut).toBeGreaterThan(0.1);
    expect(blend.standOut).toBeLessThanOrEqual(1.5);
    // Steady customers: (almost) all the weight on their own median; changing ones: on the model's.
    expect(blend.weights[0][0]).toBe(0);
    expect(blend.weights[0][1]).toBeGreaterThanOrEqual(0.9);
    expect(blend.weights[1]).toEqual([1, 0]);
    // When nothing tells them apart (every customer keeps its habit), one set for all, as before.
    const steady = cases.map((c) => ({ ...c, t: 0 }));
    expect(chooseBlend(steady).standOut).toBe(Number.POSITIVE_INFINITY);
    // Too few changing customers (under 30) to learn their own weights: they take everyone's.
    const few = [...cases.filter((c) => c.t < 1), ...cases.filter((c) => c.t >= 1).slice(0, 20)];
    const b = chooseBlend(few);
    expect(b.weights[1]).toEqual(b.standOut === Number.POSITIVE_INFINITY ? b.weights[0] : chooseBlend(few.map((c) => ({ ...c, t: 0 }))).weights[0]);
  });

  it("pulls the predicted day towards the customer's plain mean only for the customers whose mean beat the model before", () => {
    // Customer 0 pays at random around its mean (the model, reading changes into the noise, is 8 days off);
    // customer 1 is changing and the model follows it (its old mean 10 days off); customer 2 is a tie.
    const cases: BlendCase[] = [];
    for (let i = 0; i < 12; i++) {
      const noise = (i % 5) - 2;
      cases.push({ t: 0, h: 40 + (i % 2 === 0 ? 8 : -8), median: 40 + (i % 2 === 0 ? 8 : -8), mean: 40 + (i % 2 === 0 ? 8 : -8), actual: 40 + noise, customer: 0, plainMean: 40 });
      cases.push({ t: 2, h: 50 + noise, median: 50 + noise, mean: 50 + noise, actual: 50 + noise, customer: 1, plainMean: 40 });
      cases.push({ t: 0, h: 30 + noise, median: 30 + noise, mean: 30 + noise, actual: 30 + noise, customer: 2, plainMean: 30 + noise });
    }
    const w = towardOwn(cases, { weights: [[1, 0], [1, 0]], standOut: 1 }, ['core:0', 'core:1', 'core:2']);
    expect(w.get('core:0')).toBeGreaterThan(0.9);
    expect(w.has('core:1')).toBe(false);
    expect(w.has('core:2')).toBe(false);
    // The weight is how far the mean's lead stands out of its noise: few or mixed cases, little weight.
    expect(standingOut([1, -1, 2])).toBeLessThan(0.2);
    expect(standingOut([5, 5.5, 4.5, 5, 6, 4])).toBeGreaterThan(0.9);
    expect(standingOut([-3, -2, -4])).toBe(0);
    expect(standingOut([9, 9])).toBe(0); // too few to tell
    // Predicting: a customer given all the weight is predicted on its plain mean wait beyond the invoice's age.
    const rows: FeatureRow[] = [];
    for (let i = 0; i < 40; i++) rows.push(row('core:5', addDays('2025-01-02', i * 7), 20 + (i % 4) * 10));
    const model = fitHazard(rows, '2025-12-31');
    model.towardOwn = new Map([['core:5', 1]]);
    // Paid after 20, 30, 40, 50 days in turn: still open at 25 days, its mean wait beyond is 40.
    expect(predictHazard(model, { customer_key: 'core:5', invoice_date: '2025-12-06', terms_days: 30 }, '2025-12-31').days).toBe(40);
  });

  it('maps the late probability through what happened at the earlier origins: rising, pulled towards the prediction where cases are few', () => {
    // Predicted 0.2 but never late, predicted 0.5 and late 9 times in 10: a logistic blend too flat at both ends.
    const pairs = [
      ...Array.from({ length: 50 }, () => ({ p: 0.2, y: 0 })),
      ...Array.from({ length: 50 }, (_, i) => ({ p: 0.5, y: i % 10 === 0 ? 0 : 1 })),
      { p: 0.9, y: 0 },
    ];
    const iso = isotonic(pairs);
    // Never late at 0.2: about one case in 55 (five cases' worth of the prediction over 50 on time).
    expect(applyIsotonic(iso, 0.2)).toBeGreaterThan(0.01);
    expect(applyIsotonic(iso, 0.2)).toBeLessThan(0.03);
    expect(applyIsotonic(iso, 0.5)).toBeGreaterThan(0.8);
    // One invoice predicted 0.9 and paid on time merges with its neighbours instead of mapping 0.9 to 0.
    expect(applyIsotonic(iso, 0.9)).toBeGreaterThan(0.8);
    // Rising everywhere, from 0 at 0 to 1 at 1.
    let last = -1;
    for (let p = 0; p <= 1.0001; p += 0.05) {
      const q = applyIsotonic(iso, Math.min(1, p));
      expect(q).toBeGreaterThanOrEqual(last - 1e-12);
      last = q;
    }
    expect(applyIsotonic(iso, 0)).toBe(0);
    expect(applyIsotonic(iso, 1)).toBeCloseTo(1, 9);
  });

  it('replays honestly: what happens after the forecast date changes no replayed prediction', () => {
    const rows: FeatureRow[] = [];
    for (let i = 0; i < 150; i++) rows.push(row(`core:${i % 5}`, addDays('2025-01-02', i * 2), 10 + (i % 5) * 8 + (i % 3)));
    const asOf = '2025-10-31';
    const a = replayPaymentDates(rows, asOf, { origins: 4 });
    // Payments after the forecast date are changed: the replay must neither score nor use them.
    const changed = rows.map((r) => (r.settled_date! > asOf ? { ...r, settled_date: addDays(r.settled_date!, 40), days_to_pay: r.days_to_pay! + 40 } : r));
    const b = replayPaymentDates(changed, asOf, { origins: 4 });
    expect(b).toEqual(a);
    expect(a.origins).toEqual(['2025-06-30', '2025-07-31', '2025-08-31', '2025-09-30']);
    for (const s of a.dates) expect(s.actual).toBeGreaterThan(s.age);
    expect(a.dates.every((s) => daysBetween('2025-01-01', s.origin) > 0)).toBe(true);
  });

  it('a write-off is not a payment: a written-off invoice is scored on no payment date, and counts as late', () => {
    const rows: FeatureRow[] = [];
    for (let i = 0; i < 150; i++) rows.push(row(`core:${i % 5}`, addDays('2025-01-02', i * 2), 10 + (i % 5) * 8 + (i % 3)));
    // Customer core:9 stops paying: its invoices are written off as bad debt 150 days after issue.
    const stopped: FeatureRow[] = [];
    for (let i = 0; i < 8; i++) {
      const d = addDays('2025-07-01', i * 7);
      stopped.push({ ...row('core:9', d, null), settled_date: addDays(d, 150), open_cents: 0 });
    }
    const asOf = '2025-12-31';
    const replay = replayPaymentDates([...rows, ...stopped], asOf, { origins: 4 });
    expect(replay.dates.some((s) => s.customer === 'core:9')).toBe(false);
    const late = replay.late.filter((s) => s.customer === 'core:9');
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((s) => s.late)).toBe(true);
  });

  it('an invoice paid short and its remainder written off later was paid on the day of the payment', () => {
    // Pays on day 20 (terms 30), 10 days before the due date; the bank charges it deducted are written off on day 45.
    const rows: FeatureRow[] = [];
    for (let i = 0; i < 60; i++) {
      const d = addDays('2025-01-06', i * 4);
      rows.push({ ...row('core:3', d, 20), settled_date: addDays(d, 45) });
    }
    const asOf = '2025-10-31';
    const p = predictHazard(fitHazard(rows, asOf), { customer_key: 'core:3', invoice_date: '2025-10-30', terms_days: 30 }, asOf);
    expect(p.days).toBeLessThanOrEqual(24);
    expect(p.probLate).toBeLessThan(0.2);
  });

  it('reads days to pay from the last payment, and none for a bad debt or an invoice only credited', async () => {
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    try {
      await conn.run(`create schema marts;
        create table marts.fct_invoices as select * from (values
          ('A', date '2025-01-01', date '2025-01-31', 10000, 10000, 0, date '2025-01-20', 19, 0),       -- paid in full on day 19
          ('B', date '2025-01-01', date '2025-01-31', 10000, 9700, 300, date '2025-02-25', 55, 25),     -- paid short on day 20, 3.00 written off on day 55
          ('C', date '2025-01-01', date '2025-01-31', 10000, 0, 10000, date '2025-06-01', null, null),  -- written off whole as bad debt
          ('D', date '2025-01-01', date '2025-01-31', 10000, 2000, 8000, date '2025-06-01', 151, 121),  -- paid a fifth, the rest written off
          ('E', date '2025-01-01', date '2025-01-31', 10000, 0, 0, date '2025-01-10', null, null),      -- credited in full
          ('F', date '2025-01-01', date '2025-01-31', 5000, 4600, 400, date '2025-02-25', 55, 25)       -- 50.00 paid short on day 18, 4.00 of bank charges written off
        ) t(invoice_key, invoice_date, due_date, amount_cents, paid_cents, written_off_cents, settled_date, days_to_pay, days_late);
        create table marts.fct_payment_allocations as select * from (values
          ('A', date '2025-01-20', false), ('B', date '2025-01-21', false), ('B', date '2025-02-05', true), ('D', date '2025-02-01', false), ('F', date '2025-01-19', false)
        ) t(invoice_key, effective_date, is_reversed);`);
      const reader = await conn.runAndReadAll(`select invoice_key, days_to_pay, days_late from ${PAID_INVOICES} order by invoice_key`);
      expect(reader.getRowObjectsJS()).toEqual([
        { invoice_key: 'A', days_to_pay: 19, days_late: 0 },
        { invoice_key: 'B', days_to_pay: 20, days_late: 0 }, // the reversed payment of 5 February does not count
        { invoice_key: 'C', days_to_pay: null, days_late: null },
        { invoice_key: 'D', days_to_pay: null, days_late: null },
        { invoice_key: 'E', days_to_pay: null, days_late: null },
        { invoice_key: 'F', days_to_pay: 18, days_late: 0 }, // 8 % of a small invoice, within the 5.00 tolerance
      ]);
    } finally {
      conn.closeSync();
    }
  });
});
