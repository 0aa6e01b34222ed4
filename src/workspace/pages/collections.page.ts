import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { accountWorklist, MAX_PAGE, type AccountRow } from '../../collections/account-worklist.service.ts';
import { listActions, logAction, LOGGED_KINDS } from '../../collections/action.service.ts';
import { listPromises, recordPromise } from '../../collections/promise.service.ts';
import { listDisputes, openDispute } from '../../collections/dispute.service.ts';
import { companyOf, planReminders, renderPlan, runReminders } from '../../collections/reminder.service.ts';
import { listOutbox } from '../../collections/outbox.service.ts';
import { getCustomer } from '../../customers/customer.service.ts';
import { accountStatement } from '../../payments/account-statement.service.ts';
import { formatAmount } from '../../shared/money.ts';
import { displayAmount, displayCount } from '../../shared/figures.ts';
import { html, href, type Html } from '../html.ts';
import { attempt, Form, type FormError } from '../forms.ts';
import { csrfField, customerLink, errorSummary, field, money, notice, page, status, table, viewerOf } from '../layout.ts';
import { actorOf, sendCsv, sendPage, wantsCsv } from '../reply.ts';

/**
 * Collections: today's worklist, one row per customer account, ranked by the account
 * worklist service (forecast amount at risk, else days overdue × amount, moved by the live
 * promises and disputes), filterable to the customers assigned to me; and a customer's
 * collections view to log a call, record a promise or a dispute, preview and send the next
 * reminder, and read the reminder history and the log.
 */

const PAGE_SIZE = 25;

interface WorkQuery {
  mine: boolean;
  collector?: string;
  from: number;
}

function workQuery(req: FastifyRequest): WorkQuery {
  const q = Form.query(req);
  const from = Math.floor(Number(q.text('from') || 0));
  return { mine: q.text('mine') === '1', collector: q.optional('collector')?.slice(0, 100), from: Number.isInteger(from) && from > 0 && from <= 1_000_000 ? from : 0 };
}

const collectorOf = (req: FastifyRequest, q: WorkQuery): string | undefined => (q.mine ? req.apiKey!.name : q.collector);

const daysLate = (d: number) => (d > 0 ? `${displayCount(d)} day${d === 1 ? '' : 's'} late` : d === 0 ? 'due today' : `due in ${displayCount(-d)} day${d === -1 ? '' : 's'}`);
const oldestText = (a: AccountRow) => (a.oldestItem ? `${a.oldestItem.invoice} · ${daysLate(a.oldestItem.daysPastDue)}` : '');
const contactText = (a: AccountRow) => (a.lastContact ? `${a.lastContact.kind} ${a.lastContact.date}` : '');
const promiseText = (a: AccountRow) => (a.nextPromise ? `${displayAmount(a.nextPromise.amountMinor, a.currency)} by ${a.nextPromise.date}` : a.brokenPromiseRecently ? 'broken lately' : '');
const disputeText = (a: AccountRow) => (a.dispute ? `${displayCount(a.dispute.count)} open · ${displayAmount(a.dispute.amountMinor, a.currency)}` : '');

