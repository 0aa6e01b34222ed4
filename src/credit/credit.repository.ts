import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { maintainedExposure, type ExposureFigures } from '../exposure/exposure.repository.ts';
import { flushExposure } from '../exposure/exposure.workflow.ts';
import { prepared } from '../db/prepared.ts';

export type { ExposureFigures } from '../exposure/exposure.repository.ts';

/**
 * The figures the credit check rests on, for one customer on one day: the maintained
 * exposure row (its cost does not grow with the customer's history) and the overdue figures
 * from the open invoices past due. `excludeOrderId` leaves one order's unbilled amount out;
 * `lock` takes the row for update (PostgreSQL), as a check that decides on it does.
 */
export function exposureFigures(db: Kysely<Database>, customerId: number, today: string, excludeOrderId?: number, lock = false): Promise<ExposureFigures> {
  return maintainedExposure(db, customerId, today, { excludeOrderId, lock });
}

/**
 * The pattern of a dunning level's actions that hold credit, written into the SQL as a
 * literal: SQLite re-prepares a statement whenever a parameter on the right of LIKE is bound
 * (its plan may depend on the pattern), so a bound pattern cost a fresh prepare on every check.
 */
const HOLDS_CREDIT = sql.lit('%credit_hold%');

// Built once (src/db/prepared.ts): every credit check reads it.
const finalNotices = prepared((db, _d, customerId: number) =>
  db
    .selectFrom('dunning_notices as n')
    .innerJoin('invoices as i', 'i.id', 'n.invoice_id')
    .select('i.number')
    .where('n.customer_id', '=', customerId)
    .where('n.actions', 'like', HOLDS_CREDIT)
    .where('i.status', 'in', ['open', 'partially_paid']),
);

/**
 * The customer's row for a credit check, and whether an open invoice of theirs reached a
 * dunning level whose actions include `credit_hold` (`final_notice`: the condition of
 * `finalNotices`, as an exists beside the row). Most customers have none: the check then
 * needs no further statement for the rule; one who has reads the invoices' numbers.
 */
export const customerForCreditCheck = prepared((db, _d, customerId: number) =>
  db
    .selectFrom('customers as c')
    .selectAll('c')
    .select((eb) =>
      eb
        .exists(
          eb
            .selectFrom('dunning_notices as n')
            .innerJoin('invoices as i', 'i.id', 'n.invoice_id')
            .select('n.id')
            .whereRef('n.customer_id', '=', 'c.id')
            .where('n.actions', 'like', HOLDS_CREDIT)
            .where('i.status', 'in', ['open', 'partially_paid']),
        )
        .as('final_notice'),
    )
    .where('c.id', '=', customerId),
);

/** Open invoices of a customer that reached a dunning level whose actions include `credit_hold`. */
export async function finalNoticeInvoices(db: Kysely<Database>, customerId: number): Promise<string[]> {
  // Distinct and in order here, not in SQL: the rows are few (none for most customers), while
  // SQLite's DISTINCT and ORDER BY each open a temporary b-tree on every credit check.
  const rows = await finalNotices.execute(db, customerId);
  return [...new Set(rows.map((r) => r.number))].sort();
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

/**
 * The customer's payments not yet applied to invoices, in minor units: the maintained figure
 * (`customer_exposure`), so recording a payment does not read every payment the customer made.
 */
export async function unappliedCashMinor(db: Kysely<Database>, customerId: number): Promise<number> {
  await flushExposure(db);
  const row = await db.selectFrom('customer_exposure').select('unapplied_cash_minor').where('customer_id', '=', customerId).executeTakeFirst();
  return Number(row?.unapplied_cash_minor ?? 0);
}
