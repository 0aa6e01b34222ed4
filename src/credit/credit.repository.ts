import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { daysBetween } from '../shared/dates.ts';
import { invoiceBalances, unappliedPayments } from '../invoicing/invoice.repository.ts';

/** The figures the credit check rests on, for one customer on one day. */
export interface ExposureFigures {
  openArMinor: number;
  unappliedCashMinor: number;
  unbilledMinor: number;
  overdueMinor: number;
  oldestDaysOverdue: number;
}

export async function exposureFigures(db: Kysely<Database>, customerId: number, today: string, excludeOrderId?: number): Promise<ExposureFigures> {
  const open = (await invoiceBalances(db, { customerId, openOnly: true })).filter((i) => i.balance_minor > 0);
  let overdue = 0;
  let oldest = 0;
  for (const inv of open) {
    const late = daysBetween(inv.due_date, today);
    if (late > 0) {
      overdue += inv.balance_minor;
      oldest = Math.max(oldest, late);
    }
  }
  const unapplied = (await unappliedPayments(db, customerId)).reduce((s, p) => s + p.unapplied_minor, 0);
  // Approved orders not yet (fully) invoiced: their total less what has been invoiced.
  let orders = db
    .selectFrom('orders as o')
    .select((eb) => [
      'o.id',
      'o.total_minor',
      eb
        .selectFrom('invoices as i')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('i.total_minor'), e.lit(0)).as('s'))
        .whereRef('i.order_id', '=', 'o.id')
        .where('i.status', '!=', 'cancelled')
        .as('invoiced_minor'),
    ])
    .where('o.customer_id', '=', customerId)
    .where('o.status', 'in', ['approved', 'partially_shipped', 'shipped', 'delivered']);
  if (excludeOrderId !== undefined) orders = orders.where('o.id', '!=', excludeOrderId);
  const unbilled = (await orders.execute()).reduce((s, o) => s + Math.max(0, o.total_minor - Number(o.invoiced_minor ?? 0)), 0);
  return {
    openArMinor: open.reduce((s, i) => s + i.balance_minor, 0),
    unappliedCashMinor: unapplied,
    unbilledMinor: unbilled,
    overdueMinor: overdue,
    oldestDaysOverdue: oldest,
  };
}

/** Open invoices of a customer that reached a dunning level whose actions include `credit_hold`. */
export async function finalNoticeInvoices(db: Kysely<Database>, customerId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('dunning_notices as n')
    .innerJoin('invoices as i', 'i.id', 'n.invoice_id')
    .select('i.number')
    .distinct()
    .where('n.customer_id', '=', customerId)
    .where('n.actions', 'like', '%credit_hold%')
    .where('i.status', 'in', ['open', 'partially_paid'])
    .orderBy('i.number')
    .execute();
  return rows.map((r) => r.number);
}

/**
 * What a customer's unapplied cash already covers: the orders released on prepayment terms
 * (they passed through `awaiting_prepayment`) that are not yet invoiced in full, each for its
 * total less what has been invoiced. `excludeOrderId` leaves one order out.
 */
export async function prepaidNotInvoicedMinor(db: Kysely<Database>, customerId: number, excludeOrderId?: number): Promise<number> {
  let orders = db
    .selectFrom('orders as o')
    .select((eb) => [
      'o.total_minor',
      eb
        .selectFrom('invoices as i')
        .select((e) => e.fn.coalesce(e.fn.sum<number>('i.total_minor'), e.lit(0)).as('s'))
        .whereRef('i.order_id', '=', 'o.id')
        .where('i.status', '!=', 'cancelled')
        .as('invoiced_minor'),
    ])
    .where('o.customer_id', '=', customerId)
    .where('o.status', 'in', ['approved', 'partially_shipped', 'shipped', 'delivered'])
    .where((eb) => eb.exists(eb.selectFrom('order_status_history as h').select('h.id').whereRef('h.order_id', '=', 'o.id').where('h.to_status', '=', 'awaiting_prepayment')));
  if (excludeOrderId !== undefined) orders = orders.where('o.id', '!=', excludeOrderId);
  return (await orders.execute()).reduce((s, o) => s + Math.max(0, o.total_minor - Number(o.invoiced_minor ?? 0)), 0);
}

/** The customer's payments not yet applied to invoices, in minor units. */
export async function unappliedCashMinor(db: Kysely<Database>, customerId: number): Promise<number> {
  return (await unappliedPayments(db, customerId)).reduce((s, p) => s + p.unapplied_minor, 0);
}
