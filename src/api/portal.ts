import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../core.ts';
import { notFound } from '../shared/errors.ts';
import { getOrder, listOrders, orderHistory } from '../orders/order.service.ts';
import { listShipments } from '../shipping/shipment.service.ts';
import { getInvoice, listInvoices } from '../invoicing/invoice.service.ts';
import { getPayment, listPayments } from '../payments/payment.service.ts';
import { accountStatement } from '../payments/account-statement.service.ts';
import { Id, ListQuery } from './routes/schemas.ts';
import { AccountStatementResponse, InvoiceResponse, OrderResponse, Page, PaymentResponse } from './routes/responses.ts';
import { registerPortalPages } from '../portal/portal.routes.ts';
import { addRedirect } from './http.ts';
import { facing, pageOf, type ListPageQuery } from '../shared/facing.ts';

/**
 * Customer self-service over JSON: with a portal token a customer reads its own orders (with
 * status history, shipments, tracking and proof of delivery), invoices, payments and
 * statement. Another customer's document answers 404 exactly like one that does not exist.
 * The pages, PDFs and forms of the portal live in src/portal/.
 */
const me = (req: FastifyRequest): number => req.portalCustomerId!;
/** The most documents of one kind a customer's list is paged over. */
const MAX_PORTAL_LIST = 10_000;

async function ownOrder(core: Core, customerId: number, id: number) {
  const order = await getOrder(core, id).catch(() => null);
  if (!order || order.customerId !== customerId) throw notFound('order', id);
  return { ...order, history: await orderHistory(core, id), shipments: await listShipments(core, id) };
}

export function registerPortal(app: FastifyInstance, core: Core): void {
  const config = { permission: 'portal' as const };
  const tags = ['portal'];
  const security = [{ portal: [] }];
  // Lists answer the API's one list shape ({ items, next }); every answer is written as the API's are (see `facing`).
  const querystring = ListQuery;
  app.get('/portal/api/orders', { config, schema: { tags, security, summary: 'My orders', querystring, response: { 200: Page(OrderResponse) } } }, async (req) => facing(pageOf(await listOrders(core, { customerId: me(req), limit: MAX_PORTAL_LIST }), req.query as ListPageQuery)));
  app.get('/portal/api/orders/:id', { config, schema: { tags, security, summary: 'One of my orders, with history and shipments', params: Type.Object({ id: Id }), response: { 200: OrderResponse } } }, async (req) =>
    facing(await ownOrder(core, me(req), (req.params as { id: number }).id)),
  );
  app.get('/portal/api/invoices', { config, schema: { tags, security, summary: 'My invoices', querystring, response: { 200: Page(InvoiceResponse) } } }, async (req) => facing(pageOf(await listInvoices(core, { customerId: me(req), limit: MAX_PORTAL_LIST }), req.query as ListPageQuery)));
  app.get('/portal/api/invoices/:number', { config, schema: { tags, security, summary: 'One of my invoices', params: Type.Object({ number: Type.String({ minLength: 1, maxLength: 100 }) }), response: { 200: InvoiceResponse } } }, async (req) => {
    const number = (req.params as { number: string }).number;
    const invoice = await getInvoice(core, number).catch(() => null);
    if (!invoice || invoice.customerId !== me(req)) throw notFound('invoice', number);
    return facing(invoice);
  });
  app.get('/portal/api/payments', { config, schema: { tags, security, summary: 'My payments', querystring, response: { 200: Page(PaymentResponse) } } }, async (req) => facing(pageOf(await listPayments(core, { customerId: me(req), limit: MAX_PORTAL_LIST }), req.query as ListPageQuery)));
  app.get('/portal/api/payments/:id', { config, schema: { tags, security, summary: 'One of my payments', params: Type.Object({ id: Id }), response: { 200: PaymentResponse } } }, async (req) => {
    const id = (req.params as { id: number }).id;
    const payment = await getPayment(core, id).catch(() => null);
    if (!payment || payment.customerId !== me(req)) throw notFound('payment', id);
    return facing(payment);
  });
  app.get('/portal/api/account-statement', { config, schema: { tags, security, summary: 'My statement of account', response: { 200: AccountStatementResponse } } }, async (req) => facing(await accountStatement(core, { customerId: me(req) })));
  addRedirect(app, 'GET', '/portal/api/statement', '/portal/api/account-statement', 'portal');
  // The pages, documents and forms a customer uses in a browser.
  registerPortalPages(app, core);
}
