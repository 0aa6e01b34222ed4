import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { getCustomer, listCustomers, type Customer } from '../../customers/customer.service.ts';
import { listOrders } from '../../orders/order.service.ts';
import { listShipments } from '../../shipping/shipment.service.ts';
import { listInvoices } from '../../invoicing/invoice.service.ts';
import { listPayments } from '../../payments/payment.service.ts';
import { AGING_BUCKETS, accountStatement } from '../../payments/account-statement.service.ts';
import { listActions } from '../../collections/action.service.ts';
import { creditDecisions } from '../../credit/credit.service.ts';
import { scoreHistory, type ScoreHistoryEntry } from '../../credit/score.service.ts';
import { formatAmount } from '../../shared/money.ts';
import { displayAmount, displayCount, displayPercent } from '../../shared/figures.ts';
import { day, html, type Html } from '../html.ts';
import { Form } from '../forms.ts';
import { csrfField, customerLink, field, money, notice, page, pager, status, table, viewerOf, type Viewer } from '../layout.ts';
import { sendCsv, sendPage, wantsCsv } from '../reply.ts';

/**
 * Customers: the list (paged, CSV) and the 360° page of one customer — contacts, terms, risk
 * class, the latest credit figures and the score history; orders, shipments with their proof of delivery,
 * invoices, payments, the statement of account with its aging, and the collections log.
 * Every list of the workspace links here.
 */

const PAGE_SIZE = 50;
const RECENT = 25;

async function listPage(core: Core, req: FastifyRequest): Promise<string> {
  const viewer = viewerOf(req);
  const after = Number(Form.query(req).text('after') || 0) || 0;
  const customers = await listCustomers(core, { afterId: after || undefined, limit: PAGE_SIZE });
  return page(viewer, {
    title: 'Customers',
    active: '/app/customers',
    body: html`<h1>Customers</h1>
${table('Customers', [
  { label: 'Id', num: true, cell: (c) => c.id },
  { label: 'Name', cell: (c) => customerLink(c.id, c.name) },
  { label: 'Country', cell: (c) => c.country ?? '' },
  { label: 'Sales rep', cell: (c) => c.salesRep ?? '' },
  { label: 'Collector', cell: (c) => c.collector ?? '' },
  { label: 'Risk', cell: (c) => c.riskClass ?? '—' },
  { label: 'Limit', num: true, cell: (c) => money(c.creditLimitMinor, c.currency) },
  { label: 'Status', cell: (c) => status(c.status) },
], customers, 'No customer yet.')}
${pager('/app/customers', { after: after || null }, customers.length === PAGE_SIZE ? customers.at(-1)!.id : null)}`,
  });
}

const CUSTOMER_CSV = ['id', 'name', 'country', 'segment', 'currency', 'payment_terms_days', 'credit_limit', 'risk_class', 'sales_rep', 'collector', 'email', 'iban', 'status'];
const customerCsvRow = (c: Customer) => ({ id: c.id, name: c.name, country: c.country, segment: c.segment, currency: c.currency, payment_terms_days: c.paymentTermsDays, credit_limit: c.creditLimit, risk_class: c.riskClass, sales_rep: c.salesRep, collector: c.collector, email: c.email, iban: c.iban, status: c.status });

const section = (id: string, title: string, body: Html, csv?: string): Html =>
  html`<section class="card" aria-labelledby="${id}-h"><h2 id="${id}-h">${title}</h2>${body}${csv ? html`<p><a href="${csv}" download>Download CSV</a></p>` : ''}</section>`;

