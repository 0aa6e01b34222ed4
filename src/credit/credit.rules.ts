import type { RiskClass } from '../db/schema.ts';
import { displayMoney } from '../shared/figures.ts';

/**
 * The automatic credit check, as a pure function of its inputs so every decision can be
 * stored with the figures it rested on and re-derived later.
 *
 * exposure = open receivables − unapplied cash + approved-but-not-invoiced orders + this order.
 * Approve when every rule passes:
 * - `customer_active`: the customer is not blocked;
 * - `within_limit`: exposure ≤ credit limit;
 * - `no_old_overdue`: no invoice is more than N days past due (setting, default 30);
 * - `risk_class_e`: risk class E holds every order;
 * - `risk_class_d_share`: risk class D holds orders whose exposure exceeds a share of the limit;
 * - `no_final_notice`: an open invoice has reached a dunning level whose action is
 *   `credit_hold` (src/collections): new orders wait until it is paid.
 */
export interface CreditInputs {
  currency: string;
  customerStatus: 'active' | 'blocked';
  riskClass: RiskClass | null;
  creditLimitMinor: number;
  openArMinor: number;
  unappliedCashMinor: number;
  unbilledMinor: number;
  orderTotalMinor: number;
  overdueMinor: number;
  oldestDaysOverdue: number;
  maxDaysOverdueAllowed: number;
  classDLimitSharePercent: number;
  /** Open invoices at a dunning level that holds new orders. */
  finalNoticeInvoices?: string[];
}

export interface RuleResult {
  rule: 'customer_active' | 'within_limit' | 'no_old_overdue' | 'risk_class_e' | 'risk_class_d_share' | 'no_final_notice';
  passed: boolean;
  detail: string;
}

export interface CreditEvaluation {
  approved: boolean;
  exposureMinor: number;
  rules: RuleResult[];
  /** Why the order is held, one sentence per failed rule (empty when approved). */
  reasons: string[];
}

export function evaluateCredit(i: CreditInputs): CreditEvaluation {
  const money = (m: number) => displayMoney(m, i.currency);
  const exposure = i.openArMinor - i.unappliedCashMinor + i.unbilledMinor + i.orderTotalMinor;
  const rules: RuleResult[] = [
    {
      rule: 'customer_active',
      passed: i.customerStatus === 'active',
      detail: i.customerStatus === 'active' ? 'customer is active' : 'customer is blocked',
    },
    {
      rule: 'within_limit',
      passed: exposure <= i.creditLimitMinor,
      detail: `exposure ${money(exposure)} ${exposure <= i.creditLimitMinor ? 'within' : 'exceeds'} credit limit ${money(i.creditLimitMinor)}`,
    },
    {
      rule: 'no_old_overdue',
      passed: i.oldestDaysOverdue <= i.maxDaysOverdueAllowed,
      detail:
        i.oldestDaysOverdue > i.maxDaysOverdueAllowed
          ? `an invoice is ${i.oldestDaysOverdue} days overdue (more than ${i.maxDaysOverdueAllowed}); ${money(i.overdueMinor)} overdue in all`
          : `no invoice more than ${i.maxDaysOverdueAllowed} days overdue`,
    },
    {
      rule: 'risk_class_e',
      passed: i.riskClass !== 'E',
      detail: i.riskClass === 'E' ? 'risk class E: every order needs a credit controller' : `risk class ${i.riskClass ?? 'not set'}`,
    },
  ];
  const share = Math.floor((i.creditLimitMinor * i.classDLimitSharePercent) / 100);
  rules.push({
    rule: 'risk_class_d_share',
    passed: i.riskClass !== 'D' || exposure <= share,
    detail:
      i.riskClass === 'D'
        ? `risk class D: exposure ${money(exposure)} against ${i.classDLimitSharePercent}% of the limit (${money(share)})`
        : 'not risk class D',
  });
  const held = i.finalNoticeInvoices ?? [];
  rules.push({
    rule: 'no_final_notice',
    passed: held.length === 0,
    detail: held.length ? `dunning holds new orders: ${held.join(', ')} reached a level with credit hold and ${held.length === 1 ? 'is' : 'are'} still open` : 'no invoice at a dunning level that holds orders',
  });
  const failed = rules.filter((r) => !r.passed);
  return { approved: failed.length === 0, exposureMinor: exposure, rules, reasons: failed.map((r) => r.detail) };
}