async function worklistPage(core: Core, req: FastifyRequest): Promise<string> {
  const viewer = viewerOf(req);
  const q = workQuery(req);
  const list = await accountWorklist(core, { collector: collectorOf(req, q), from: q.from, limit: PAGE_SIZE });
  const filters = { mine: q.mine ? 1 : null, collector: q.mine ? null : q.collector };
  return page(viewer, {
    title: 'Collections',
    active: '/app/collections',
    live: true,
    body: html`<h1>Collections worklist</h1>
<p class="muted">${displayCount(list.totalAccounts)} account${list.totalAccounts === 1 ? '' : 's'} with an open balance on ${list.asOf}, ranked by ${list.basis === 'forecast' ? `the amount at risk in the payment forecasts of ${list.forecastAsOf}` : 'days overdue × amount (no forecasts published yet)'}; a promise or a dispute moves an account at once.</p>
<form method="get" action="/app/collections" class="filters" role="search">
<div class="field"><label for="f-mine"><input type="checkbox" id="f-mine" name="mine" value="1"${q.mine ? html` checked` : ''}> Assigned to me (${viewer.name})</label></div>
${field({ name: 'collector', label: 'Collector', value: q.collector ?? '' })}
<button type="submit" class="secondary">Filter</button></form>
<div id="worklist" hx-get="${href('/app/collections', { ...filters, from: q.from || null })}" hx-trigger="sse:collections throttle:1s, sse:money throttle:1s" hx-select="#worklist" hx-swap="outerHTML">
${table('Worklist by customer', [
  { label: '#', num: true, cell: (a) => displayCount(a.rank) },
  { label: 'Customer', cell: (a) => html`<a href="/app/collections/customers/${a.customerId}">${a.customer}</a>` },
  { label: 'Overdue', num: true, cell: (a) => (a.overdueMinor > 0 ? html`<strong>${money(a.overdueMinor, a.currency)}</strong>` : money(0, a.currency)) },
  { label: 'Oldest item', cell: (a) => oldestText(a) },
  { label: 'At risk', num: true, cell: (a) => (a.amountAtRiskMinor === null ? html`<span class="muted">no forecast</span>` : money(a.amountAtRiskMinor, a.currency)) },
  { label: 'Last contact', cell: (a) => contactText(a) },
  { label: 'Next promise', cell: (a) => promiseText(a) },
  { label: 'Dispute', cell: (a) => (a.dispute ? html`<span class="badge amber">${disputeText(a)}</span>` : '') },
  { label: 'Level', num: true, cell: (a) => a.dunningLevel },
  { label: 'Collector', cell: (a) => a.collector ?? html`<span class="muted">none</span>` },
], list.accounts, 'No account with an open balance.')}
</div>
<nav class="pager" aria-label="Pages">${q.from > 0 ? html`<a href="${href('/app/collections', filters)}">First page</a>` : ''}
${list.totalAccounts > q.from + PAGE_SIZE ? html`<a rel="next" href="${href('/app/collections', { ...filters, from: q.from + PAGE_SIZE })}">Next page</a>` : ''}
<a href="${href('/app/collections', { ...filters, format: 'csv' })}" download>Download CSV</a></nav>`,
  });
}

interface Failure {
  form: 'log' | 'promise' | 'dispute' | 'reminder';
  error: FormError;
  values: Record<string, string>;
}

const DONE: Record<string, string> = { log: 'Logged.', promise: 'Promise recorded: dunning pauses for its invoices until the promised date.', dispute: 'Dispute opened: dunning pauses for the invoice.', reminder: 'Reminder written to the outbox.', 'no-reminder': 'Nothing to send: no invoice reached a new dunning level today.' };

