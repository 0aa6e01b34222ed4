import { describe, expect, it } from 'vitest';
import { planCashApplication, type OpenItem } from '../../src/payments/cash-application.ts';

const items: OpenItem[] = [
  { id: 1, number: 'INV-2026-000001', externalRef: null, dueDate: '2026-01-10', balanceMinor: 10_000 },
  { id: 2, number: 'INV-2026-000002', externalRef: 'OLD-77', dueDate: '2026-01-20', balanceMinor: 5_000 },
  { id: 3, number: 'INV-2026-000003', externalRef: null, dueDate: '2026-01-05', balanceMinor: 2_500 },
];

describe('cash application', () => {
  it('pays the invoice named in the reference first, the rest oldest due first', () => {
    const r = planCashApplication(6_000, 'payment for inv-2026-000002 thanks', items);
    expect(r.allocations).toEqual([
      { invoiceId: 2, amountMinor: 5_000, rule: 'reference', discountMinor: 0 },
      { invoiceId: 3, amountMinor: 1_000, rule: 'oldest_due', discountMinor: 0 },
    ]);
    expect(r.unappliedMinor).toBe(0);
  });
  it('finds the old system number in the reference', () => {
    expect(planCashApplication(5_000, 'OLD-77', items).allocations).toEqual([{ invoiceId: 2, amountMinor: 5_000, rule: 'reference', discountMinor: 0 }]);
  });
  it('without a reference, an invoice of exactly the amount wins over the oldest', () => {
    expect(planCashApplication(10_000, null, items).allocations).toEqual([{ invoiceId: 1, amountMinor: 10_000, rule: 'exact_amount', discountMinor: 0 }]);
  });
  it('otherwise oldest due first, partially paying the last', () => {
    expect(planCashApplication(4_000, 'no number here', items).allocations).toEqual([
      { invoiceId: 3, amountMinor: 2_500, rule: 'oldest_due', discountMinor: 0 },
      { invoiceId: 1, amountMinor: 1_500, rule: 'oldest_due', discountMinor: 0 },
    ]);
  });
  it('an overpayment leaves unapplied credit', () => {
    const r = planCashApplication(20_000, null, items);
    expect(r.allocations.reduce((s, a) => s + a.amountMinor, 0)).toBe(17_500);
    expect(r.unappliedMinor).toBe(2_500);
  });
  it('inside the early-payment window the balance less the discount settles the invoice', () => {
    const withDiscount = items.map((i) => (i.id === 1 ? { ...i, discountMinor: 200 } : i));
    // 98.00 is exactly what settles invoice 1 with its 2 % discount
    expect(planCashApplication(9_800, null, withDiscount).allocations).toEqual([{ invoiceId: 1, amountMinor: 9_800, rule: 'exact_amount', discountMinor: 200 }]);
    // a short payment earns no discount
    expect(planCashApplication(9_000, 'INV-2026-000001', withDiscount).allocations).toEqual([{ invoiceId: 1, amountMinor: 9_000, rule: 'reference', discountMinor: 0 }]);
  });
  it('a named invoice takes no more than its balance', () => {
    const r = planCashApplication(3_000, 'INV-2026-000003', items);
    expect(r.allocations).toEqual([
      { invoiceId: 3, amountMinor: 2_500, rule: 'reference', discountMinor: 0 },
      { invoiceId: 1, amountMinor: 500, rule: 'oldest_due', discountMinor: 0 },
    ]);
  });
});
