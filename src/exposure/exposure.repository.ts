import type { ExpressionBuilder, Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { daysBetween } from '../shared/dates.ts';
import { prepared } from '../db/prepared.ts';
import { flushExposure, OPEN_INVOICE_STATUSES, syncExposureNow, UNBILLED_STATUSES } from './exposure.workflow.ts';

/** The running sums of a customer's exposure, in minor units. */
export interface ExposureSums {
  openArMinor: number;
  unappliedCashMinor: number;
  unbilledMinor: number;
}

/** The sums and the overdue figures the credit check rests on, for one customer on one day. */
export interface ExposureFigures extends ExposureSums {
  overdueMinor: number;
  oldestDaysOverdue: number;
}

// The credit check's reads, built once (src/db/prepared.ts).
/**
 * The customer's row with the overdue figures beside it, in one statement: the items of its
 * open invoices past due (the items are written with the row, so a customer without a row
 * has none). `lock` takes the row for update (PostgreSQL locks the row of the outer query only).
 */
const rowWithOverdue = (lock: boolean) =>
  prepared((db, _d, customerId: number, today: string) => {
    const pastDue = (eb: ExpressionBuilder<Database & { ce: Database['customer_exposure'] }, 'ce'>) =>
      eb
        .selectFrom('customer_exposure_items as x')
        .innerJoin('invoices as i', 'i.id', 'x.entity_id')
        .whereRef('x.customer_id', '=', 'ce.customer_id')
        .where('x.kind', '=', 'invoice')
        .where('i.due_date', '<', today);
    const q = db
      .selectFrom('customer_exposure as ce')
      .selectAll('ce')
      .select((eb) => [
        pastDue(eb).select((e) => e.fn.coalesce(e.fn.sum<number>('x.amount_minor'), e.lit(0)).as('s')).as('overdue'),
        pastDue(eb).select((e) => e.fn.min<string>('i.due_date').as('m')).as('oldest'),
      ])
      .where('ce.customer_id', '=', customerId);
    return lock ? q.forUpdate() : q;
  });
const exposureRow = rowWithOverdue(false);
const exposureRowForUpdate = rowWithOverdue(true);
const orderItem = prepared((db, _d, orderId: number) => db.selectFrom('customer_exposure_items').select('amount_minor').where('kind', '=', 'order').where('entity_id', '=', orderId));
const overdueItems = prepared((db, _d, customerId: number, today: string) =>
  db
    .selectFrom('customer_exposure_items as x')
    .innerJoin('invoices as i', 'i.id', 'x.entity_id')
    .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('x.amount_minor'), eb.lit(0)).as('overdue'), eb.fn.min<string>('i.due_date').as('oldest')])
    .where('x.customer_id', '=', customerId)
    .where('x.kind', '=', 'invoice')
    .where('i.due_date', '<', today),
);

/**
 * A customer's exposure as maintained (`customer_exposure`): one row, and beside it in the
 * same statement the overdue figures from the open invoices past due (their items, so only
 * what is open is read).
 * `excludeOrderId` leaves one order's unbilled amount out. `lock` (PostgreSQL) takes the
 * row for update, for a check that decides on it.
 */
export async function maintainedExposure(db: Kysely<Database>, customerId: number, today: string, options: { excludeOrderId?: number; lock?: boolean } = {}): Promise<ExposureFigures> {
  await flushExposure(db);
  const row = await (options.lock ? exposureRowForUpdate : exposureRow).first(db, customerId, today);
  let unbilled = Number(row?.unbilled_minor ?? 0);
  if (options.excludeOrderId !== undefined) {
    const own = await orderItem.first(db, options.excludeOrderId);
    unbilled -= Number(own?.amount_minor ?? 0);
  }
  // Read on their own only for a customer without a row (nothing counted yet: none overdue).
  const late = row ?? (await overdueItems.first(db, customerId, today));
  return {
    openArMinor: Number(row?.open_ar_minor ?? 0),
    unappliedCashMinor: Number(row?.unapplied_cash_minor ?? 0),
    unbilledMinor: unbilled,
    overdueMinor: Number(late?.overdue ?? 0),
    oldestDaysOverdue: late?.oldest ? Math.max(0, daysBetween(late.oldest, today)) : 0,
  };
}

/**
 * The same figures recomputed from the whole history of the customer's invoices, payments and
 * orders, independently of the maintained tables: what the check did before they existed,
 * now the yardstick `verifyExposure` and the tests hold the maintained row to.
 */
