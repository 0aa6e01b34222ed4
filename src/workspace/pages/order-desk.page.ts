import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { cancelOrder, createOrder, getOrder, orderBoard, orderHistory, type Order, type OrderLineInput } from '../../orders/order.service.ts';
import { ORDER_STATUSES } from '../../orders/order.state.ts';
import { confirmPrepayment, creditDecisions, prepaymentCover, previewCredit, submitOrder, type CreditPreview, type PrepaymentCover } from '../../credit/credit.service.ts';
import { getCustomer, searchCustomers, type Customer } from '../../customers/customer.service.ts';
import { getProduct, searchProducts, type Product } from '../../catalog/product.service.ts';
import { listShipments } from '../../shipping/shipment.service.ts';
import { listInvoices } from '../../invoicing/invoice.service.ts';
import { displayCount, displayPercent } from '../../shared/figures.ts';
import { day, html, href, type Html } from '../html.ts';
import { attempt, Form, type FormError } from '../forms.ts';
import { csrfField, customerLink, errorSummary, field, money, notice, orderLink, page, pager, status, table, viewerOf, type Viewer } from '../layout.ts';
import { actorOf, sendCsv, sendPage, wantsCsv } from '../reply.ts';
import { sendProblem } from '../../api/problem.ts';

/**
 * The order desk: enter an order with a live product search (stock and price), see the
 * credit check's verdict and figures before submitting, and follow every order on a status
 * board that refreshes itself when the event feed reports an order change.
 */

const PAGE_SIZE = 25;

interface BoardQuery {
  status?: string;
  customer?: string;
  after?: string;
}

const boardQuery = (req: FastifyRequest): BoardQuery => {
  const q = Form.query(req);
  return { status: q.optional('status'), customer: q.optional('customer'), after: q.optional('after') };
};

/** Customers of a list of orders, each read once. */
async function customersOf(core: Core, orders: readonly { customerId: number }[]): Promise<Map<number, Customer>> {
  const ids = [...new Set(orders.map((o) => o.customerId))];
  return new Map((await Promise.all(ids.map((id) => getCustomer(core, id)))).map((c) => [c.id, c]));
}

const lastMove = (o: Order): string => [o.createdAt, o.submittedAt, o.approvedAt, o.shippedAt, o.deliveredAt, o.invoicedAt, o.paidAt, o.cancelledAt].filter((x): x is string => !!x).sort().at(-1)!.slice(0, 16).replace('T', ' ');

/** The board's rows, newest first; `after` is the cursor of the board's own order (the oldest order of the previous page). */
async function boardRows(core: Core, q: BoardQuery, limit: number) {
  const orders = await orderBoard(core, { status: q.status, customerId: q.customer, beforeId: q.after, limit });
  return { orders, customers: await customersOf(core, orders) };
}

async function board(core: Core, q: BoardQuery): Promise<Html> {
  const { orders, customers } = await boardRows(core, q, PAGE_SIZE);
  const next = orders.length === PAGE_SIZE ? orders.at(-1)!.id : null;
  return html`${table(
    'Orders',
    [
      { label: 'Order', cell: (o) => orderLink(o.id) },
      { label: 'Customer', cell: (o) => customerLink(o.customerId, customers.get(o.customerId)?.name ?? `customer ${o.customerId}`) },
      { label: 'Date', cell: (o) => o.orderDate },
      { label: 'Status', cell: (o) => html`<span data-order-status="${o.id}">${status(o.status)}</span>` },
      { label: 'Last move (UTC)', cell: (o) => lastMove(o) },
      { label: 'Total', num: true, cell: (o) => money(o.totalMinor, o.currency) },
    ],
    orders,
    'No order matches.',
  )}${pager('/app/orders', { status: q.status, customer: q.customer, after: q.after }, next)}`;
}

