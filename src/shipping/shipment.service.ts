import type { Core } from '../core.ts';
import { forUpdate, runChange } from '../core.ts';
import type { Kysely } from 'kysely';
import type { Database, OrderLineRow, ShipmentRow, ShipmentStatus } from '../db/schema.ts';
import { invalid, notFound } from '../shared/errors.ts';
import { oneOf, optionalText, requireId, requireQuantity, requireText } from '../shared/validate.ts';
import { getSettings } from '../settings/settings.service.ts';
import { lockCustomerOfOrder, lockOrder, refreshOrderStatus } from '../orders/order.workflow.ts';
import { badTransition } from '../shared/errors.ts';
import { invoiceShipment } from '../invoicing/invoice.workflow.ts';
import { assertShipmentMove } from './shipment.state.ts';
import { prepared } from '../db/prepared.ts';

export interface ShipmentInput {
  orderId: number | string;
  /** What to ship; by default everything reserved for the order. */
  lines?: { sku: string; quantity: number | string }[];
  carrier: string;
  trackingNumber: string;
}

export interface Shipment {
  id: number;
  orderId: number;
  status: ShipmentStatus;
  carrier: string;
  trackingNumber: string;
  shippedAt: string | null;
  deliveredAt: string | null;
  signedBy: string | null;
  lines: { sku: string; quantity: number }[];
  events: { status: ShipmentStatus; note: string | null; at: string }[];
  invoiceNumber: string | null;
}

// The statements shipping and delivering run per shipment and line, built once (src/db/prepared.ts).
const shipmentById = prepared((db, _d, id: number) => db.selectFrom('shipments').selectAll().where('id', '=', id));
const shipmentForUpdate = prepared((db, dialect, id: number) => forUpdate(db.selectFrom('shipments').selectAll().where('id', '=', id), dialect));
const linesOfShipment = prepared((db, _d, shipmentId: number) =>
  db.selectFrom('shipment_lines').innerJoin('products', 'products.id', 'shipment_lines.product_id').select(['products.sku', 'shipment_lines.quantity']).where('shipment_id', '=', shipmentId).orderBy('shipment_lines.id'),
);
const eventsOfShipment = prepared((db, _d, shipmentId: number) => db.selectFrom('shipment_events').select(['status', 'note', 'at']).where('shipment_id', '=', shipmentId).orderBy('id'));
const invoiceOfShipment = prepared((db, _d, shipmentId: number) => db.selectFrom('invoices').select('number').where('shipment_id', '=', shipmentId));
const orderLinesToShip = prepared((db, _d, orderId: number) =>
  db.selectFrom('order_lines').innerJoin('products', 'products.id', 'order_lines.product_id').selectAll('order_lines').select('products.sku').where('order_id', '=', orderId).orderBy('line_no'),
);
const insertShipment = prepared((db, _d, orderId: number, carrier: string, tracking: string, at: string) =>
  db.insertInto('shipments').values({ order_id: orderId, status: 'shipped', carrier, tracking_number: tracking, shipped_at: at, delivered_at: null, signed_by: null, created_at: at, updated_at: at }).returningAll(),
);
const stockForUpdate = prepared((db, dialect, productId: number) => forUpdate(db.selectFrom('stock_levels').selectAll().where('product_id', '=', productId), dialect));
const takeStock = prepared((db, _d, productId: number, onHand: number, reserved: number, at: string) =>
  db.updateTable('stock_levels').set({ on_hand: onHand, reserved, updated_at: at }).where('product_id', '=', productId).returningAll(),
);
const insertMovement = prepared((db, _d, productId: number, quantity: number, reference: string, at: string) =>
  db.insertInto('stock_movements').values({ product_id: productId, kind: 'shipment', quantity, reason: 'shipment', reference, created_at: at }).returningAll(),
);
const shipLine = prepared((db, _d, id: number, reserved: number, shipped: number) => db.updateTable('order_lines').set({ reserved_qty: reserved, shipped_qty: shipped }).where('id', '=', id).returningAll());
const insertShipmentLine = prepared((db, _d, shipmentId: number, orderLineId: number, productId: number, quantity: number) =>
  db.insertInto('shipment_lines').values({ shipment_id: shipmentId, order_line_id: orderLineId, product_id: productId, quantity }).returningAll(),
);
const insertShipmentEvent = prepared((db, _d, shipmentId: number, status: ShipmentStatus, note: string | null, at: string) =>
  db.insertInto('shipment_events').values({ shipment_id: shipmentId, status, note, at }).returningAll(),
);
const markDelivered = prepared((db, _d, id: number, deliveredAt: string, signedBy: string, at: string) =>
  db.updateTable('shipments').set({ status: 'delivered', delivered_at: deliveredAt, signed_by: signedBy, updated_at: at }).where('id', '=', id).returningAll(),
);

