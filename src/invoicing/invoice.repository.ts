import type { Kysely } from 'kysely';
import type { Database, InvoiceRow } from '../db/schema.ts';
import { prepared } from '../db/prepared.ts';

/** An invoice with what has happened to it: credited, paid, written off, and what is left. */
export interface InvoiceBalance extends InvoiceRow {
  credited_minor: number;
  paid_minor: number;
  written_off_minor: number;
  balance_minor: number;
}

export interface BalanceFilter {
  customerId?: number;
  invoiceIds?: number[];
  number?: string;
  orderId?: number;
  openOnly?: boolean;
  afterId?: number;
  limit?: number;
}

/**
 * Balances are derived from the log of what was applied (allocations not reversed, credit
 * notes, write-offs), never stored twice: balance = total − credited − paid − written off.
 */
export async function invoiceBalances(db: Kysely<Database>, filter: BalanceFilter = {}): Promise<InvoiceBalance[]> {
  // The two shapes asked per delivery, payment and simulated day run prepared; the same rows either way.
  const keys = Object.keys(filter).filter((k) => filter[k as keyof BalanceFilter] !== undefined);
  if (keys.length === 1 && filter.invoiceIds?.length === 1) {
    const one = await invoiceBalance(db, filter.invoiceIds[0]!);
    return one ? [one] : [];
  }
  if (keys.length === 2 && filter.customerId !== undefined && filter.openOnly === true) return openInvoiceBalances(db, filter.customerId);
  let q = balancesQuery(db);
  if (filter.customerId !== undefined) q = q.where('i.customer_id', '=', filter.customerId);
  if (filter.invoiceIds) q = q.where('i.id', 'in', filter.invoiceIds.length ? filter.invoiceIds : [-1]);
  if (filter.number !== undefined) q = q.where('i.number', '=', filter.number);
  if (filter.orderId !== undefined) q = q.where('i.order_id', '=', filter.orderId);
  if (filter.openOnly) q = q.where('i.status', 'in', ['open', 'partially_paid']);
  if (filter.afterId !== undefined) q = q.where('i.id', '>', filter.afterId);
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  return (await q.execute()).map(withBalance);
}

function balancesQuery(db: Kysely<Database>) {
  return db
    .selectFrom('invoices as i')
    .selectAll('i')
    .select((eb) => [
      eb.selectFrom('credit_notes as cn').select((e) => e.fn.coalesce(e.fn.sum<number>('cn.amount_minor'), e.lit(0)).as('s')).whereRef('cn.invoice_id', '=', 'i.id').as('credited_minor'),
      eb
        .selectFrom('payment_allocations as pa')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('pa.amount_minor'), e.lit(0)).as('s'))
        .whereRef('pa.invoice_id', '=', 'i.id')
        .where('pa.reversed', '=', 0)
        .as('paid_minor'),
      eb.selectFrom('write_offs as w').select((e) => e.fn.coalesce(e.fn.sum<number>('w.amount_minor'), e.lit(0)).as('s')).whereRef('w.invoice_id', '=', 'i.id').as('written_off_minor'),
    ])
    .orderBy('i.due_date')
    .orderBy('i.id');
}

function withBalance(r: InvoiceRow & { credited_minor: unknown; paid_minor: unknown; written_off_minor: unknown }): InvoiceBalance {
  const credited = Number(r.credited_minor ?? 0);
  const paid = Number(r.paid_minor ?? 0);
  const writtenOff = Number(r.written_off_minor ?? 0);
  return {
    ...r,
    credited_minor: credited,
    paid_minor: paid,
    written_off_minor: writtenOff,
    balance_minor: r.status === 'cancelled' ? 0 : r.total_minor - credited - paid - writtenOff,
  };
}

// The two balance reads a delivery or a payment makes, built once (src/db/prepared.ts).
const balanceOfInvoice = prepared((db, _d, id: number) => balancesQuery(db).where('i.id', '=', id));
const openBalancesOfCustomer = prepared((db, _d, customerId: number) => balancesQuery(db).where('i.customer_id', '=', customerId).where('i.status', 'in', ['open', 'partially_paid']));

/** One invoice's balance (`invoiceBalances` with `invoiceIds: [id]`), or undefined. */
export async function invoiceBalance(db: Kysely<Database>, id: number): Promise<InvoiceBalance | undefined> {
  const row = await balanceOfInvoice.first(db, id);
  return row && withBalance(row);
}

/** A customer's open and partially paid invoices (`invoiceBalances` with `customerId` and `openOnly`). */
export async function openInvoiceBalances(db: Kysely<Database>, customerId: number): Promise<InvoiceBalance[]> {
  return (await openBalancesOfCustomer.execute(db, customerId)).map(withBalance);
}

/** Unapplied cash of a customer: received payments less what they have paid off. */
export async function unappliedPayments(db: Kysely<Database>, customerId: number) {
  const rows = await receivedPayments.execute(db, customerId);
  return rows
    .map((r) => ({ ...r, applied_minor: Number(r.applied_minor ?? 0), unapplied_minor: r.amount_minor - Number(r.applied_minor ?? 0) }))
    .filter((r) => r.unapplied_minor > 0);
}

const receivedPayments = prepared((db, _d, customerId: number) =>
  db
    .selectFrom('payments as p')
    .selectAll('p')
    .select((eb) =>
      eb
        .selectFrom('payment_allocations as pa')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('pa.amount_minor'), e.lit(0)).as('s'))
        .whereRef('pa.payment_id', '=', 'p.id')
        .where('pa.reversed', '=', 0)
        .as('applied_minor'),
    )
    .where('p.customer_id', '=', customerId)
    .where('p.status', '=', 'received')
    .orderBy('p.payment_date')
    .orderBy('p.id'),
);

/** An invoice by its number, or by the number it had in an imported system. */
export function findInvoiceByNumberOrRef(db: Kysely<Database>, numberOrRef: string): Promise<InvoiceRow | undefined> {
  return db
    .selectFrom('invoices')
    .selectAll()
    .where((eb) => eb.or([eb('number', '=', numberOrRef), eb('external_ref', '=', numberOrRef)]))
    .executeTakeFirst();
}

export function findInvoice(db: Kysely<Database>, id: number): Promise<InvoiceRow | undefined> {
  return db.selectFrom('invoices').selectAll().where('id', '=', id).executeTakeFirst();
}
