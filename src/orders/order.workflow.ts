import type { ChangeScope, Tx } from '../core.ts';
import { forUpdate, lockCustomer } from '../core.ts';
import type { DialectName } from '../db/connection.ts';
import type { OrderLineRow, OrderRow, OrderStatus, OrderStatusHistoryTable, StockLevelsTable } from '../db/schema.ts';
import type { Selectable } from 'kysely';
import { notFound } from '../shared/errors.ts';
import { assertOrderMove } from './order.state.ts';
import { syncExposure, UNBILLED_STATUSES } from '../exposure/exposure.workflow.ts';
import { prepared, preparedByShape } from '../db/prepared.ts';

type HistoryRow = Selectable<OrderStatusHistoryTable>;
/** An order line with its product's SKU and name, as an order is answered. */
export type OrderLineWithProduct = OrderLineRow & { sku: string; product_name: string };

/** Rows a workflow step changed, for the event's after-image. */
export interface OrderChange {
  orders: OrderRow[];
  order_status_history: HistoryRow[];
  order_lines?: OrderLineRow[];
  stock_levels?: Selectable<StockLevelsTable>[];
}

const STAMP: Partial<Record<OrderStatus, keyof OrderRow>> = {
  submitted: 'submitted_at',
  approved: 'approved_at',
  partially_shipped: 'shipped_at',
  shipped: 'shipped_at',
  delivered: 'delivered_at',
  invoiced: 'invoiced_at',
  paid: 'paid_at',
  cancelled: 'cancelled_at',
};

// The statements every order move sends, built once (src/db/prepared.ts).
const orderForUpdate = prepared((db, dialect, id: number) => forUpdate(db.selectFrom('orders').selectAll().where('id', '=', id), dialect));
const insertHistory = prepared((db, _d, orderId: number, from: OrderStatus | null, to: OrderStatus, reason: string | null, actor: string, at: string) =>
  db.insertInto('order_status_history').values({ order_id: orderId, from_status: from, to_status: to, reason, actor, at }).returningAll(),
);
/** `update orders set <these columns> where id = ? returning *`, one statement per set of columns. */
const updateOrder = preparedByShape((columns: string) =>
  prepared(
    (db, _d, id: number, ...values: unknown[]) =>
      db.updateTable('orders').set(Object.fromEntries(columns.split(',').map((c, i) => [c, values[i]]))).where('id', '=', id).returningAll(),
    1 + columns.split(',').length,
  ),
);
// An order's lines with each line's product, in line order, as an order is answered (`toOrder`):
// reading an order and the approval (which answers the order from these lines) share it.
export const orderLinesInOrder = prepared((db, _d, orderId: number) =>
  db
    .selectFrom('order_lines')
    .innerJoin('products', 'products.id', 'order_lines.product_id')
    .selectAll('order_lines')
    .select(['products.sku', 'products.name as product_name'])
    .where('order_id', '=', orderId)
    .orderBy('line_no'),
);
const stockForUpdate = prepared((db, dialect, productId: number) => forUpdate(db.selectFrom('stock_levels').selectAll().where('product_id', '=', productId), dialect));
const reserveLine = prepared((db, _d, id: number, reserved: number) => db.updateTable('order_lines').set({ reserved_qty: reserved }).where('id', '=', id).returningAll());
const reserveStock = prepared((db, _d, productId: number, reserved: number, at: string) => db.updateTable('stock_levels').set({ reserved, updated_at: at }).where('product_id', '=', productId).returningAll());

export async function lockOrder(trx: Tx, orderId: number, _dialect: DialectName): Promise<OrderRow> {
  const order = await orderForUpdate.first(trx, orderId);
  if (!order) throw notFound('order', orderId);
  return order;
}

/**
 * Takes the lock of the order's customer (see `lockCustomer`) as the first lock of a change
 * that uses their credit or invoices the order; an order's customer never changes, so it is
 * read without a lock. SQLite has one writer and no such lock, so nothing is read there:
 * every caller reads the order itself next (`lockOrder`), which answers not found as this did.
 */
export async function lockCustomerOfOrder(scope: Pick<ChangeScope, 'trx' | 'dialect'>, orderId: number): Promise<void> {
  if (scope.dialect !== 'postgres') return;
  const order = await scope.trx.selectFrom('orders').select('customer_id').where('id', '=', orderId).executeTakeFirst();
  if (!order) throw notFound('order', orderId);
  await lockCustomer(scope, order.customer_id);
}

/**
 * Moves an order to `to` if its state machine allows it, stamps the lifecycle timestamp
 * (first time only, so `shipped_at` is the first shipment), and writes the history row.
 */