const findShipment = (db: Kysely<Database>, id: number) => shipmentById.first(db, id);

export async function getShipment(core: Core, id: number | string): Promise<Shipment> {
  const shipmentId = requireId(id, 'shipmentId');
  const s = await findShipment(core.db.kysely, shipmentId);
  if (!s) throw notFound('shipment', shipmentId);
  return toShipment(core, s);
}

async function toShipment(core: Core, s: ShipmentRow): Promise<Shipment> {
  const db = core.db.kysely;
  const lines = await linesOfShipment.execute(db, s.id);
  const events = await eventsOfShipment.execute(db, s.id);
  const invoice = await invoiceOfShipment.first(db, s.id);
  return {
    id: s.id,
    orderId: s.order_id,
    status: s.status,
    carrier: s.carrier,
    trackingNumber: s.tracking_number,
    shippedAt: s.shipped_at,
    deliveredAt: s.delivered_at,
    signedBy: s.signed_by,
    lines,
    events,
    invoiceNumber: invoice?.number ?? null,
  };
}

export async function listShipments(core: Core, orderId: number | string): Promise<Shipment[]> {
  const id = requireId(orderId, 'orderId');
  const rows = await core.db.kysely.selectFrom('shipments').selectAll().where('order_id', '=', id).orderBy('id').execute();
  return Promise.all(rows.map((r) => toShipment(core, r)));
}

/**
 * Ships goods of an approved order. Each line ships from its reservation first, then from
 * free stock; it may not ship more than is left to ship or than is in stock. Stock leaves
 * now. Partial shipments are allowed; the order moves to partially_shipped or shipped.
 * When invoicing is set to `shipment`, the invoice is written in the same transaction.
 */