async function customerPage(core: Core, req: FastifyRequest, id: string): Promise<string> {
  const viewer = viewerOf(req);
  const c = await getCustomer(core, id);
  const m = (x: number) => money(x, c.currency);
  const can = (p: Parameters<Viewer['can']>[0]) => viewer.can(p);
  const orders = (await listOrders(core, { customerId: c.id, limit: 100_000 })).reverse();
  const recent = orders.slice(0, RECENT);
  const shipments = (await Promise.all(recent.map((o) => listShipments(core, o.id)))).flat().sort((a, b) => b.id - a.id);
  const invoices = can('invoices:read') ? (await listInvoices(core, { customerId: c.id, limit: 100_000 })).reverse() : [];
  const payments = can('payments:read') ? (await listPayments(core, { customerId: c.id, limit: 100_000 })).reverse() : [];
  const statement = can('statements:read') ? await accountStatement(core, { customerId: c.id }) : null;
  const log = can('collections:read') ? await listActions(core.db.kysely, c.id, 50) : [];
  const scores = can('credit:read') ? await scoreHistory(core, c.id) : [];
  const lastDecision = can('credit:read') && orders.length ? (await Promise.all(orders.slice(0, 5).map((o) => creditDecisions(core, o.id)))).flat().sort((a, b) => b.id - a.id)[0] : undefined;
  const done = Form.query(req).text('done') === 'limit' ? 'Credit limit changed.' : null;
  const base = `/app/customers/${c.id}`;
  return page(viewer, {
    title: c.name,
    active: '/app/customers',
    live: true,
    body: html`<h1>${c.name} ${status(c.status)}</h1>${notice(done)}
<div class="actions">${can('orders:write') ? html`<a class="button" href="/app/orders?customer=${c.id}">New order</a>` : ''}${can('collections:read') ? html`<a class="button secondary" href="/app/collections/customers/${c.id}">Collections</a>` : ''}</div>
<div class="grid">
${section('facts', 'Customer', html`<dl class="facts">
<dt>Id</dt><dd>${c.id}${c.externalId ? ` (${c.externalId})` : ''}</dd><dt>E-mail</dt><dd>${c.email ?? '—'}</dd><dt>IBAN</dt><dd>${c.iban ?? '—'}</dd>
<dt>Country</dt><dd>${c.country ?? '—'}</dd><dt>Segment</dt><dd>${c.segment ?? '—'}</dd><dt>Sales rep</dt><dd>${c.salesRep ?? '—'}</dd><dt>Collector</dt><dd>${c.collector ?? '—'}</dd>
<dt>Terms</dt><dd>${c.paymentTermsDays} days${c.earlyDiscountBp ? `, ${displayPercent(c.earlyDiscountBp)} off within ${c.earlyDiscountDays} days` : ''}</dd></dl>`)}
${section('risk', 'Credit and risk', html`<dl class="facts">
<dt>Risk class</dt><dd>${c.riskClass ?? 'not set'}</dd><dt>Credit limit</dt><dd>${m(c.creditLimitMinor)}</dd>
${lastDecision ? html`<dt>Last check</dt><dd>${day(lastDecision.decidedAt)}: ${lastDecision.decision.replaceAll('_', ' ')}, exposure ${m(lastDecision.exposureMinor)}</dd>${lastDecision.reasons.length ? html`<dt>Reasons</dt><dd>${lastDecision.reasons.join('; ')}</dd>` : ''}` : ''}
${statement ? html`<dt>Balance</dt><dd>${m(statement.closingBalanceMinor)}</dd>` : ''}</dl>
${can('customers:write') ? html`<form method="post" action="/app/credit/customers/${c.id}/limit" class="stack">${csrfField(viewer)}<input type="hidden" name="back" value="customer">
${field({ name: 'creditLimit', label: `Credit limit (${c.currency})`, value: formatAmount(c.creditLimitMinor, c.currency), required: true, attrs: html`inputmode="decimal"` })}<div class="actions"><button type="submit" class="secondary">Change limit</button></div></form>` : ''}`)}
</div>
${can('credit:read') ? scoreSection(scores, c) : ''}
<div id="orders-360" hx-get="${base}?fragment=orders" hx-trigger="sse:order throttle:750ms" hx-swap="innerHTML">${ordersTable(recent, orders.length, c)}</div>
${section('shipments', 'Shipments and proof of delivery', table('Shipments', [
  { label: 'Shipment', cell: (s) => `${s.id}` },
  { label: 'Order', cell: (s) => html`<a href="/app/orders/${s.orderId}">${s.orderId}</a>` },
  { label: 'Carrier', cell: (s) => `${s.carrier} ${s.trackingNumber}` },
  { label: 'Status', cell: (s) => status(s.status) },
  { label: 'Lines', cell: (s) => s.lines.map((l) => `${l.sku} × ${l.quantity}`).join(', ') },
  { label: 'Delivered', cell: (s) => (s.deliveredAt ? html`${day(s.deliveredAt)}, signed by ${s.signedBy}` : '') },
  { label: 'Invoice', cell: (s) => s.invoiceNumber ?? '' },
], shipments, 'Nothing shipped.'))}
${can('invoices:read') ? section('invoices', `Invoices (latest ${displayCount(Math.min(RECENT, invoices.length))} of ${displayCount(invoices.length)})`, table('Invoices', [
  { label: 'Invoice', cell: (i) => i.number },
  { label: 'Date', cell: (i) => i.invoiceDate },
  { label: 'Due', cell: (i) => i.dueDate },
  { label: 'Status', cell: (i) => html`${status(i.status)}${i.disputed ? html` ${status('open')} disputed` : ''}` },
  { label: 'Total', num: true, cell: (i) => m(i.totalMinor) },
  { label: 'Open', num: true, cell: (i) => m(i.balanceMinor) },
], invoices.slice(0, RECENT), 'No invoice.'), `${base}?format=csv&list=invoices`) : ''}
${can('payments:read') ? section('payments', `Payments (latest ${displayCount(Math.min(RECENT, payments.length))} of ${displayCount(payments.length)})`, table('Payments', [
  { label: 'Payment', cell: (p) => p.id },
  { label: 'Date', cell: (p) => p.paymentDate },
  { label: 'Amount', num: true, cell: (p) => m(p.amountMinor) },
  { label: 'Applied to', cell: (p) => p.allocations.filter((a) => !a.reversed).map((a) => `${a.invoiceNumber} ${displayAmount(a.amountMinor, p.currency)}`).join(', ') },
  { label: 'Unapplied', num: true, cell: (p) => m(p.unappliedMinor) },
  { label: 'Status', cell: (p) => status(p.status) },
], payments.slice(0, RECENT), 'No payment.'), `${base}?format=csv&list=payments`) : ''}
${statement ? section('statement', `Statement ${statement.from} to ${statement.to}`, html`<dl class="facts"><dt>Opening balance</dt><dd>${m(statement.openingBalanceMinor)}</dd><dt>Closing balance</dt><dd><strong>${m(statement.closingBalanceMinor)}</strong></dd></dl>
<div class="table"><table class="list"><caption class="sr-only">Aging of open items</caption><thead><tr>${AGING_BUCKETS.map((b) => html`<th scope="col" class="num">${b === 'current' ? 'not due' : `${b} days`}</th>`)}</tr></thead><tbody><tr>${AGING_BUCKETS.map((b) => html`<td class="num" data-label="${b === 'current' ? 'not due' : `${b} days`}">${m(statement.aging[b])}</td>`)}</tr></tbody></table></div>
${table('Statement lines', [
  { label: 'Date', cell: (l) => l.date },
  { label: 'Document', cell: (l) => l.document },
  { label: 'What', cell: (l) => l.description },
  { label: 'Debit', num: true, cell: (l) => (l.debitMinor ? m(l.debitMinor) : '') },
  { label: 'Credit', num: true, cell: (l) => (l.creditMinor ? m(l.creditMinor) : '') },
  { label: 'Balance', num: true, cell: (l) => m(l.balanceMinor) },
], statement.lines, 'No movement in these 90 days.')}`, `${base}?format=csv&list=statement`) : ''}
${can('collections:read') ? section('log', 'Collections log', table('Collections log', [
  { label: 'Date', cell: (a) => a.actionDate },
  { label: 'Kind', cell: (a) => a.kind },
  { label: 'Note', cell: (a) => a.note ?? '' },
  { label: 'By', cell: (a) => a.actor },
], log, 'Nothing logged.')) : ''}`,
  });
}

