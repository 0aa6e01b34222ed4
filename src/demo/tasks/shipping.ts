import { cancelOrder, getOrder } from '../../orders/order.service.ts';
import { createShipment, deliverShipment, updateShipmentStatus } from '../../shipping/shipment.service.ts';
import { CARRIERS, SIGNERS, type Simulation, type Task } from '../state.ts';
import { planPayment } from './payments.ts';

/** Shipping: goods reserved on arrival, shipped (in part when short), delayed, failed and delivered, which invoices. */

export async function refreshWaiting(ctx: Simulation, sku: string) {
  const { core, call, fulfil } = ctx;
  for (const f of fulfil.values()) {
    if (!f.lines.some((l) => l.sku === sku && l.reserved + l.shipped < l.quantity)) continue;
    const o = await call('getOrder', () => getOrder(core, f.orderId));
    f.lines = o.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, shipped: l.shippedQty, reserved: l.reservedQty }));
  }
}

export async function ship(ctx: Simulation, day: number, date: string) {
  const { core, actor, counts, schedule, businessDay, call, fulfil, shipmentOrder } = ctx;
  for (const f of [...fulfil.values()]) {
    if (f.readyDay > day) continue;
    const reserved = f.lines.reduce((s, l) => s + l.reserved, 0);
    if (reserved === 0) {
      if (!f.shippedAny && day - f.sinceDay > 40) {
        await call('cancelOrder', () => cancelOrder(core, f.orderId, 'customer cancelled: backorder waited too long', actor));
        counts.cancelledOrders++;
        fulfil.delete(f.orderId);
      }
      continue;
    }
    const r = f.customer.rng;
    const shipment = await call('createShipment', () => createShipment(core, { orderId: f.orderId, carrier: r.pick(CARRIERS), trackingNumber: `${date.replaceAll('-', '')}${String(f.orderId).padStart(7, '0')}${f.shippedAny ? 'B' : 'A'}` }, `${actor}:warehouse`));
    counts.shipments++;
    for (const l of f.lines) {
      l.shipped += l.reserved;
      l.reserved = 0;
    }
    const complete = f.lines.every((l) => l.shipped >= l.quantity);
    if (!complete || f.shippedAny) counts.partialShipments++;
    f.shippedAny = true;
    if (complete) fulfil.delete(f.orderId);
    shipmentOrder.set(shipment.id, f);
    const normal = day + r.int(1, 3);
    const signedBy = r.pick(SIGNERS);
    if (r.chance(0.07)) {
      counts.delayedDeliveries++;
      schedule(normal, { kind: 'transit', shipmentId: shipment.id, note: r.pick(['delayed at hub', 'weather delay', 'customs hold']) });
      schedule(businessDay(normal + r.int(3, 10)), { kind: 'deliver', shipmentId: shipment.id, failFirst: false, signedBy });
    } else {
      schedule(businessDay(normal), { kind: 'deliver', shipmentId: shipment.id, failFirst: r.chance(0.04), signedBy });
    }
  }
}

export async function deliver(ctx: Simulation, t: Extract<Task, { kind: 'deliver' }>, day: number) {
  const { core, actor, counts, schedule, businessDay, call, shipmentOrder } = ctx;
  const f = shipmentOrder.get(t.shipmentId)!;
  const r = f.customer.rng;
  if (t.failFirst) {
    await call('updateShipmentStatus', () => updateShipmentStatus(core, t.shipmentId, 'failed', r.pick(['recipient absent', 'address not found', 'refused: wrong delivery window']), `${actor}:carrier`));
    counts.failedDeliveries++;
    schedule(businessDay(day + r.int(1, 3)), { ...t, failFirst: false });
    return;
  }
  const s = await call('deliverShipment', () => deliverShipment(core, t.shipmentId, { signedBy: t.signedBy }, `${actor}:carrier`));
  shipmentOrder.delete(t.shipmentId);
  if (!s.invoiceNumber) return;
  // The new invoice's id, total and due date: a plain read by its number (nothing is paid on it
  // yet that the payment plan needs), not the balance query with its three sums.
  const inv = await call('readInvoice', () => core.db.kysely.selectFrom('invoices').select(['id', 'number', 'total_minor', 'due_date']).where('number', '=', s.invoiceNumber!).executeTakeFirst());
  counts.invoices++;
  planPayment(ctx, { id: inv!.id, number: inv!.number, customer: f.customer, totalMinor: inv!.total_minor, dueDate: inv!.due_date, day }, day);
}