export async function createShipment(core: Core, input: ShipmentInput, actor: string): Promise<Shipment> {
  const orderId = requireId(input.orderId, 'orderId');
  const carrier = requireText(input.carrier, 'carrier', 100);
  const tracking = requireText(input.trackingNumber, 'trackingNumber', 100);
  const wanted = input.lines?.map((l, i) => ({ sku: requireText(l.sku, `lines.${i}.sku`, 64), quantity: requireQuantity(l.quantity, `lines.${i}.quantity`) }));
  const settings = await getSettings(core.db.kysely);
  const invoicing = settings['invoicing.trigger'] === 'shipment';
  const shipmentId = await runChange(core, actor, async (scope) => {
    const { trx, at, today, dialect } = scope;
    // Invoicing picks up the customer's unapplied cash: their lock comes first.
    if (invoicing) await lockCustomerOfOrder(scope, orderId);
    const order = await lockOrder(trx, orderId, dialect);
    if (order.status === 'awaiting_prepayment') throw badTransition('order', orderId, order.status, 'shipped', 'the customer buys on prepayment terms and no payment covers the order yet');
    if (order.status !== 'approved' && order.status !== 'partially_shipped') {
      throw badTransition('order', orderId, order.status, 'shipped', 'only an approved order can ship');
    }
    const lines = await orderLinesToShip.execute(trx, orderId);
    const plan: { line: (typeof lines)[number]; quantity: number }[] = [];
    if (wanted) {
      for (const [i, w] of wanted.entries()) {
        const line = lines.find((l) => l.sku === w.sku);
        if (!line) throw invalid(`order ${orderId} has no line for ${w.sku}`, { entity: 'order', id: orderId, field: `lines.${i}.sku`, value: w.sku, rule: 'line_exists' });
        plan.push({ line, quantity: w.quantity });
      }
    } else {
      for (const line of lines) if (line.reserved_qty > 0) plan.push({ line, quantity: line.reserved_qty });
      if (plan.length === 0) throw invalid(`order ${orderId} has nothing reserved to ship; receive stock or name the lines`, { entity: 'order', id: orderId, field: 'lines', rule: 'nothing_to_ship' });
    }
    const shipment = await insertShipment.one(trx, orderId, carrier, tracking, at);
    const changedLines: OrderLineRow[] = [];
    const stocks = [];
    const movements = [];
    const shipmentLines = [];
    for (const [i, p] of plan.entries()) {
      const left = p.line.quantity - p.line.shipped_qty;
      if (p.quantity > left) {
        throw invalid(`order ${orderId} line ${p.line.line_no} (${p.line.sku}) has ${left} left to ship, not ${p.quantity}`, { entity: 'order', id: orderId, field: `lines.${i}.quantity`, value: p.quantity, rule: 'quantity_within_open' });
      }
      const stock = await stockForUpdate.one(trx, p.line.product_id);
      const fromReserved = Math.min(p.line.reserved_qty, p.quantity);
      const fromFree = p.quantity - fromReserved;
      if (fromFree > stock.on_hand - stock.reserved) {
        throw invalid(`product ${p.line.sku} has ${stock.on_hand - stock.reserved} free in stock; ${p.quantity} cannot ship (${fromReserved} reserved for this order)`, {
          entity: 'product', id: p.line.sku, field: `lines.${i}.quantity`, value: p.quantity, rule: 'stock_available',
        });
      }
      stocks.push(await takeStock.one(trx, p.line.product_id, stock.on_hand - p.quantity, stock.reserved - fromReserved, at));
      movements.push(await insertMovement.one(trx, p.line.product_id, -p.quantity, `shipment ${shipment.id}`, at));
      changedLines.push(await shipLine.one(trx, p.line.id, p.line.reserved_qty - fromReserved, p.line.shipped_qty + p.quantity));
      shipmentLines.push(await insertShipmentLine.one(trx, shipment.id, p.line.id, p.line.product_id, p.quantity));
      p.line.reserved_qty -= fromReserved;
      p.line.shipped_qty += p.quantity;
    }
    const shipEvent = await insertShipmentEvent.one(trx, shipment.id, 'shipped', null, at);
    const orderChange = await refreshOrderStatus(trx, orderId, at, actor, dialect);
    const after: Record<string, unknown[]> = {
      shipments: [shipment],
      shipment_lines: shipmentLines,
      shipment_events: [shipEvent],
      order_lines: changedLines,
      stock_levels: stocks,
      stock_movements: movements,
      orders: [orderChange.order],
      order_status_history: orderChange.history ? [orderChange.history] : [],
    };
    if (invoicing) {
      const inv = await invoiceShipment(trx, shipment.id, today, at, actor, dialect);
      Object.assign(after, { invoices: inv.invoices, invoice_lines: inv.invoice_lines, payment_allocations: inv.payment_allocations, order_lines: [...changedLines, ...inv.order_lines], orders: [inv.orderChange.order] });
      if (inv.orderChange.history) after.order_status_history = [...after.order_status_history!, inv.orderChange.history];
    }
    return { result: shipment.id, events: [{ type: 'shipment.shipped', aggregate: 'shipment', id: shipment.id, after }] };
  });
  return getShipment(core, shipmentId);
}

