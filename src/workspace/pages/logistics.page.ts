import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import type { OrderStatus } from '../../db/schema.ts';
import { listOrders, type Order } from '../../orders/order.service.ts';
import { getCustomer, type Customer } from '../../customers/customer.service.ts';
import { createShipment, deliverShipment, listShipments, type Shipment } from '../../shipping/shipment.service.ts';
import { displayCount } from '../../shared/figures.ts';
import { day, html, href, type Html } from '../html.ts';
import { attempt, Form, type FormError } from '../forms.ts';
import { csrfField, customerLink, errorSummary, field, notice, orderLink, page, pager, status, viewerOf, type Viewer } from '../layout.ts';
import { actorOf, sendCsv, sendPage, wantsCsv } from '../reply.ts';

/**
 * Logistics: orders with goods to ship (approved or partly shipped), shipped in full or in
 * parts; shipments on their way, delivered with the name of who signed for them (the proof
 * of delivery, which invoices the shipment when invoicing is set to delivery).
 */

const PAGE_SIZE = 15;
const VIEWS = {
  ship: { label: 'To ship', statuses: ['approved', 'partially_shipped'] as OrderStatus[] },
  deliver: { label: 'To deliver', statuses: ['partially_shipped', 'shipped'] as OrderStatus[] },
};
type View = keyof typeof VIEWS;

/** Orders in any of `statuses`, by id after a cursor: each status read from the same cursor, merged. */
async function ordersIn(core: Core, statuses: OrderStatus[], after: number | undefined, limit: number): Promise<{ orders: Order[]; next: number | null }> {
  const lists = await Promise.all(statuses.map((s) => listOrders(core, { status: s, afterId: after, limit })));
  const merged = lists.flat().sort((a, b) => a.id - b.id);
  const orders = merged.slice(0, limit);
  return { orders, next: merged.length > limit || lists.some((l) => l.length === limit) ? (orders.at(-1)?.id ?? null) : null };
}

interface Failure {
  target: string;
  error: FormError;
  /** The SKUs sent, in order: the service names a line by its place among them. */
  sent?: string[];
}

const remaining = (l: Order['lines'][number]) => l.quantity - l.shippedQty;

function shipCard(viewer: Viewer, o: Order, c: Customer, failure: Failure | null): Html {
  const mine = failure?.target === `order-${o.id}` ? failure : null;
  const open = o.lines.filter((l) => remaining(l) > 0);
  return html`<article class="card" aria-labelledby="ship-${o.id}-h"><h2 id="ship-${o.id}-h">${orderLink(o.id)} · ${customerLink(c.id, c.name)} ${status(o.status)}</h2>
<form method="post" action="/app/logistics/orders/${o.id}/ship" class="stack">${csrfField(viewer)}${errorSummary(mine?.error)}
<div class="table"><table class="list"><caption class="sr-only">Lines of order ${o.id}</caption><thead><tr><th scope="col">Product</th><th scope="col" class="num">Ordered</th><th scope="col" class="num">Shipped</th><th scope="col" class="num">Reserved</th><th scope="col">Ship now</th></tr></thead><tbody>
${open.map((l) => {
  const at = mine?.sent?.indexOf(l.sku) ?? -1;
  return html`<tr><td data-label="Product"><strong>${l.sku}</strong> ${l.productName}</td><td data-label="Ordered" class="num">${displayCount(l.quantity)}</td><td data-label="Shipped" class="num">${displayCount(l.shippedQty)}</td><td data-label="Reserved" class="num">${displayCount(l.reservedQty)}</td>
<td data-label="Ship now">${field({ name: `qty_${l.sku}`, id: `ship-${o.id}-${l.sku}`, label: `Quantity of ${l.sku} to ship`, type: 'number', value: l.reservedQty, error: mine?.error, errorKey: `lines.${at}.quantity`, hideLabel: true, attrs: html`min="0" inputmode="numeric"` })}</td></tr>`;
})}</tbody></table></div>
<div class="fields">${field({ name: 'carrier', id: `carrier-${o.id}`, label: 'Carrier', error: mine?.error, required: true })}${field({ name: 'trackingNumber', id: `tracking-${o.id}`, label: 'Tracking number', error: mine?.error, required: true })}</div>
${viewer.can('shipments:write') ? html`<div class="actions"><button type="submit">Ship</button><span class="muted">Leave a quantity at 0 to ship the line later.</span></div>` : ''}
</form></article>`;
}

function deliverCard(viewer: Viewer, o: Order, c: Customer, shipments: Shipment[], failure: Failure | null): Html {
  const waiting = shipments.filter((s) => s.status !== 'delivered');
  return html`<article class="card" aria-labelledby="deliver-${o.id}-h"><h2 id="deliver-${o.id}-h">${orderLink(o.id)} · ${customerLink(c.id, c.name)} ${status(o.status)}</h2>
${waiting.length === 0 ? html`<p class="muted">Every shipment of this order is delivered.</p>` : ''}
${waiting.map((s) => {
  const mine = failure?.target === `shipment-${s.id}` ? failure.error : null;
  return html`<form method="post" action="/app/logistics/shipments/${s.id}/deliver" class="stack" aria-label="Deliver shipment ${s.id}">${csrfField(viewer)}
<p><strong>Shipment ${s.id}</strong> ${status(s.status)} · ${s.carrier} ${s.trackingNumber} · ${s.lines.map((l) => `${l.sku} × ${displayCount(l.quantity)}`).join(', ')} · shipped ${day(s.shippedAt)}</p>
${errorSummary(mine)}${field({ name: 'signedBy', id: `signed-${s.id}`, label: `Signed for shipment ${s.id} by`, error: mine, required: true, hint: 'The name on the proof of delivery.' })}
${viewer.can('shipments:write') ? html`<div class="actions"><button type="submit">Record delivery</button></div>` : ''}</form>`;
})}</article>`;
}

