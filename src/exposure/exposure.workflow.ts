import { sql, type Kysely } from 'kysely';
import type { Database, ExposureKind } from '../db/schema.ts';
import { atChangeEnd } from '../core.ts';
import { prepared } from '../db/prepared.ts';

/** The rows a change wrote that may move a customer's exposure. */
export interface ExposureTouch {
  orders?: readonly number[];
  invoices?: readonly number[];
  payments?: readonly number[];
}

/** Order statuses whose not-yet-invoiced total counts against the credit limit (unbilled). */
export const UNBILLED_STATUSES = ['approved', 'partially_shipped', 'shipped', 'delivered'] as const;
/** Invoice statuses whose balance counts as open receivables. */
export const OPEN_INVOICE_STATUSES = ['open', 'partially_paid'] as const;

const COLUMN: Record<ExposureKind, 'open_ar_minor' | 'unapplied_cash_minor' | 'unbilled_minor'> = {
  invoice: 'open_ar_minor',
  payment: 'unapplied_cash_minor',
  order: 'unbilled_minor',
};

interface Contribution {
  kind: ExposureKind;
  id: number;
  customerId: number;
  amount: number;
  /** What is stored for the row now (0 when it has no item). */
  was: number;
}

const unique = (ids: readonly number[] | undefined) => [...new Set(ids ?? [])];

const orderContributions = (db: Kysely<Database>) =>
  db
    .selectFrom('orders as o')
    .leftJoin('customer_exposure_items as x', (join) => join.onRef('x.entity_id', '=', 'o.id').on('x.kind', '=', 'order'))
    .select((eb) => [
      'x.amount_minor as stored_minor',
      'o.id',
      'o.customer_id',
      'o.status',
      'o.total_minor',
      eb.selectFrom('invoices as i').select((e) => e.fn.coalesce(e.fn.sum<number>('i.total_minor'), e.lit(0)).as('s')).whereRef('i.order_id', '=', 'o.id').where('i.status', '!=', 'cancelled').as('invoiced_minor'),
    ]);
const invoiceContributions = (db: Kysely<Database>) =>
  db
    .selectFrom('invoices as i')
    .leftJoin('customer_exposure_items as x', (join) => join.onRef('x.entity_id', '=', 'i.id').on('x.kind', '=', 'invoice'))
    .select((eb) => [
      'x.amount_minor as stored_minor',
      'i.id',
      'i.customer_id',
      'i.status',
      'i.total_minor',
      eb.selectFrom('credit_notes as cn').select((e) => e.fn.coalesce(e.fn.sum<number>('cn.amount_minor'), e.lit(0)).as('s')).whereRef('cn.invoice_id', '=', 'i.id').as('credited_minor'),
      eb.selectFrom('payment_allocations as pa').select((e) => e.fn.coalesce(e.fn.sum<number>('pa.amount_minor'), e.lit(0)).as('s')).whereRef('pa.invoice_id', '=', 'i.id').where('pa.reversed', '=', 0).as('paid_minor'),
      eb.selectFrom('write_offs as w').select((e) => e.fn.coalesce(e.fn.sum<number>('w.amount_minor'), e.lit(0)).as('s')).whereRef('w.invoice_id', '=', 'i.id').as('written_off_minor'),
    ]);
const paymentContributions = (db: Kysely<Database>) =>
  db
    .selectFrom('payments as p')
    .leftJoin('customer_exposure_items as x', (join) => join.onRef('x.entity_id', '=', 'p.id').on('x.kind', '=', 'payment'))
    .select((eb) => [
      'x.amount_minor as stored_minor',
      'p.id',
      'p.customer_id',
      'p.status',
      'p.amount_minor',
      eb.selectFrom('payment_allocations as pa').select((e) => e.fn.coalesce(e.fn.sum<number>('pa.amount_minor'), e.lit(0)).as('s')).whereRef('pa.payment_id', '=', 'p.id').where('pa.reversed', '=', 0).as('applied_minor'),
    ]);
// One touched row of a kind is the common case (a change moves one order, one invoice, one
// payment): that statement is built once (src/db/prepared.ts); a list is built per call.
const orderNow = prepared((db, _d, id: number) => orderContributions(db).where('o.id', '=', id));
const invoiceNow = prepared((db, _d, id: number) => invoiceContributions(db).where('i.id', '=', id));
const paymentNow = prepared((db, _d, id: number) => paymentContributions(db).where('p.id', '=', id));
const deleteItem = prepared((db, _d, kind: ExposureKind, id: number) => db.deleteFrom('customer_exposure_items').where('kind', '=', kind).where('entity_id', '=', id));
const upsertItem = prepared((db, _d, kind: ExposureKind, id: number, customerId: number, amount: number) =>
  db
    .insertInto('customer_exposure_items')
    .values({ kind, entity_id: id, customer_id: customerId, amount_minor: amount })
    .onConflict((oc) => oc.columns(['kind', 'entity_id']).doUpdateSet({ amount_minor: (eb) => eb.ref('excluded.amount_minor') })),
);
const addToExposure = prepared((db, _d, customerId: number, invoice: number, payment: number, order: number) =>
  db
    .insertInto('customer_exposure')
    .values({ customer_id: customerId, open_ar_minor: invoice, unapplied_cash_minor: payment, unbilled_minor: order })
    .onConflict((oc) =>
      oc.column('customer_id').doUpdateSet({
        [COLUMN.invoice]: sql`customer_exposure.open_ar_minor + excluded.open_ar_minor`,
        [COLUMN.payment]: sql`customer_exposure.unapplied_cash_minor + excluded.unapplied_cash_minor`,
        [COLUMN.order]: sql`customer_exposure.unbilled_minor + excluded.unbilled_minor`,
      }),
    ),
);

