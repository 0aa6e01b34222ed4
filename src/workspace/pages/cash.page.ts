import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Core } from '../../core.ts';
import { importBankStatement, listUnmatched, matchEntry, type BankEntry, type BankImportReport } from '../../bank/bank.service.ts';
import { getSettings } from '../../settings/settings.service.ts';
import { invalid } from '../../shared/errors.ts';
import { PRIVATE_MODE } from '../../shared/files.ts';
import { html, href, type Html } from '../html.ts';
import { acceptUploads, attempt, Form, type FormError } from '../forms.ts';
import { csrfField, customerLink, errorSummary, field, money, notice, page, viewerOf, type Viewer } from '../layout.ts';
import { actorOf, sendCsv, sendPage, wantsCsv } from '../reply.ts';

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
  `Statement imported: ${r.entries} entries read, ${r.matched} matched, ${r.unmatched} waiting for a match, ${r.reversed} returned, ${r.ignored} other debits${r.unchanged ? `, ${r.unchanged} imported before` : ''}.`;

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
${viewer.can('payments:write') ? uploadForm(viewer, failure?.id === 'upload' ? failure.error : null) : ''}
<h2>Waiting for a match</h2>
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
    const done = q.text('done');
    const message = done === 'matched' ? `Bank line ${q.text('entry')} matched to ${q.text('invoice')}.` : done === 'imported' ? reportText(Object.fromEntries(COUNTS.map((c) => [c, Math.max(0, Math.floor(Number(q.text(c)))) || 0])) as Counts) : null;
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
}
