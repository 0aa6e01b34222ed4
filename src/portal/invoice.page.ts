import type { Core } from '../core.ts';
import { daysPastDue, getInvoice, type InvoiceDetail } from '../invoicing/invoice.service.ts';
import { listDisputes, type Dispute } from '../collections/dispute.service.ts';
import { listPromises, type PromiseToPay } from '../collections/promise.service.ts';
import { howToPay, type HowToPay } from '../documents/how-to-pay.ts';
import { amount, dueInWords, longDate, money, statusWords } from '../documents/format.ts';
import { notFound } from '../shared/errors.ts';
import { esc, howToPayCard, page } from './layout.ts';

/**
 * One invoice: its lines, tax and totals, what was paid or credited and what is open, the
 * PDF, how to pay it, and the two things a customer can do about it here — dispute it, or
 * promise to pay it by a date. Both forms post to this server with the session's CSRF token
 * and call the collections services the staff use; a refused field is shown beside itself.
 */
export interface InvoiceView {
  invoice: InvoiceDetail;
  today: string;
  pay: HowToPay;
  disputes: Dispute[];
  promises: PromiseToPay[];
}

/** A form as it was sent back: the values typed, and the message of each refused field. */
export interface FormState {
  form: 'dispute' | 'promise';
  values: Record<string, string>;
  errors: Record<string, string>;
}

/** One of the customer's invoices; another customer's invoice is "not found", like a missing one. */
export async function ownInvoice(core: Core, customerId: number, number: string): Promise<InvoiceDetail> {
  const invoice = await getInvoice(core, number).catch(() => null);
  if (!invoice || invoice.customerId !== customerId) throw notFound('invoice', number);
  return invoice;
}

export async function loadInvoice(core: Core, customerId: number, number: string): Promise<InvoiceView> {
  const invoice = await ownInvoice(core, customerId, number);
  return {
    invoice,
    today: core.clock.now().toISOString().slice(0, 10),
    pay: await howToPay(core, invoice),
    disputes: (await listDisputes(core.db.kysely, { customerId })).filter((d) => d.invoice === invoice.number),
    promises: (await listPromises(core.db.kysely, { customerId })).filter((p) => p.invoices.includes(invoice.number)),
  };
}

const DONE: Record<string, string> = {
  dispute: 'Thank you: your dispute is recorded. We pause reminders for this invoice while we look into it, and will get back to you.',
  promise: 'Thank you: your promise to pay is recorded. We send no reminders for this invoice until the promised date.',
};

function field(state: FormState | undefined, form: FormState['form'], name: string, label: string, control: (attrs: string, value: string) => string, hint?: string): string {
  const id = `${form}-${name}`;
  const error = state?.form === form ? state.errors[name] : undefined;
  const value = state?.form === form ? state.values[name] ?? '' : '';
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  const attrs = `id="${id}" name="${name}"${error ? ' aria-invalid="true"' : ''}${described ? ` aria-describedby="${described}"` : ''}`;
  return `<label for="${id}">${label}</label>${control(attrs, value)}${hint ? `<p class="hint" id="${id}-hint">${hint}</p>` : ''}${error ? `<p class="error" id="${id}-error">${esc(error)}</p>` : ''}`;
}

