import { describe, expect, it } from 'vitest';
import { cashWeekly, firstWeekStart } from '../../models/cash-in/cash-weekly.ts';
import { newSalesReceipts, type CollectionCurve } from '../../models/cash-in/new-sales.ts';

const weekly = (days: number): CollectionCurve => ({ days: [{ days, share: 1 }], collectedShare: 1, invoices: 10 });

describe('new sales in the cash-in', () => {
  it('invoices a month evenly over its days and pays each day through the curve', () => {
    // As of Saturday 2025-05-31: weeks from Monday 2025-06-02. June: 300.00 a month = 10.00 a day, paid 7 days later.
    const start = firstWeekStart('2025-05-31');
    expect(start).toBe('2025-06-02');
    const r = newSalesReceipts('2025-05-31', start, 3, [{ month: '2025-06-01', expectedCents: 30_000, sdCents: 0 }], weekly(7));
    // 1 June is paid on 8 June (week 0); 2–8 June in week 1; 9–15 June in week 2.
    expect(r.meanCents.map((v) => Math.round(v))).toEqual([1_000, 7_000, 7_000]);
    expect(r.varianceCents).toEqual([0, 0, 0]);
  });

  it('leaves out the days up to the as-of date and what is not collected', () => {
    // As of Sunday 2025-06-15 (week from 16 June): only 16–30 June are still to be invoiced; paid the same day; half collected.
    const r = newSalesReceipts('2025-06-15', firstWeekStart('2025-06-15'), 3, [{ month: '2025-06-01', expectedCents: 30_000, sdCents: 0 }], { days: [{ days: 0, share: 1 }], collectedShare: 0.5, invoices: 1 });
    // 16–22 June: 7 × 5.00; 23–29 June: 7 × 5.00; 30 June: 5.00.
    expect(r.meanCents.map((v) => Math.round(v))).toEqual([3_500, 3_500, 500]);
  });

  it('splits the curve and passes the month’s uncertainty to the weeks, widening the interval', () => {
    const curve: CollectionCurve = { days: [{ days: 7, share: 0.5 }, { days: 14, share: 0.5 }], collectedShare: 1, invoices: 2 };
    const r = newSalesReceipts('2025-05-31', '2025-06-02', 4, [{ month: '2025-06-01', expectedCents: 30_000, sdCents: 3_000 }], curve);
    // Week 2 (16–22 June) gets days 9–15 June at 7 days and days 2–8 June at 14 days: 7 × 5.00 + 7 × 5.00.
    expect(r.meanCents[2]).toBeCloseTo(7_000, 6);
    // Its share of June is 7/30, so its sd is 7/30 × 30.00 = 7.00.
    expect(Math.sqrt(r.varianceCents[2]!)).toBeCloseTo(700, 6);
    const weeks = cashWeekly('2025-05-31', [], 4, r);
    expect(weeks[2]).toEqual({ weekStart: '2025-06-16', expectedCents: 7_000, lowCents: Math.round(7_000 - 1.2816 * 700), highCents: Math.round(7_000 + 1.2816 * 700), newSalesCents: 7_000, intervalMethod: 'model' });
    // Beside an open invoice the two parts add up, and so do their variances.
    const both = cashWeekly('2025-05-31', [{ openCents: 10_000, outcomes: ['2025-06-17', '2025-06-30'] }], 4, r);
    expect(both[2]!.expectedCents).toBe(7_000 + 5_000);
    const sd = Math.sqrt(700 ** 2 + (10_000 * 0.5) ** 2);
    expect(both[2]!.highCents).toBe(Math.round(12_000 + 1.2816 * sd));
    expect(both[2]!.newSalesCents).toBe(7_000);
  });
});
