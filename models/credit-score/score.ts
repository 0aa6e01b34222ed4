import { currencyExponent, formatMoney } from '../../src/shared/money.ts';

/**
 * Credit score: an explainable points score per customer, from 100 down, and a risk class
 * A–E, from what the warehouse knows of the customer's payment behaviour. Each factor takes
 * points off with a sentence that says why; the reasons are exactly the points, so the score
 * is 100 plus the sum of the reasons' points (tested). For credit controllers; written back
 * to the core (`applyCreditScores`) where the credit check holds class E and limits class D.
 * Judged by how well it separates customers who later pay late or not at all from prompt
 * payers (the demo company's habits are the ground truth).
 */
export interface ScoreInputs {
  /** ISO 4217 currency the customer is billed in: every amount below is minor units of it. */
  currency: string;
  invoicesPaid: number;
  shareLate: number | null;
  meanDaysLate: number | null;
  trendDaysPerQuarter: number | null;
  openCents: number;
  overdueCents: number;
  creditLimitCents: number;
  disputedShare: number;
  sales3mCents: number;
  salesPrior3mCents: number;
  /** Written off (bad debt and small balances) as a share of everything invoiced. */
  writtenOffShare: number;
}

export interface Reason {
  factor: string;
  points: number;
  text: string;
}

export interface CreditScore {
  score: number;
  riskClass: 'A' | 'B' | 'C' | 'D' | 'E';
  suggestedLimitCents: number;
  reasons: Reason[];
}


export function scoreCustomer(i: ScoreInputs): CreditScore {
  const reasons: Reason[] = [];
  const take = (factor: string, points: number, text: string) => {
    if (points < 0) reasons.push({ factor, points, text });
  };
  take('written_off', -Math.min(60, Math.round(200 * i.writtenOffShare)), `${(100 * i.writtenOffShare).toFixed(1)} % of what was invoiced had to be written off`);
  if (i.meanDaysLate !== null) take('days_late', -Math.min(30, Math.round(i.meanDaysLate)), `pays on average ${i.meanDaysLate.toFixed(1)} days after the due date`);
  if (i.shareLate !== null) take('share_late', -Math.round(20 * i.shareLate), `paid ${(100 * i.shareLate).toFixed(0)} % of invoices late`);
  if (i.openCents > 0) take('overdue_share', -Math.round(20 * (i.overdueCents / i.openCents)), `${(100 * i.overdueCents / i.openCents).toFixed(0)} % of the open balance is overdue (${formatMoney(i.overdueCents, i.currency)})`);
  if (i.creditLimitCents > 0) {
    const u = i.openCents / i.creditLimitCents;
    take('utilisation', u > 1 ? -15 : u > 0.8 ? -8 : 0, `uses ${(100 * u).toFixed(0)} % of the credit limit`);
  }
  take('disputes', -Math.round(10 * i.disputedShare), `disputed ${(100 * i.disputedShare).toFixed(0)} % of invoices`);
  if (i.trendDaysPerQuarter !== null && i.trendDaysPerQuarter > 1) take('trend', -Math.min(10, Math.round(i.trendDaysPerQuarter)), `pays ${i.trendDaysPerQuarter.toFixed(1)} days later each quarter`);
  if (i.invoicesPaid < 5) take('tenure', -5, `only ${i.invoicesPaid} invoices paid so far`);
  if (i.salesPrior3mCents > 0 && i.sales3mCents > 2 * i.salesPrior3mCents) take('growth', -5, `sales more than doubled in the last 3 months`);
  reasons.sort((a, b) => a.points - b.points);
  const score = Math.max(0, 100 + reasons.reduce((s, r) => s + r.points, 0));
  const riskClass = score >= 85 ? 'A' : score >= 70 ? 'B' : score >= 55 ? 'C' : score >= 40 ? 'D' : 'E';
  const factor = { A: 1.5, B: 1.2, C: 1.0, D: 0.6, E: 0 }[riskClass];
  // Rounded to a hundred units of the customer's currency (100 EUR, 100 JPY, 100 KWD).
  const step = 100 * 10 ** currencyExponent(i.currency);
  const suggestedLimitCents = Math.round((Math.max(i.sales3mCents, i.salesPrior3mCents) * factor) / step) * step;
  return { score, riskClass, suggestedLimitCents, reasons };
}
