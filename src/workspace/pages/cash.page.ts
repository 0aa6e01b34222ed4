import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { importBankStatement, matchEntry, type BankImportReport } from '../../bank/bank.service.ts';
import { applyEntry, unmatchedLines, type Suggestion, type UnmatchedLine } from '../../bank/suggestion.service.ts';
import { formatAmount } from '../../shared/money.ts';
import { displayAmount } from '../../shared/figures.ts';
import { getSettings } from '../../settings/settings.service.ts';
import { invalid } from '../../shared/errors.ts';
import { PRIVATE_MODE } from '../../shared/files.ts';
import { day, html, href, type Html } from '../html.ts';
import { acceptUploads, attempt, Form, type FormError } from '../forms.ts';
import { csrfField, customerLink, errorSummary, field, money, notice, page, viewerOf, type Viewer } from '../layout.ts';
import { actorOf, sendCsv, sendPage, wantsCsv } from '../reply.ts';

/**
 * Cash application: the bank lines the import could not match to an invoice, oldest first,
 * paged by the bank service, each with its suggested matches and the reason for each;
 * settle one in a click — a suggestion, one invoice (the bank service records the payment
 * with the invoice as its reference, so cash application pays that invoice first), a split
 * across invoices, or the whole amount kept on the customer's account unapplied.
 */

const PAGE_SIZE = 20;

interface Failure {
  id: string;
  error: FormError;
  values?: Record<string, string[]>;
}

const SPLIT_ROWS = 3;

/** One suggestion: its reason, what it applies, and the button that settles the line so. */
function suggestionItem(viewer: Viewer, e: UnmatchedLine, s: Suggestion, n: number): Html {
  const applies = s.allocations.map((a) => `${a.invoice} ${displayAmount(a.amountMinor, e.currency)}`).join(', ');
  const label = s.allocations.length ? `Apply suggestion ${n + 1}` : `Keep on ${s.customer}'s account`;
  return html`<li><p>${s.reason}</p>
<p class="muted">${customerLink(s.customerId, s.customer)}${applies ? ` · ${applies}` : ''}${s.unappliedMinor > 0 ? ` · ${money(s.unappliedMinor, e.currency)} unapplied` : ''}</p>
${viewer.can('payments:write') ? html`<form method="post" action="/app/cash/entries/${e.id}/apply">${csrfField(viewer)}<input type="hidden" name="customerId" value="${s.customerId}">
${s.allocations.map((a) => html`<input type="hidden" name="invoice" value="${a.invoice}"><input type="hidden" name="amount" value="${formatAmount(a.amountMinor, e.currency)}">`)}
<button type="submit" class="secondary" aria-label="${label} for bank line ${e.id}">${s.allocations.length ? 'Apply' : 'Keep on account'}</button></form>` : ''}</li>`;
}

function entryCard(viewer: Viewer, e: UnmatchedLine, failure: Failure | null): Html {
  const mine = failure?.id === String(e.id) ? failure.error : null;
  const split = failure?.id === `split-${e.id}` ? failure : null;
  const typed = (name: string, n: number) => split?.values?.[name]?.[n] ?? '';
  const payer = e.customerId ?? e.suggestions[0]?.customerId ?? null;
  return html`<article class="card" aria-labelledby="entry-${e.id}-h"><h2 id="entry-${e.id}-h">Bank line ${e.id}: ${money(e.amountMinor, e.currency)} on ${day(e.bookingDate)}</h2>
<dl class="facts"><dt>Payer</dt><dd>${e.payerName ?? 'unknown'}${e.customerId ? html` (${customerLink(e.customerId, `customer ${e.customerId}`)})` : ''}</dd>
<dt>IBAN</dt><dd>${e.payerIban ?? '—'}</dd><dt>Remittance</dt><dd>${e.remittance ?? '—'}</dd><dt>Statement</dt><dd>${e.statementId} / ${e.entryRef}</dd></dl>
${e.direction === 'credit' ? html`<h3>Suggested matches</h3>${e.suggestions.length ? html`<ol class="results">${e.suggestions.map((s, n) => suggestionItem(viewer, e, s, n))}</ol>` : html`<p class="muted">Nothing suggests itself: no invoice is named, the payer is not on file, and no open invoice is of this amount.</p>`}` : html`<p class="muted">A return whose payment was not found${e.returnReason ? ` (${e.returnReason})` : ''}.</p>`}
${viewer.can('payments:write') && e.direction === 'credit' ? html`<form method="post" action="/app/cash/entries/${e.id}/match" class="stack">${csrfField(viewer)}${errorSummary(mine)}
${field({ name: 'invoice', id: `invoice-${e.id}`, label: `Invoice number for bank line ${e.id}`, error: mine, required: true, hint: 'For example INV-2026-000001.' })}
<div class="actions"><button type="submit">Match</button></div></form>
<details${split ? html` open` : ''}><summary>Split across invoices, or keep on account</summary>
<form method="post" action="/app/cash/entries/${e.id}/apply" class="stack">${csrfField(viewer)}${errorSummary(split?.error)}
${field({ name: 'customerId', id: `split-${e.id}-customer`, label: 'Customer id (for what stays on account)', value: split ? typed('customerId', 0) : payer ?? '', error: split?.error, attrs: html`inputmode="numeric"` })}
${Array.from({ length: SPLIT_ROWS }, (_, n) => html`<div class="fields">${field({ name: 'invoice', id: `split-${e.id}-invoice-${n}`, label: `Invoice ${n + 1}`, value: typed('invoice', n), error: split?.error, errorKey: `allocations.${n}.invoice` })}
${field({ name: 'amount', id: `split-${e.id}-amount-${n}`, label: `Amount ${n + 1} (${e.currency})`, value: typed('amount', n), error: split?.error, errorKey: `allocations.${n}.amount`, attrs: html`inputmode="decimal"` })}</div>`)}
<p class="hint">What the rows do not apply stays on the customer's account as unapplied cash; with no row filled, all of it does.</p>
<div class="actions"><button type="submit">Apply split</button></div></form></details>` : ''}</article>`;
}

