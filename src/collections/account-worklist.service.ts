import type { Core } from '../core.ts';
import { addDays, daysBetween, parseBusinessDate } from '../shared/dates.ts';
import { invalid } from '../shared/errors.ts';
import { optionalText } from '../shared/validate.ts';
import { accountDetails, accountTotals, atRiskByCustomer, brokenPromisesSince, epochDay, heldItems, promiseReliabilityOf, type AccountDetails } from './account-worklist.repository.ts';

/**
 * The collector's worklist by account: one row per customer with an open balance — overdue
 * amount, oldest item, amount at risk, last contact, next promise, dispute state, collector —
 * ranked by `accountPriority`, one pure function over the published forecasts and the live
 * promise and dispute state. A promise or a dispute recorded now moves the customer on the
 * next request: nothing is cached.
 *
 * The open invoices are summed per customer in the database (one row per account comes
 * back, however many invoices there are); the invoices under a promise or a dispute are read
 * one by one (they are few); the ranking runs over the accounts, and the details (oldest
 * item, last contact, next promise, disputes, dunning level) are read only for the page shown.
 * The invoice-level worklist (`worklist.service.ts`) stays for the CLI and the API.
 */

/** What an invoice under an open dispute still weighs: it is for the dispute to settle, not for a reminder. */
export const DISPUTED_WEIGHT = 0;
/** Reliability assumed for a customer with no kept or broken promise yet. */
export const UNKNOWN_RELIABILITY = 0.5;
/** Weight of an account whose customer broke a promise in the last `BROKEN_WINDOW_DAYS` days. */
export const BROKEN_PROMISE_FACTOR = 1.5;
export const BROKEN_WINDOW_DAYS = 30;

/**
 * An account's exposure split by the live state of its invoices. Each part is the account's
 * measure over those invoices: with published forecasts, the forecast's amount at risk (minor
 * units; an overdue invoice the forecast has not seen, its whole balance); without, balance ×
 * days overdue (minor-unit days).
 */
export interface AccountExposure {
  /** Invoices under neither a standing promise nor an open dispute (or whose promised date has passed). */
  free: number;
  /** Invoices under a standing promise whose date has not passed. */
  promised: number;
  /** Invoices under an open dispute. */
  disputed: number;
  /** Share of the customer's resolved promises kept; null without history. */
  promiseReliability: number | null;
  brokenPromiseRecently: boolean;
}

/**
 * The ranking value of an account: the free exposure in full, the promised part weighed by
 * the chance the customer breaks the promise (1 − reliability; 0.5 without history), the
 * disputed part by `DISPUTED_WEIGHT`; × 1.5 when the customer broke a promise lately.
 */
export function accountPriority(x: AccountExposure): number {
  let p = x.free + x.promised * (1 - (x.promiseReliability ?? UNKNOWN_RELIABILITY)) + x.disputed * DISPUTED_WEIGHT;
  if (x.brokenPromiseRecently) p *= BROKEN_PROMISE_FACTOR;
  return Math.round(p);
}

export interface AccountRow {
  rank: number;
  customerId: number;
  customer: string;
  collector: string | null;
  currency: string;
  riskClass: string | null;
  openItems: number;
  openMinor: number;
  overdueItems: number;
  overdueMinor: number;
  oldestItem: { invoice: string; dueDate: string; daysPastDue: number; balanceMinor: number } | null;
  /** Σ of the published forecasts' amount at risk over the open invoices; null without forecasts. */
  amountAtRiskMinor: number | null;
  lastContact: { kind: string; date: string; note: string | null; actor: string } | null;
  nextPromise: { date: string; amountMinor: number } | null;
  dispute: { count: number; amountMinor: number } | null;
  brokenPromiseRecently: boolean;
  dunningLevel: number;
  exposure: AccountExposure;
  priority: number;
}

export interface AccountWorklist {
  asOf: string;
  basis: 'forecast' | 'days_overdue';
  forecastAsOf: string | null;
  collector: string | null;
  from: number;
  totalAccounts: number;
  accounts: AccountRow[];
}

export const MAX_PAGE = 100_000;

