import type { RouteSpec } from '../http.ts';
import type { ListPageQuery } from '../../shared/facing.ts';
import { actorOf } from '../http.ts';
import { creditHolds, orderCreditDecisions, rejectOrder, releaseOrder } from '../../credit/credit.service.ts';
import { IdParams, ListQuery, Reason } from './schemas.ts';
import { CreditDecisionResponse, HoldResponse, OrderResponse, Page } from './responses.ts';

/** Credit control: the orders on hold and why, each order's decisions, release and reject. */
export const creditRoutes: RouteSpec[] = [
  { method: 'GET', url: '/credit/holds', response: Page(HoldResponse), permission: 'credit:read', tag: 'credit', summary: 'Orders waiting for a credit controller, oldest first, with the reasons of the hold', querystring: ListQuery,
    handler: async (req, core) => creditHolds(core, req.query as ListPageQuery) },
  { method: 'GET', url: '/orders/:id/credit-decisions', response: Page(CreditDecisionResponse), permission: 'credit:read', tag: 'credit', summary: 'Credit decisions of an order with their inputs, in the currency of the order', params: IdParams, querystring: ListQuery,
    handler: async (req, core) => orderCreditDecisions(core, (req.params as { id: number }).id, req.query as ListPageQuery) },
  { method: 'POST', url: '/orders/:id/release', response: OrderResponse, permission: 'credit:decide', tag: 'credit', summary: 'Release a held order', params: IdParams, body: Reason,
    handler: async (req, core) => releaseOrder(core, (req.params as { id: number }).id, (req.body as { reason: string }).reason, actorOf(req)) },
  { method: 'POST', url: '/orders/:id/reject', response: OrderResponse, permission: 'credit:decide', tag: 'credit', summary: 'Reject a held order', params: IdParams, body: Reason,
    handler: async (req, core) => rejectOrder(core, (req.params as { id: number }).id, (req.body as { reason: string }).reason, actorOf(req)) },
];
