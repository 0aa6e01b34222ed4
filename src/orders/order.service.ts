import type { Insertable, Kysely } from 'kysely';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import type { Database, OrderLineRow, OrderLinesTable, OrderRow, OrdersTable, OrderStatus } from '../db/schema.ts';
import { conflict, DomainError, invalid, notFound } from '../shared/errors.ts';
import { formatAmount, parseAmount, parsePercent } from '../shared/money.ts';
import { parseBusinessDate } from '../shared/dates.ts';
import { oneOf, optionalText, pageOptions, requireId, requireInt, requireQuantity, requireText } from '../shared/validate.ts';
import { documentTotals, lineAmounts, type LineAmounts } from './order.totals.ts';
import { lockOrder, moveOrder, orderLinesInOrder, releaseOrderStock } from './order.workflow.ts';
import { ORDER_STATUSES } from './order.state.ts';
import { countCustomerOrders, customerOrderIdsNewestFirst } from './order.repository.ts';
import { prepared } from '../db/prepared.ts';

export interface OrderLineInput {
  sku: string;
  quantity: number | string;
  /** Decimal unit price in the order's currency; defaults to the product's list price. */
  unitPrice?: string | number | null;
  /** Percent off the line, e.g. "10". */
  discountPercent?: string | number | null;
}

export interface OrderInput {
  customerId: number | string;
  lines: OrderLineInput[];
  orderDate?: string;
  /** A retry with the same key returns the first order instead of creating another. */
  idempotencyKey?: string | null;
  externalId?: string | null;
}

export interface OrderLine {
  lineNo: number;
  sku: string;
  productName: string;
  quantity: number;
  unitPriceMinor: number;
  discountBp: number;
  taxRateBp: number;
  netMinor: number;
  taxMinor: number;
  totalMinor: number;
  reservedQty: number;
  shippedQty: number;
  invoicedQty: number;
  backorderQty: number;
}

export interface Order {
  id: number;
  customerId: number;
  status: OrderStatus;
  currency: string;
  orderDate: string;
  externalId: string | null;
  subtotalMinor: number;
  discountMinor: number;
  taxMinor: number;
  totalMinor: number;
  total: string;
  cancelReason: string | null;
  createdAt: string;
  submittedAt: string | null;
  approvedAt: string | null;
  shippedAt: string | null;
  deliveredAt: string | null;
  invoicedAt: string | null;
  paidAt: string | null;
  cancelledAt: string | null;
  lines: OrderLine[];
}

export function toOrder(o: OrderRow, lines: (OrderLineRow & { sku: string; product_name: string })[]): Order {
  return {
    id: o.id,
    customerId: o.customer_id,
    status: o.status,
    currency: o.currency,
    orderDate: o.order_date,
    externalId: o.external_id,
    subtotalMinor: o.subtotal_minor,
    discountMinor: o.discount_minor,
    taxMinor: o.tax_minor,
    totalMinor: o.total_minor,
    total: formatAmount(o.total_minor, o.currency),
    cancelReason: o.cancel_reason,
    createdAt: o.created_at,
    submittedAt: o.submitted_at,
    approvedAt: o.approved_at,
    shippedAt: o.shipped_at,
    deliveredAt: o.delivered_at,
    invoicedAt: o.invoiced_at,
    paidAt: o.paid_at,
    cancelledAt: o.cancelled_at,
    lines: lines.map((l) => ({
      lineNo: l.line_no,
      sku: l.sku,
      productName: l.product_name,
      quantity: l.quantity,
      unitPriceMinor: l.unit_price_minor,
      discountBp: l.discount_bp,
      taxRateBp: l.tax_rate_bp,
      netMinor: l.net_minor,
      taxMinor: l.tax_minor,
      totalMinor: l.total_minor,
      reservedQty: l.reserved_qty,
      shippedQty: l.shipped_qty,
      invoicedQty: l.invoiced_qty,
      backorderQty: ['approved', 'partially_shipped'].includes(o.status) ? l.quantity - l.shipped_qty - l.reserved_qty : 0,
    })),
  };
}

