import type { Core } from '../core.ts';
import { forecastsByInvoice } from '../forecasts/forecast.service.ts';
import { addDays, daysBetween, parseBusinessDate } from '../shared/dates.ts';
import { formatAmount } from '../shared/money.ts';
import { optionalText } from '../shared/validate.ts';
import { PAGE_LIMIT, pageQuery, type ListPage, type ListPageQuery } from '../shared/facing.ts';
import { disputedOn, openItemsAsOf, promisedOn, sentLevels } from './collections.repository.ts';
import { promiseReliability } from './promise.service.ts';

/**
 * The collector's worklist: every open invoice, ranked by amount at risk, with what is known
 * about it — dunning level reached, promise, dispute, the customer's last action and the
 * next action due.
 *
 * Amount at risk, when the forecast step has handed its invoice forecasts back to the core
 * (`invoice_forecasts`, src/forecasts): the open balance times the probability of paying
 * after the due date, as the forecast step computed it — the same figure the Collections
 * report ranks by; it is not a loss. An invoice without a forecast (issued since) that is
 * already overdue has its whole balance at risk; one not yet due has none known and comes
 * after those that have one. Without any forecast: days overdue × open amount. Ties go to the
 * more overdue, then the larger balance.
 */
export interface WorklistItem {
  rank: number;
  customerId: number;
  customer: string;
  collector: string | null;
  invoice: string;
  dueDate: string;
  daysPastDue: number;
  balanceMinor: number;
  balance: string;
  currency: string;
  riskClass: string | null;
  probLate: number | null;
  predictedDate: string | null;
  dunningLevel: number;
  promise: { date: string; reliability: number | null } | null;
  brokenPromiseRecently: boolean;
  disputed: boolean;
  lastAction: { kind: string; date: string; note: string | null } | null;
  nextAction: { what: string; on: string | null; overdue: boolean } | null;
  /**
   * Amount at risk in minor units, the ranking value of basis `forecast`: the forecast's, the
   * whole balance for an overdue invoice without one, null for an invoice not yet due without
   * one and whenever no forecast is held (basis `days_overdue`).
   */
  amountAtRiskMinor: number | null;
  amountAtRisk: string | null;
}

export interface Worklist {
  asOf: string;
  basis: 'forecast' | 'days_overdue';
  forecastAsOf: string | null;
  collector: string | null;
  items: WorklistItem[];
  totalItems: number;
}

export async function worklist(core: Core, options: { asOf?: string; collector?: string | null; limit?: number } = {}): Promise<Worklist> {
  const db = core.db.kysely;
  const asOf = options.asOf ? parseBusinessDate(options.asOf, 'asOf') : core.clock.now().toISOString().slice(0, 10);
  const collector = optionalText(options.collector, 'collector', 100);
  const held = await forecastsByInvoice(core);
  const forecastAsOf = [...held.values()].reduce<string | null>((m, f) => (m === null || f.asOf > m ? f.asOf : m), null);

  let cq = db.selectFrom('customers').select(['id', 'name', 'collector', 'risk_class', 'currency']);
  if (collector) cq = cq.where('collector', '=', collector);
  const customers = new Map((await cq.execute()).map((c) => [c.id, c]));
  const items = (await openItemsAsOf(db, asOf)).filter((i) => customers.has(i.customer_id));
  const sent = await sentLevels(db, items.map((i) => i.invoice_id));
  const disputed = await disputedOn(db, asOf);
  const promised = await promisedOn(db, asOf);
  const reliability = await promiseReliability(db);
  const broken = new Set((await db.selectFrom('promises_to_pay').select('customer_id').where('status', '=', 'broken').where('resolved_on', '>=', addDays(asOf, -30)).where('resolved_on', '<=', asOf).execute()).map((r) => r.customer_id));
  const actions = await db.selectFrom('collection_actions').select(['customer_id', 'kind', 'action_date', 'note', 'next_action', 'next_action_on', 'id']).where('action_date', '<=', asOf).orderBy('id').execute();
  const lastAction = new Map<number, (typeof actions)[number]>();
  const nextAction = new Map<number, (typeof actions)[number]>();
  for (const a of actions) {
    lastAction.set(a.customer_id, a);
    if (a.next_action) nextAction.set(a.customer_id, a);
  }

  const out: WorklistItem[] = items.map((i) => {
    const c = customers.get(i.customer_id)!;
    const daysPastDue = daysBetween(i.due_date, asOf);
    const f = held.get(i.invoice_id) ?? null;
    const p = promised.get(i.invoice_id) ?? null;
    const rel = reliability.get(i.customer_id)?.reliability ?? null;
    const atRisk = forecastAsOf === null ? null : f ? f.amountAtRiskMinor : daysPastDue > 0 ? i.balance_minor : null;
    const la = lastAction.get(i.customer_id);
    const na = nextAction.get(i.customer_id);
    return {
      rank: 0, customerId: i.customer_id, customer: c.name, collector: c.collector, invoice: i.number, dueDate: i.due_date, daysPastDue, balanceMinor: i.balance_minor, balance: formatAmount(i.balance_minor, i.currency), currency: i.currency,
      riskClass: c.risk_class, probLate: f ? f.probLateBp / 10_000 : null, predictedDate: f?.predictedPayDate ?? null, dunningLevel: sent.get(i.invoice_id)?.level ?? 0,
      promise: p ? { date: p.promisedDate, reliability: rel } : null, brokenPromiseRecently: broken.has(i.customer_id), disputed: disputed.has(i.invoice_id),
      lastAction: la ? { kind: la.kind, date: la.action_date, note: la.note } : null,
      nextAction: na && na.next_action ? { what: na.next_action, on: na.next_action_on, overdue: na.next_action_on !== null && na.next_action_on <= asOf } : null,
      amountAtRiskMinor: atRisk,
      amountAtRisk: atRisk === null ? null : formatAmount(atRisk, i.currency),
    };
  });
  const key = (x: WorklistItem) => (forecastAsOf === null ? Math.max(x.daysPastDue, 0) * x.balanceMinor : (x.amountAtRiskMinor ?? -1));
  out.sort((a, b) => key(b) - key(a) || b.daysPastDue - a.daysPastDue || b.balanceMinor - a.balanceMinor || a.invoice.localeCompare(b.invoice));
  out.forEach((x, n) => (x.rank = n + 1));
  return { asOf, basis: forecastAsOf === null ? 'days_overdue' : 'forecast', forecastAsOf, collector, items: out.slice(0, options.limit ?? 50), totalItems: out.length };
}

/** The worklist as every face answers it: a page of the ranking, then what the ranking is about. */
export type WorklistPage = ListPage<WorklistItem> & Omit<Worklist, 'items'>;

/**
 * One page of the worklist, what `GET /collections/worklist` and `cashloop collections
 * worklist` both answer: `after` is a position in the ranking (the `next` of the previous
 * page), `limit` 1 to 500 (default 100); `totalItems` counts the whole ranking.
 */
export async function worklistPage(core: Core, options: { asOf?: string; collector?: string | null } = {}, query: ListPageQuery = {}): Promise<WorklistPage> {
  const paging = pageQuery(query);
  const start = paging.after ?? 0;
  const end = start + (paging.limit ?? PAGE_LIMIT.default);
  const { items, ...about } = await worklist(core, { ...options, limit: end });
  return { items: items.slice(start), next: end < about.totalItems ? String(end) : null, ...about };
}
