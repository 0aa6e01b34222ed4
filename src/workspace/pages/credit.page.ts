import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { holdQueue, rejectOrder, releaseOrder, type HeldOrder } from '../../credit/credit.service.ts';
import { updateCustomer } from '../../customers/customer.service.ts';
import { formatAmount } from '../../shared/money.ts';
import { displayCount } from '../../shared/figures.ts';
import { day, html, type Html } from '../html.ts';
import { attempt, Form, type FormError } from '../forms.ts';
import { csrfField, customerLink, errorSummary, field, money, notice, orderLink, page, pager, status, viewerOf, type Viewer } from '../layout.ts';
import { actorOf, sendCsv, sendPage, wantsCsv } from '../reply.ts';

/**
 * Credit control: the orders on credit hold, oldest first, each with the reasons the check
 * gave (in money and days), the customer's risk class, exposure and limit; release or reject
 * with a reason; change the customer's limit. The decisions are the credit service's.
 */

const PAGE_SIZE = 20;

type Hold = HeldOrder;

const holds = (core: Core, after: string, limit: number) => holdQueue(core, { afterId: after, limit });

interface Failure {
  target: string;
  error: FormError;
}

function holdCard(viewer: Viewer, h: Hold, failure: Failure | null): Html {
  const c = h.customer;
  const d = h.decision;
  const m = (x: number) => money(x, h.currency);
  const decideError = failure?.target === `order-${h.id}` ? failure.error : null;
  const limitError = failure?.target === `customer-${c.id}` ? failure.error : null;
  return html`<article class="card" id="hold-${h.id}" aria-labelledby="hold-${h.id}-h">
<h2 id="hold-${h.id}-h">${orderLink(h.id)} · ${customerLink(c.id, c.name)} ${status('credit_hold')}</h2>
<div class="grid"><div>
<h3>Why it is held</h3>
${d ? html`<ul>${d.reasons.map((r) => html`<li>${r}</li>`)}</ul>` : html`<p class="muted">No automatic decision recorded.</p>`}
<dl class="facts">
<dt>Order</dt><dd>${m(h.totalMinor)}, submitted ${day(h.submittedAt)}</dd>
${d ? html`<dt>Exposure</dt><dd><strong>${m(d.exposureMinor)}</strong> against limit ${m(d.creditLimitMinor)}${d.exposureMinor > d.creditLimitMinor ? html` (<strong>${m(d.exposureMinor - d.creditLimitMinor)}</strong> over)` : ''}</dd>
<dt>Open receivables</dt><dd>${m(d.openArMinor)}</dd><dt>Approved, not invoiced</dt><dd>${m(d.unbilledMinor)}</dd>
<dt>Overdue</dt><dd>${m(d.overdueMinor)}${d.maxDaysOverdue > 0 ? html`, oldest <strong>${displayCount(d.maxDaysOverdue)} days</strong> past due` : ''}</dd>` : ''}
<dt>Risk class</dt><dd>${c.riskClass ?? 'not set'}</dd><dt>Limit now</dt><dd>${m(c.creditLimitMinor)}</dd><dt>Customer</dt><dd>${status(c.status)}</dd>
</dl></div>
<div>${viewer.can('credit:decide') ? html`<form method="post" action="/app/credit/orders/${h.id}/decide" class="stack">${csrfField(viewer)}${errorSummary(decideError)}
${field({ name: 'reason', id: `reason-${h.id}`, label: `Reason for order ${h.id}`, error: decideError, required: true, textarea: true })}
<div class="actions"><button type="submit" name="decision" value="release">Release</button><button type="submit" name="decision" value="reject" class="danger">Reject</button></div></form>` : ''}
${viewer.can('customers:write') ? html`<form method="post" action="/app/credit/customers/${c.id}/limit" class="stack">${csrfField(viewer)}${errorSummary(limitError)}
${field({ name: 'creditLimit', id: `limit-${h.id}`, label: `New credit limit (${c.currency})`, value: formatAmount(c.creditLimitMinor, c.currency), error: limitError, required: true, attrs: html`inputmode="decimal"` })}
<div class="actions"><button type="submit" class="secondary">Change limit</button></div></form>` : ''}</div></div>
</article>`;
}

