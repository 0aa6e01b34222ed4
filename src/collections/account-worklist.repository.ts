import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { Db } from '../db/connection.ts';

/**
 * The reads behind the account-level worklist. The heavy part — every open invoice of every
 * customer — is summed per customer inside the database, so a request moves one row per
 * customer, not one per invoice; the few invoices under a promise or a dispute, and the
 * details of the accounts on the page, are read by id.
 */

const OPEN = ['open', 'partially_paid'] as const;

/** An open invoice's balance today: total less credit notes, live allocations and write-offs. */
const balanceSql = sql<number>`(i.total_minor
  - coalesce((select sum(cn.amount_minor) from credit_notes cn where cn.invoice_id = i.id), 0)
  - coalesce((select sum(pa.amount_minor) from payment_allocations pa where pa.invoice_id = i.id and pa.reversed = 0), 0)
  - coalesce((select sum(w.amount_minor) from write_offs w where w.invoice_id = i.id), 0))`;

/** Whole days since 1970-01-01 of a `YYYY-MM-DD` column, as an integer, on either database. */
const dayNumber = (dialect: Db['dialect'], column: RawBuilder<unknown>): RawBuilder<number> =>
  dialect === 'postgres' ? sql<number>`(cast(${column} as date) - date '1970-01-01')` : sql<number>`cast(julianday(${column}) - 2440587.5 as integer)`;

/** Whole days since 1970-01-01 of a business date. */
export const epochDay = (date: string): number => Math.round(Date.parse(`${date}T00:00:00Z`) / 86_400_000);

export interface AccountTotalsRow {
  customerId: number;
  name: string;
  collector: string | null;
  currency: string;
  riskClass: string | null;
  openItems: number;
  openMinor: number;
  overdueItems: number;
  overdueMinor: number;
  oldestDue: string | null;
  /** Σ balance × epoch day of due date, over the overdue items (the day-weighted measure is derived from it). */
  overdueBalanceDays: number;
}

/**
 * One row per customer with an open balance: what is open, what is overdue on `asOf`, since
 * when. Two grouped reads instead of a balance per invoice: the open invoices' totals, and
 * what has been taken off them — credit notes, write-offs, and the live allocations of the
 * partly paid ones (an invoice with money applied and a balance left is `partially_paid`,
 * `settleStatus` keeps it so; an `open` one has none).
 */
export async function accountTotals(db: Kysely<Database>, dialect: Db['dialect'], asOf: string, collector: string | null): Promise<AccountTotalsRow[]> {
  const due = dayNumber(dialect, sql`i.due_date`);
  const mine = collector === null ? sql`` : sql`and i.customer_id in (select id from customers where collector = ${collector})`;
  const open = sql`i.status in (${sql.join([...OPEN])}) ${mine}`;
  const overdue = sql`i.due_date < ${asOf}`;
  type Sums = { customer_id: number; name: string; collector: string | null; currency: string; risk_class: string | null; n: number; open_minor: number; overdue_n: number; overdue_minor: number; oldest_due: string | null; overdue_bal_days: number };
  const [totals, taken] = await Promise.all([
    // The customer's name and class come with the sums: one read, not one per thousand accounts.
    sql<Sums>`select c.id as customer_id, c.name, c.collector, c.currency, c.risk_class, t.n, t.open_minor, t.overdue_n, t.overdue_minor, t.oldest_due, t.overdue_bal_days from (
        select i.customer_id, count(*) as n, sum(i.total_minor) as open_minor,
          sum(case when ${overdue} then 1 else 0 end) as overdue_n,
          sum(case when ${overdue} then i.total_minor else 0 end) as overdue_minor,
          min(case when ${overdue} then i.due_date end) as oldest_due,
          sum(case when ${overdue} then i.total_minor * ${due} else 0 end) as overdue_bal_days
        from invoices i where ${open} group by i.customer_id
      ) t join customers c on c.id = t.customer_id`.execute(db),
    // Starts from what was taken off (few rows) and looks each invoice up by id, so the open
    // invoices are not walked a second time.
    sql<{ id: number; customer_id: number; due_date: string; total_minor: number; taken: number; dn: number }>`
      select i.id, i.customer_id, i.due_date, i.total_minor, ${due} as dn, x.taken from (
          select y.invoice_id, sum(y.amount_minor) as taken from (
            select cn.invoice_id, cn.amount_minor from credit_notes cn
            union all select w.invoice_id, w.amount_minor from write_offs w
            union all select pa.invoice_id, pa.amount_minor from payment_allocations pa join invoices pi on pi.id = pa.invoice_id where pi.status = 'partially_paid' and pa.reversed = 0
          ) y group by y.invoice_id
        ) x cross join invoices i
      where i.id = x.invoice_id and ${open}`.execute(db),
  ]);
  const byCustomer = new Map(totals.rows.map((r) => [Number(r.customer_id), { n: Number(r.n), open: Number(r.open_minor), overdueN: Number(r.overdue_n), overdue: Number(r.overdue_minor), oldest: r.oldest_due, days: Number(r.overdue_bal_days) }]));
  const customers = new Map(totals.rows.map((r) => [Number(r.customer_id), r]));
  // An invoice with something taken off: its balance replaces its total (and leaves the counts when nothing is left).
  for (const r of taken.rows) {
    const s = byCustomer.get(Number(r.customer_id));
    if (!s) continue;
    const total = Number(r.total_minor);
    const off = Math.min(Number(r.taken), total);
    const late = r.due_date < asOf;
    s.open -= off;
    if (late) {
      s.overdue -= off;
      s.days -= off * Number(r.dn);
    }
    if (off === total) {
      s.n -= 1;
      if (late) s.overdueN -= 1;
    }
  }
  const ids = [...byCustomer.keys()].filter((id) => byCustomer.get(id)!.n > 0);
  return ids.map((id) => {
    const s = byCustomer.get(id)!;
    const c = customers.get(id)!;
    return { customerId: id, name: c.name, collector: c.collector, currency: c.currency, riskClass: c.risk_class, openItems: s.n, openMinor: s.open, overdueItems: s.overdueN, overdueMinor: s.overdue, oldestDue: s.overdueN > 0 ? s.oldest : null, overdueBalanceDays: s.days };
  });
}