export function invoicePage(customer: { id: number; name: string }, csrf: string, v: InvoiceView, options: { done?: string; state?: FormState } = {}): string {
  const inv = v.invoice;
  const c = inv.currency;
  const m = (minor: number) => esc(money(minor, c));
  const dpd = daysPastDue({ due_date: inv.dueDate }, v.today);
  const open = inv.balanceMinor > 0;
  const openDisputes = v.disputes.filter((d) => d.status === 'open');
  const standing = v.promises.filter((p) => p.status === 'open');
  const badge = !open ? '<span class="badge good">paid</span>' : openDisputes.length ? '<span class="badge paused">disputed</span>' : dpd > 0 ? `<span class="badge overdue">${esc(dueInWords(dpd))}</span>` : `<span class="badge">${esc(dueInWords(dpd))}</span>`;
  const { state } = options;
  const formError = state && state.errors._form ? `<div class="alert error" role="alert">${esc(state.errors._form)}</div>` : '';
  const hidden = `<input type="hidden" name="_csrf" value="${esc(csrf)}">`;
  const action = (what: string) => `/portal/invoices/${encodeURIComponent(inv.number)}/${what}`;

  const lines = `<div class="scroll"><table><thead><tr><th>Item</th><th class="num">Qty × price</th><th class="num">Tax</th><th class="num">Amount</th></tr></thead><tbody>
${inv.lines.map((l) => `<tr><td>${esc(l.description)}</td><td class="num">${l.quantity} × ${esc(amount(l.unitPriceMinor, c))}</td><td class="num">${esc((l.taxRateBp / 100).toString())} %</td><td class="num">${esc(amount(l.totalMinor, c))}</td></tr>`).join('')}
</tbody></table></div>`;
  const totals = [
    ['Net', inv.subtotalMinor],
    ['Tax', inv.taxMinor],
    ['Total', inv.totalMinor],
    ...(inv.creditedMinor ? [['Credit notes', -inv.creditedMinor]] : []),
    ...(inv.paidMinor ? [['Paid', -inv.paidMinor]] : []),
    ...(inv.writtenOffMinor ? [['Written off', -inv.writtenOffMinor]] : []),
  ] as [string, number][];
  const totalsCard = `<section class="card" aria-label="Totals"><dl class="facts">${totals.map(([k, val]) => `<dt>${k}</dt><dd class="amount">${m(val)}</dd>`).join('')}<dt><strong>${open ? 'Open' : 'Balance'}</strong></dt><dd class="amount"><strong data-figure="invoice-balance">${m(inv.balanceMinor)}</strong></dd></dl></section>`;

  const disputeList = v.disputes.length
    ? `<h2>Disputes</h2><ul class="items">${v.disputes.map((d) => `<li><div class="row"><strong>Dispute ${d.id}</strong><span class="badge${d.status === 'open' ? ' paused' : ''}">${esc(statusWords(d.status))}</span></div><div class="small">${esc(d.reason)}</div><div class="muted small">${esc(longDate(d.openedOn))} · ${m(d.amountMinor)}${d.line ? ` · line ${d.line}` : ''}${d.creditNote ? ` · credit note ${esc(d.creditNote)}` : ''}${d.resolutionNote ? ` · ${esc(d.resolutionNote)}` : ''}</div></li>`).join('')}</ul>`
    : '';
  const promiseList = v.promises.length
    ? `<h2>Promises to pay</h2><ul class="items">${v.promises.map((p) => `<li><div class="row"><strong>${m(p.amountMinor)} by ${esc(longDate(p.promisedDate))}</strong><span class="badge${p.status === 'open' ? ' paused' : p.status === 'kept' ? ' good' : p.status === 'broken' ? ' overdue' : ''}">${esc(statusWords(p.status))}</span></div><div class="muted small">made ${esc(longDate(p.recordedOn))}${p.promisedBy ? ` by ${esc(p.promisedBy)}` : ''}</div></li>`).join('')}</ul>`
    : '';

  const promiseForm = `<details class="form" id="promise"${state?.form === 'promise' || (dpd > 0 && !openDisputes.length && !state) ? ' open' : ''}><summary>Promise to pay</summary>
${state?.form === 'promise' ? formError : ''}
<form method="post" action="${action('promise')}" novalidate>${hidden}
${field(state, 'promise', 'date', 'I will pay by', (a, val) => `<input type="date" ${a} value="${esc(val)}" min="${v.today}" required>`)}
${field(state, 'promise', 'amount', `Amount (${c})`, (a, val) => `<input type="text" inputmode="decimal" autocomplete="off" ${a} value="${esc(val)}" placeholder="${esc(amount(inv.balanceMinor, c).replaceAll(',', ''))}">`, `Leave empty to promise the whole open amount, ${m(inv.balanceMinor)}.`)}
${field(state, 'promise', 'promisedBy', 'Your name', (a, val) => `<input type="text" autocomplete="name" maxlength="200" ${a} value="${esc(val)}">`)}
${field(state, 'promise', 'note', 'Note (optional)', (a, val) => `<textarea maxlength="2000" ${a}>${esc(val)}</textarea>`)}
<div class="actions"><button class="primary" type="submit">Promise payment</button></div></form></details>`;

  const disputeForm = `<details class="form" id="dispute"${state?.form === 'dispute' ? ' open' : ''}><summary>Dispute this invoice</summary>
${state?.form === 'dispute' ? formError : ''}
<form method="post" action="${action('dispute')}" novalidate>${hidden}
${field(state, 'dispute', 'reason', 'What is wrong?', (a, val) => `<textarea maxlength="500" required ${a}>${esc(val)}</textarea>`, 'For example: goods damaged, wrong price, never delivered.')}
${field(state, 'dispute', 'line', 'Which part', (a, val) => `<select ${a}><option value="">The whole invoice</option>${inv.lines.map((l, i) => `<option value="${i + 1}"${val === String(i + 1) ? ' selected' : ''}>Line ${i + 1}: ${esc(l.description)}</option>`).join('')}</select>`)}
${field(state, 'dispute', 'amount', `Amount in question (${c}, optional)`, (a, val) => `<input type="text" inputmode="decimal" autocomplete="off" ${a} value="${esc(val)}">`, 'Leave empty for the whole open amount (or the whole line).')}
<div class="actions"><button class="primary" type="submit">Send dispute</button></div></form></details>`;

  return page({
    title: `Invoice ${inv.number}`,
    customer,
    csrf,
    active: 'overview',
    body: `<p class="small"><a href="/portal">← Overview</a></p>
${options.done && DONE[options.done] ? `<div class="alert info" role="status">${esc(DONE[options.done])}</div>` : ''}${!open && formError ? formError : ''}
<h1>Invoice ${esc(inv.number)} ${badge}</h1>
<dl class="facts card"><dt>Invoice date</dt><dd>${esc(longDate(inv.invoiceDate))}</dd><dt>Due date</dt><dd class="${open && dpd > 0 ? 'overdue' : ''}">${esc(longDate(inv.dueDate))}</dd>${inv.orderId !== null ? `<dt>Order</dt><dd><a href="/portal/orders/${inv.orderId}">${inv.orderId}</a></dd>` : ''}<dt>Open</dt><dd class="amount">${m(inv.balanceMinor)}</dd></dl>
<div class="actions"><a class="button" href="/portal/invoices/${encodeURIComponent(inv.number)}.pdf">Download PDF</a></div>
${open ? howToPayCard(v.pay, { text: `${money(inv.balanceMinor, c)}, ${dpd > 0 ? 'due since' : 'due by'} ${longDate(inv.dueDate)}` }) : ''}
${open ? `${standing.length ? '' : promiseForm}${disputeForm}` : ''}
${promiseList}${disputeList}
<h2>Lines</h2>${lines}${totalsCard}`,
  });
}