function boardSection(q: BoardQuery, content: Html): Html {
  const statusOptions = [{ value: '', label: 'Any status' }, ...ORDER_STATUSES.map((s) => ({ value: s, label: s.replaceAll('_', ' ') }))];
  return html`<section class="card" aria-labelledby="board-h"><h2 id="board-h">Status board</h2>
<form method="get" action="/app/orders" class="filters" role="search">
${field({ name: 'status', label: 'Status', value: q.status ?? '', options: statusOptions })}
${field({ name: 'customer', label: 'Customer id', type: 'number', value: q.customer ?? '', attrs: html`min="1" inputmode="numeric"` })}
<button type="submit" class="secondary">Filter</button></form>
<p class="live" id="board-live">Updates by itself when an order changes.</p>
<div id="board" hx-get="${href('/app/orders/board', { status: q.status, customer: q.customer, after: q.after })}" hx-trigger="sse:order throttle:750ms" hx-swap="innerHTML">${content}</div>
</section>`;
}

function lineRow(p: Product, quantity: string, i: number, error?: FormError | null): Html {
  return html`<tr>
<td data-label="Product"><input type="hidden" name="sku" value="${p.sku}"><strong>${p.sku}</strong> ${p.name}</td>
<td data-label="Available" class="num">${displayCount(p.available)}</td>
<td data-label="Price" class="num">${money(p.listPriceMinor, p.currency)}</td>
<td data-label="Tax" class="num">${displayPercent(p.taxRateBp)}</td>
<td data-label="Quantity">${field({ name: 'quantity', id: `qty-${p.sku}-${i}`, label: `Quantity of ${p.sku}`, type: 'number', value: quantity, error, errorKey: `lines.${i}.quantity`, hideLabel: true, attrs: html`min="1" inputmode="numeric"` })}</td>
<td data-label=""><button type="button" class="link" hx-get="/app/orders/blank" hx-target="closest tr" hx-swap="delete">Remove ${p.sku}</button></td>
</tr>`;
}

/**
 * The customer of the order: a live search by name or number whose results are buttons
 * right after the field (Tab to one, Enter to choose it; the list pages on the server), and
 * the chosen customer's id in a hidden field. Choosing
 * swaps this block in again with the search field marked `data-refocus`: it takes the focus
 * back when the swap settles, so the keyboard stays where the person was — unless they have
 * moved on meanwhile (typing in the product search while the choice was on its way), whose
 * typing must not jump into this field (assets/workspace.js).
 */
function customerField(chosen: Customer | null, raw: string, error?: FormError | null, focus = false): Html {
  const mine = error && error.fields.includes('customerId') ? error : null;
  const describedBy = ['customer-chosen', mine ? 'f-customerId-error' : ''].filter(Boolean).join(' ');
  return html`<div class="field${mine ? ' invalid' : ''}" id="customer-field"><label for="customer-q">Customer (name or number)</label>
<input id="customer-q" type="search" name="q" form="customer-search" autocomplete="off" value="${chosen?.name ?? ''}" aria-required="true"${mine ? html` aria-invalid="true"` : ''} aria-describedby="${describedBy}" aria-controls="customer-results" hx-get="/app/orders/customers" hx-trigger="input changed delay:250ms, search" hx-target="#customer-results"${focus ? html` data-refocus` : ''}>
<input type="hidden" name="customerId" value="${chosen ? String(chosen.id) : raw}">
<p class="hint" id="customer-chosen">${chosen ? html`Chosen: <strong>${chosen.name}</strong>, no. ${chosen.id}${chosen.externalId ? ` (${chosen.externalId})` : ''}, ${chosen.currency}, risk class ${chosen.riskClass ?? 'not set'}${chosen.status === 'active' ? '' : `, ${chosen.status}`}` : 'None chosen yet: type a name or number, then choose from the list.'}</p>
${mine ? html`<p class="field-error" id="f-customerId-error">${mine.fieldMessage('customerId')}</p>` : ''}
<div id="customer-results" aria-live="polite"></div></div>`;
}

const CUSTOMER_PAGE = 8;

