import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { salesPortfolio, type Portfolio, type PortfolioCustomer } from '../../customers/portfolio.service.ts';
import { formatAmount } from '../../shared/money.ts';
import { displayAmount, displayCount, displayMeasure } from '../../shared/figures.ts';
import { html, href, type Html } from '../html.ts';
import { Form } from '../forms.ts';
import { customerLink, field, money, page, pager, status, table, viewerOf } from '../layout.ts';
import { sendCsv, sendPage, wantsCsv } from '../reply.ts';

/**
 * Sales: a salesperson's portfolio (the customers whose `sales_rep` is the signed-in name,
 * or `?rep=`), from the portfolio service: sales in the last 12 months beside how fast each
 * customer pays, what is open and overdue, broken promises, and the orders under way —
 * refreshed as the event feed reports order and money changes.
 */

const PAGE_SIZE = 20;

const repOf = (req: FastifyRequest): string => (Form.query(req).text('rep') || req.apiKey!.name).slice(0, 100);
const afterOf = (req: FastifyRequest): string => Form.query(req).text('after') || '0';

const days = (d: number | null) => (d === null ? '—' : `${displayMeasure(d, 1)} d`);
const lateText = (d: number | null) => (d === null ? '—' : d > 0 ? `${displayMeasure(d, 1)} d late` : d < 0 ? `${displayMeasure(-d, 1)} d early` : 'on the day');

function portfolioTable(p: Portfolio): Html {
  const rows = p.customers;
  return html`<p class="muted">${p.totals.length ? p.totals.map((t) => `${displayCount(t.customers)} customer${t.customers === 1 ? '' : 's'} in ${t.currency}: sales ${displayAmount(t.salesMinor, t.currency)}, open ${displayAmount(t.openMinor, t.currency)}, overdue ${displayAmount(t.overdueMinor, t.currency)}, ${displayCount(t.brokenPromises)} broken promise${t.brokenPromises === 1 ? '' : 's'}`).join('; ') : 'No customer yet'} — 12 months from ${p.from} to ${p.asOf}.</p>
${table(
    `Customers of ${p.rep}`,
    [
      { label: 'Customer', cell: (c: PortfolioCustomer) => customerLink(c.id, c.name) },
      { label: 'Sales, 12 months', num: true, cell: (c) => money(c.salesMinor, c.currency) },
      { label: 'Days to pay', num: true, cell: (c) => days(c.avgDaysToPay) },
      { label: 'Against terms', cell: (c) => lateText(c.avgDaysLate) },
      { label: 'Open', num: true, cell: (c) => money(c.openMinor, c.currency) },
      { label: 'Overdue', num: true, cell: (c) => (c.overdueMinor > 0 ? html`<span><strong>${money(c.overdueMinor, c.currency)}</strong>${c.oldestOverdueDays !== null ? html` <span class="muted">(oldest ${displayCount(c.oldestOverdueDays)} d)</span>` : ''}</span>` : money(0, c.currency)) },
      { label: 'Broken promises', num: true, cell: (c) => (c.brokenPromises > 0 ? html`<span class="badge amber">${displayCount(c.brokenPromises)}</span>` : '0') },
      { label: 'Orders under way', cell: (c) => (c.ordersUnderWay.length ? html`<ul class="plain">${c.ordersUnderWay.map((o) => html`<li><a href="/app/orders/${o.id}">Order ${o.id}</a> ${status(o.status)}</li>`)}</ul>` : html`<span class="muted">none</span>`) },
      { label: 'Risk', cell: (c) => c.riskClass ?? '—' },
    ],
    rows,
    `No customer has ${p.rep} as sales rep.`,
  )}`;
}

async function portfolio(core: Core, rep: string, after: string): Promise<Html> {
  const p = await salesPortfolio(core, { rep, afterId: after, limit: PAGE_SIZE });
  return html`${portfolioTable(p)}${pager('/app/sales', { rep, after: after === '0' ? null : after }, p.nextAfterId)}`;
}

export function registerSales(scope: FastifyInstance, core: Core): void {
  scope.get('/app/sales', { config: { permission: 'customers:read' }, schema: { hide: true } }, async (req, reply) => {
    const viewer = viewerOf(req);
    const rep = repOf(req);
    const after = afterOf(req);
    if (wantsCsv(req)) {
      const p = await salesPortfolio(core, { rep, limit: 100_000 });
      return sendCsv(reply, 'sales-portfolio', ['customer_id', 'customer', 'sales_rep', 'currency', 'sales_12_months', 'invoices_12_months', 'avg_days_to_pay', 'avg_days_past_due_at_payment', 'open', 'overdue', 'oldest_overdue_days', 'broken_promises', 'credit_limit', 'risk_class', 'status', 'orders_under_way'], p.customers.map((c) => ({
        customer_id: c.id, customer: c.name, sales_rep: rep, currency: c.currency, sales_12_months: formatAmount(c.salesMinor, c.currency), invoices_12_months: c.invoices, avg_days_to_pay: c.avgDaysToPay, avg_days_past_due_at_payment: c.avgDaysLate,
        open: formatAmount(c.openMinor, c.currency), overdue: formatAmount(c.overdueMinor, c.currency), oldest_overdue_days: c.oldestOverdueDays, broken_promises: c.brokenPromises, credit_limit: formatAmount(c.creditLimitMinor, c.currency),
        risk_class: c.riskClass, status: c.status, orders_under_way: c.ordersUnderWay.map((o) => `${o.id}:${o.status}`).join(' '),
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
<p class="live">Order statuses and balances change here as they happen.</p>
<div id="portfolio" hx-get="${href('/app/sales', { rep, after: after === '0' ? null : after, fragment: 1 })}" hx-trigger="sse:order throttle:750ms, sse:money throttle:1s" hx-swap="innerHTML">${await portfolio(core, rep, after)}</div>`,
      }),
    );
  });
}
