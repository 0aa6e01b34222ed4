import { sql } from 'kysely';
import type { Core } from '../core.ts';
import { addDays, daysBetween, parseBusinessDate } from '../shared/dates.ts';
import { invalid } from '../shared/errors.ts';
import { requireText } from '../shared/validate.ts';

/**
 * A salesperson's portfolio: the customers whose `sales_rep` they are, each with what they
 * bought in the last 12 months beside how fast they pay, what is open and overdue, the
 * promises they broke and the orders under way — and the same summed for the whole
 * portfolio, per currency. Paged in SQL by customer id; every figure of a page is read for
 * that page's customers only, with grouped queries.
 *
 * Measures, over the 12 months up to and including `asOf` (365 days):
 * - sales: invoiced totals (invoice date in the window, cancelled invoices left out);
 * - payment speed: over the invoices settled in the window, the average days from invoice to
 *   settlement and the average days past due at settlement (negative: paid early), each
 *   weighted by the invoice total, rounded to a tenth of a day; none without such an invoice;
 * - open and overdue: balances today of open invoices (total less credit notes, live
 *   allocations and write-offs), overdue when due before `asOf`;
 * - broken promises: promises to pay resolved as broken in the window.
 */

export interface PortfolioCustomer {
  id: number;
  name: string;
  currency: string;
  status: string;
  riskClass: string | null;
  creditLimitMinor: number;
  salesMinor: number;
  invoices: number;
  /** Invoices settled in the window that the speed figures are over. */
  settledInvoices: number;
  avgDaysToPay: number | null;
  avgDaysLate: number | null;
  openMinor: number;
  overdueMinor: number;
  oldestOverdueDays: number | null;
  brokenPromises: number;
  ordersUnderWay: { id: number; status: string }[];
}

export interface PortfolioTotal {
  currency: string;
  customers: number;
  salesMinor: number;
  openMinor: number;
  overdueMinor: number;
  brokenPromises: number;
}

export interface Portfolio {
  rep: string;
  asOf: string;
  from: string;
  customers: PortfolioCustomer[];
  /** Id to pass as `afterId` for the next page; null on the last page. */
  nextAfterId: number | null;
  totals: PortfolioTotal[];
}

const OPEN = ['open', 'partially_paid'] as const;
const DONE_ORDERS = ['paid', 'cancelled', 'rejected'] as const;
const tenth = (x: number) => Math.round(x * 10) / 10;

export async function salesPortfolio(core: Core, options: { rep: string; afterId?: number | string; limit?: number; asOf?: string }): Promise<Portfolio> {
  const db = core.db.kysely;
  const rep = requireText(options.rep, 'rep', 100);
  const asOf = options.asOf ? parseBusinessDate(options.asOf, 'asOf') : core.clock.now().toISOString().slice(0, 10);
  const from = addDays(asOf, -364);
  const afterText = String(options.afterId ?? 0).trim();
  if (!/^\d{1,12}$/.test(afterText)) throw invalid(`after must be a customer id, not ${JSON.stringify(options.afterId)}`, { field: 'after', value: options.afterId, rule: 'page_cursor' });
  const afterId = Number(afterText);
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 20)), 100_000);

  const page = await db
    .selectFrom('customers')
    .select(['id', 'name', 'currency', 'status', 'risk_class', 'credit_limit_minor'])
    .where('sales_rep', '=', rep)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const shown = page.slice(0, limit);
  const ids = shown.map((c) => c.id);
  const figures = ids.length ? await figuresOf(core, ids, asOf, from) : emptyFigures();
  const totals = await portfolioTotals(core, rep, asOf, from);

  return {
    rep, asOf, from,
    customers: shown.map((c) => {
      const speed = figures.speed.get(c.id);
      const open = figures.open.get(c.id);
      return {
        id: c.id, name: c.name, currency: c.currency, status: c.status, riskClass: c.risk_class, creditLimitMinor: Number(c.credit_limit_minor),
        salesMinor: figures.sales.get(c.id)?.minor ?? 0, invoices: figures.sales.get(c.id)?.n ?? 0,
        settledInvoices: speed?.n ?? 0, avgDaysToPay: speed && speed.weight > 0 ? tenth(speed.toPay / speed.weight) : null, avgDaysLate: speed && speed.weight > 0 ? tenth(speed.late / speed.weight) : null,
        openMinor: open?.open ?? 0, overdueMinor: open?.overdue ?? 0, oldestOverdueDays: open?.oldestDue ? daysBetween(open.oldestDue, asOf) : null,
        brokenPromises: figures.broken.get(c.id) ?? 0, ordersUnderWay: figures.orders.get(c.id) ?? [],
      };
    }),
    nextAfterId: page.length > limit ? shown.at(-1)!.id : null,
    totals,
  };
}

interface Figures {
  sales: Map<number, { minor: number; n: number }>;
  speed: Map<number, { n: number; weight: number; toPay: number; late: number }>;
  open: Map<number, { open: number; overdue: number; oldestDue: string | null }>;
  broken: Map<number, number>;
  orders: Map<number, { id: number; status: string }[]>;
}

const emptyFigures = (): Figures => ({ sales: new Map(), speed: new Map(), open: new Map(), broken: new Map(), orders: new Map() });

