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
      { invoiceId: 2, amountMinor: 5_000, rule: 'reference' },
      { invoiceId: 3, amountMinor: 1_000, rule: 'oldest_due' },
    ]);
    expect(r.unappliedMinor).toBe(0);
  });
  it('finds the old system number in the reference', () => {
    expect(planCashApplication(5_000, 'OLD-77', items).allocations).toEqual([{ invoiceId: 2, amountMinor: 5_000, rule: 'reference' }]);
  });
  it('without a reference, an invoice of exactly the amount wins over the oldest', () => {
    expect(planCashApplication(10_000, null, items).allocations).toEqual([{ invoiceId: 1, amountMinor: 10_000, rule: 'exact_amount' }]);
  });
  it('otherwise oldest due first, partially paying the last', () => {
    expect(planCashApplication(4_000, 'no number here', items).allocations).toEqual([
      { invoiceId: 3, amountMinor: 2_500, rule: 'oldest_due' },
      { invoiceId: 1, amountMinor: 1_500, rule: 'oldest_due' },
    ]);
  });
  it('an overpayment leaves unapplied credit', () => {
    const r = planCashApplication(20_000, null, items);
    expect(r.allocations.reduce((s, a) => s + a.amountMinor, 0)).toBe(17_500);
    expect(r.unappliedMinor).toBe(2_500);
  });
  it('a named invoice takes no more than its balance', () => {
    const r = planCashApplication(3_000, 'INV-2026-000003', items);
    expect(r.allocations).toEqual([
      { invoiceId: 3, amountMinor: 2_500, rule: 'reference' },
      { invoiceId: 1, amountMinor: 500, rule: 'oldest_due' },
    ]);
  });
});