// The statements of order entry and of reading an order, built once (src/db/prepared.ts).
const orderById = prepared((db, _d, id: number) => db.selectFrom('orders').selectAll().where('id', '=', id));
const customerById = prepared((db, _d, id: number) => db.selectFrom('customers').selectAll().where('id', '=', id));
const productBySku = prepared((db, _d, sku: string) => db.selectFrom('products').selectAll().where('sku', '=', sku));
const orderByKey = prepared((db, _d, key: string) => db.selectFrom('orders').select(['id', 'customer_id']).where('idempotency_key', '=', key));
const orderByExternalId = prepared((db, _d, externalId: string) => db.selectFrom('orders').select(['id', 'customer_id']).where('external_id', '=', externalId));
type NewOrder = Omit<Insertable<OrdersTable>, 'id'>;
const ORDER_COLUMNS = [
  'customer_id', 'status', 'currency', 'order_date', 'idempotency_key', 'external_id', 'subtotal_minor', 'discount_minor', 'tax_minor', 'total_minor',
  'cancel_reason', 'created_at', 'submitted_at', 'approved_at', 'shipped_at', 'delivered_at', 'invoiced_at', 'paid_at', 'cancelled_at', 'updated_at',
] as const satisfies readonly (keyof NewOrder)[];
const insertOrder = prepared(
  (db, _d, ...values: unknown[]) =>
    db
      .insertInto('orders')
      .values(Object.fromEntries(ORDER_COLUMNS.map((c, i) => [c, values[i]])) as unknown as NewOrder)
      // Retries racing with one key: the unique key lets one insert; the others wait for
      // it to commit, insert nothing, and answer with that order.
      .onConflict((oc) => oc.doNothing())
      .returningAll(),
  ORDER_COLUMNS.length,
);
type NewLine = Omit<Insertable<OrderLinesTable>, 'id'>;
const LINE_COLUMNS = [
  'order_id', 'line_no', 'product_id', 'quantity', 'unit_price_minor', 'discount_bp', 'tax_rate_bp', 'gross_minor', 'discount_minor', 'net_minor', 'tax_minor', 'total_minor',
  'reserved_qty', 'shipped_qty', 'invoiced_qty',
] as const satisfies readonly (keyof NewLine)[];
const insertLine = prepared(
  (db, _d, ...values: unknown[]) => db.insertInto('order_lines').values(Object.fromEntries(LINE_COLUMNS.map((c, i) => [c, values[i]])) as unknown as NewLine).returningAll(),
  LINE_COLUMNS.length,
);
const insertHistory = prepared((db, _d, orderId: number, actor: string, at: string) =>
  db.insertInto('order_status_history').values({ order_id: orderId, from_status: null, to_status: 'draft', reason: null, actor, at }).returningAll(),
);

async function loadOrder(core: Core, orderId: number): Promise<Order> {
  const db = core.db.kysely;
  const o = await orderById.first(db, orderId);
  if (!o) throw notFound('order', orderId);
  return toOrder(o, await orderLinesInOrder.execute(db, orderId));
}

/** An order line priced as the order will store it. */
export interface PricedLine {
  product_id: number;
  sku: string;
  name: string;
  quantity: number;
  unit_price_minor: number;
  discount_bp: number;
  tax_rate_bp: number;
  amounts: LineAmounts;
}

/**
 * Prices an order's lines for a customer as the order stores them: the list price unless a
 * unit price is given (in the customer's currency; a product priced in another currency
 * needs one), the line's discount, the product's tax. Every bad line is reported at once
 * (field `lines.N.…`). The order entry and the credit preview price the same way.
 */
export async function priceOrderLines(db: Kysely<Database>, customer: { id: number; currency: string }, lines: OrderLineInput[]): Promise<PricedLine[]> {
  const customerId = customer.id;
  const problems: { message: string; field: string; value: unknown; rule: string }[] = [];
  const priced: PricedLine[] = [];
  for (const [i, line] of lines.entries()) {
    try {
      const sku = requireText(line.sku, `lines.${i}.sku`, 64);
      const quantity = requireQuantity(line.quantity, `lines.${i}.quantity`);
      const product = await productBySku.first(db, sku);
      if (!product) throw invalid(`line ${i + 1}: product ${sku} does not exist`, { field: `lines.${i}.sku`, value: sku, rule: 'product_exists' });
      let unitPrice = product.list_price_minor;
      if (line.unitPrice !== undefined && line.unitPrice !== null && line.unitPrice !== '') {
        unitPrice = parseAmount(line.unitPrice, customer.currency, `lines.${i}.unitPrice`);
        if (unitPrice < 0) throw invalid(`line ${i + 1}: unit price must not be negative`, { field: `lines.${i}.unitPrice`, value: line.unitPrice, rule: 'amount_not_negative' });
      } else if (product.currency !== customer.currency) {
        throw invalid(`line ${i + 1}: product ${sku} is priced in ${product.currency} but customer ${customerId} buys in ${customer.currency}; give a unit price`, {
          field: `lines.${i}.unitPrice`, value: null, rule: 'currency_match',
        });
      }
      const discountBp = line.discountPercent == null || line.discountPercent === '' ? 0 : parsePercent(line.discountPercent, `lines.${i}.discountPercent`);
      priced.push({ product_id: product.id, sku: product.sku, name: product.name, quantity, unit_price_minor: unitPrice, discount_bp: discountBp, tax_rate_bp: product.tax_rate_bp, amounts: lineAmounts(quantity, unitPrice, discountBp, product.tax_rate_bp, `lines.${i}.quantity`) });
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      problems.push({ message: e.message, field: e.detail.field ?? `lines.${i}`, value: e.detail.value, rule: e.detail.rule ?? 'invalid' });
    }
  }
  if (problems.length > 0) {
    const first = problems[0]!;
    throw new DomainError('invalid', problems.length === 1 ? first.message : `${problems.length} order lines are invalid: ${problems.map((p) => p.message).join('; ')}`, { entity: 'order', field: first.field, value: first.value, rule: first.rule }, problems);
  }
  return priced;
}