/** The split form's rows, blank ones left out: each an invoice and the amount it takes. */
function splitOf(f: Form): { customerId: string | null; allocations: { invoice: string; amount: string }[] } {
  const invoices = f.all('invoice').slice(0, 50);
  const amounts = f.all('amount').slice(0, 50);
  const allocations = invoices.map((invoice, n) => ({ invoice, amount: amounts[n] ?? '' })).filter((a) => a.invoice !== '' || a.amount !== '');
  return { customerId: f.optional('customerId') ?? null, allocations };
}

function uploadForm(viewer: Viewer, error: FormError | null): Html {
  return html`<section class="card" aria-labelledby="upload-h"><h2 id="upload-h">Import a bank statement</h2>
<form method="post" action="/app/cash/statements" enctype="multipart/form-data" class="stack">${csrfField(viewer)}${errorSummary(error)}
${field({ name: 'file', label: 'Statement file (ISO 20022 camt.053)', type: 'file', error, required: true, attrs: html`accept=".xml,.053,text/xml,application/xml"` })}
<div class="actions"><button type="submit">Import</button><span class="muted">Credits are matched to invoices where they can be; the rest wait below.</span></div></form></section>`;
}

const COUNTS = ['entries', 'matched', 'unmatched', 'reversed', 'ignored', 'unchanged'] as const;
type Counts = Record<(typeof COUNTS)[number], number>;

// The notice is built from the counts alone, so a link cannot make the page say something else.
const reportText = (r: Counts): string =>
  `Statement imported: ${r.entries} ${r.entries === 1 ? 'entry' : 'entries'} read, ${r.matched} matched, ${r.unmatched} waiting for a match, ${r.reversed} returned, ${r.ignored} other debits${r.unchanged ? `, ${r.unchanged} imported before` : ''}.`;

