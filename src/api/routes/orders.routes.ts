import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import type { ListPageQuery } from '../../shared/facing.ts';
import { actorOf } from '../http.ts';
import { page, pageOf } from '../../shared/facing.ts';
import { cancelOrder, createOrder, getOrder, listOrders, orderHistory } from '../../orders/order.service.ts';
import { submitOrder } from '../../credit/credit.service.ts';
import type { OrderStatus } from '../../db/schema.ts';
import { BusinessDate, Id, IdParams, ListQuery, Money, Percent, Quantity, Reason, strict } from './schemas.ts';
import { ORDER_STATUSES } from '../../orders/order.state.ts';
import { OrderHistoryResponse, OrderResponse, Page } from './responses.ts';

const OrderBody = Type.Object(
  {
    customerId: Id,
    lines: Type.Array(Type.Object({ sku: Type.String({ minLength: 1, maxLength: 64 }), quantity: Quantity, unitPrice: Type.Optional(Money), discountPercent: Type.Optional(Percent) }, strict), { minItems: 1, maxItems: 500 }),
    orderDate: Type.Optional(BusinessDate),
    externalId: Type.Optional(Type.String({ maxLength: 100 })),
  },
  strict,
);

/** Orders: entry, submission for the credit check, cancellation, history. */
export const orderRoutes: RouteSpec[] = [
  { method: 'GET', url: '/orders', response: Page(OrderResponse), permission: 'orders:read', tag: 'orders', summary: 'List orders (cursor: ?after=ID)', querystring: Type.Composite([ListQuery, Type.Object({ customerId: Type.Optional(Id), status: Type.Optional(Type.Union(ORDER_STATUSES.map((s) => Type.Literal(s)))) })]),
    handler: async (req, core) => { const q = req.query as { after?: number; limit?: number; customerId?: number; status?: OrderStatus }; const limit = q.limit ?? 100; return page(await listOrders(core, { afterId: q.after, limit, customerId: q.customerId, status: q.status }), limit); } },
  { method: 'POST', url: '/orders', response: OrderResponse, permission: 'orders:write', tag: 'orders', summary: 'Create a draft order (send Idempotency-Key to make retries safe)', status: 201, body: OrderBody,
    handler: async (req, core) => createOrder(core, { ...(req.body as object), idempotencyKey: (req.headers['idempotency-key'] as string | undefined) ?? null } as never, actorOf(req)) },
  { method: 'GET', url: '/orders/:id', response: OrderResponse, permission: 'orders:read', tag: 'orders', summary: 'Show an order with lines, reservations and backorders', params: IdParams,
    handler: async (req, core) => getOrder(core, (req.params as { id: number }).id) },
  { method: 'GET', url: '/orders/:id/history', response: Page(OrderHistoryResponse), permission: 'orders:read', tag: 'orders', summary: 'Status history of an order, oldest first', params: IdParams, querystring: ListQuery,
    handler: async (req, core) => pageOf(await orderHistory(core, (req.params as { id: number }).id), req.query as ListPageQuery) },
  { method: 'POST', url: '/orders/:id/submit', response: OrderResponse, permission: 'orders:write', tag: 'orders', summary: 'Submit for the credit check: approved (stock reserved) or credit_hold with reasons', params: IdParams,
    handler: async (req, core) => submitOrder(core, (req.params as { id: number }).id, actorOf(req)) },
  { method: 'POST', url: '/orders/:id/cancel', response: OrderResponse, permission: 'orders:write', tag: 'orders', summary: 'Cancel before the first shipment', params: IdParams, body: Reason,
    handler: async (req, core) => cancelOrder(core, (req.params as { id: number }).id, (req.body as { reason: string }).reason, actorOf(req)) },
];
