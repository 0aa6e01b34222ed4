import { daysBetween } from '../shared/dates.ts';
import { interestMinor, levelFeeMinor, levelFor, type DunningLevel, type DunningPolicy } from './policy.ts';

/**
 * Plans one customer's reminder on a day, as a pure function: which invoices have reached a
 * level not announced before (new notices), and the consolidated letter that lists every
 * invoice at a level. Disputed invoices and invoices under a standing promise to pay are
 * left out (paused). No new notice, no letter: a second run on the same day plans nothing.
 */
export interface ReminderCandidate {
  invoiceId: number;
  number: string;
  invoiceDate: string;
  dueDate: string;
  balanceMinor: number;
  /** Highest level already announced for this invoice (0: none). */
  sentLevel: number;
  disputed: boolean;
  /** Date of the standing promise to pay covering it, if any. */
  promisedDate: string | null;
}

export interface ReminderLine {
  invoiceId: number;
  number: string;
  invoiceDate: string;
  dueDate: string;
  daysPastDue: number;
  balanceMinor: number;
  level: DunningLevel;
  /** True when this letter announces this level for the first time. */
  isNew: boolean;
  interestMinor: number;
}

export interface ReminderPlan {
  customerId: number;
  currency: string;
  asOf: string;
  policy: string;
  /** The letter's level: the highest level among its lines. */
  level: DunningLevel;
  lines: ReminderLine[];
  /** Left out of the letter and why. */
  paused: { invoiceId: number; number: string; why: 'disputed' | 'promised'; until: string | null }[];
  feeMinor: number;
  interestMinor: number;
  totalDueMinor: number;
  /** Actions of newly reached levels (`credit_hold`, `hand_over`). */
  actions: string[];
}

export function planReminder(input: { customerId: number; currency: string; asOf: string; policy: DunningPolicy; candidates: ReminderCandidate[] }): ReminderPlan | null {
  const lines: ReminderLine[] = [];
  const paused: ReminderPlan['paused'] = [];
  for (const c of input.candidates) {
    const daysPastDue = daysBetween(c.dueDate, input.asOf);
    const level = levelFor(input.policy, daysPastDue);
    if (!level || c.balanceMinor <= 0) continue;
    if (c.disputed) {
      paused.push({ invoiceId: c.invoiceId, number: c.number, why: 'disputed', until: null });
      continue;
    }
    if (c.promisedDate !== null) {
      paused.push({ invoiceId: c.invoiceId, number: c.number, why: 'promised', until: c.promisedDate });
      continue;
    }
    const isNew = level.level > c.sentLevel;
    lines.push({
      invoiceId: c.invoiceId, number: c.number, invoiceDate: c.invoiceDate, dueDate: c.dueDate, daysPastDue, balanceMinor: c.balanceMinor, level, isNew,
      interestMinor: isNew ? interestMinor(c.balanceMinor, level.interestBp, daysPastDue) : 0,
    });
  }
  const fresh = lines.filter((l) => l.isNew);
  if (fresh.length === 0) return null;
  const level = lines.reduce((top, l) => (l.level.level > top.level ? l.level : top), lines[0]!.level);
  // The letter fee is charged once per letter, at the highest level it newly announces.
  const topNew = fresh.reduce((top, l) => (l.level.level > top.level ? l.level : top), fresh[0]!.level);
  const feeMinor = levelFeeMinor(topNew, input.currency);
  const interest = lines.reduce((s, l) => s + l.interestMinor, 0);
  const balance = lines.reduce((s, l) => s + l.balanceMinor, 0);
  const actions = [...new Set(fresh.flatMap((l) => l.level.actions))];
  return { customerId: input.customerId, currency: input.currency, asOf: input.asOf, policy: input.policy.name, level, lines, paused, feeMinor, interestMinor: interest, totalDueMinor: balance + feeMinor + interest, actions };
}
