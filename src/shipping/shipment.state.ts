import type { ShipmentStatus } from '../db/schema.ts';
import { badTransition } from '../shared/errors.ts';

/**
 * A shipment's state machine: picked → shipped → in_transit → delivered, with failed
 * delivery attempts (failed → in_transit for the next attempt, or delivered).
 */
export const SHIPMENT_TRANSITIONS: Record<ShipmentStatus, readonly ShipmentStatus[]> = {
  picked: ['shipped'],
  shipped: ['in_transit', 'delivered', 'failed'],
  in_transit: ['delivered', 'failed'],
  failed: ['in_transit', 'delivered'],
  delivered: [],
};

export function assertShipmentMove(id: number, from: ShipmentStatus, to: ShipmentStatus): void {
  if (!SHIPMENT_TRANSITIONS[from].includes(to)) throw badTransition('shipment', id, from, to);
}
