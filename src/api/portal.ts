import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../core.ts';
import { notFound } from '../shared/errors.ts';
import { formatAmount } from '../shared/money.ts';
import { getOrder, listOrders, orderHistory } from '../orders/order.service.ts';
import { listShipments } from '../shipping/shipment.service.ts';
import { getInvoice, listInvoices } from '../invoicing/invoice.service.ts';
import { getPayment, listPayments } from '../payments/payment.service.ts';
import { customerStatement } from '../payments/statement.service.ts';
import { getCustomer } from '../customers/customer.service.ts';
import { Id } from './routes/schemas.ts';

/**
 * Customer self-service: with a portal token a customer sees its own orders (with status
 * history, shipments, tracking and proof of delivery), invoices, payments and statement.
 * Another customer's document answers 404 exactly like one that does not exist.
 */
const me = (req: FastifyRequest): number => req.portalCustomerId!;

async function ownOrder(core: Core, customerId: number, id: number) {
  const order = await getOrder(core, id).catch(() => null);
  if (!order || order.customerId !== customerId) throw notFound('order', id);
  return { ...order, history: await orderHistory(core, id), shipments: await listShipments(core, id) };
}

export function registerPortal(app: FastifyInstance, core: Core): void {
  const config = { permission: 'portal' as const };
  const tags = ['portal'];
  const security = [{ portal: [] }];
  app.get('/portal/api/orders', { config, schema: { tags, security, summary: 'My orders' } }, async (req) => listOrders(core, { customerId: me(req), limit: 500 }));
  app.get('/portal/api/orders/:id', { config, schema: { tags, security, summary: 'One of my orders, with history and shipments', params: Type.Object({ id: Id }) } }, async (req) =>
    ownOrder(core, me(req), (req.params as { id: number }).id),
  );
  app.get('/portal/api/invoices', { config, schema: { tags, security, summary: 'My invoices' } }, async (req) => listInvoices(core, { customerId: me(req), limit: 1000 }));
  app.get('/portal/api/invoices/:number', { config, schema: { tags, security, summary: 'One of my invoices', params: Type.Object({ number: Type.String({ minLength: 1, maxLength: 100 }) }) } }, async (req) => {
    const number = (req.params as { number: string }).number;
    const invoice = await getInvoice(core, number).catch(() => null);
    if (!invoice || invoice.customerId !== me(req)) throw notFound('invoice', number);
    return invoice;
  });
  app.get('/portal/api/payments', { config, schema: { tags, security, summary: 'My payments' } }, async (req) => listPayments(core, { customerId: me(req), limit: 1000 }));
  app.get('/portal/api/payments/:id', { config, schema: { tags, security, summary: 'One of my payments', params: Type.Object({ id: Id }) } }, async (req) => {
    const id = (req.params as { id: number }).id;
    const payment = await getPayment(core, id).catch(() => null);
    if (!payment || payment.customerId !== me(req)) throw notFound('payment', id);
    return payment;
  });
  app.get('/portal/api/statement', { config, schema: { tags, security, summary: 'My statement of account' } }, async (req) => customerStatement(core, { customerId: me(req) }));
  app.get('/portal', { config, schema: { hide: true } }, async (req, reply) => reply.type('text/html; charset=utf-8').send(await portalPage(core, me(req))));
}

const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The portal page: server-rendered, inline CSS, no script and no outside asset. */
async function portalPage(core: Core, customerId: number): Promise<string> {
  const customer = await getCustomer(core, customerId);
  const m = (v: number) => `${formatAmount(v, customer.currency)} ${customer.currency}`;
  const orders = (await listOrders(core, { customerId, limit: 50 })).reverse();
  const shipments = new Map<number, Awaited<ReturnType<typeof listShipments>>>();
  for (const o of orders) shipments.set(o.id, await listShipments(core, o.id));
  const invoices = (await listInvoices(core, { customerId, limit: 1000 })).reverse();
  const statement = await customerStatement(core, { customerId });
  const open = invoices.filter((i) => i.balanceMinor > 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(customer.name)} — orders and invoices</title>
<style>
body{font:16px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;padding:1rem;max-width:46rem;margin:auto;color:#1b1b1b;background:#fafafa}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.4rem 0 .4rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
.card{background:#fff;border:1px solid #e2e2e2;border-radius:8px;padding:.7rem .9rem;margin:.5rem 0}
.row{display:flex;justify-content:space-between;gap:.5rem;flex-wrap:wrap}.muted{color:#666;font-size:.9rem}
.badge{display:inline-block;padding:.05rem .45rem;border-radius:99px;background:#eef;font-size:.8rem}
.due{color:#a40000}.big{font-size:1.3rem;font-weight:600}ul{padding-left:1.1rem;margin:.3rem 0}
</style></head><body>
<h1>${esc(customer.name)}</h1>
<p class="muted">Customer ${customer.id} · as of ${esc(statement.to)}</p>
<div class="card"><div class="row"><span>Balance</span><span class="big">${m(statement.closingBalanceMinor)}</span></div>
<div class="muted">${open.length} open invoice(s)${statement.aging.current !== statement.closingBalanceMinor && statement.closingBalanceMinor > 0 ? ` · overdue ${m(statement.closingBalanceMinor - statement.aging.current)}` : ''}</div></div>
<h2>Orders</h2>
${orders.map((o) => `<div class="card" id="order-${o.id}"><div class="row"><strong>Order ${o.id}</strong><span class="badge">${esc(o.status.replace('_', ' '))}</span></div>
<div class="muted">${esc(o.orderDate)} · ${m(o.totalMinor)} · ${o.lines.map((l) => `${esc(l.sku)} × ${l.quantity}`).join(', ')}</div>
${(shipments.get(o.id) ?? []).map((s) => `<ul><li>Shipment ${s.id}: ${esc(s.carrier)} ${esc(s.trackingNumber)} — ${esc(s.status.replace('_', ' '))}${s.deliveredAt ? `, delivered ${esc(s.deliveredAt.slice(0, 10))}, signed by ${esc(s.signedBy)}` : ''}</li></ul>`).join('')}
</div>`).join('\n') || '<p class="muted">No orders yet.</p>'}
<h2>Invoices</h2>
${invoices.map((i) => `<div class="card"><div class="row"><strong>${esc(i.number)}</strong><span class="badge">${esc(i.status.replace('_', ' '))}</span></div>
<div class="row muted"><span>${esc(i.invoiceDate)} · due <span class="${i.balanceMinor > 0 && i.dueDate < statement.to ? 'due' : ''}">${esc(i.dueDate)}</span></span><span>${m(i.totalMinor)} · open ${m(i.balanceMinor)}</span></div></div>`).join('\n') || '<p class="muted">No invoices yet.</p>'}
<h2>Statement</h2>
<div class="card">${statement.lines.slice(-20).map((l) => `<div class="row"><span>${esc(l.date)} ${esc(l.document)}</span><span>${l.debitMinor ? m(l.debitMinor) : `− ${m(l.creditMinor)}`}</span></div>`).join('') || '<p class="muted">No movements in the last 90 days.</p>'}
<div class="row"><strong>Closing balance</strong><strong>${m(statement.closingBalanceMinor)}</strong></div></div>
</body></html>`;
}
