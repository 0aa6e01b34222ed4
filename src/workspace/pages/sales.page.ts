import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { listCustomers, type Customer } from '../../customers/customer.service.ts';
import { listOrders, type Order } from '../../orders/order.service.ts';
import { AGING_BUCKETS, accountStatement } from '../../payments/account-statement.service.ts';
import { formatAmount } from '../../shared/money.ts';
import { html, href, type Html } from '../html.ts';
import { Form } from '../forms.ts';
import { customerLink, field, money, page, pager, status, table, viewerOf } from '../layout.ts';
import { sendCsv, sendPage, wantsCsv } from '../reply.ts';

/**
 * Sales: a salesperson's customers (the customer's `sales_rep`, by default the signed-in
 * name) with the orders still under way and their status — refreshed as the event feed
 * reports order changes — and what each owes and how much of it is overdue.
 */

const PAGE_SIZE = 20;
const DONE_STATUSES = new Set(['paid', 'cancelled', 'rejected']);

/** The rep's customers after a cursor: the customer list read page by page, kept where the rep matches. */
async function customersOf(core: Core, rep: string, after: number, limit: number): Promise<{ customers: Customer[]; next: number | null }> {
  const found: Customer[] = [];
  let cursor = after;
  for (;;) {
    const batch = await listCustomers(core, { afterId: cursor, limit: 1000 });
    for (const c of batch) {
      if (c.salesRep === rep) found.push(c);
      if (found.length > limit) return { customers: found.slice(0, limit), next: found[limit - 1]!.id };
    }
    if (batch.length < 1000) return { customers: found, next: null };
    cursor = batch.at(-1)!.id;
  }
}

interface Row {
  customer: Customer;
  orders: Order[];
  openMinor: number;
  overdueMinor: number;
}

async function rowsOf(core: Core, customers: Customer[]): Promise<Row[]> {
  return Promise.all(
    customers.map(async (c) => {
      const [orders, statement] = await Promise.all([listOrders(core, { customerId: c.id, limit: 1000 }), accountStatement(core, { customerId: c.id })]);
      // The statement's aging of what is open today: everything past "current" is overdue.
      const open = AGING_BUCKETS.reduce((s, b) => s + statement.aging[b], 0);
      const overdue = open - statement.aging.current;
      return { customer: c, orders: orders.filter((o) => !DONE_STATUSES.has(o.status)), openMinor: open, overdueMinor: overdue };
    }),
  );
}

const repOf = (req: FastifyRequest): string => Form.query(req).text('rep') || req.apiKey!.name;

async function portfolio(core: Core, rep: string, after: number): Promise<Html> {
  const { customers, next } = await customersOf(core, rep, after, PAGE_SIZE);
  const rows = await rowsOf(core, customers);
  return html`${table(
    `Customers of ${rep}`,
    [
      { label: 'Customer', cell: (r) => customerLink(r.customer.id, r.customer.name) },
      { label: 'Orders under way', cell: (r) => (r.orders.length ? html`<ul class="plain">${r.orders.map((o) => html`<li><a href="/app/orders/${o.id}">Order ${o.id}</a> ${status(o.status)}</li>`)}</ul>` : html`<span class="muted">none</span>`) },
      { label: 'Open', num: true, cell: (r) => money(r.openMinor, r.customer.currency) },
      { label: 'Overdue', num: true, cell: (r) => (r.overdueMinor > 0 ? html`<strong>${money(r.overdueMinor, r.customer.currency)}</strong>` : money(0, r.customer.currency)) },
      { label: 'Limit', num: true, cell: (r) => money(r.customer.creditLimitMinor, r.customer.currency) },
      { label: 'Risk', cell: (r) => r.customer.riskClass ?? '—' },
      { label: 'Status', cell: (r) => status(r.customer.status) },
    ],
    rows,
    `No customer has ${rep} as sales rep.`,
  )}${pager('/app/sales', { rep, after: after || null }, next)}`;
}

export function registerSales(scope: FastifyInstance, core: Core): void {
  scope.get('/app/sales', { config: { permission: 'customers:read' }, schema: { hide: true } }, async (req, reply) => {
    const viewer = viewerOf(req);
    const rep = repOf(req);
    const after = Number(Form.query(req).text('after') || 0) || 0;
    if (wantsCsv(req)) {
      const { customers } = await customersOf(core, rep, 0, 100_000);
      const rows = await rowsOf(core, customers);
      return sendCsv(reply, 'sales-portfolio', ['customer_id', 'customer', 'sales_rep', 'currency', 'open', 'overdue', 'credit_limit', 'risk_class', 'status', 'orders_under_way'], rows.map((r) => ({
        customer_id: r.customer.id, customer: r.customer.name, sales_rep: r.customer.salesRep, currency: r.customer.currency, open: formatAmount(r.openMinor, r.customer.currency), overdue: formatAmount(r.overdueMinor, r.customer.currency),
        credit_limit: r.customer.creditLimit, risk_class: r.customer.riskClass, status: r.customer.status, orders_under_way: r.orders.map((o) => `${o.id}:${o.status}`).join(' '),
      })));
    }
    if (Form.query(req).text('fragment') === '1') return sendPage(reply, (await portfolio(core, rep, after)).text);
    return sendPage(
      reply,
      page(viewer, {
        title: 'Sales',
        active: '/app/sales',
        live: true,
        body: html`<h1>Sales: customers of ${rep}</h1>
<form method="get" action="/app/sales" class="filters" role="search">${field({ name: 'rep', label: 'Sales rep', value: rep })}<button type="submit" class="secondary">Show</button></form>
<p class="live">Order statuses change here as they happen.</p>
<div id="portfolio" hx-get="${href('/app/sales', { rep, after: after || null, fragment: 1 })}" hx-trigger="sse:order throttle:750ms, sse:money throttle:1s" hx-swap="innerHTML">${await portfolio(core, rep, after)}</div>`,
      }),
    );
  });
}
