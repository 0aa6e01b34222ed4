import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { actorOf } from '../http.ts';
import { createShipment, deliverShipment, getShipment, updateShipmentStatus } from '../../shipping/shipment.service.ts';
import { Id, IdParams, Quantity, strict } from './schemas.ts';
import { ShipmentResponse } from './responses.ts';

export const shippingRoutes: RouteSpec[] = [
  { method: 'POST', url: '/shipments', response: ShipmentResponse, permission: 'shipments:write', tag: 'shipping', summary: 'Ship goods of an approved order (default: everything reserved)', status: 201,
    body: Type.Object({ orderId: Id, carrier: Type.String({ minLength: 1, maxLength: 100 }), trackingNumber: Type.String({ minLength: 1, maxLength: 100 }), lines: Type.Optional(Type.Array(Type.Object({ sku: Type.String({ minLength: 1, maxLength: 64 }), quantity: Quantity }, strict), { minItems: 1, maxItems: 500 })) }, strict),
    handler: async (req, core) => createShipment(core, req.body as never, actorOf(req)) },
  { method: 'GET', url: '/shipments/:id', response: ShipmentResponse, permission: 'shipments:read', tag: 'shipping', summary: 'Show a shipment with its carrier events', params: IdParams,
    handler: async (req, core) => getShipment(core, (req.params as { id: number }).id) },
  { method: 'POST', url: '/shipments/:id/status', response: ShipmentResponse, permission: 'shipments:write', tag: 'shipping', summary: 'Record a carrier status: in_transit or failed', params: IdParams,
    body: Type.Object({ status: Type.Union([Type.Literal('in_transit'), Type.Literal('failed')]), note: Type.Optional(Type.String({ maxLength: 500 })) }, strict),
    handler: async (req, core) => { const b = req.body as { status: string; note?: string }; return updateShipmentStatus(core, (req.params as { id: number }).id, b.status, b.note ?? null, actorOf(req)); } },
  { method: 'POST', url: '/shipments/:id/deliver', response: ShipmentResponse, permission: 'shipments:write', tag: 'shipping', summary: 'Confirm delivery with proof (invoices it by default)', params: IdParams,
    body: Type.Object({ signedBy: Type.String({ minLength: 1, maxLength: 200 }), deliveredAt: Type.Optional(Type.String({ format: 'date-time' })) }, strict),
    handler: async (req, core) => deliverShipment(core, (req.params as { id: number }).id, req.body as never, actorOf(req)) },
];
