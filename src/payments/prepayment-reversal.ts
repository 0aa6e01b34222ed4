import type { ChangeScope } from '../core.ts';
import { displayMoney } from '../shared/figures.ts';
import { lockOrder, moveOrder, releaseOrderStock } from '../orders/order.workflow.ts';
import { prepaidNotInvoicedMinor, unappliedCashMinor } from '../credit/credit.repository.ts';

/** An order sent back to wait for its prepayment, as the event records it. */
interface Rewaited {
  orderId: number;
  event: { type: string; aggregate: string; id: number; after: unknown };
}

/**
 * After a payment is reversed, inside the reversal's change and under the customer's lock:
 * orders released on prepayment terms hold the customer's unapplied cash until they are
 * invoiced, and the reversal may have taken that cash away. While the unapplied cash falls
 * short of what those orders hold, the newest of them not yet shipped goes back to waiting
 * for its prepayment (`approved → awaiting_prepayment`, its stock reservation given back),
 * one after the other; a later payment that covers it releases it again, as before.
 *
 * Each order is locked and read again before it moves: a shipment that got there first
 * stands (the order has left, and is not sent back), and one that comes after finds the order
 * waiting and is refused — an order never ships on cash that bounced, and a shipped order
 * never waits again.
 */
export async function rewaitUncoveredOrders(scope: ChangeScope, customerId: number, paymentId: number): Promise<Rewaited[]> {
  const { trx, at, actor, dialect } = scope;
  let shortfall = (await prepaidNotInvoicedMinor(trx, customerId)) - (await unappliedCashMinor(trx, customerId));
  if (shortfall <= 0) return [];
  const released = await trx
    .selectFrom('orders as o')
    .select('o.id')
    .where('o.customer_id', '=', customerId)
    .where('o.status', '=', 'approved')
    .where((eb) => eb.exists(eb.selectFrom('order_status_history as h').select('h.id').whereRef('h.order_id', '=', 'o.id').where('h.to_status', '=', 'awaiting_prepayment')))
    .orderBy('o.id', 'desc')
    .execute();
  const out: Rewaited[] = [];
  for (const { id } of released) {
    if (shortfall <= 0) break;
    const order = await lockOrder(trx, id, dialect);
    if (order.status !== 'approved') continue;
    const why = `payment ${paymentId} was reversed: the customer's unapplied payments no longer cover the order (${displayMoney(shortfall, order.currency)} short); it waits for a payment of ${displayMoney(order.total_minor, order.currency)} again`;
    const moved = await moveOrder(trx, order, 'awaiting_prepayment', at, actor, why);
    const stock = await releaseOrderStock(trx, order.id, at, dialect);
    shortfall -= order.total_minor;
    out.push({
      orderId: order.id,
      event: { type: 'order.prepayment_reversed', aggregate: 'order', id: order.id, after: { orders: [moved.order], order_status_history: [moved.history], order_lines: stock.lines, stock_levels: stock.stock } },
    });
  }
  return out;
}