async function customerCollectionsPage(core: Core, req: FastifyRequest, id: string, failure: Failure | null): Promise<string> {
  const viewer = viewerOf(req);
  const c = await getCustomer(core, id);
  const db = core.db.kysely;
  const [statement, actions, promises, disputes, reminders] = await Promise.all([
    accountStatement(core, { customerId: c.id }),
    listActions(db, c.id, 50),
    listPromises(db, { customerId: c.id }),
    listDisputes(db, { customerId: c.id }),
    listOutbox(db, { customerId: c.id, kind: 'reminder', limit: 50 }),
  ]);
  const m = (x: number) => money(x, c.currency);
  const err = (form: Failure['form']) => (failure?.form === form ? failure.error : null);
  const val = (form: Failure['form'], name: string) => (failure?.form === form ? failure.values[name] ?? '' : '');
  const can = viewer.can('collections:write');
  const invoiceOptions = [{ value: '', label: 'Every open invoice' }, ...statement.openInvoices.map((i) => ({ value: i.number, label: `${i.number} · ${displayAmount(i.balanceMinor, c.currency)} · due ${i.dueDate}` }))];
  const done = DONE[Form.query(req).text('done')];
  return page(viewer, {
    title: `Collections — ${c.name}`,
    active: '/app/collections',
    body: html`<h1>${c.name} <span class="muted">collections</span></h1>${notice(done)}
<p>${customerLink(c.id, 'Customer 360°')} · collector ${c.collector ?? 'not assigned'} · terms ${c.paymentTermsDays} days · risk class ${c.riskClass ?? 'not set'}</p>
<section class="card" aria-labelledby="open-h"><h2 id="open-h">Open invoices</h2>
${table('Open invoices', [
  { label: 'Invoice', cell: (i) => i.number },
  { label: 'Issued', cell: (i) => i.invoiceDate },
  { label: 'Due', cell: (i) => i.dueDate },
  { label: 'Days late', num: true, cell: (i) => displayCount(Math.max(0, i.daysPastDue)) },
  { label: 'Open', num: true, cell: (i) => m(i.balanceMinor) },
], statement.openInvoices, 'Nothing open.')}</section>
${can ? html`<div class="grid">
<section class="card" aria-labelledby="log-h"><h2 id="log-h">Log a contact</h2>
<form method="post" action="/app/collections/customers/${c.id}/log" class="stack">${csrfField(viewer)}${errorSummary(err('log'))}
${field({ name: 'kind', label: 'Kind', value: val('log', 'kind') || 'call', options: LOGGED_KINDS.map((k) => ({ value: k, label: k })), error: err('log') })}
${field({ name: 'note', label: 'Note', value: val('log', 'note'), textarea: true, error: err('log') })}
<div class="fields">${field({ name: 'nextAction', label: 'Next action', value: val('log', 'nextAction'), error: err('log') })}${field({ name: 'nextActionOn', label: 'Next action on', type: 'date', value: val('log', 'nextActionOn'), error: err('log') })}</div>
<div class="actions"><button type="submit">Log</button></div></form></section>
<section class="card" aria-labelledby="promise-h"><h2 id="promise-h">Record a promise to pay</h2>
<form method="post" action="/app/collections/customers/${c.id}/promise" class="stack">${csrfField(viewer)}${errorSummary(err('promise'))}
<div class="fields">${field({ name: 'date', id: 'promise-date', label: 'Promised date', type: 'date', value: val('promise', 'date'), error: err('promise'), required: true })}
${field({ name: 'amount', id: 'promise-amount', label: `Amount (${c.currency})`, value: val('promise', 'amount'), error: err('promise'), hint: 'Blank: the open balance of the invoices.', attrs: html`inputmode="decimal"` })}</div>
${field({ name: 'invoices', id: 'promise-invoices', label: 'Invoice', value: val('promise', 'invoices'), options: invoiceOptions, error: err('promise'), errorKey: 'invoices.0' })}
${field({ name: 'promisedBy', label: 'Promised by', value: val('promise', 'promisedBy'), error: err('promise') })}
<div class="actions"><button type="submit">Record promise</button></div></form></section>
<section class="card" aria-labelledby="dispute-h"><h2 id="dispute-h">Open a dispute</h2>
<form method="post" action="/app/collections/customers/${c.id}/dispute" class="stack">${csrfField(viewer)}${errorSummary(err('dispute'))}
${field({ name: 'invoice', id: 'dispute-invoice', label: 'Invoice', value: val('dispute', 'invoice'), options: [{ value: '', label: 'Choose an invoice' }, ...invoiceOptions.slice(1)], error: err('dispute'), required: true })}
${field({ name: 'reason', id: 'dispute-reason', label: 'Reason', value: val('dispute', 'reason'), textarea: true, error: err('dispute'), required: true })}
${field({ name: 'amount', id: 'dispute-amount', label: `Amount contested (${c.currency})`, value: val('dispute', 'amount'), error: err('dispute'), hint: 'Blank: the whole open balance.', attrs: html`inputmode="decimal"` })}
<div class="actions"><button type="submit">Open dispute</button></div></form></section>
</div>` : ''}
<section class="card" aria-labelledby="reminder-h"><h2 id="reminder-h">Next reminder</h2>${errorSummary(err('reminder'))}
<div class="actions"><button type="button" class="secondary" hx-get="/app/collections/customers/${c.id}/reminder" hx-target="#reminder-preview">Preview the next reminder</button>
${viewer.can('collections:run') ? html`<form method="post" action="/app/collections/customers/${c.id}/reminder">${csrfField(viewer)}<button type="submit">Send the next reminder</button></form>` : ''}</div>
<div id="reminder-preview" aria-live="polite"></div>
<h3>Reminder history</h3>
${table('Reminders', [
  { label: 'Date', cell: (r) => r.asOf },
  { label: 'Subject', cell: (r) => r.subject },
  { label: 'To', cell: (r) => r.to ?? 'no e-mail address' },
  { label: 'Status', cell: (r) => status(r.status) },
], reminders, 'No reminder sent yet.')}</section>
<div class="grid"><section class="card" aria-labelledby="promises-h"><h2 id="promises-h">Promises</h2>
${table('Promises', [
  { label: 'By', cell: (p) => p.promisedDate },
  { label: 'Amount', num: true, cell: (p) => money(p.amountMinor, p.currency) },
  { label: 'Invoices', cell: (p) => p.invoices.join(', ') },
  { label: 'Status', cell: (p) => status(p.status) },
], promises, 'No promise.')}</section>
<section class="card" aria-labelledby="disputes-h"><h2 id="disputes-h">Disputes</h2>
${table('Disputes', [
  { label: 'Invoice', cell: (d) => d.invoice },
  { label: 'Amount', num: true, cell: (d) => money(d.amountMinor, d.currency) },
  { label: 'Reason', cell: (d) => d.reason },
  { label: 'Status', cell: (d) => status(d.status) },
], disputes, 'No dispute.')}</section></div>
<section class="card" aria-labelledby="log-list-h"><h2 id="log-list-h">Collections log</h2>
${table('Collections log', [
  { label: 'Date', cell: (a) => a.actionDate },
  { label: 'Kind', cell: (a) => a.kind },
  { label: 'Note', cell: (a) => a.note ?? '' },
  { label: 'Next', cell: (a) => (a.nextAction ? `${a.nextAction}${a.nextActionOn ? ` on ${a.nextActionOn}` : ''}` : '') },
  { label: 'By', cell: (a) => a.actor },
], actions, 'Nothing logged yet.')}</section>
<p><a href="/app/collections">Back to the worklist</a></p>`,
  });
}

