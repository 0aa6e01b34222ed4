import type { Core } from '../core.ts';
import { customerOrderPage, getOrder, orderHistory, type Order, type OrderPage } from '../orders/order.service.ts';
import { listShipments, type Shipment } from '../shipping/shipment.service.ts';
import { listInvoices, type Invoice } from '../invoicing/invoice.service.ts';
import { notFound } from '../shared/errors.ts';
import { longDate, money, statusWords, timeOfDay } from '../documents/format.ts';
import { esc, href, orderStatus, page } from './layout.ts';

/**
 * The customer's orders, newest first, 10 to a page (`/portal/orders?page=N`; the overview
 * shows page 1), each with its delivery status and proof of delivery; and one order on its
 * own page (`/portal/orders/:id`) with its lines, status history, shipments and invoices.
 */
export const ORDERS_PER_PAGE = 10;

export interface OrderListView {
  page: OrderPage;
  shipments: Map<number, Shipment[]>;
}

export async function loadOrderList(core: Core, customerId: number, pageNo: unknown): Promise<OrderListView> {
  const p = await customerOrderPage(core, customerId, pageNo, ORDERS_PER_PAGE);
  const shipments = new Map<number, Shipment[]>();
  for (const o of p.orders) shipments.set(o.id, await listShipments(core, o.id));
  return { page: p, shipments };
}

/** One line per shipment: delivered (when, signed by whom), on its way, or a failed attempt. */
export function deliveryLine(s: Shipment): string {
  const carrier = `${esc(s.carrier)} ${esc(s.trackingNumber)}`;
  switch (s.status) {
    case 'delivered':
      return `<span class="good">Delivered ${esc(longDate(s.deliveredAt ?? ''))}</span>${s.signedBy ? `, signed by ${esc(s.signedBy)}` : ''} · ${carrier}`;
    case 'in_transit':
      return `On its way · ${carrier}`;
    case 'failed':
      return `<span class="overdue">Delivery attempt failed</span> · ${carrier}`;
    default:
      return `Shipped ${esc(longDate(s.shippedAt ?? ''))} · ${carrier}`;
  }
}

export function orderItems(v: OrderListView): string {
  if (v.page.orders.length === 0) return '<p class="muted">No orders yet.</p>';
  return `<ul class="items">${v.page.orders
    .map((o) => {
      const shipments = v.shipments.get(o.id) ?? [];
      const shown = shipments.slice(-2);
      return `<li id="order-${o.id}"><div class="row"><a class="title" href="/portal/orders/${o.id}">Order ${o.id}</a><span class="badge">${esc(orderStatus(o.status))}</span></div>
<div class="row muted small"><span>${esc(longDate(o.orderDate))} · ${o.lines.length} line${o.lines.length === 1 ? '' : 's'}</span><span class="amount">${esc(money(o.totalMinor, o.currency))}</span></div>
${shown.map((s) => `<div class="small">${deliveryLine(s)}</div>`).join('')}${shipments.length > shown.length ? `<div class="muted small">and ${shipments.length - shown.length} earlier shipment(s)</div>` : ''}</li>`;
    })
    .join('')}</ul>`;
}

export function pager(p: OrderPage, path: string): string {
  if (p.pages <= 1) return '';
  const newer = p.page > 1 ? `<a href="${href(path, { page: p.page - 1 === 1 ? undefined : p.page - 1 })}" rel="prev">← Newer</a>` : '<span></span>';
  const older = p.page < p.pages ? `<a href="${href('/portal/orders', { page: p.page + 1 })}" rel="next">Older →</a>` : '<span></span>';
  return `<nav class="pager" aria-label="Order pages">${newer}<span class="muted small">Page ${p.page} of ${p.pages} · ${p.total} orders</span>${older}</nav>`;
}

export function orderListPage(customer: { id: number; name: string }, csrf: string, v: OrderListView): string {
  const first = (v.page.page - 1) * v.page.perPage + 1;
  const last = first + v.page.orders.length - 1;
  return page({
    title: 'Orders',
    customer,
    csrf,
    active: 'orders',
    body: `<h1>Orders</h1><p class="muted">Newest first${v.page.total ? ` · ${first}–${last} of ${v.page.total}` : ''}</p>${orderItems(v)}${pager(v.page, '/portal/orders')}`,
  });
}

