import { describe, expect, it } from 'vitest';
import { evaluateCredit, type CreditInputs } from '../../src/credit/credit.rules.ts';

const base: CreditInputs = {
  currency: 'EUR', customerStatus: 'active', riskClass: null, creditLimitMinor: 100_000,
  openArMinor: 30_000, unappliedCashMinor: 5_000, unbilledMinor: 20_000, orderTotalMinor: 55_000,
  overdueMinor: 0, oldestDaysOverdue: 0, maxDaysOverdueAllowed: 30, classDLimitSharePercent: 50,
};

describe('credit rules', () => {
  it('exposure = open AR − unapplied cash + unbilled orders + this order; at the limit is approved', () => {
    const r = evaluateCredit(base);
    expect(r.exposureMinor).toBe(30_000 - 5_000 + 20_000 + 55_000);
    expect(r.exposureMinor).toBe(100_000);
    expect(r.approved).toBe(true);
    expect(r.reasons).toEqual([]);
  });
  it('one cent over the limit holds, with the figures in the reason', () => {
    const r = evaluateCredit({ ...base, orderTotalMinor: 55_001 });
    expect(r.approved).toBe(false);
    expect(r.reasons).toEqual(['exposure 1,000.01 EUR exceeds credit limit 1,000.00 EUR']);
  });
  it('holds on an invoice overdue more than N days, not at exactly N', () => {
    expect(evaluateCredit({ ...base, oldestDaysOverdue: 30, overdueMinor: 100 }).approved).toBe(true);
    const r = evaluateCredit({ ...base, oldestDaysOverdue: 31, overdueMinor: 12_345 });
    expect(r.approved).toBe(false);
    expect(r.reasons[0]).toBe('an invoice is 31 days overdue (more than 30); 123.45 EUR overdue in all');
  });
  it('gives every reason at once', () => {
    const r = evaluateCredit({ ...base, customerStatus: 'blocked', orderTotalMinor: 90_000, oldestDaysOverdue: 60, riskClass: 'E' });
    expect(r.rules.filter((x) => !x.passed).map((x) => x.rule)).toEqual(['customer_active', 'within_limit', 'no_old_overdue', 'risk_class_e']);
    expect(r.reasons).toHaveLength(4);
  });
  it('risk class E holds every order; D holds above the share of the limit', () => {
    expect(evaluateCredit({ ...base, riskClass: 'E', orderTotalMinor: 1 }).approved).toBe(false);
    expect(evaluateCredit({ ...base, riskClass: 'D', orderTotalMinor: 5_000 }).approved).toBe(true); // exposure 50 000 = 50 %
    expect(evaluateCredit({ ...base, riskClass: 'D', orderTotalMinor: 5_001 }).approved).toBe(false);
    expect(evaluateCredit({ ...base, riskClass: 'C', orderTotalMinor: 55_000 }).approved).toBe(true);
  });
});
