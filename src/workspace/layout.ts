import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { allowed, type Permission } from '../api/permissions.ts';
import { csrfTokenFor } from '../api/auth/session.service.ts';
import { displayMoney } from '../shared/figures.ts';
import { html, href, type Child, type Html } from './html.ts';
import type { FormError } from './forms.ts';

/**
 * The workspace's page shell and the pieces every page shares: navigation by role, tables
 * that turn into cards on a phone, pagers, fields that show the core's error beside them,
 * money and status. Pages compose these; none of them decides anything about the business.
 */

/** Who is looking: the key (later the user account) behind the session, and its CSRF token. */
export interface Viewer {
  name: string;
  role: string;
  csrf: string;
  /** Their unread notifications, shown beside "Notifications" in the header (read before each page; 0 when unknown). */
  unread: number;
  can(permission: Permission): boolean;
}

export function viewerOf(req: FastifyRequest): Viewer {
  const key = req.apiKey!;
  return { name: key.name, role: key.role, csrf: req.sessionSecret ? csrfTokenFor(req.sessionSecret) : '', unread: req.unreadNotices ?? 0, can: (p) => allowed(key.role, p) };
}

/** The workspace's pages, in the order of the loop; each shows to the roles its permission names. */
export const PAGES: { path: string; label: string; permission: Permission; what: string }[] = [
  { path: '/app/orders', label: 'Order desk', permission: 'orders:read', what: 'Enter orders with stock, price and the credit check; the live status board' },
  { path: '/app/credit', label: 'Credit', permission: 'credit:read', what: 'Orders on credit hold with their reasons; release, reject, change a limit' },
  { path: '/app/logistics', label: 'Logistics', permission: 'shipments:read', what: 'Ship approved orders (in parts), record delivery with a signature' },
  { path: '/app/cash', label: 'Cash', permission: 'payments:read', what: 'Bank lines nobody could match; match them to an invoice' },
  { path: '/app/collections', label: 'Collections', permission: 'collections:read', what: 'Open items ranked by risk; calls, promises, disputes and reminders' },
  { path: '/app/sales', label: 'Sales', permission: 'customers:read', what: "A salesperson's customers with their orders and overdue amounts" },
  { path: '/app/customers', label: 'Customers', permission: 'customers:read', what: 'Every customer; each opens its 360° page' },
];

export interface PageOptions {
  title: string;
  /** The nav entry to mark as the current page. */
  active?: string;
  /** Follow the event feed (server-sent events) on this page. */
  live?: boolean;
  body: Child;
}

export function page(viewer: Viewer, p: PageOptions): string {
  const nav = PAGES.filter((x) => viewer.can(x.permission));
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false,"historyCacheSize":0,"selfRequestsOnly":true,"attributesToSettle":["class","width","height"]}'>
<title>${p.title} — cashloop</title>
<link rel="stylesheet" href="/app/assets/workspace.css">
</head>
<body hx-headers='${JSON.stringify({ 'x-csrf-token': viewer.csrf })}'>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <a class="brand" href="/app">cashloop</a>
  <nav aria-label="Workspace"><ul>
    ${nav.map((x) => html`<li><a href="${x.path}"${x.path === p.active ? html` aria-current="page"` : ''}>${x.label}</a></li>`)}
  </ul></nav>
  <form method="post" action="/sign-out" class="who"><input type="hidden" name="_csrf" value="${viewer.csrf}"><a href="/app/notifications"${p.active === '/app/notifications' ? html` aria-current="page"` : ''}>Notifications${viewer.unread > 0 ? html` <span class="count" id="unread-count">${viewer.unread}<span class="sr-only"> unread</span></span>` : ''}</a><span>${viewer.name} <span class="role">${viewer.role}</span></span><button type="submit" class="link">Sign out</button></form>
</header>
<main id="main"${p.live ? html` hx-ext="sse" sse-connect="/app/live"` : ''}>
${p.body}
</main>
<script src="/app/assets/htmx.min.js"></script>
<script src="/app/assets/workspace.js"></script>
${p.live ? html`<script src="/app/assets/sse.min.js"></script>` : ''}
</body></html>`.text;
}

/** Money on a page, grouped by thousands in the currency's decimals (`78,000.00 EUR`); a form's input keeps `formatAmount`'s plain text. */
export const money = (minor: number, currency: string): string => displayMoney(minor, currency);

const STATUS_TONE: Record<string, string> = {
  draft: 'grey', submitted: 'blue', approved: 'green', credit_hold: 'amber', awaiting_prepayment: 'amber', rejected: 'red', partially_shipped: 'blue', shipped: 'blue', delivered: 'blue', invoiced: 'violet', paid: 'green', cancelled: 'grey',
  open: 'amber', partially_paid: 'blue', written_off: 'grey', in_transit: 'blue', failed: 'red', unmatched: 'amber', matched: 'green', ignored: 'grey', kept: 'green', broken: 'red',
  active: 'green', blocked: 'red', pending: 'amber', sent: 'green', exported: 'green',
};

export const status = (s: string): Html => html`<span class="badge ${STATUS_TONE[s] ?? 'grey'}">${s.replaceAll('_', ' ')}</span>`;

export interface Column<T> {
  label: string;
  cell(row: T): Child;
  /** Right-aligned figures. */
  num?: boolean;
}

/** A list as a table; on a phone each row becomes a card with its labels. */
export function table<T>(caption: string, columns: Column<T>[], rows: readonly T[], empty = 'Nothing here.', id?: string): Html {
  if (rows.length === 0) return html`<p class="empty"${id ? html` id="${id}"` : ''}>${empty}</p>`;
  return html`<div class="table"${id ? html` id="${id}"` : ''}><table class="list"><caption class="sr-only">${caption}</caption>