/** Records a carrier status (in_transit, failed) on a shipment, with an optional note. */
export async function updateShipmentStatus(core: Core, id: number | string, status: string, note: string | null, actor: string): Promise<Shipment> {
  const shipmentId = requireId(id, 'shipmentId');
  const to = oneOf(status, 'status', ['in_transit', 'failed'] as const);
  const text = optionalText(note, 'note', 500);
  await runChange(core, actor, async ({ trx, at }) => {
    const s = await shipmentForUpdate.first(trx, shipmentId);
    if (!s) throw notFound('shipment', shipmentId);
    assertShipmentMove(shipmentId, s.status, to);
    const updated = await trx.updateTable('shipments').set({ status: to, updated_at: at }).where('id', '=', shipmentId).returningAll().executeTakeFirstOrThrow();
    const ev = await insertShipmentEvent.one(trx, shipmentId, to, text, at);
    return { result: null, events: [{ type: to === 'failed' ? 'shipment.delivery_failed' : 'shipment.in_transit', aggregate: 'shipment', id: shipmentId, after: { shipments: [updated], shipment_events: [ev] } }] };
  });
  return getShipment(core, shipmentId);
}

/**
 * Confirms delivery with proof (who signed, when). When invoicing is set to `delivery`
 * (the default) the shipment is invoiced in the same transaction.
 */
export async function deliverShipment(core: Core, id: number | string, input: { signedBy: string; deliveredAt?: string }, actor: string): Promise<Shipment> {
  const shipmentId = requireId(id, 'shipmentId');
  const signedBy = requireText(input.signedBy, 'signedBy', 200);
  const settings = await getSettings(core.db.kysely);
  const invoicing = settings['invoicing.trigger'] === 'delivery';
  await runChange(core, actor, async (scope) => {
    const { trx, at, today, dialect } = scope;
    if (invoicing) {
      // Invoicing picks up the customer's unapplied cash: their lock comes first, before
      // the shipment's row lock. A shipment's order never changes.
      const shipment = await findShipment(trx, shipmentId);
      if (!shipment) throw notFound('shipment', shipmentId);
      await lockCustomerOfOrder(scope, shipment.order_id);
    }
    const s = await shipmentForUpdate.first(trx, shipmentId);
    if (!s) throw notFound('shipment', shipmentId);
    assertShipmentMove(shipmentId, s.status, 'delivered');
    const deliveredAt = input.deliveredAt ?? at;
    if (Number.isNaN(Date.parse(deliveredAt))) throw invalid(`deliveredAt must be an ISO timestamp, got ${deliveredAt}`, { field: 'deliveredAt', value: deliveredAt, rule: 'timestamp_format' });
    const updated = await markDelivered.one(trx, shipmentId, deliveredAt, signedBy, at);
    const ev = await insertShipmentEvent.one(trx, shipmentId, 'delivered', `signed by ${signedBy}`, deliveredAt);
    const after: Record<string, unknown[]> = { shipments: [updated], shipment_events: [ev] };
    const history = [];
    if (invoicing) {
      // Delivery first, so the order passes through `delivered` before `invoiced`.
      const delivered = await refreshOrderStatus(trx, s.order_id, at, actor, dialect);
      if (delivered.history) history.push(delivered.history);
      const inv = await invoiceShipment(trx, shipmentId, today, at, actor, dialect);
      if (inv.orderChange.history) history.push(inv.orderChange.history);
      Object.assign(after, { invoices: inv.invoices, invoice_lines: inv.invoice_lines, order_lines: inv.order_lines, payment_allocations: inv.payment_allocations, orders: [inv.orderChange.order] });
    } else {
      const orderChange = await refreshOrderStatus(trx, s.order_id, at, actor, dialect);
      if (orderChange.history) history.push(orderChange.history);
      after.orders = [orderChange.order];
    }
    after.order_status_history = history;
    return { result: null, events: [{ type: 'shipment.delivered', aggregate: 'shipment', id: shipmentId, after }] };
  });
  return getShipment(core, shipmentId);
}