/** Writes an uploaded statement to a private folder under its own name (the service's messages name it), runs the import, removes it. */
async function importUpload(core: Core, upload: { filename: string; data: Buffer } | undefined, actor: string): Promise<BankImportReport> {
  if (!upload || upload.data.length === 0) throw invalid('file is required: choose the statement file', { field: 'file', rule: 'required' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-statement-'));
  try {
    const name = path.basename(upload.filename).replace(/[^A-Za-z0-9._-]/g, '_') || 'statement.xml';
    const file = path.join(dir, name);
    fs.writeFileSync(file, upload.data, { mode: PRIVATE_MODE });
    return await importBankStatement(core, { file, actor });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function cashPage(core: Core, req: FastifyRequest, failure: Failure | null, message: string | null): Promise<string> {
  const viewer = viewerOf(req);
  // The unmatched lines come oldest booking first; a page is a stretch of that order, read by the bank service.
  const from = Math.min(1_000_000, Math.max(0, Math.floor(Number(Form.query(req).text('from') || 0)) || 0));
  const { total, lines } = await unmatchedLines(core, { from, limit: PAGE_SIZE });
  return page(viewer, {
    title: 'Cash application',
    active: '/app/cash',
    // A refusal for a line no longer on this page (matched meanwhile, or on another page) is said above the list.
    body: html`<h1>Cash application</h1>${notice(message)}${failure && failure.id !== 'upload' && !lines.some((e) => failure.id === String(e.id) || failure.id === `split-${e.id}`) ? errorSummary(failure.error) : ''}
${viewer.can('payments:write') ? uploadForm(viewer, failure?.id === 'upload' ? failure.error : null) : ''}
<h2>Waiting for a match</h2>
<p class="muted">${total} bank line${total === 1 ? '' : 's'} without a match.</p>
${lines.length ? lines.map((e) => entryCard(viewer, e, failure)) : html`<p class="empty">Every bank line is matched.</p>`}
<nav class="pager" aria-label="Pages">${from > 0 ? html`<a href="/app/cash">First page</a>` : ''}${total > from + PAGE_SIZE ? html`<a rel="next" href="${href('/app/cash', { from: from + PAGE_SIZE })}">Next page</a>` : ''}<a href="/app/cash?format=csv" download>Download CSV</a></nav>`,
  });
}

export function registerCash(scope: FastifyInstance, core: Core): void {
  scope.get('/app/cash', { config: { permission: 'payments:read' }, schema: { hide: true } }, async (req, reply) => {
    if (wantsCsv(req)) {
      const rows = (await unmatchedLines(core, { limit: 100_000 })).lines.map((e) => {
        const s = e.suggestions[0];
        return {
          entry: e.id, booking_date: e.bookingDate, direction: e.direction, currency: e.currency, amount: formatAmount(e.amountMinor, e.currency), payer: e.payerName, payer_iban: e.payerIban, remittance: e.remittance, statement: e.statementId, entry_ref: e.entryRef,
          suggested_customer_id: s?.customerId ?? null, suggested_invoices: s ? s.allocations.map((a) => `${a.invoice}:${formatAmount(a.amountMinor, e.currency)}`).join(' ') : null, suggestion_reason: s?.reason ?? null, suggestions: e.suggestions.length,
        };
      });
      return sendCsv(reply, 'unmatched-bank-lines', ['entry', 'booking_date', 'direction', 'currency', 'amount', 'payer', 'payer_iban', 'remittance', 'statement', 'entry_ref', 'suggested_customer_id', 'suggested_invoices', 'suggestion_reason', 'suggestions'], rows);
    }
    const q = Form.query(req);
    const done = q.text('done');
    const num = (name: string) => Math.max(0, Math.floor(Number(q.text(name)))) || 0;
    const message = done === 'matched' ? `Bank line ${q.text('entry')} matched to ${q.text('invoice')}.` : done === 'applied' ? `Bank line ${num('entry')} recorded as payment ${num('payment')}.` : done === 'imported' ? reportText(Object.fromEntries(COUNTS.map((c) => [c, Math.max(0, Math.floor(Number(q.text(c)))) || 0])) as Counts) : null;
    return sendPage(reply, await cashPage(core, req, null, message));
  });

  // A statement file comes as a multipart form; the bank service reads it (and refuses one above bank.max_file_mb).
  acceptUploads(scope, async () => (await getSettings(core.db.kysely))['bank.max_file_mb'] * 1024 * 1024);
  scope.post('/app/cash/statements', { config: { permission: 'payments:write' }, schema: { hide: true } }, async (req, reply) => {
    const done = await attempt(() => importUpload(core, req.uploads?.find((u) => u.field === 'file'), actorOf(req)));
    if (!done.ok) return sendPage(reply, await cashPage(core, req, { id: 'upload', error: done.error }, null));
    return reply.redirect(href('/app/cash', { done: 'imported', ...Object.fromEntries(COUNTS.map((c) => [c, done.value[c]])) }), 303);
  });

  scope.post('/app/cash/entries/:id/match', { config: { permission: 'payments:write' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const done = await attempt(() => matchEntry(core, id, Form.of(req).text('invoice'), actorOf(req)));
    if (!done.ok) return sendPage(reply, await cashPage(core, req, { id, error: done.error }, null));
    return reply.redirect(href('/app/cash', { done: 'matched', entry: done.value.id, invoice: done.value.invoiceNumber }), 303);
  });

  scope.post('/app/cash/entries/:id/apply', { config: { permission: 'payments:write' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const f = Form.of(req);
    const done = await attempt(() => applyEntry(core, id, splitOf(f), actorOf(req)));
    if (!done.ok) return sendPage(reply, await cashPage(core, req, { id: `split-${id}`, error: done.error, values: { customerId: f.all('customerId'), invoice: f.all('invoice'), amount: f.all('amount') } }, null));
    return reply.redirect(href('/app/cash', { done: 'applied', entry: done.value.entryId, payment: done.value.paymentId }), 303);
  });
}
