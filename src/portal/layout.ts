import type { AccountSummary } from '../payments/account.service.ts';
import type { HowToPay } from '../documents/how-to-pay.ts';
import { dueInWords, longDate, money } from '../documents/format.ts';

/**
 * The frame every portal page shares: one inline stylesheet (allowed by its hash, see
 * src/api/auth/headers.ts), no script, nothing from another origin. Phone first: one column
 * up to 44rem; tables of figures scroll inside their own box instead of widening the page.
 */

export const esc = (s: unknown): string => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A path with query parameters, each value escaped once. */
export function href(path: string, query: Record<string, string | number | undefined> = {}): string {
  const q = Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== '');
  return q.length ? `${path}?${q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}` : path;
}

const CSS = `
:root{--ink:#1b1b1b;--muted:#5f6368;--line:#e3e3e3;--bg:#f6f6f4;--card:#fff;--accent:#0b5cad;--bad:#a61b1b;--ok:#1e6b34;--warn:#8a5a00}
*{box-sizing:border-box}
body{font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;color:var(--ink);background:var(--bg)}
main{max-width:44rem;margin:0 auto;padding:.75rem .75rem 2rem}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,summary:focus-visible{outline:2px solid var(--accent);outline-offset:2px}
header.top{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.25rem .75rem;margin-bottom:.5rem}
header.top .who{min-width:0}header.top .name{font-weight:650;font-size:1.05rem;overflow-wrap:anywhere}
nav.tabs{display:flex;gap:.25rem;flex-wrap:wrap;margin:.25rem 0 .75rem}
nav.tabs a{padding:.35rem .7rem;border-radius:99px;text-decoration:none;background:#e9edf2;color:var(--ink);font-size:.92rem}
nav.tabs a[aria-current=page]{background:var(--accent);color:#fff}
form.inline{display:inline;margin:0}
button.link{background:none;border:0;color:var(--accent);text-decoration:underline;font:inherit;font-size:.92rem;padding:.2rem;cursor:pointer}
h1{font-size:1.3rem;margin:.4rem 0 .5rem;overflow-wrap:anywhere}h2{font-size:1.05rem;margin:1.25rem 0 .4rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:.75rem .9rem;margin:.5rem 0}
.muted{color:var(--muted);font-size:.9rem}.small{font-size:.85rem}
.num,.amount{font-variant-numeric:tabular-nums;white-space:nowrap}
.row{display:flex;justify-content:space-between;align-items:baseline;gap:.5rem}
.row>:first-child{min-width:0;overflow-wrap:anywhere}
.balance .big{font-size:1.6rem;font-weight:700}
.facts{display:grid;grid-template-columns:auto 1fr;gap:.15rem .75rem;margin:.5rem 0 0}
.facts dt{color:var(--muted)}
.facts.small{margin:.4rem 0}.facts dd{margin:0;text-align:right}
.overdue{color:var(--bad)}.good{color:var(--ok)}.paused{color:var(--warn)}
.badge{display:inline-block;padding:.05rem .5rem;border-radius:99px;background:#eef1f6;font-size:.8rem;white-space:nowrap}
.badge.overdue{background:#fbe9e9}.badge.good{background:#e7f4ea}.badge.paused{background:#fdf3dc}
ul.items{list-style:none;margin:0;padding:0}
ul.items>li{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:.4rem 0;padding:.6rem .8rem}
ul.items a.title{font-weight:600}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;background:var(--card);border:1px solid var(--line);border-radius:10px;margin:.5rem 0}
table{border-collapse:collapse;width:100%;font-size:.88rem}
th,td{padding:.4rem .45rem;border-bottom:1px solid var(--line);vertical-align:top;text-align:left}
th{font-weight:600;color:var(--muted);font-size:.78rem;white-space:nowrap}
td.num,th.num{text-align:right}
tr.total td{font-weight:700;border-bottom:0}
td .doc{display:block;font-weight:600;overflow-wrap:anywhere}
.pager{display:flex;justify-content:space-between;align-items:center;margin:.6rem 0}
.button,button.primary{display:inline-block;background:var(--accent);color:#fff;border:0;border-radius:8px;padding:.5rem .9rem;font:inherit;font-size:.95rem;text-decoration:none;cursor:pointer}
.button.secondary{background:#e9edf2;color:var(--ink)}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.6rem 0}
details.form{background:var(--card);border:1px solid var(--line);border-radius:10px;margin:.5rem 0;padding:.2rem .9rem}
details.form>summary{cursor:pointer;font-weight:600;padding:.5rem 0}
label{display:block;font-weight:600;margin:.6rem 0 .2rem;font-size:.95rem}
input,select,textarea{font:inherit;width:100%;padding:.45rem .55rem;border:1px solid #b9b9b9;border-radius:7px;background:#fff}
textarea{min-height:4.5rem}
[aria-invalid=true]{border-color:var(--bad);background:#fff8f8}
.error{color:var(--bad);font-size:.9rem;margin:.2rem 0 0}
.hint{color:var(--muted);font-size:.85rem;margin:.2rem 0 0}
.alert{border-radius:8px;padding:.6rem .8rem;margin:.5rem 0}.alert.info{background:#e7f4ea}.alert.error{background:#fbe9e9}
.pay h2{margin-top:0}
.pay dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem .75rem;margin:.4rem 0}
.pay dt{color:var(--muted)}.pay dd{margin:0;overflow-wrap:anywhere}
.ref{font-weight:700;font-variant-numeric:tabular-nums;letter-spacing:.02em}
ol.timeline{margin:.3rem 0;padding-left:1.1rem}ol.timeline li{margin:.15rem 0}
footer{margin-top:1.5rem;color:var(--muted);font-size:.85rem}
@media (max-width:499px){main{padding-left:.5rem;padding-right:.5rem}table.statement{font-size:.78rem}table.statement th,table.statement td{padding:.35rem .25rem}}
@media (min-width:700px){main{padding:1.25rem 1rem 3rem}h1{font-size:1.5rem}table{font-size:.92rem}}
`;

