import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { listUnmatched, matchEntry, type BankEntry } from '../../bank/bank.service.ts';
import { html, href, type Html } from '../html.ts';
import { attempt, Form, type FormError } from '../forms.ts';
import { csrfField, customerLink, errorSummary, field, money, notice, page, viewerOf, type Viewer } from '../layout.ts';
import { actorOf, sendCsv, sendPage, wantsCsv } from '../routes.ts';

/**
 * Cash application: the bank lines the import could not match to an invoice, oldest first;
 * match one to an invoice (the bank service records the payment with the invoice as its
 * reference, so cash application pays that invoice first).
 */

const PAGE_SIZE = 20;

function entryCard(viewer: Viewer, e: BankEntry, failure: { id: string; error: FormError } | null): Html {
  const mine = failure?.id === String(e.id) ? failure.error : null;
  return html`<article class="card" aria-labelledby="entry-${e.id}-h"><h2 id="entry-${e.id}-h">Bank line ${e.id}: ${money(e.amountMinor, e.currency)} on ${e.bookingDate}</h2>
<dl class="facts"><dt>Payer</dt><dd>${e.payerName ?? 'unknown'}${e.customerId ? html` (${customerLink(e.customerId, `customer ${e.customerId}`)})` : ''}</dd>
<dt>IBAN</dt><dd>${e.payerIban ?? '—'}</dd><dt>Remittance</dt><dd>${e.remittance ?? '—'}</dd><dt>Statement</dt><dd>${e.statementId} / ${e.entryRef}</dd></dl>
${viewer.can('payments:write') && e.direction === 'credit' ? html`<form method="post" action="/app/cash/entries/${e.id}/match" class="stack">${csrfField(viewer)}${errorSummary(mine)}
${field({ name: 'invoice', id: `invoice-${e.id}`, label: `Invoice number for bank line ${e.id}`, error: mine, required: true, hint: 'For example INV-2026-000001.' })}
<div class="actions"><button type="submit">Match</button></div></form>` : ''}</article>`;
}

async function cashPage(core: Core, req: FastifyRequest, failure: { id: string; error: FormError } | null, message: string | null): Promise<string> {
  const viewer = viewerOf(req);
  // The unmatched lines come oldest booking first; a page is a stretch of that order.
  const from = Math.max(0, Math.floor(Number(Form.query(req).text('from') || 0)) || 0);
  const all = await listUnmatched(core);
  const shown = all.slice(from, from + PAGE_SIZE);
  return page(viewer, {
    title: 'Cash application',
    active: '/app/cash',
    body: html`<h1>Cash application</h1>${notice(message)}
<p class="muted">${all.length} bank line${all.length === 1 ? '' : 's'} without a match.</p>
${shown.length ? shown.map((e) => entryCard(viewer, e, failure)) : html`<p class="empty">Every bank line is matched.</p>`}
<nav class="pager" aria-label="Pages">${from > 0 ? html`<a href="/app/cash">First page</a>` : ''}${all.length > from + PAGE_SIZE ? html`<a rel="next" href="${href('/app/cash', { from: from + PAGE_SIZE })}">Next page</a>` : ''}<a href="/app/cash?format=csv" download>Download CSV</a></nav>`,
  });
}

export function registerCash(scope: FastifyInstance, core: Core): void {
  scope.get('/app/cash', { config: { permission: 'payments:read' }, schema: { hide: true } }, async (req, reply) => {
    if (wantsCsv(req)) {
      const rows = (await listUnmatched(core)).map((e) => ({ entry: e.id, booking_date: e.bookingDate, direction: e.direction, currency: e.currency, amount: e.amount, payer: e.payerName, payer_iban: e.payerIban, remittance: e.remittance, statement: e.statementId, entry_ref: e.entryRef }));
      return sendCsv(reply, 'unmatched-bank-lines', ['entry', 'booking_date', 'direction', 'currency', 'amount', 'payer', 'payer_iban', 'remittance', 'statement', 'entry_ref'], rows);
    }
    const q = Form.query(req);
    return sendPage(reply, await cashPage(core, req, null, q.text('done') === 'matched' ? `Bank line ${q.text('entry')} matched to ${q.text('invoice')}.` : null));
  });

  scope.post('/app/cash/entries/:id/match', { config: { permission: 'payments:write' }, schema: { hide: true } }, async (req, reply) => {
    const id = (req.params as { id: string }).id;
    const done = await attempt(() => matchEntry(core, id, Form.of(req).text('invoice'), actorOf(req)));
    if (!done.ok) return sendPage(reply, await cashPage(core, req, { id, error: done.error }, null));
    return reply.redirect(href('/app/cash', { done: 'matched', entry: done.value.id, invoice: done.value.invoiceNumber }), 303);
  });
}