/** An open invoice's balance today (the same sums as the invoice repository's). */
const balanceSql = sql<number>`(i.total_minor
  - coalesce((select sum(cn.amount_minor) from credit_notes cn where cn.invoice_id = i.id), 0)
  - coalesce((select sum(pa.amount_minor) from payment_allocations pa where pa.invoice_id = i.id and pa.reversed = 0), 0)
  - coalesce((select sum(w.amount_minor) from write_offs w where w.invoice_id = i.id), 0))`;

async function figuresOf(core: Core, ids: number[], asOf: string, from: string): Promise<Figures> {
  const db = core.db.kysely;
  const out = emptyFigures();
  const [sales, settled, open, broken, orders] = await Promise.all([
    db.selectFrom('invoices').select(['customer_id', (e) => e.fn.sum<number>('total_minor').as('s'), (e) => e.fn.countAll<number>().as('n')]).where('customer_id', 'in', ids).where('status', '!=', 'cancelled').where('invoice_date', '>=', from).where('invoice_date', '<=', asOf).groupBy('customer_id').execute(),
    db.selectFrom('invoices').select(['customer_id', 'invoice_date', 'due_date', 'settled_date', 'total_minor']).where('customer_id', 'in', ids).where('status', '=', 'paid').where('settled_date', '>=', from).where('settled_date', '<=', asOf).execute(),
    db.selectFrom('invoices as i').select(['i.customer_id', 'i.due_date']).select(balanceSql.as('bal')).where('i.customer_id', 'in', ids).where('i.status', 'in', [...OPEN]).execute(),
    db.selectFrom('promises_to_pay').select(['customer_id', (e) => e.fn.countAll<number>().as('n')]).where('customer_id', 'in', ids).where('status', '=', 'broken').where('resolved_on', '>=', from).where('resolved_on', '<=', asOf).groupBy('customer_id').execute(),
    db.selectFrom('orders').select(['id', 'customer_id', 'status']).where('customer_id', 'in', ids).where('status', 'not in', [...DONE_ORDERS]).orderBy('id').execute(),
  ]);
  for (const r of sales) out.sales.set(r.customer_id, { minor: Number(r.s), n: Number(r.n) });
  for (const r of settled) {
    const s = out.speed.get(r.customer_id) ?? { n: 0, weight: 0, toPay: 0, late: 0 };
    const w = Number(r.total_minor);
    s.n += 1;
    s.weight += w;
    s.toPay += w * daysBetween(r.invoice_date, r.settled_date!);
    s.late += w * daysBetween(r.due_date, r.settled_date!);
    out.speed.set(r.customer_id, s);
  }
  for (const r of open) {
    const bal = Number(r.bal);
    if (bal <= 0) continue;
    const s = out.open.get(r.customer_id) ?? { open: 0, overdue: 0, oldestDue: null };
    s.open += bal;
    if (r.due_date < asOf) {
      s.overdue += bal;
      if (s.oldestDue === null || r.due_date < s.oldestDue) s.oldestDue = r.due_date;
    }
    out.open.set(r.customer_id, s);
  }
  for (const r of broken) out.broken.set(r.customer_id, Number(r.n));
  for (const o of orders) out.orders.set(o.customer_id, [...(out.orders.get(o.customer_id) ?? []), { id: o.id, status: o.status }]);
  return out;
}

/** The whole portfolio summed per currency: customers, sales in the window, open, overdue, broken promises. */
async function portfolioTotals(core: Core, rep: string, asOf: string, from: string): Promise<PortfolioTotal[]> {
  const db = core.db.kysely;
  const mine = db.selectFrom('customers').select('id').where('sales_rep', '=', rep);
  const [customers, sales, open, broken] = await Promise.all([
    db.selectFrom('customers').select(['currency', (e) => e.fn.countAll<number>().as('n')]).where('sales_rep', '=', rep).groupBy('currency').execute(),
    db.selectFrom('invoices').select(['currency', (e) => e.fn.sum<number>('total_minor').as('s')]).where('customer_id', 'in', mine).where('status', '!=', 'cancelled').where('invoice_date', '>=', from).where('invoice_date', '<=', asOf).groupBy('currency').execute(),
    db.selectFrom('invoices as i').select(['i.currency', 'i.due_date']).select(balanceSql.as('bal')).where('i.customer_id', 'in', mine).where('i.status', 'in', [...OPEN]).execute(),
    db.selectFrom('promises_to_pay').select(['currency', (e) => e.fn.countAll<number>().as('n')]).where('customer_id', 'in', mine).where('status', '=', 'broken').where('resolved_on', '>=', from).where('resolved_on', '<=', asOf).groupBy('currency').execute(),
  ]);
  const totals = new Map<string, PortfolioTotal>();
  const of = (currency: string) => totals.get(currency) ?? totals.set(currency, { currency, customers: 0, salesMinor: 0, openMinor: 0, overdueMinor: 0, brokenPromises: 0 }).get(currency)!;
  for (const r of customers) of(r.currency).customers = Number(r.n);
  for (const r of sales) of(r.currency).salesMinor = Number(r.s);
  for (const r of open) {
    const bal = Number(r.bal);
    if (bal <= 0) continue;
    const t = of(r.currency);
    t.openMinor += bal;
    if (r.due_date < asOf) t.overdueMinor += bal;
  }
  for (const r of broken) of(r.currency).brokenPromises = Number(r.n);
  return [...totals.values()].sort((a, b) => a.currency.localeCompare(b.currency));
}