function customerResults(text: string, found: { customers: Customer[]; next: number | null }, from: number): Html {
  if (text.trim() === '') return html``;
  if (found.customers.length === 0) return html`<p class="empty">${from > 0 ? 'No more customers match' : 'No customer matches'} “${text}”.</p>`;
  const pageLink = (to: number, label: string) => html`<button type="button" class="link" hx-get="${href('/app/orders/customers', { q: text, from: String(to) })}" hx-target="#customer-results">${label}</button>`;
  return html`<ul class="results" aria-label="Customers matching ${text}">${found.customers.map((c) => html`<li><span><strong>${c.name}</strong> <span class="muted">no. ${c.id}${c.externalId ? ` · ${c.externalId}` : ''} · ${c.currency}${c.status === 'active' ? '' : ` · ${c.status}`}</span></span><button type="button" class="secondary" hx-get="${href('/app/orders/customer', { id: String(c.id) })}" hx-target="#customer-field" hx-swap="outerHTML">Choose ${c.name}</button></li>`)}</ul>
${from > 0 || found.next !== null ? html`<p class="pager">${from > 0 ? pageLink(Math.max(0, from - CUSTOMER_PAGE), 'Previous customers') : ''} ${found.next !== null ? pageLink(found.next, 'More customers') : ''}</p>` : ''}`;
}

interface EntryState {
  customer: string;
  /** The customer `customer` names, when it names one. */
  chosen?: Customer | null;
  lines: { sku: string; quantity: string }[];
  products: Map<string, Product>;
  error?: FormError | null;
  key: string;
}

function entrySection(viewer: Viewer, s: EntryState): Html {
  const rows = s.lines.map((l, i) => {
    const p = s.products.get(l.sku);
    return p ? lineRow(p, l.quantity, i, s.error) : html`<tr><td data-label="Product"><input type="hidden" name="sku" value="${l.sku}">${l.sku}</td><td colspan="5" data-label="">${field({ name: 'quantity', id: `qty-x-${i}`, label: `Quantity of ${l.sku}`, value: l.quantity, error: s.error, errorKey: `lines.${i}.sku` })}</td></tr>`;
  });
  return html`<section class="card" aria-labelledby="entry-h"><h2 id="entry-h">New order</h2>
${errorSummary(s.error)}
<form id="customer-search" role="search" hx-get="/app/orders/customers" hx-target="#customer-results"></form>
<form id="product-search" role="search" hx-get="/app/orders/products" hx-target="#product-results"></form>
<form method="post" action="/app/orders" id="order-form" class="stack">
${csrfField(viewer)}<input type="hidden" name="idempotencyKey" value="${s.key}">
<div class="fields">${customerField(s.chosen ?? null, s.customer, s.error)}
<div class="field"><label for="product-q">Find a product (SKU or name)</label>
<input id="product-q" type="search" name="q" form="product-search" autocomplete="off" hx-get="/app/orders/products" hx-trigger="input changed delay:250ms, search" hx-target="#product-results" aria-controls="product-results">
</div></div>
<div id="product-results" aria-live="polite"></div>
<div class="table lines"><table class="list"><caption class="sr-only">Order lines</caption><thead><tr><th scope="col">Product</th><th scope="col" class="num">Available</th><th scope="col" class="num">Price</th><th scope="col" class="num">Tax</th><th scope="col">Quantity</th><th scope="col"><span class="sr-only">Remove</span></th></tr></thead>
<tbody id="lines">${rows}</tbody></table></div>
<p class="empty no-lines">No line yet: find a product and add it.</p>
${s.error?.fields.includes('lines') ? html`<p class="field-error">${s.error.fieldMessage('lines')}</p>` : ''}
<h3>Credit check before submitting</h3>
<div id="credit-preview" hx-get="/app/orders/preview" hx-include="#order-form" hx-trigger="load, change from:#order-form, lines-changed from:body delay:150ms, customer-chosen from:body delay:150ms" aria-live="polite"><p class="muted">Enter a customer and lines to see the verdict.</p></div>
<div class="actions"><button type="submit">Submit order</button><span class="muted">Creates the order and runs the credit check; the verdict that counts is the one at submission.</span></div>
</form></section>`;
}

async function productsOf(core: Core, skus: string[]): Promise<Map<string, Product>> {
  const out = new Map<string, Product>();
  for (const sku of new Set(skus)) {
    const found = await attempt(() => getProduct(core, sku));
    if (found.ok) out.set(sku, found.value);
  }
  return out;
}