async function reminderPreview(core: Core, customerId: string): Promise<Html> {
  const c = await getCustomer(core, customerId);
  const { plans } = await planReminders(core, core.clock.now().toISOString().slice(0, 10), { customerIds: [c.id] });
  const plan = plans[0];
  if (!plan) return html`<p class="muted">No invoice of ${c.name} has reached a new dunning level today: there is no reminder to send.</p>`;
  const { rendered, customer } = await renderPlan(core, plan, await companyOf(core.db.kysely));
  return html`<p><strong>${rendered.subject}</strong> — to ${customer.email ?? 'no e-mail address on file (exported as a file)'}; level ${plan.level.level} (${plan.level.name}), ${money(plan.totalDueMinor, plan.currency)} due${plan.paused.length ? `, ${displayCount(plan.paused.length)} invoice(s) paused` : ''}.</p>
<pre class="letter">${rendered.text}</pre>`;
}

export function registerCollections(scope: FastifyInstance, core: Core): void {
  scope.get('/app/collections', { config: { permission: 'collections:read' }, schema: { hide: true } }, async (req, reply) => {
    if (wantsCsv(req)) {
      const q = workQuery(req);
      const list = await accountWorklist(core, { collector: collectorOf(req, q), limit: MAX_PAGE });
      return sendCsv(reply, 'worklist', ['rank', 'customer_id', 'customer', 'collector', 'currency', 'overdue', 'overdue_items', 'open', 'oldest_invoice', 'oldest_due_date', 'oldest_days_past_due', 'amount_at_risk', 'last_contact', 'next_promise_date', 'next_promise_amount', 'open_disputes', 'disputed_amount', 'dunning_level', 'broken_promise_lately', 'risk_class'], list.accounts.map((a) => ({
        rank: a.rank, customer_id: a.customerId, customer: a.customer, collector: a.collector, currency: a.currency, overdue: formatAmount(a.overdueMinor, a.currency), overdue_items: a.overdueItems, open: formatAmount(a.openMinor, a.currency),
        oldest_invoice: a.oldestItem?.invoice ?? null, oldest_due_date: a.oldestItem?.dueDate ?? null, oldest_days_past_due: a.oldestItem?.daysPastDue ?? null,
        amount_at_risk: a.amountAtRiskMinor === null ? null : formatAmount(a.amountAtRiskMinor, a.currency), last_contact: contactText(a) || null,
        next_promise_date: a.nextPromise?.date ?? null, next_promise_amount: a.nextPromise ? formatAmount(a.nextPromise.amountMinor, a.currency) : null,
        open_disputes: a.dispute?.count ?? 0, disputed_amount: formatAmount(a.dispute?.amountMinor ?? 0, a.currency), dunning_level: a.dunningLevel, broken_promise_lately: a.brokenPromiseRecently, risk_class: a.riskClass,
      })));
    }
    return sendPage(reply, await worklistPage(core, req));
  });

  scope.get('/app/collections/customers/:id', { config: { permission: 'collections:read' }, schema: { hide: true } }, async (req, reply) => sendPage(reply, await customerCollectionsPage(core, req, (req.params as { id: string }).id, null)));

  scope.get('/app/collections/customers/:id/reminder', { config: { permission: 'collections:read' }, schema: { hide: true } }, async (req, reply) => sendPage(reply, (await reminderPreview(core, (req.params as { id: string }).id)).text));

  const post = (form: Exclude<Failure['form'], 'reminder'>, call: (id: string, f: Form, actor: string) => Promise<unknown>) =>
    scope.post(`/app/collections/customers/:id/${form}`, { config: { permission: 'collections:write' }, schema: { hide: true } }, async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const f = Form.of(req);
      const done = await attempt(() => call(id, f, actorOf(req)));
      if (!done.ok) {
        const values = Object.fromEntries(Object.keys(f.body).filter((k) => k !== '_csrf').map((k) => [k, f.text(k)]));
        return sendPage(reply, await customerCollectionsPage(core, req, id, { form, error: done.error, values }));
      }
      return reply.redirect(`/app/collections/customers/${encodeURIComponent(id)}?done=${form}`, 303);
    });

  post('log', (id, f, actor) => logAction(core, { customerId: id, kind: f.text('kind'), note: f.optional('note'), nextAction: f.optional('nextAction'), nextActionOn: f.optional('nextActionOn') }, actor));
  post('promise', (id, f, actor) => recordPromise(core, { customerId: id, date: f.text('date'), amount: f.optional('amount'), invoices: f.optional('invoices') ? [f.text('invoices')] : undefined, promisedBy: f.optional('promisedBy') }, actor));
  post('dispute', (id, f, actor) => openDispute(core, { invoice: f.text('invoice'), reason: f.text('reason'), amount: f.optional('amount') }, actor));

  scope.post('/app/collections/customers/:id/reminder', { config: { permission: 'collections:run' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const c = await getCustomer(core, id);
    const done = await attempt(() => runReminders(core, actorOf(req), { customerIds: [c.id] }));
    if (!done.ok) return sendPage(reply, await customerCollectionsPage(core, req, id, { form: 'reminder', error: done.error, values: {} }));
    return reply.redirect(`/app/collections/customers/${c.id}?done=${done.value.messages.length > 0 ? 'reminder' : 'no-reminder'}`, 303);
  });
}
