import type { Kysely } from 'kysely';
import { addDays } from '../shared/dates.ts';
import type { Database } from '../db/schema.ts';

/** An invoice with a balance on a given day, as the collections side sees it. */
export interface OpenItem {
  invoice_id: number;
  number: string;
  customer_id: number;
  currency: string;
  invoice_date: string;
  due_date: string;
  total_minor: number;
  balance_minor: number;
}

/**
 * Invoices open on `asOf`, with their balance as it stood that day: issued on or before it,
 * less allocations applied by then (a reversal counts from the day the payment bounced),
 * credit notes and write-offs dated by then. Replaying a past day sees what it saw then.
 */
export async function openItemsAsOf(db: Kysely<Database>, asOf: string, filter: { customerIds?: number[]; invoiceIds?: number[] } = {}): Promise<OpenItem[]> {
  let q = db
    .selectFrom('invoices as i')
    .select(['i.id as invoice_id', 'i.number', 'i.customer_id', 'i.currency', 'i.invoice_date', 'i.due_date', 'i.total_minor'])
    .select((eb) => [
      eb.selectFrom('credit_notes as cn').select((e) => e.fn.coalesce(e.fn.sum<number>('cn.amount_minor'), e.lit(0)).as('s')).whereRef('cn.invoice_id', '=', 'i.id').where('cn.credit_date', '<=', asOf).as('credited'),
      eb
        .selectFrom('payment_allocations as pa')
        .innerJoin('payments as p', 'p.id', 'pa.payment_id')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('pa.amount_minor'), e.lit(0)).as('s'))
        .whereRef('pa.invoice_id', '=', 'i.id')
        .where('pa.applied_on', '<=', asOf)
        .where((e) => e.or([e('pa.reversed', '=', 0), e('p.reversed_at', 'is', null), e('p.reversed_at', '>=', addDays(asOf, 1))]))
        .as('paid'),
      eb.selectFrom('write_offs as w').select((e) => e.fn.coalesce(e.fn.sum<number>('w.amount_minor'), e.lit(0)).as('s')).whereRef('w.invoice_id', '=', 'i.id').where('w.write_off_date', '<=', asOf).as('written'),
    ])
    .where('i.status', '!=', 'cancelled')
    .where('i.invoice_date', '<=', asOf)
    .orderBy('i.customer_id')
    .orderBy('i.due_date')
    .orderBy('i.id');
  if (filter.customerIds) q = q.where('i.customer_id', 'in', filter.customerIds.length ? filter.customerIds : [-1]);
  if (filter.invoiceIds) q = q.where('i.id', 'in', filter.invoiceIds.length ? filter.invoiceIds : [-1]);
  // An invoice settled before the day cannot be open on it; the rest is decided by the sums.
  q = q.where((e) => e.or([e('i.settled_date', 'is', null), e('i.settled_date', '>=', asOf), e('i.status', 'in', ['open', 'partially_paid'])]));
  const rows = await q.execute();
  const out: OpenItem[] = [];
  for (const r of rows) {
    const balance = Number(r.total_minor) - Number(r.credited ?? 0) - Number(r.paid ?? 0) - Number(r.written ?? 0);
    if (balance > 0) out.push({ invoice_id: r.invoice_id, number: r.number, customer_id: r.customer_id, currency: r.currency, invoice_date: r.invoice_date, due_date: r.due_date, total_minor: Number(r.total_minor), balance_minor: balance });
  }
  return out;
}

/** Highest dunning level already announced per invoice. */
export async function sentLevels(db: Kysely<Database>, invoiceIds: number[]): Promise<Map<number, { level: number; noticeDate: string }>> {
  const out = new Map<number, { level: number; noticeDate: string }>();
  for (let i = 0; i < invoiceIds.length; i += 500) {
    const rows = await db.selectFrom('dunning_notices').select(['invoice_id', 'level', 'notice_date']).where('invoice_id', 'in', invoiceIds.slice(i, i + 500)).execute();
    for (const r of rows) {
      const seen = out.get(r.invoice_id);
      if (!seen || r.level > seen.level) out.set(r.invoice_id, { level: r.level, noticeDate: r.notice_date });
    }
  }
  return out;
}

/** Invoices under a dispute that was open on `asOf` (opened by then, not resolved by then). */
export async function disputedOn(db: Kysely<Database>, asOf: string): Promise<Set<number>> {
  const rows = await db
    .selectFrom('disputes')
    .select('invoice_id')
    .where('opened_on', '<=', asOf)
    .where((e) => e.or([e('status', '=', 'open'), e('resolved_on', '>', asOf)]))
    .execute();
  return new Set(rows.map((r) => r.invoice_id));
}

/** Invoices under a promise to pay that was standing on `asOf`: made by then, not yet kept or broken by then. */
export async function promisedOn(db: Kysely<Database>, asOf: string): Promise<Map<number, { promiseId: number; promisedDate: string }>> {
  const rows = await db
    .selectFrom('promises_to_pay as p')
    .innerJoin('promise_invoices as pi', 'pi.promise_id', 'p.id')
    .select(['pi.invoice_id', 'p.id', 'p.promised_date'])
    .where('p.recorded_on', '<=', asOf)
    .where('p.status', '!=', 'cancelled')
    .where((e) => e.or([e('p.status', '=', 'open'), e('p.resolved_on', '>', asOf)]))
    .execute();
  return new Map(rows.map((r) => [r.invoice_id, { promiseId: r.id, promisedDate: r.promised_date }]));
}

/** Sum paid (allocations not reversed) against invoices between two days, inclusive. */
export async function paidBetween(db: Kysely<Database>, invoiceIds: number[], from: string, to: string): Promise<{ paidMinor: number; lastDate: string | null }> {
  if (invoiceIds.length === 0) return { paidMinor: 0, lastDate: null };
  const rows = await db
    .selectFrom('payment_allocations')
    .select(['amount_minor', 'applied_on'])
    .where('invoice_id', 'in', invoiceIds)
    .where('reversed', '=', 0)
    .where('applied_on', '>=', from)
    .where('applied_on', '<=', to)
    .orderBy('applied_on')
    .execute();
  return { paidMinor: rows.reduce((s, r) => s + Number(r.amount_minor), 0), lastDate: rows.at(-1)?.applied_on ?? null };
}

export function findDispute(db: Kysely<Database>, id: number) {
  return db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirst();
}