export interface Frame {
  title: string;
  customer: { id: number; name: string };
  /** The tab to mark: overview, orders or statement. */
  active?: 'overview' | 'orders' | 'statement';
  /** The session's CSRF token (empty with a bearer token, which needs none). */
  csrf: string;
  body: string;
}

export function page(f: Frame): string {
  const tab = (key: Frame['active'], path: string, label: string) => `<a href="${path}"${f.active === key ? ' aria-current="page"' : ''}>${label}</a>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(f.title)} — ${esc(f.customer.name)}</title>
<style>${CSS}</style></head><body><main>
<header class="top"><div class="who"><div class="name">${esc(f.customer.name)}</div><div class="muted small">Customer ${f.customer.id}</div></div>
<form class="inline" method="post" action="/sign-out"><input type="hidden" name="_csrf" value="${esc(f.csrf)}"><button class="link" type="submit">Sign out</button></form></header>
<nav class="tabs" aria-label="Portal">${tab('overview', '/portal', 'Overview')}${tab('orders', '/portal/orders', 'Orders')}${tab('statement', '/portal/statement', 'Statement')}</nav>
${f.body}
<footer>Questions about an invoice? Dispute it or promise a payment from its page, or write to us.</footer>
</main></body></html>`;
}

/** The balance card: every figure from one account summary, so they always agree. */
export function balanceCard(s: AccountSummary): string {
  const c = s.currency;
  const count = s.openInvoices.length;
  return `<section class="card balance" aria-label="Balance">
<div class="row"><span>${s.balanceMinor < 0 ? 'Paid ahead' : 'You owe'}</span><span class="big amount" data-figure="balance">${esc(money(Math.abs(s.balanceMinor), c))}</span></div>
<dl class="facts">
<dt>Open invoices</dt><dd><span data-figure="open-count">${count}</span> · <span class="amount">${esc(money(s.openMinor, c))}</span></dd>
<dt>Overdue</dt><dd class="${s.overdueMinor > 0 ? 'overdue' : ''}"><span data-figure="overdue-count">${s.overdueCount}</span> · <span class="amount">${esc(money(s.overdueMinor, c))}</span></dd>
<dt>Not yet due</dt><dd class="amount">${esc(money(s.notYetDueMinor, c))}</dd>
${s.creditOnAccountMinor !== 0 ? `<dt>Credit on account</dt><dd class="amount good">${esc(money(-s.creditOnAccountMinor, c))}</dd>` : ''}
</dl>
<p class="muted small">As of ${esc(longDate(s.asOf))}</p>
</section>`;
}

/** Open invoices, oldest due first, each with what is due and a link to it and its PDF. */
export function openInvoiceList(s: AccountSummary, flags: Map<string, string>): string {
  if (s.openInvoices.length === 0) return '<p class="muted">Nothing is open. Thank you!</p>';
  return `<ul class="items">${s.openInvoices
    .map((i) => {
      const flag = flags.get(i.number);
      return `<li><div class="row"><a class="title" href="/portal/invoices/${encodeURIComponent(i.number)}">${esc(i.number)}</a><span class="amount">${esc(money(i.balanceMinor, s.currency))}</span></div>
<div class="row muted small"><span>Due ${esc(longDate(i.dueDate))} · <span class="${i.daysPastDue > 0 ? 'overdue' : ''}">${esc(dueInWords(i.daysPastDue))}</span>${flag ? ` · <span class="paused">${esc(flag)}</span>` : ''}</span><a href="/portal/invoices/${encodeURIComponent(i.number)}.pdf">PDF</a></div></li>`;
    })
    .join('')}</ul>`;
}

/** How to pay: the account and the reference to quote (the one the bank import matches on). */
export function howToPayCard(p: HowToPay, due?: { text: string }): string {
  const rows: [string, string, string?][] = [['Account holder', esc(p.payee)]];
  if (p.bankName) rows.push(['Bank', esc(p.bankName)]);
  if (p.iban) rows.push(['IBAN', `<span class="ref">${esc(p.iban)}</span>`]);
  if (p.bic) rows.push(['BIC', esc(p.bic)]);
  rows.push(['Reference', p.reference ? `<span class="ref">${esc(p.reference)}</span>` : 'the numbers of the invoices you pay']);
  return `<section class="card pay" aria-label="How to pay"><h2>How to pay${due ? `: ${esc(due.text)}` : ''}</h2>
<dl>${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('')}</dl>
<p class="hint">${p.reference ? 'Quote exactly this reference so your payment is matched to this invoice at once.' : 'Quote each invoice number you pay, so your payment is matched to those invoices at once.'}</p>
<p class="hint">${esc(p.instructions)}</p></section>`;
}

const ORDER_WORDS: Record<string, string> = { draft: 'draft', submitted: 'received', approved: 'confirmed', credit_hold: 'awaiting approval', rejected: 'declined', partially_shipped: 'partly shipped', shipped: 'shipped', delivered: 'delivered', invoiced: 'invoiced', paid: 'paid', cancelled: 'cancelled' };
export const orderStatus = (status: string): string => ORDER_WORDS[status] ?? status.replaceAll('_', ' ');