/**
 * What each touched row adds to its customer's exposure now, read from the rows (each costs
 * one row and its own children, never the customer's history), beside what is stored for
 * it (`customer_exposure_items`): an open invoice its balance,
 * a received payment its unapplied cash, an approved order its total less what is invoiced.
 */
async function contributions(db: Kysely<Database>, touched: ExposureTouch): Promise<Contribution[]> {
  const out: Contribution[] = [];
  const orders = unique(touched.orders);
  const invoices = unique(touched.invoices);
  const payments = unique(touched.payments);
  if (orders.length > 0) {
    const rows = orders.length === 1 ? await orderNow.execute(db, orders[0]!) : await orderContributions(db).where('o.id', 'in', orders).execute();
    for (const r of rows) {
      const counts = (UNBILLED_STATUSES as readonly string[]).includes(r.status);
      out.push({ kind: 'order', id: r.id, customerId: r.customer_id, amount: counts ? Math.max(0, r.total_minor - Number(r.invoiced_minor ?? 0)) : 0, was: Number(r.stored_minor ?? 0) });
    }
  }
  if (invoices.length > 0) {
    const rows = invoices.length === 1 ? await invoiceNow.execute(db, invoices[0]!) : await invoiceContributions(db).where('i.id', 'in', invoices).execute();
    for (const r of rows) {
      const balance = r.total_minor - Number(r.credited_minor ?? 0) - Number(r.paid_minor ?? 0) - Number(r.written_off_minor ?? 0);
      const open = (OPEN_INVOICE_STATUSES as readonly string[]).includes(r.status);
      out.push({ kind: 'invoice', id: r.id, customerId: r.customer_id, amount: open ? Math.max(0, balance) : 0, was: Number(r.stored_minor ?? 0) });
    }
  }
  if (payments.length > 0) {
    const rows = payments.length === 1 ? await paymentNow.execute(db, payments[0]!) : await paymentContributions(db).where('p.id', 'in', payments).execute();
    for (const r of rows) out.push({ kind: 'payment', id: r.id, customerId: r.customer_id, amount: r.status === 'received' ? Math.max(0, r.amount_minor - Number(r.applied_minor ?? 0)) : 0, was: Number(r.stored_minor ?? 0) });
  }
  return out;
}

/** The rows each running change touched and has not yet brought into its customer's figures, by the change's transaction. */
const gathered = new WeakMap<object, { orders: Set<number>; invoices: Set<number>; payments: Set<number> }>();

/**
 * Brings the maintained exposure (`customer_exposure`, migration 0019) up to date after a
 * change wrote these orders, invoices, payments or their children (allocations, credit notes,
 * write-offs): each row's contribution now is compared with the one stored for it, and the
 * difference is added to its customer's running sums. Call it inside the change's
 * transaction, after the write, from the function that writes: the figures then commit or
 * roll back with the change, and the credit check reads one row instead of the history.
 * Inside a change (`runChange`) the rows are gathered and brought up to date once, at the
 * end of the change (or when the change reads the figures first, `flushExposure`): a
 * shipment that moves its order, issues its invoice and settles it does it once, not three
 * times. Outside one it is done at once. Rows that count nothing before and after cost one
 * read. Adding (`x = x + d`) keeps concurrent changes of one customer from losing each
 * other's difference.
 */
export async function syncExposure(db: Kysely<Database>, touched: ExposureTouch): Promise<void> {
  const deferred = atChangeEnd(db, 'exposure', () => flushExposure(db));
  if (!deferred) return syncExposureNow(db, touched);
  let pending = gathered.get(db);
  // First in this change: rows a failed change on the same transaction left (a group commit's earlier change) were rolled back with it.
  if (!pending || deferred === 'added') gathered.set(db, (pending = { orders: new Set(), invoices: new Set(), payments: new Set() }));
  for (const id of touched.orders ?? []) pending.orders.add(id);
  for (const id of touched.invoices ?? []) pending.invoices.add(id);
  for (const id of touched.payments ?? []) pending.payments.add(id);
}

/**
 * Brings the rows the running change on `db` touched into their customers' figures now;
 * every read of the maintained figures calls it first, so a change that reads its own
 * customer's exposure sees its own writes. Nothing to do outside a change.
 */
export async function flushExposure(db: Kysely<Database>): Promise<void> {
  const pending = gathered.get(db);
  if (!pending) return;
  gathered.delete(db);
  await syncExposureNow(db, { orders: [...pending.orders], invoices: [...pending.invoices], payments: [...pending.payments] });
}

/** `syncExposure` done at once. */
export async function syncExposureNow(db: Kysely<Database>, touched: ExposureTouch): Promise<void> {
  const now = await contributions(db, touched);
  if (now.length === 0) return;
  const deltas = new Map<number, Record<ExposureKind, number>>();
  for (const c of now) {
    const { was } = c;
    if (c.amount === was) continue;
    if (c.amount === 0) await deleteItem.run(db, c.kind, c.id);
    else await upsertItem.run(db, c.kind, c.id, c.customerId, c.amount);
    const d = deltas.get(c.customerId) ?? { invoice: 0, payment: 0, order: 0 };
    d[c.kind] += c.amount - was;
    deltas.set(c.customerId, d);
  }
  for (const [customerId, d] of deltas) {
    await addToExposure.run(db, customerId, d.invoice, d.payment, d.order);
  }
}