/**
 * The score history: a small bar per as-of date, oldest first, so the trend reads left to
 * right like a sparkline (a `<meter>` each, coloured by the browser from the class bounds:
 * below 55 is poor, 85 and up is good), then the same dates as a table with the reasons.
 */
function scoreSection(scores: ScoreHistoryEntry[], c: Customer): Html {
  const oldestFirst = [...scores].reverse();
  const trend = scores.length > 1 ? scores[0]!.score - scores[1]!.score : 0;
  return section('scores', 'Score history', scores.length === 0 ? html`<p>No score applied yet.</p>` : html`<p>Latest ${scores[0]!.score} points, class ${scores[0]!.riskClass}${scores.length > 1 ? `, ${trend === 0 ? 'unchanged' : `${trend > 0 ? 'up' : 'down'} ${Math.abs(trend)}`} since ${scores[1]!.asOf}` : ''}.</p>
<ol class="sparkline" aria-label="Score by as-of date, oldest first">${oldestFirst.map((s) => html`<li><meter min="0" max="100" low="55" high="85" optimum="100" value="${s.score}" aria-label="${s.asOf}: ${s.score} points, class ${s.riskClass}">${s.score}</meter><span>${s.asOf.slice(2)}</span></li>`)}</ol>
${table('Score history', [
  { label: 'As of', cell: (s) => s.asOf },
  { label: 'Score', num: true, cell: (s) => s.score },
  { label: 'Class', cell: (s) => s.riskClass },
  { label: 'Suggested limit', num: true, cell: (s) => money(s.suggestedLimitMinor, c.currency) },
  { label: 'Reasons', cell: (s) => (s.reasons.length ? s.reasons.join('; ') : 'none') },
], scores, 'No score applied yet.')}`);
}