/**
 * Creates a draft order with priced lines. Validates every line and reports all problems at
 * once; writes nothing unless all are right. Retrying with the same idempotency key returns
 * the first order (`created: false`).
 */
export async function createOrder(core: Core, input: OrderInput, actor: string): Promise<Order & { created: boolean }> {
  const customerId = requireId(input.customerId, 'customerId');
  const idempotencyKey = optionalText(input.idempotencyKey, 'idempotencyKey', 200);
  const externalId = optionalText(input.externalId, 'externalId', 100);
  const db = core.db.kysely;
  /** The order a key or external id already names, if any. */
  const firstOrder = async (reader: typeof db) =>
    (idempotencyKey ? await orderByKey.first(reader, idempotencyKey) : undefined) ??
    (externalId ? await orderByExternalId.first(reader, externalId) : undefined);
  const refuseOtherCustomer = (existing: { id: number; customer_id: number }) => {
    if (existing.customer_id !== customerId) {
      throw conflict(`idempotency key ${idempotencyKey ?? externalId} was used for order ${existing.id} of another customer`, {
        entity: 'order', id: existing.id, field: 'idempotencyKey', value: idempotencyKey ?? externalId, rule: 'idempotency_key_reuse',
      });
    }
  };
  if (idempotencyKey || externalId) {
    const existing = await firstOrder(db);
    if (existing) {
      refuseOtherCustomer(existing);
      return { ...(await loadOrder(core, existing.id)), created: false };
    }
  }

  const customer = await customerById.first(db, customerId);
  if (!customer) throw notFound('customer', customerId);
  if (!Array.isArray(input.lines) || input.lines.length === 0) {
    throw invalid('an order needs at least one line', { entity: 'order', field: 'lines', value: input.lines, rule: 'lines_required' });
  }
  const priced = await priceOrderLines(db, customer, input.lines);
  const totals = documentTotals(priced.map((p) => p.amounts));

  const outcome = await runChange<{ id: number; created: boolean; order: Order | null }>(core, actor, async ({ trx, at, today }) => {
    const orderDate = input.orderDate ? parseBusinessDate(input.orderDate, 'orderDate') : today;
    const row: NewOrder = {
      customer_id: customerId,
      status: 'draft',
      currency: customer.currency,
      order_date: orderDate,
      idempotency_key: idempotencyKey,
      external_id: externalId,
      subtotal_minor: totals.gross,
      discount_minor: totals.discount,
      tax_minor: totals.tax,
      total_minor: totals.total,
      cancel_reason: null,
      created_at: at,
      submitted_at: null, approved_at: null, shipped_at: null, delivered_at: null, invoiced_at: null, paid_at: null, cancelled_at: null,
      updated_at: at,
    };
    const order = await insertOrder.first(trx, ...ORDER_COLUMNS.map((c) => row[c]));
    if (!order) {
      const existing = await firstOrder(trx);
      if (!existing) throw new Error(`order ${idempotencyKey ?? externalId} was neither inserted nor found`);
      refuseOtherCustomer(existing);
      return { result: { id: existing.id, created: false, order: null }, events: [], unchanged: true };
    }
    const lines: OrderLineRow[] = [];
    for (const [i, p] of priced.entries()) {
      const line: NewLine = {
        order_id: order.id,
        line_no: i + 1,
        product_id: p.product_id,
        quantity: p.quantity,
        unit_price_minor: p.unit_price_minor,
        discount_bp: p.discount_bp,
        tax_rate_bp: p.tax_rate_bp,
        gross_minor: p.amounts.gross,
        discount_minor: p.amounts.discount,
        net_minor: p.amounts.net,
        tax_minor: p.amounts.tax,
        total_minor: p.amounts.total,
        reserved_qty: 0,
        shipped_qty: 0,
        invoiced_qty: 0,
      };
      lines.push(await insertLine.one(trx, ...LINE_COLUMNS.map((c) => line[c])));
    }
    const history = await insertHistory.one(trx, order.id, actor, at);
    // The answer is built from the rows just written (with the products' sku and name the
    // pricing read), not read back after the commit.
    const answer = toOrder(order, lines.map((l, i) => ({ ...l, sku: priced[i]!.sku, product_name: priced[i]!.name })));
    return {
      result: { id: order.id, created: true, order: answer },
      events: [{ type: 'order.created', aggregate: 'order', id: order.id, after: { orders: [order], order_lines: lines, order_status_history: [history] } }],
    };
  });
  return { ...(outcome.order ?? (await loadOrder(core, outcome.id))), created: outcome.created };
}