export interface HeldItem {
  invoiceId: number;
  customerId: number;
  dueDate: string;
  balanceMinor: number;
  /** The standing promise's date, when the invoice is under one. */
  promisedDate: string | null;
  disputed: boolean;
}

/** Open invoices under a standing promise (status open) or an open dispute, with their balance today. */
export async function heldItems(db: Kysely<Database>, collector: string | null): Promise<HeldItem[]> {
  const promised = await db
    .selectFrom('promises_to_pay as p')
    .innerJoin('promise_invoices as pi', 'pi.promise_id', 'p.id')
    .select(['pi.invoice_id', 'p.promised_date'])
    .where('p.status', '=', 'open')
    .execute();
  const disputed = await db.selectFrom('disputes').select('invoice_id').where('status', '=', 'open').execute();
  const promiseOf = new Map<number, string>();
  for (const p of promised) {
    const seen = promiseOf.get(p.invoice_id);
    if (!seen || p.promised_date < seen) promiseOf.set(p.invoice_id, p.promised_date);
  }
  const disputedIds = new Set(disputed.map((d) => d.invoice_id));
  const ids = [...new Set([...promiseOf.keys(), ...disputedIds])];
  const out: HeldItem[] = [];
  for (let k = 0; k < ids.length; k += 500) {
    let q = db
      .selectFrom('invoices as i')
      .innerJoin('customers as c', 'c.id', 'i.customer_id')
      .select(['i.id', 'i.customer_id', 'i.due_date'])
      .select(balanceSql.as('bal'))
      .where('i.id', 'in', ids.slice(k, k + 500))
      .where('i.status', 'in', [...OPEN]);
    if (collector !== null) q = q.where('c.collector', '=', collector);
    for (const r of await q.execute()) {
      const bal = Number(r.bal);
      if (bal > 0) out.push({ invoiceId: r.id, customerId: r.customer_id, dueDate: r.due_date, balanceMinor: bal, promisedDate: promiseOf.get(r.id) ?? null, disputed: disputedIds.has(r.id) });
    }
  }
  return out;
}

/** Share of each customer's resolved promises that were kept (customers without one are absent). */
export async function promiseReliabilityOf(db: Kysely<Database>, customerIds: number[]): Promise<Map<number, number>> {
  const counts = new Map<number, { kept: number; broken: number }>();
  for (let k = 0; k < customerIds.length; k += 500) {
    const rows = await db.selectFrom('promises_to_pay').select(['customer_id', 'status']).where('status', 'in', ['kept', 'broken']).where('customer_id', 'in', customerIds.slice(k, k + 500)).execute();
    for (const r of rows) {
      const c = counts.get(r.customer_id) ?? { kept: 0, broken: 0 };
      if (r.status === 'kept') c.kept++;
      else c.broken++;
      counts.set(r.customer_id, c);
    }
  }
  return new Map([...counts].map(([id, c]) => [id, c.kept / (c.kept + c.broken)]));
}

/** Customers who broke a promise since `since` (one grouped read; the ranking needs them all). */
export async function brokenPromisesSince(db: Kysely<Database>, since: string, collector: string | null): Promise<Set<number>> {
  let q = db.selectFrom('promises_to_pay as p').innerJoin('customers as c', 'c.id', 'p.customer_id').select('p.customer_id').distinct().where('p.status', '=', 'broken').where('p.resolved_on', '>=', since);
  if (collector !== null) q = q.where('c.collector', '=', collector);
  return new Set((await q.execute()).map((r) => r.customer_id));
}

/**
 * Amount at risk per customer and per invoice from the published forecasts
 * (`invoice_forecasts`, replaced whole by each forecast run), over invoices still open; null
 * when nothing is published. An open invoice the forecast has not seen (issued since) that is
 * overdue on `asOf` has its whole balance at risk, as on the invoice-level worklist; one not
 * yet due has none known.
 */