export async function accountWorklist(core: Core, options: { collector?: string | null; from?: number | string; limit?: number | string; asOf?: string } = {}): Promise<AccountWorklist> {
  const db = core.db.kysely;
  const dialect = core.db.dialect;
  const asOf = options.asOf ? parseBusinessDate(options.asOf, 'asOf') : core.clock.now().toISOString().slice(0, 10);
  const collector = optionalText(options.collector, 'collector', 100);
  const from = pageNumber(options.from ?? 0, 'from', 0);
  const limit = pageNumber(options.limit ?? 25, 'limit', 1);

  const [totals, held, risk, broken] = await Promise.all([
    accountTotals(db, dialect, asOf, collector),
    heldItems(db, collector),
    atRiskByCustomer(db, collector, asOf),
    brokenPromisesSince(db, addDays(asOf, -BROKEN_WINDOW_DAYS), collector),
  ]);
  const reliability = await promiseReliabilityOf(db, [...new Set(held.filter((h) => h.promisedDate !== null).map((h) => h.customerId))]);
  const asOfDay = epochDay(asOf);
  const measureOf = (h: { invoiceId: number; dueDate: string; balanceMinor: number }) =>
    risk ? (risk.byInvoice.get(h.invoiceId) ?? 0) : Math.max(0, daysBetween(h.dueDate, asOf)) * h.balanceMinor;
  const heldBy = new Map<number, { promised: number; disputed: number }>();
  for (const h of held) {
    const part = heldBy.get(h.customerId) ?? { promised: 0, disputed: 0 };
    if (h.disputed) part.disputed += measureOf(h);
    else if (h.promisedDate !== null && h.promisedDate >= asOf) part.promised += measureOf(h);
    heldBy.set(h.customerId, part);
  }

  const ranked = totals.map((t) => {
    const total = risk ? (risk.byCustomer.get(t.customerId) ?? 0) : asOfDay * t.overdueMinor - t.overdueBalanceDays;
    const part = heldBy.get(t.customerId) ?? { promised: 0, disputed: 0 };
    const exposure: AccountExposure = {
      free: Math.max(0, total - part.promised - part.disputed), promised: part.promised, disputed: part.disputed,
      promiseReliability: reliability.get(t.customerId) ?? null, brokenPromiseRecently: broken.has(t.customerId),
    };
    return { t, exposure, priority: accountPriority(exposure) };
  });
  ranked.sort((a, b) => b.priority - a.priority || b.t.overdueMinor - a.t.overdueMinor || b.t.openMinor - a.t.openMinor || a.t.customerId - b.t.customerId);
  const shown = ranked.slice(from, from + limit);
  const details = await detailsOf(core, shown.map((r) => r.t.customerId));

  return {
    asOf, basis: risk ? 'forecast' : 'days_overdue', forecastAsOf: risk?.asOf ?? null, collector, from, totalAccounts: ranked.length,
    accounts: shown.map(({ t, exposure, priority }, n) => {
      const oldest = details.oldest.get(t.customerId);
      const promise = details.nextPromise.get(t.customerId);
      return {
        rank: from + n + 1, customerId: t.customerId, customer: t.name, collector: t.collector, currency: t.currency, riskClass: t.riskClass,
        openItems: t.openItems, openMinor: t.openMinor, overdueItems: t.overdueItems, overdueMinor: t.overdueMinor,
        oldestItem: oldest ? { invoice: oldest.number, dueDate: oldest.dueDate, daysPastDue: daysBetween(oldest.dueDate, asOf), balanceMinor: oldest.balanceMinor } : null,
        amountAtRiskMinor: risk ? (risk.byCustomer.get(t.customerId) ?? 0) : null,
        lastContact: details.lastContact.get(t.customerId) ?? null,
        nextPromise: promise ? { date: promise.date, amountMinor: promise.amountMinor } : null,
        dispute: details.disputes.get(t.customerId) ?? null,
        brokenPromiseRecently: exposure.brokenPromiseRecently,
        dunningLevel: details.dunningLevel.get(t.customerId) ?? 0,
        exposure, priority,
      };
    }),
  };
}

async function detailsOf(core: Core, ids: number[]): Promise<AccountDetails> {
  const merged: AccountDetails = { oldest: new Map(), lastContact: new Map(), nextPromise: new Map(), disputes: new Map(), dunningLevel: new Map() };
  for (let k = 0; k < ids.length; k += 500) {
    const d = await accountDetails(core.db.kysely, ids.slice(k, k + 500));
    for (const key of Object.keys(merged) as (keyof AccountDetails)[]) for (const [id, v] of d[key]) (merged[key] as Map<number, unknown>).set(id, v);
  }
  return merged;
}

function pageNumber(value: number | string, field: string, min: number): number {
  const n = typeof value === 'number' ? value : /^\d{1,9}$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > (field === 'limit' ? MAX_PAGE : 1_000_000_000)) {
    throw invalid(`${field} must be a whole number from ${min}${field === 'limit' ? ` to ${MAX_PAGE}` : ''}, not ${JSON.stringify(value)}`, { field, value, rule: field === 'limit' ? 'page_size' : 'page_offset' });
  }
  return n;
}