async function logisticsPage(core: Core, req: FastifyRequest, viewOverride: View | null, failure: Failure | null, message: string | null): Promise<string> {
  const viewer = viewerOf(req);
  const q = Form.query(req);
  const view: View = viewOverride ?? (q.text('view') === 'deliver' ? 'deliver' : 'ship');
  const after = q.optional('after');
  const { orders, next } = await ordersIn(core, VIEWS[view].statuses, after === undefined ? undefined : Number(after) || 0, PAGE_SIZE);
  const customers = new Map<number, Customer>();
  for (const o of orders) if (!customers.has(o.customerId)) customers.set(o.customerId, await getCustomer(core, o.customerId));
  const cards = await Promise.all(
    orders.map(async (o) => (view === 'ship' ? shipCard(viewer, o, customers.get(o.customerId)!, failure) : deliverCard(viewer, o, customers.get(o.customerId)!, await listShipments(core, o.id), failure))),
  );
  return page(viewer, {
    title: 'Logistics',
    active: '/app/logistics',
    body: html`<h1>Logistics</h1>${notice(message)}
<nav class="pager" aria-label="Logistics views">${(Object.keys(VIEWS) as View[]).map((v) => html`<a href="${href('/app/logistics', { view: v })}"${v === view ? html` aria-current="page"` : ''}>${VIEWS[v].label}</a>`)}</nav>
${cards.length ? cards : html`<p class="empty">${view === 'ship' ? 'No order waits for shipping.' : 'No shipment waits for delivery.'}</p>`}
${pager('/app/logistics', { view, after }, next)}`,
  });
}

export function registerLogistics(scope: FastifyInstance, core: Core): void {
  scope.get('/app/logistics', { config: { permission: 'shipments:read' }, schema: { hide: true } }, async (req, reply) => {
    const q = Form.query(req);
    if (wantsCsv(req)) {
      const view: View = q.text('view') === 'deliver' ? 'deliver' : 'ship';
      const rows: Record<string, unknown>[] = [];
      let after: number | undefined;
      for (;;) {
        const { orders, next } = await ordersIn(core, VIEWS[view].statuses, after, 500);
        for (const o of orders) for (const l of o.lines) rows.push({ order: o.id, customer_id: o.customerId, status: o.status, sku: l.sku, product: l.productName, ordered: l.quantity, shipped: l.shippedQty, reserved: l.reservedQty, backorder: l.backorderQty });
        if (next === null || rows.length >= 100_000) break;
        after = next;
      }
      return sendCsv(reply, `logistics-${view}`, ['order', 'customer_id', 'status', 'sku', 'product', 'ordered', 'shipped', 'reserved', 'backorder'], rows);
    }
    const done = q.text('done');
    const message = done === 'shipped' ? `Shipment ${q.text('shipment')} created for order ${q.text('order')}.` : done === 'delivered' ? `Shipment ${q.text('shipment')} delivered${q.text('invoice') ? `; invoiced as ${q.text('invoice')}` : ''}.` : null;
    return sendPage(reply, await logisticsPage(core, req, null, null, message));
  });

  scope.post('/app/logistics/orders/:id/ship', { config: { permission: 'shipments:write' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const f = Form.of(req);
    const all = Object.keys(f.body)
      .filter((k) => k.startsWith('qty_'))
      .map((k) => ({ sku: k.slice(4), quantity: f.text(k) }));
    // A line left at 0 (or blank) is not part of this shipment; when every line is, they all
    // go to the service, which refuses a shipment of nothing by its own rule.
    const chosen = all.filter((l) => l.quantity !== '' && l.quantity !== '0');
    const lines = chosen.length > 0 ? chosen : all;
    const done = await attempt(() => createShipment(core, { orderId: id, carrier: f.text('carrier'), trackingNumber: f.text('trackingNumber'), lines }, actorOf(req)));
    if (!done.ok) return sendPage(reply, await logisticsPage(core, req, 'ship', { target: `order-${id}`, error: done.error, sent: lines.map((l) => l.sku) }, null));
    return reply.redirect(href('/app/logistics', { view: 'deliver', done: 'shipped', shipment: done.value.id, order: done.value.orderId }), 303);
  });

  scope.post('/app/logistics/shipments/:id/deliver', { config: { permission: 'shipments:write' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const done = await attempt(() => deliverShipment(core, id, { signedBy: Form.of(req).text('signedBy') }, actorOf(req)));
    if (!done.ok) return sendPage(reply, await logisticsPage(core, req, 'deliver', { target: `shipment-${id}`, error: done.error }, null));
    return reply.redirect(href('/app/logistics', { view: 'deliver', done: 'delivered', shipment: done.value.id, invoice: done.value.invoiceNumber }), 303);
  });
}