export interface OrderView {
  order: Order;
  history: Awaited<ReturnType<typeof orderHistory>>;
  shipments: Shipment[];
  invoices: Invoice[];
}

/** One of the customer's orders; another customer's order is "not found", like a missing one. */
export async function loadOrder(core: Core, customerId: number, id: number): Promise<OrderView> {
  const order = await getOrder(core, id).catch(() => null);
  if (!order || order.customerId !== customerId) throw notFound('order', id);
  return { order, history: await orderHistory(core, id), shipments: await listShipments(core, id), invoices: await listInvoices(core, { customerId, orderId: id }) };
}

export function orderPage(customer: { id: number; name: string }, csrf: string, v: OrderView): string {
  const o = v.order;
  const m = (minor: number) => esc(money(minor, o.currency));
  const lines = `<div class="scroll"><table><thead><tr><th>Item</th><th class="num">Qty</th><th class="num">Shipped</th><th class="num">Amount</th></tr></thead><tbody>
${o.lines.map((l) => `<tr><td>${esc(l.productName)}<div class="muted small">${esc(l.sku)}</div></td><td class="num">${l.quantity}</td><td class="num">${l.shippedQty}</td><td class="num">${m(l.totalMinor)}</td></tr>`).join('')}
<tr class="total"><td colspan="3">Total (tax included)</td><td class="num">${m(o.totalMinor)}</td></tr></tbody></table></div>`;
  const shipments = v.shipments.length
    ? `<ul class="items">${v.shipments
        .map(
          (s) => `<li><div class="row"><strong>Shipment ${s.id}</strong><span class="badge${s.status === 'delivered' ? ' good' : s.status === 'failed' ? ' overdue' : ''}">${esc(statusWords(s.status))}</span></div>
<div class="small">${deliveryLine(s)}</div>
${s.status === 'delivered' ? `<dl class="facts small"><dt>Proof of delivery</dt><dd>signed by ${esc(s.signedBy ?? '—')}</dd><dt>Delivered</dt><dd>${esc(longDate(s.deliveredAt ?? ''))} ${esc(timeOfDay(s.deliveredAt ?? ''))}</dd></dl>` : ''}
<div class="muted small">${s.lines.map((l) => `${esc(l.sku)} × ${l.quantity}`).join(', ')}${s.invoiceNumber ? ` · invoice <a href="/portal/invoices/${encodeURIComponent(s.invoiceNumber)}">${esc(s.invoiceNumber)}</a>` : ''}</div>
${s.events.length > 1 ? `<ol class="timeline small">${s.events.map((e) => `<li>${esc(statusWords(e.status))} · ${esc(longDate(e.at))} ${esc(timeOfDay(e.at))}${e.note ? ` — ${esc(e.note)}` : ''}</li>`).join('')}</ol>` : ''}</li>`,
        )
        .join('')}</ul>`
    : '<p class="muted">Nothing has shipped yet.</p>';
  const invoices = v.invoices.length
    ? `<ul class="items">${v.invoices.map((i) => `<li><div class="row"><a class="title" href="/portal/invoices/${encodeURIComponent(i.number)}">${esc(i.number)}</a><span class="amount">${m(i.totalMinor)}</span></div><div class="muted small">${esc(longDate(i.invoiceDate))} · ${esc(statusWords(i.status))}${i.balanceMinor > 0 ? ` · open ${m(i.balanceMinor)}` : ''}</div></li>`).join('')}</ul>`
    : '<p class="muted">Not invoiced yet.</p>';
  const history = `<ol class="timeline small">${v.history.map((h) => `<li>${esc(orderStatus(h.to_status))} · ${esc(longDate(h.at))} ${esc(timeOfDay(h.at))}</li>`).join('')}</ol>`;
  return page({
    title: `Order ${o.id}`,
    customer,
    csrf,
    active: 'orders',
    body: `<p class="small"><a href="/portal/orders">← All orders</a></p>
<h1>Order ${o.id} <span class="badge">${esc(orderStatus(o.status))}</span></h1>
<p class="muted">Ordered ${esc(longDate(o.orderDate))}${o.externalId ? ` · your reference ${esc(o.externalId)}` : ''}</p>
${lines}
<h2>Delivery</h2>${shipments}
<h2>Invoices</h2>${invoices}
<h2>History</h2>${history}`,
  });
}
