import type { OrderStatus } from '../db/schema.ts';
import { badTransition } from '../shared/errors.ts';

/**
 * The order's state machine. An order moves only along these arrows; any other move is a
 * `transition` error naming the order and both states.
 *
 * draft → submitted → approved | credit_hold | awaiting_prepayment | rejected;
 * credit_hold → approved | rejected; awaiting_prepayment → approved (once a payment covers
 * it: a customer on prepayment terms ships nothing before paying), and back (approved →
 * awaiting_prepayment) when that payment is reversed before the order ships;
 * approved → partially_shipped → shipped → delivered → invoiced → paid. When invoicing
 * happens at shipment, shipped → invoiced directly; a payment reversed re-opens paid →
 * invoiced. Cancelling (with a reason) is possible until the first shipment.
 */
export const ORDER_TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  draft: ['submitted', 'cancelled'],
  submitted: ['approved', 'credit_hold', 'awaiting_prepayment', 'rejected', 'cancelled'],
  credit_hold: ['approved', 'rejected', 'cancelled'],
  awaiting_prepayment: ['approved', 'cancelled'],
  approved: ['partially_shipped', 'shipped', 'awaiting_prepayment', 'cancelled'],
  partially_shipped: ['shipped'],
  shipped: ['delivered', 'invoiced', 'paid'],
  delivered: ['invoiced', 'paid'],
  invoiced: ['paid'],
  paid: ['invoiced'],
  rejected: [],
  cancelled: [],
};

/** Every status an order can have, in the order of its life. */
export const ORDER_STATUSES = Object.keys(ORDER_TRANSITIONS) as OrderStatus[];

export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  return ORDER_TRANSITIONS[from].includes(to);
}

export function assertOrderMove(orderId: number, from: OrderStatus, to: OrderStatus, why?: string): void {
  if (!canMove(from, to)) throw badTransition('order', orderId, from, to, why);
}