export async function atRiskByCustomer(db: Kysely<Database>, collector: string | null, asOf: string): Promise<{ asOf: string; byCustomer: Map<number, number>; byInvoice: Map<number, number> } | null> {
  const latest = await db.selectFrom('invoice_forecasts').select((e) => e.fn.max('as_of').as('as_of')).executeTakeFirst();
  const forecastAsOf = latest?.as_of ?? null;
  if (forecastAsOf === null) return null;
  const mine = db.selectFrom('customers').select('id').where('collector', '=', collector ?? '');
  let q = db
    .selectFrom('invoice_forecasts as f')
    .innerJoin('invoices as i', 'i.id', 'f.invoice_id')
    .select(['f.invoice_id', 'i.customer_id', 'f.amount_at_risk_minor'])
    .where('i.status', 'in', [...OPEN]);
  if (collector !== null) q = q.where('i.customer_id', 'in', mine);
  let unseen = db
    .selectFrom('invoices as i')
    .select(['i.id as invoice_id', 'i.customer_id'])
    .select(balanceSql.as('amount_at_risk_minor'))
    .where('i.status', 'in', [...OPEN])
    .where('i.due_date', '<', asOf)
    .where((eb) => eb.not(eb.exists(eb.selectFrom('invoice_forecasts as f').select('f.invoice_id').whereRef('f.invoice_id', '=', 'i.id'))));
  if (collector !== null) unseen = unseen.where('i.customer_id', 'in', mine);
  const byCustomer = new Map<number, number>();
  const byInvoice = new Map<number, number>();
  for (const r of [...(await q.execute()), ...(await unseen.execute())]) {
    const v = Math.max(0, Number(r.amount_at_risk_minor));
    byInvoice.set(r.invoice_id, v);
    byCustomer.set(r.customer_id, (byCustomer.get(r.customer_id) ?? 0) + v);
  }
  return { asOf: String(forecastAsOf).slice(0, 10), byCustomer, byInvoice };
}

export interface AccountDetails {
  oldest: Map<number, { number: string; dueDate: string; balanceMinor: number }>;
  lastContact: Map<number, { kind: string; date: string; note: string | null; actor: string }>;
  nextPromise: Map<number, { date: string; amountMinor: number; promiseId: number }>;
  disputes: Map<number, { count: number; amountMinor: number }>;
  dunningLevel: Map<number, number>;
}

/** What the page shows beside each account, read for the accounts on the page only. */
export async function accountDetails(db: Kysely<Database>, customerIds: number[]): Promise<AccountDetails> {
  const out: AccountDetails = { oldest: new Map(), lastContact: new Map(), nextPromise: new Map(), disputes: new Map(), dunningLevel: new Map() };
  if (customerIds.length === 0) return out;
  const ids = customerIds;
  const [oldest, contacts, promises, disputes, levels] = await Promise.all([
    db.selectFrom('invoices as i').select(['i.customer_id', 'i.number', 'i.due_date', 'i.id']).select(balanceSql.as('bal')).where('i.customer_id', 'in', ids).where('i.status', 'in', [...OPEN]).orderBy('i.due_date').orderBy('i.id').execute(),
    db.selectFrom('collection_actions').select(['customer_id', 'kind', 'action_date', 'note', 'actor', 'id']).where('customer_id', 'in', ids).where('id', 'in', db.selectFrom('collection_actions').select((e) => e.fn.max('id').as('m')).where('customer_id', 'in', ids).groupBy('customer_id')).execute(),
    db.selectFrom('promises_to_pay').select(['id', 'customer_id', 'promised_date', 'amount_minor']).where('customer_id', 'in', ids).where('status', '=', 'open').orderBy('promised_date').orderBy('id').execute(),
    db.selectFrom('disputes').select(['customer_id', 'amount_minor']).where('customer_id', 'in', ids).where('status', '=', 'open').execute(),
    db.selectFrom('dunning_notices as d').innerJoin('invoices as i', 'i.id', 'd.invoice_id').select(['d.customer_id', (e) => e.fn.max('d.level').as('level')]).where('d.customer_id', 'in', ids).where('i.status', 'in', [...OPEN]).groupBy('d.customer_id').execute(),
  ]);
  for (const r of oldest) if (!out.oldest.has(r.customer_id) && Number(r.bal) > 0) out.oldest.set(r.customer_id, { number: r.number, dueDate: r.due_date, balanceMinor: Number(r.bal) });
  for (const r of contacts) out.lastContact.set(r.customer_id, { kind: r.kind, date: r.action_date, note: r.note, actor: r.actor });
  for (const r of promises) if (!out.nextPromise.has(r.customer_id)) out.nextPromise.set(r.customer_id, { date: r.promised_date, amountMinor: Number(r.amount_minor), promiseId: r.id });
  for (const r of disputes) {
    const d = out.disputes.get(r.customer_id) ?? { count: 0, amountMinor: 0 };
    out.disputes.set(r.customer_id, { count: d.count + 1, amountMinor: d.amountMinor + Number(r.amount_minor) });
  }
  for (const r of levels) out.dunningLevel.set(r.customer_id, Number(r.level));
  return out;
}