export async function moveOrder(trx: Tx, order: OrderRow, to: OrderStatus, at: string, actor: string, reason: string | null = null, why?: string): Promise<{ order: OrderRow; history: HistoryRow }> {
  assertOrderMove(order.id, order.status, to, why);
  const set: Partial<OrderRow> = { status: to, updated_at: at };
  const stamp = STAMP[to];
  if (stamp && (order[stamp] === null || to === 'paid')) (set as Record<string, unknown>)[stamp] = at;
  if (to === 'cancelled') set.cancel_reason = reason;
  if (order.status === 'paid' && to === 'invoiced') set.paid_at = null;
  const columns = Object.keys(set);
  const updated = await updateOrder(columns.join(',')).one(trx, order.id, ...columns.map((c) => (set as Record<string, unknown>)[c]));
  const row = await insertHistory.one(trx, order.id, order.status, to, reason, actor, at);
  // An order counts against credit (unbilled) in these statuses only: a move in or out of them moves the customer's exposure.
  const counts = (s: OrderStatus) => (UNBILLED_STATUSES as readonly string[]).includes(s);
  if (counts(order.status) || counts(to)) await syncExposure(trx, { orders: [order.id] });
  return { order: updated, history: row };
}

/**
 * Reserves free stock for every line of an order at approval; what cannot be reserved is
 * backorder (quantity − shipped − reserved) and waits for receipts. Answers the lines it
 * changed and the stock rows (the event's after-image), and every line of the order as it
 * now stands with its product (`all`, in line order), so the order is answered without
 * reading its lines again.
 */
export async function reserveOrderStock(trx: Tx, orderId: number, at: string, _dialect: DialectName): Promise<{ lines: OrderLineRow[]; stock: Selectable<StockLevelsTable>[]; all: OrderLineWithProduct[] }> {
  const lines = await orderLinesInOrder.execute(trx, orderId);
  const changedLines: OrderLineRow[] = [];
  const stocks: Selectable<StockLevelsTable>[] = [];
  const all: OrderLineWithProduct[] = [];
  for (const line of lines) {
    const stock = await stockForUpdate.one(trx, line.product_id);
    const want = line.quantity - line.shipped_qty - line.reserved_qty;
    const take = Math.max(0, Math.min(want, stock.on_hand - stock.reserved));
    if (take === 0) {
      all.push(line);
      continue;
    }
    const changed = await reserveLine.one(trx, line.id, line.reserved_qty + take);
    changedLines.push(changed);
    all.push({ ...changed, sku: line.sku, product_name: line.product_name });
    stocks.push(await reserveStock.one(trx, line.product_id, stock.reserved + take, at));
  }
  return { lines: changedLines, stock: stocks, all };
}

/** Gives back an order's reservations (cancellation). */
export async function releaseOrderStock(trx: Tx, orderId: number, at: string, dialect: DialectName): Promise<{ lines: OrderLineRow[]; stock: Selectable<StockLevelsTable>[] }> {
  const lines = await trx.selectFrom('order_lines').selectAll().where('order_id', '=', orderId).where('reserved_qty', '>', 0).execute();
  const changedLines: OrderLineRow[] = [];
  const stocks: Selectable<StockLevelsTable>[] = [];
  for (const line of lines) {
    const stock = await forUpdate(trx.selectFrom('stock_levels').selectAll().where('product_id', '=', line.product_id), dialect).executeTakeFirstOrThrow();
    stocks.push(await trx.updateTable('stock_levels').set({ reserved: stock.reserved - line.reserved_qty, updated_at: at }).where('product_id', '=', line.product_id).returningAll().executeTakeFirstOrThrow());
    changedLines.push(await trx.updateTable('order_lines').set({ reserved_qty: 0 }).where('id', '=', line.id).returningAll().executeTakeFirstOrThrow());
  }
  return { lines: changedLines, stock: stocks };
}

/**
 * Derives where an order stands from its lines, shipments and invoices, and moves it there:
 * paid when every line is invoiced and every invoice settled; invoiced when every line is
 * invoiced; delivered when fully shipped and every shipment delivered; shipped when every
 * line has left; partially shipped when some has.
 */
export async function refreshOrderStatus(trx: Tx, orderId: number, at: string, actor: string, dialect: DialectName): Promise<{ order: OrderRow; history: HistoryRow | null }> {
  const order = await lockOrder(trx, orderId, dialect);
  if (['draft', 'submitted', 'credit_hold', 'awaiting_prepayment', 'rejected', 'cancelled'].includes(order.status)) return { order, history: null };
  const lines = await trx.selectFrom('order_lines').select(['quantity', 'shipped_qty', 'invoiced_qty']).where('order_id', '=', orderId).execute();
  const shipments = await trx.selectFrom('shipments').select(['status']).where('order_id', '=', orderId).execute();
  const invoices = await trx.selectFrom('invoices').select(['status']).where('order_id', '=', orderId).where('status', '!=', 'cancelled').execute();
  const fullyShipped = lines.every((l) => l.shipped_qty >= l.quantity);
  const anyShipped = lines.some((l) => l.shipped_qty > 0);
  const allDelivered = shipments.length > 0 && shipments.every((s) => s.status === 'delivered');
  const fullyInvoiced = lines.every((l) => l.invoiced_qty >= l.quantity);
  const allPaid = fullyInvoiced && invoices.length > 0 && invoices.every((i) => i.status === 'paid');
  let target: OrderStatus = order.status;
  if (allPaid) target = 'paid';
  else if (fullyInvoiced) target = 'invoiced';
  else if (fullyShipped && allDelivered) target = 'delivered';
  else if (fullyShipped) target = 'shipped';
  else if (anyShipped) target = 'partially_shipped';
  if (target === order.status) return { order, history: null };
  return moveOrder(trx, order, target, at, actor);
}