<thead><tr>${columns.map((c) => html`<th scope="col"${c.num ? html` class="num"` : ''}>${c.label}</th>`)}</tr></thead>
<tbody>${rows.map((r) => html`<tr>${columns.map((c) => html`<td data-label="${c.label}"${c.num ? html` class="num"` : ''}>${c.cell(r)}</td>`)}</tr>`)}</tbody></table></div>`;
}

/** Cursor paging: the next page starts after the last row shown (the services page by id). */
export function pager(path: string, query: Record<string, string | number | null | undefined>, next: string | number | null, csv = true): Html {
  return html`<nav class="pager" aria-label="Pages">
  ${query.after ? html`<a href="${href(path, { ...query, after: null })}">First page</a>` : ''}
  ${next !== null ? html`<a href="${href(path, { ...query, after: next })}" rel="next">Next page</a>` : ''}
  ${csv ? html`<a href="${href(path, { ...query, after: null, format: 'csv' })}" download>Download CSV</a>` : ''}
</nav>`;
}

/** The core's refusal above a form, naming the rule; the field's own message sits beside it. */
export function errorSummary(error: FormError | null | undefined): Html {
  if (!error) return html``;
  return html`<div class="alert error" role="alert"><strong>Not saved.</strong> ${error.message}${error.rule ? html` <span class="rule">(rule: ${error.rule})</span>` : ''}</div>`;
}

export function notice(text: string | null | undefined): Html {
  return text ? html`<div class="alert ok" role="status">${text}</div>` : html``;
}

export interface FieldOptions {
  name: string;
  label: string;
  type?: string;
  value?: string | number | null;
  error?: FormError | null;
  required?: boolean;
  hint?: string;
  /** Extra attributes, already safe (htmx wiring, min/max). */
  attrs?: Html;
  /** A unique id when the same field name appears more than once on a page. */
  id?: string;
  /** A list of choices instead of a text input. */
  options?: readonly { value: string; label: string }[];
  textarea?: boolean;
  /** The label is for screen readers only (a quantity in a table row, whose column says what it is). */
  hideLabel?: boolean;
  /** The field name the service reports errors under, when it differs from the input's name (`lines.0.quantity`). */
  errorKey?: string;
}

/** A labelled input; when the core refused this field, its message and rule are shown beside it. */
export function field(o: FieldOptions): Html {
  const id = o.id ?? `f-${o.name.replace(/[^A-Za-z0-9_-]/g, '-')}`;
  const key = o.errorKey ?? o.name;
  const mine = o.error && o.error.fields.includes(key) ? o.error : null;
  const describedBy = [o.hint ? `${id}-hint` : '', mine ? `${id}-error` : ''].filter(Boolean).join(' ');
  const common = html`id="${id}" name="${o.name}"${o.required ? html` required` : ''}${mine ? html` aria-invalid="true"` : ''}${describedBy ? html` aria-describedby="${describedBy}"` : ''} ${o.attrs ?? ''}`;
  const control = o.options
    ? html`<select ${common}>${o.options.map((x) => html`<option value="${x.value}"${String(o.value ?? '') === x.value ? html` selected` : ''}>${x.label}</option>`)}</select>`
    : o.textarea
      ? html`<textarea ${common} rows="2">${o.value ?? ''}</textarea>`
      : html`<input ${common} type="${o.type ?? 'text'}" value="${o.value ?? ''}">`;
  return html`<div class="field${mine ? ' invalid' : ''}"><label for="${id}"${o.hideLabel ? html` class="sr-only"` : ''}>${o.label}</label>${control}
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}${mine ? html`<p class="field-error" id="${id}-error">${mine.fieldMessage(key)}</p>` : ''}</div>`;
}

/** What every form of the workspace carries: the session's CSRF token and a one-time token of this form (routes.ts). */
export const csrfField = (viewer: Viewer): Html => html`<input type="hidden" name="_csrf" value="${viewer.csrf}"><input type="hidden" name="_once" value="${randomUUID()}">`;

export const customerLink = (id: number, name: string): Html => html`<a href="/app/customers/${id}">${name}</a>`;
export const orderLink = (id: number): Html => html`<a href="/app/orders/${id}">Order ${id}</a>`;