async function deskPage(core: Core, req: FastifyRequest, entry: EntryState | null, message: string | null): Promise<string> {
  const viewer = viewerOf(req);
  const q = boardQuery(req);
  const state: EntryState = entry ?? { customer: Form.query(req).text('customer'), lines: [], products: new Map(), key: randomUUID() };
  if (state.chosen === undefined && /^\d{1,9}$/.test(state.customer)) {
    const found = await attempt(() => getCustomer(core, state.customer));
    state.chosen = found.ok ? found.value : null;
  }
  return page(viewer, {
    title: 'Order desk',
    active: '/app/orders',
    live: true,
    body: html`<h1>Order desk</h1>${notice(message)}
${viewer.can('orders:write') ? entrySection(viewer, state) : ''}
${boardSection(q, await board(core, q))}`,
  });
}

function verdict(p: CreditPreview): Html {
  const c = p.customer;
  const m = (x: number) => money(x, c.currency);
  const e = p.evaluation;
  if (p.prepayment) {
    return html`<div class="verdict hold">
<p><strong>Prepayment terms</strong> — ${customerLink(c.id, c.name)}, risk class ${c.riskClass ?? 'not set'}: the order waits for a payment of <strong>${m(p.orderTotalMinor)}</strong> and ships once the payment covers it.</p>
<dl class="facts"><dt>This order</dt><dd>${m(p.orderTotalMinor)}</dd><dt>Unapplied cash</dt><dd>${m(p.figures.unappliedCashMinor)}</dd></dl></div>`;
  }
  return html`<div class="verdict ${e.approved ? 'approve' : 'hold'}">
<p><strong>${e.approved ? 'Would be approved' : 'Would go on credit hold'}</strong> — ${customerLink(c.id, c.name)}, risk class ${c.riskClass ?? 'not set'}, ${c.status}</p>
${e.reasons.length ? html`<ul>${e.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : ''}
<dl class="facts">
<dt>This order</dt><dd>${m(p.orderTotalMinor)}</dd>
<dt>Open receivables</dt><dd>${m(p.figures.openArMinor)}</dd>
<dt>Unapplied cash</dt><dd>− ${m(p.figures.unappliedCashMinor)}</dd>
<dt>Approved, not invoiced</dt><dd>${m(p.figures.unbilledMinor)}</dd>
<dt>Exposure</dt><dd><strong>${m(e.exposureMinor)}</strong> of limit ${m(c.creditLimitMinor)}</dd>
<dt>Overdue</dt><dd>${m(p.figures.overdueMinor)}${p.figures.oldestDaysOverdue > 0 ? `, oldest ${displayCount(p.figures.oldestDaysOverdue)} days` : ''}</dd>
</dl></div>`;
}

const DONE: Record<string, (id: string) => string> = {
  submitted: (id) => `Order ${id} submitted.`,
  prepaid: (id) => `Order ${id} released: the prepayment covers it, and it can ship.`,
  cancelled: (id) => `Order ${id} cancelled.`,
};

async function orderPage(core: Core, req: FastifyRequest, id: string, error: FormError | null): Promise<string> {
  const viewer = viewerOf(req);
  const o = await getOrder(core, id);
  const c = await getCustomer(core, o.customerId);
  const [history, decisions, shipments, invoices, cover] = await Promise.all([
    orderHistory(core, o.id),
    viewer.can('credit:read') ? creditDecisions(core, o.id) : Promise.resolve([]),
    listShipments(core, o.id),
    listInvoices(core, { orderId: o.id }),
    o.status === 'awaiting_prepayment' && viewer.can('payments:read') ? prepaymentCover(core, o.id) : Promise.resolve(null),
  ]);
  const q = Form.query(req);
  const done = DONE[q.text('done')];
  const m = (x: number) => money(x, o.currency);
  return page(viewer, {
    title: `Order ${o.id}`,
    active: '/app/orders',
    live: true,
    body: html`<h1>Order ${o.id} <span id="order-status" hx-get="/app/orders/${o.id}/status" hx-trigger="sse:order" hx-swap="innerHTML">${status(o.status)}</span></h1>
${notice(done ? done(String(o.id)) : null)}${errorSummary(error)}
<div class="grid"><section class="card"><h2>Order</h2><dl class="facts">
<dt>Customer</dt><dd>${customerLink(c.id, c.name)}</dd><dt>Date</dt><dd>${o.orderDate}</dd>
<dt>Net</dt><dd>${m(o.subtotalMinor - o.discountMinor)}</dd><dt>Tax</dt><dd>${m(o.taxMinor)}</dd><dt>Total</dt><dd><strong>${m(o.totalMinor)}</strong></dd>
${o.cancelReason ? html`<dt>Cancelled</dt><dd>${o.cancelReason}</dd>` : ''}</dl>
${cover ? prepaymentBox(viewer, o.id, cover) : ''}
${viewer.can('orders:write') && ['draft', 'submitted', 'credit_hold', 'approved'].includes(o.status) ? html`<form method="post" action="/app/orders/${o.id}/cancel" class="stack">${csrfField(viewer)}${field({ name: 'reason', label: 'Reason to cancel', error, required: true })}<div class="actions"><button type="submit" class="danger">Cancel order</button></div></form>` : ''}
</section>
<section class="card"><h2>Moves</h2>${table('Status history', [
      { label: 'When (UTC)', cell: (h) => h.at.slice(0, 16).replace('T', ' ') },
      { label: 'From', cell: (h) => (h.from_status ? status(h.from_status) : '') },
      { label: 'To', cell: (h) => status(h.to_status) },
      { label: 'By', cell: (h) => h.actor },
      { label: 'Reason', cell: (h) => h.reason ?? '' },
    ], history)}</section></div>
<section class="card"><h2>Lines</h2>${table('Order lines', [
      { label: 'Product', cell: (l) => html`<strong>${l.sku}</strong> ${l.productName}` },
      { label: 'Ordered', num: true, cell: (l) => displayCount(l.quantity) },
      { label: 'Reserved', num: true, cell: (l) => displayCount(l.reservedQty) },
      { label: 'Shipped', num: true, cell: (l) => displayCount(l.shippedQty) },
      { label: 'Backorder', num: true, cell: (l) => displayCount(l.backorderQty) },
      { label: 'Price', num: true, cell: (l) => m(l.unitPriceMinor) },
      { label: 'Total', num: true, cell: (l) => m(l.totalMinor) },
    ], o.lines)}</section>
${viewer.can('credit:read') ? html`<section class="card"><h2>Credit decisions</h2>${table('Credit decisions', [
      { label: 'When (UTC)', cell: (d) => d.decidedAt.slice(0, 16).replace('T', ' ') },
      { label: 'Decision', cell: (d) => status(d.decision) },
      { label: 'Exposure', num: true, cell: (d) => m(d.exposureMinor) },
      { label: 'Limit', num: true, cell: (d) => m(d.creditLimitMinor) },
      { label: 'Overdue', num: true, cell: (d) => html`${m(d.overdueMinor)}${d.maxDaysOverdue > 0 ? ` (${displayCount(d.maxDaysOverdue)} d)` : ''}` },
      { label: 'Reasons', cell: (d) => d.reasons.join('; ') },
      { label: 'By', cell: (d) => d.decidedBy },
    ], decisions, 'Not submitted yet.')}</section>` : ''}
<div class="grid"><section class="card"><h2>Shipments</h2>${table('Shipments', [
      { label: 'Shipment', cell: (s) => `${s.id} · ${s.carrier} ${s.trackingNumber}` },
      { label: 'Status', cell: (s) => status(s.status) },
      { label: 'Lines', cell: (s) => s.lines.map((l) => `${l.sku} × ${displayCount(l.quantity)}`).join(', ') },
      { label: 'Proof of delivery', cell: (s) => (s.signedBy ? html`signed by ${s.signedBy}, ${day(s.deliveredAt)}` : '') },
    ], shipments, 'Nothing shipped yet.')}</section>
<section class="card"><h2>Invoices</h2>${table('Invoices', [
      { label: 'Invoice', cell: (i) => i.number },
      { label: 'Due', cell: (i) => i.dueDate },
      { label: 'Status', cell: (i) => status(i.status) },
      { label: 'Total', num: true, cell: (i) => m(i.totalMinor) },
      { label: 'Open', num: true, cell: (i) => m(i.balanceMinor) },
    ], invoices, 'Not invoiced yet.')}</section></div>
<p><a href="/app/orders">Back to the order desk</a></p>`,
  });
}

/** An order waiting for its prepayment: what the customer's payments cover, and the release once they do. */
function prepaymentBox(viewer: Viewer, orderId: number, c: PrepaymentCover): Html {
  const m = (x: number) => money(x, c.currency);
  return html`<div class="verdict ${c.covered ? 'approve' : 'hold'}"><p><strong>Prepayment terms</strong>: the order ships once a payment covers ${m(c.orderTotalMinor)}.</p>
<dl class="facts"><dt>Unapplied payments</dt><dd>${m(c.unappliedCashMinor)}</dd><dt>Held for other prepaid orders</dt><dd>− ${m(c.heldForOtherOrdersMinor)}</dd><dt>Free for this order</dt><dd><strong>${m(Math.max(0, c.availableMinor))}</strong></dd></dl>
${viewer.can('payments:write') || viewer.can('credit:decide') ? html`<form method="post" action="/app/orders/${orderId}/prepaid">${csrfField(viewer)}<div class="actions"><button type="submit"${c.covered ? '' : ' disabled'}>Release: payment received</button></div></form>` : ''}</div>`;
}

export function registerOrderDesk(scope: FastifyInstance, core: Core): void {
  scope.post('/app/orders/:id/prepaid', { config: { permission: 'orders:read' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const viewer = viewerOf(req);
    if (!viewer.can('payments:write') && !viewer.can('credit:decide')) return sendProblem(reply, 403, `role ${viewer.role} may not release an order on its prepayment (payments:write or credit:decide)`, { rule: 'permission_prepayment_release', value: viewer.role });
    const done = await attempt(() => confirmPrepayment(core, id, actorOf(req)));
    if (!done.ok) return sendPage(reply, await orderPage(core, req, id, done.error));
    return reply.redirect(`/app/orders/${done.value.id}?done=prepaid`, 303);
  });

  scope.get('/app/orders', { config: { permission: 'orders:read' }, schema: { hide: true } }, async (req, reply) => {
    if (wantsCsv(req)) {
      const q = boardQuery(req);
      const rows: Record<string, unknown>[] = [];
      let after = q.after;
      for (;;) {
        const { orders, customers } = await boardRows(core, { ...q, after }, 500);
        for (const o of orders) rows.push({ order: o.id, customer_id: o.customerId, customer: customers.get(o.customerId)?.name, order_date: o.orderDate, status: o.status, last_move: lastMove(o), currency: o.currency, total: o.total });
        if (orders.length < 500 || rows.length >= 100_000) break;
        after = String(orders.at(-1)!.id);
      }
      return sendCsv(reply, 'orders', ['order', 'customer_id', 'customer', 'order_date', 'status', 'last_move', 'currency', 'total'], rows);
    }
    const done = Form.query(req).text('done');
    return sendPage(reply, await deskPage(core, req, null, done === 'cancelled' ? 'Order cancelled.' : null));
  });

  scope.get('/app/orders/board', { config: { permission: 'orders:read' }, schema: { hide: true } }, async (req, reply) => sendPage(reply, (await board(core, boardQuery(req))).text));

  scope.get('/app/orders/products', { config: { permission: 'products:read' }, schema: { hide: true } }, async (req, reply) => {
    const text = Form.query(req).text('q');
    const found = await searchProducts(core, text);
    if (text === '') return sendPage(reply, '');
    return sendPage(
      reply,
      (found.length === 0
        ? html`<p class="empty">No product matches “${text}”.</p>`
        : html`<ul class="results">${found.map((p) => html`<li><span><strong>${p.sku}</strong> ${p.name}</span><span class="muted">${money(p.listPriceMinor, p.currency)} · ${displayCount(p.available)} available</span><button type="button" class="secondary" hx-get="${href('/app/orders/line', { sku: p.sku })}" hx-target="#lines" hx-swap="beforeend">Add ${p.sku}</button></li>`)}</ul>`
      ).text,
    );
  });

  scope.get('/app/orders/customers', { config: { permission: 'customers:read' }, schema: { hide: true } }, async (req, reply) => {
    const q = Form.query(req);
    const text = q.text('q');
    const from = q.text('from') || '0';
    const found = await searchCustomers(core, text, { from, limit: CUSTOMER_PAGE });
    return sendPage(reply, customerResults(text, found, Number(from)).text);
  });

  // Choosing a customer: the field again with the customer in it and no results, and the
  // credit preview told to read the form again.
  scope.get('/app/orders/customer', { config: { permission: 'customers:read' }, schema: { hide: true } }, async (req, reply) => {
    const customer = await getCustomer(core, Form.query(req).text('id'));
    return sendPage(reply.header('hx-trigger', 'customer-chosen'), customerField(customer, '', null, true).text);
  });

  scope.get('/app/orders/line', { config: { permission: 'products:read' }, schema: { hide: true } }, async (req, reply) => {
    const product = await getProduct(core, Form.query(req).text('sku'));
    // The credit preview listens for this and reads the form again once the line is in.
    return sendPage(reply.header('hx-trigger', 'lines-changed'), lineRow(product, '1', Date.now() % 100_000).text);
  });

  // The target of a line's remove button: an empty answer that htmx swaps in as "delete".
  scope.get('/app/orders/blank', { config: { permission: 'products:read' }, schema: { hide: true } }, async (_req, reply) => sendPage(reply.header('hx-trigger', 'lines-changed'), ''));

  scope.get('/app/orders/preview', { config: { permission: 'credit:read' }, schema: { hide: true } }, async (req, reply) => {
    const f = Form.query(req);
    const skus = f.all('sku');
    const qty = f.all('quantity');
    if (f.text('customerId') === '' || skus.length === 0) return sendPage(reply, html`<p class="muted">Enter a customer and lines to see the verdict.</p>`.text);
    const lines: OrderLineInput[] = skus.map((sku, i) => ({ sku, quantity: qty[i] ?? '' }));
    const result = await attempt(() => previewCredit(core, f.text('customerId'), lines));
    return sendPage(reply, (result.ok ? verdict(result.value) : html`<div class="alert error" role="alert">${result.error.message}${result.error.rule ? html` <span class="rule">(rule: ${result.error.rule})</span>` : ''}</div>`).text);
  });

  scope.post('/app/orders', { config: { permission: 'orders:write' }, schema: { hide: true } }, async (req, reply) => {
    const f = Form.of(req);
    const skus = f.all('sku');
    const qty = f.all('quantity');
    const lines = skus.map((sku, i) => ({ sku, quantity: qty[i] ?? '' }));
    const key = f.text('idempotencyKey') || randomUUID();
    const created = await attempt(() => createOrder(core, { customerId: f.text('customerId'), lines, idempotencyKey: key }, actorOf(req)));
    if (!created.ok) {
      return sendPage(reply, await deskPage(core, req, { customer: f.text('customerId'), lines, products: await productsOf(core, skus), error: created.error, key }, null));
    }
    // The form carries an idempotency key, so a form sent twice finds its order made already.
    // It submits a draft; when the other request submitted it meanwhile, that verdict stands.
    if (created.value.status === 'draft') {
      const submitted = await attempt(() => submitOrder(core, created.value.id, actorOf(req)));
      const submittedMeanwhile = !submitted.ok && !created.value.created && submitted.error.rule?.startsWith('transition_');
      if (!submitted.ok && !submittedMeanwhile) return sendPage(reply, await orderPage(core, req, String(created.value.id), submitted.error));
    }
    return reply.redirect(`/app/orders/${created.value.id}?done=submitted`, 303);
  });

  scope.get('/app/orders/:id', { config: { permission: 'orders:read' }, schema: { hide: true } }, async (req, reply) => sendPage(reply, await orderPage(core, req, (req.params as { id: string }).id, null)));

  scope.get('/app/orders/:id/status', { config: { permission: 'orders:read' }, schema: { hide: true } }, async (req, reply) => sendPage(reply, status((await getOrder(core, (req.params as { id: string }).id)).status).text));

  scope.post('/app/orders/:id/cancel', { config: { permission: 'orders:write' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const done = await attempt(() => cancelOrder(core, id, Form.of(req).text('reason'), actorOf(req)));
    if (!done.ok) return sendPage(reply, await orderPage(core, req, id, done.error));
    return reply.redirect(`/app/orders/${done.value.id}?done=cancelled`, 303);
  });
}