function ordersTable(recent: Awaited<ReturnType<typeof listOrders>>, total: number, c: Customer): Html {
  return section('orders', `Orders (latest ${displayCount(recent.length)} of ${displayCount(total)})`, table('Orders', [
    { label: 'Order', cell: (o) => html`<a href="/app/orders/${o.id}">Order ${o.id}</a>` },
    { label: 'Date', cell: (o) => o.orderDate },
    { label: 'Status', cell: (o) => status(o.status) },
    { label: 'Total', num: true, cell: (o) => money(o.totalMinor, o.currency) },
  ], recent, 'No order.'), `/app/orders?customer=${c.id}&format=csv`);
}

export function registerCustomers(scope: FastifyInstance, core: Core): void {
  scope.get('/app/customers', { config: { permission: 'customers:read' }, schema: { hide: true } }, async (req, reply) => {
    if (wantsCsv(req)) {
      const rows: Record<string, unknown>[] = [];
      let after: number | undefined;
      for (;;) {
        const batch = await listCustomers(core, { afterId: after, limit: 1000 });
        rows.push(...batch.map(customerCsvRow));
        if (batch.length < 1000) break;
        after = batch.at(-1)!.id;
      }
      return sendCsv(reply, 'customers', CUSTOMER_CSV, rows);
    }
    return sendPage(reply, await listPage(core, req));
  });

  scope.get('/app/customers/:id', { config: { permission: 'customers:read' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const q = Form.query(req);
    if (q.text('fragment') === 'orders') {
      const c = await getCustomer(core, id);
      const orders = (await listOrders(core, { customerId: c.id, limit: 100_000 })).reverse();
      return sendPage(reply, ordersTable(orders.slice(0, RECENT), orders.length, c).text);
    }
    if (wantsCsv(req)) {
      const c = await getCustomer(core, id);
      const viewer = viewerOf(req);
      const list = q.text('list');
      if (list === 'invoices' && viewer.can('invoices:read')) {
        const rows = (await listInvoices(core, { customerId: c.id, limit: 100_000 })).map((i) => ({ invoice: i.number, invoice_date: i.invoiceDate, due_date: i.dueDate, status: i.status, disputed: i.disputed, currency: i.currency, total: i.total, open: i.balance }));
        return sendCsv(reply, `customer-${c.id}-invoices`, ['invoice', 'invoice_date', 'due_date', 'status', 'disputed', 'currency', 'total', 'open'], rows);
      }
      if (list === 'payments' && viewer.can('payments:read')) {
        const rows = (await listPayments(core, { customerId: c.id, limit: 100_000 })).map((p) => ({ payment: p.id, payment_date: p.paymentDate, currency: p.currency, amount: p.amount, unapplied: formatAmount(p.unappliedMinor, p.currency), status: p.status, reference: p.reference }));
        return sendCsv(reply, `customer-${c.id}-payments`, ['payment', 'payment_date', 'currency', 'amount', 'unapplied', 'status', 'reference'], rows);
      }
      if (list === 'statement' && viewer.can('statements:read')) {
        const s = await accountStatement(core, { customerId: c.id });
        const rows = s.lines.map((l) => ({ date: l.date, document: l.document, description: l.description, debit: formatAmount(l.debitMinor, s.currency), credit: formatAmount(l.creditMinor, s.currency), balance: formatAmount(l.balanceMinor, s.currency) }));
        return sendCsv(reply, `customer-${c.id}-statement`, ['date', 'document', 'description', 'debit', 'credit', 'balance'], rows);
      }
      return sendCsv(reply, `customer-${c.id}`, CUSTOMER_CSV, [customerCsvRow(c)]);
    }
    return sendPage(reply, await customerPage(core, req, id));
  });
}