export async function exposureFromHistory(db: Kysely<Database>, customerId: number, today: string): Promise<ExposureFigures> {
  const invoices = await db
    .selectFrom('invoices as i')
    .select((eb) => [
      'i.due_date',
      'i.total_minor',
      eb.selectFrom('credit_notes as cn').select((e) => e.fn.coalesce(e.fn.sum<number>('cn.amount_minor'), e.lit(0)).as('s')).whereRef('cn.invoice_id', '=', 'i.id').as('credited'),
      eb.selectFrom('payment_allocations as pa').select((e) => e.fn.coalesce(e.fn.sum<number>('pa.amount_minor'), e.lit(0)).as('s')).whereRef('pa.invoice_id', '=', 'i.id').where('pa.reversed', '=', 0).as('paid'),
      eb.selectFrom('write_offs as w').select((e) => e.fn.coalesce(e.fn.sum<number>('w.amount_minor'), e.lit(0)).as('s')).whereRef('w.invoice_id', '=', 'i.id').as('written_off'),
    ])
    .where('i.customer_id', '=', customerId)
    .where('i.status', 'in', [...OPEN_INVOICE_STATUSES])
    .execute();
  let openAr = 0;
  let overdue = 0;
  let oldest = 0;
  for (const i of invoices) {
    const balance = i.total_minor - Number(i.credited ?? 0) - Number(i.paid ?? 0) - Number(i.written_off ?? 0);
    if (balance <= 0) continue;
    openAr += balance;
    const late = daysBetween(i.due_date, today);
    if (late > 0) {
      overdue += balance;
      oldest = Math.max(oldest, late);
    }
  }
  const payments = await db
    .selectFrom('payments as p')
    .select((eb) => ['p.amount_minor', eb.selectFrom('payment_allocations as pa').select((e) => e.fn.coalesce(e.fn.sum<number>('pa.amount_minor'), e.lit(0)).as('s')).whereRef('pa.payment_id', '=', 'p.id').where('pa.reversed', '=', 0).as('applied')])
    .where('p.customer_id', '=', customerId)
    .where('p.status', '=', 'received')
    .execute();
  const unapplied = payments.reduce((s, p) => s + Math.max(0, p.amount_minor - Number(p.applied ?? 0)), 0);
  const orders = await db
    .selectFrom('orders as o')
    .select((eb) => ['o.total_minor', eb.selectFrom('invoices as i').select((e) => e.fn.coalesce(e.fn.sum<number>('i.total_minor'), e.lit(0)).as('s')).whereRef('i.order_id', '=', 'o.id').where('i.status', '!=', 'cancelled').as('invoiced')])
    .where('o.customer_id', '=', customerId)
    .where('o.status', 'in', [...UNBILLED_STATUSES])
    .execute();
  const unbilled = orders.reduce((s, o) => s + Math.max(0, o.total_minor - Number(o.invoiced ?? 0)), 0);
  return { openArMinor: openAr, unappliedCashMinor: unapplied, unbilledMinor: unbilled, overdueMinor: overdue, oldestDaysOverdue: oldest };
}

/** Every customer's id, in order (the verification and the rebuild walk them). */
export async function customerIds(db: Kysely<Database>): Promise<number[]> {
  return (await db.selectFrom('customers').select('id').orderBy('id').execute()).map((r) => r.id);
}

/**
 * Recomputes one customer's maintained exposure from scratch (inside a transaction): the
 * items and the row are dropped, then every invoice, payment and order of the customer is
 * taken through `syncExposureNow` again, a chunk at a time (what the running change had
 * gathered is brought in first).
 */
export async function rebuildCustomerExposure(db: Kysely<Database>, customerId: number): Promise<void> {
  await flushExposure(db);
  await db.deleteFrom('customer_exposure_items').where('customer_id', '=', customerId).execute();
  await db.deleteFrom('customer_exposure').where('customer_id', '=', customerId).execute();
  await db.insertInto('customer_exposure').values({ customer_id: customerId, open_ar_minor: 0, unapplied_cash_minor: 0, unbilled_minor: 0 }).execute();
  const ids = async (table: 'orders' | 'invoices' | 'payments') => (await db.selectFrom(table).select('id').where('customer_id', '=', customerId).orderBy('id').execute()).map((r) => r.id);
  const chunks = (list: number[]) => Array.from({ length: Math.ceil(list.length / 500) }, (_, k) => list.slice(k * 500, k * 500 + 500));
  for (const c of chunks(await ids('orders'))) await syncExposureNow(db, { orders: c });
  for (const c of chunks(await ids('invoices'))) await syncExposureNow(db, { invoices: c });
  for (const c of chunks(await ids('payments'))) await syncExposureNow(db, { payments: c });
}