async function creditPage(core: Core, req: FastifyRequest, failure: Failure | null, message: string | null): Promise<string> {
  const viewer = viewerOf(req);
  const after = Form.query(req).text('after');
  const list = await holds(core, after, PAGE_SIZE);
  return page(viewer, {
    title: 'Credit control',
    active: '/app/credit',
    live: true,
    body: html`<h1>Credit control</h1>${notice(message)}
<p class="muted"><span id="hold-count" hx-get="/app/credit/count" hx-trigger="sse:order throttle:1s" hx-swap="innerHTML">${holdCount(list.total)}</span> Oldest first; the count follows new holds as they come.</p>
<div id="holds">${list.items.map((h) => holdCard(viewer, h, failure))}
${list.items.length === 0 ? html`<p class="empty">No order is waiting for a credit decision.</p>` : ''}</div>
${pager('/app/credit', { after: after || null }, list.next)}`,
  });
}

const holdCount = (n: number): string => `${displayCount(n)} order${n === 1 ? '' : 's'} on credit hold.`;

const DONE: Record<string, string> = { release: 'released', reject: 'rejected' };

export function registerCredit(scope: FastifyInstance, core: Core): void {
  scope.get('/app/credit', { config: { permission: 'credit:read' }, schema: { hide: true } }, async (req, reply) => {
    if (wantsCsv(req)) {
      const list = await holds(core, '', 100_000);
      return sendCsv(reply, 'credit-holds', ['order', 'customer_id', 'customer', 'currency', 'order_total', 'submitted_at', 'exposure', 'credit_limit', 'overdue', 'oldest_days_overdue', 'risk_class', 'reasons'], list.items.map((h) => ({
        order: h.id, customer_id: h.customerId, customer: h.customer.name, currency: h.currency, order_total: formatAmount(h.totalMinor, h.currency), submitted_at: h.submittedAt,
        exposure: h.decision ? formatAmount(h.decision.exposureMinor, h.currency) : null, credit_limit: formatAmount(h.customer.creditLimitMinor, h.currency),
        overdue: h.decision ? formatAmount(h.decision.overdueMinor, h.currency) : null, oldest_days_overdue: h.decision?.maxDaysOverdue ?? null, risk_class: h.customer.riskClass, reasons: h.decision?.reasons.join('; ') ?? '',
      })));
    }
    const q = Form.query(req);
    const done = q.text('done');
    return sendPage(reply, await creditPage(core, req, null, DONE[done] ? `Order ${q.text('order')} ${DONE[done]}.` : done === 'limit' ? `Credit limit of customer ${q.text('customer')} changed.` : null));
  });

  scope.get('/app/credit/count', { config: { permission: 'credit:read' }, schema: { hide: true } }, async (_req, reply) => sendPage(reply, holdCount((await holdQueue(core, { limit: 1 })).total)));

  scope.post('/app/credit/orders/:id/decide', { config: { permission: 'credit:decide' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const f = Form.of(req);
    const decision = f.text('decision');
    const call = decision === 'reject' ? rejectOrder : releaseOrder;
    const done = await attempt(() => call(core, id, f.text('reason'), actorOf(req)));
    if (!done.ok) return sendPage(reply, await creditPage(core, req, { target: `order-${id}`, error: done.error }, null));
    return reply.redirect(`/app/credit?done=${decision === 'reject' ? 'reject' : 'release'}&order=${done.value.id}`, 303);
  });

  scope.post('/app/credit/customers/:id/limit', { config: { permission: 'customers:write' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const done = await attempt(() => updateCustomer(core, id, { creditLimit: Form.of(req).text('creditLimit') }, actorOf(req)));
    if (!done.ok) return sendPage(reply, await creditPage(core, req, { target: `customer-${id}`, error: done.error }, null));
    const back = Form.of(req).text('back');
    return reply.redirect(back === 'customer' ? `/app/customers/${done.value.id}?done=limit` : `/app/credit?done=limit&customer=${done.value.id}`, 303);
  });
}