/**
 * An order as a change leaves it, from its row as the change wrote it and its lines read in
 * the same transaction: the change answers with what it committed, with no read after.
 */
export async function orderAsWritten(db: Kysely<Database>, row: OrderRow): Promise<Order> {
  return toOrder(row, await orderLinesInOrder.execute(db, row.id));
}

export async function getOrder(core: Core, id: number | string): Promise<Order> {
  return loadOrder(core, requireId(id, 'orderId'));
}

export async function orderHistory(core: Core, id: number | string) {
  const orderId = requireId(id, 'orderId');
  return core.db.kysely.selectFrom('order_status_history').selectAll().where('order_id', '=', orderId).orderBy('id').execute();
}

export async function listOrders(core: Core, options: { customerId?: number; status?: OrderStatus; afterId?: number; limit?: number } = {}): Promise<Order[]> {
  const { afterId, limit } = pageOptions(options);
  let q = core.db.kysely.selectFrom('orders').select('id').orderBy('id').limit(limit);
  if (options.customerId !== undefined) q = q.where('customer_id', '=', requireId(options.customerId, 'customerId'));
  if (options.status) q = q.where('status', '=', oneOf(options.status, 'status', ORDER_STATUSES));
  if (afterId) q = q.where('id', '>', afterId);
  const ids = await q.execute();
  return Promise.all(ids.map((r) => loadOrder(core, r.id)));
}

/**
 * The order board: orders newest first, paged on the database by a cursor (`beforeId`: the
 * last, oldest order of the previous page), filtered by customer and status.
 */
export async function orderBoard(core: Core, options: { customerId?: unknown; status?: unknown; beforeId?: unknown; limit?: number } = {}): Promise<Order[]> {
  const limit = options.limit ?? 25;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw invalid(`limit must be a whole number from 1 to 1000, got ${limit}`, { field: 'limit', value: limit, rule: 'range' });
  let q = core.db.kysely.selectFrom('orders').select('id').orderBy('id', 'desc').limit(limit);
  if (options.customerId !== undefined && options.customerId !== '') q = q.where('customer_id', '=', requireId(options.customerId, 'customer'));
  if (options.status !== undefined && options.status !== '') q = q.where('status', '=', oneOf(options.status, 'status', ORDER_STATUSES));
  if (options.beforeId !== undefined && options.beforeId !== '') q = q.where('id', '<', requireId(options.beforeId, 'after'));
  const ids = await q.execute();
  return Promise.all(ids.map((r) => loadOrder(core, r.id)));
}

export interface OrderPage {
  orders: Order[];
  /** 1-based; `pages` is at least 1, also for a customer without orders. */
  page: number;
  pages: number;
  perPage: number;
  total: number;
}

/**
 * A customer's orders newest first, `perPage` at a time (page 1 holds the newest). A page
 * past the last one is refused, naming the last page.
 */
export async function customerOrderPage(core: Core, customerId: number | string, page: unknown = 1, perPage = 15): Promise<OrderPage> {
  const id = requireId(customerId, 'customerId');
  const n = page === undefined || page === null || page === '' ? 1 : requireInt(page, 'page', 1, 1_000_000);
  const total = await countCustomerOrders(core.db.kysely, id);
  const pages = Math.max(1, Math.ceil(total / perPage));
  if (n > pages) throw invalid(`page ${n} is past the last page of customer ${id}'s orders (${pages})`, { entity: 'customer', id, field: 'page', value: page, rule: 'page_exists' });
  const ids = await customerOrderIdsNewestFirst(core.db.kysely, id, (n - 1) * perPage, perPage);
  return { orders: await Promise.all(ids.map((orderId) => loadOrder(core, orderId))), page: n, pages, perPage, total };
}

/** Cancels an order before its first shipment, releasing its reservations. */
export async function cancelOrder(core: Core, id: number | string, reason: string, actor: string): Promise<Order> {
  const orderId = requireId(id, 'orderId');
  const why = requireText(reason, 'reason');
  await runChange(core, actor, async ({ trx, at, dialect }) => {
    const order = await lockOrder(trx, orderId, dialect);
    const moved = await moveOrder(trx, order, 'cancelled', at, actor, why, order.shipped_at ? 'goods have already shipped' : undefined);
    const released = await releaseOrderStock(trx, orderId, at, dialect);
    return {
      result: null,
      events: [{ type: 'order.cancelled', aggregate: 'order', id: orderId, after: { orders: [moved.order], order_status_history: [moved.history], order_lines: released.lines, stock_levels: released.stock } }],
    };
  });
  return loadOrder(core, orderId);
}
