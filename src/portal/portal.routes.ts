import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Core } from '../core.ts';
import { DomainError, httpStatus, invalid } from '../shared/errors.ts';
import { getCustomer } from '../customers/customer.service.ts';
import { openDispute } from '../collections/dispute.service.ts';
import { recordPromise } from '../collections/promise.service.ts';
import { invoicePdf } from '../documents/invoice.pdf.ts';
import { accountStatementPdf } from '../documents/account-statement.pdf.ts';
import { acceptForms } from '../api/auth/access.ts';
import { csrfTokenFor } from '../api/auth/session.service.ts';
import { errorHandler } from '../api/problem.ts';
import { Id } from '../api/routes/schemas.ts';
import { esc, page } from './layout.ts';
import { homePage, loadHome } from './home.page.ts';
import { loadOrder, loadOrderList, orderListPage, orderPage } from './orders.page.ts';
import { invoicePage, loadInvoice, ownInvoice, type FormState } from './invoice.page.ts';
import { loadStatement, statementPage } from './account-statement.page.ts';

/**
 * The customer portal in a browser: server-rendered pages (`/portal…`), the invoice and
 * statement PDFs, and the dispute and promise-to-pay forms (the JSON reads under
 * `/portal/api/` are in src/api/portal.ts). A customer
 * opens it with the link carrying its portal token (then a session cookie) or sends the
 * token as `Authorization: Bearer`. Another customer's document answers 404 exactly like
 * one that does not exist. Pages call services only; no rule lives here.
 */
const me = (req: FastifyRequest): number => req.portalCustomerId!;

/** Who a portal change is recorded as, in the events and the collector's log. */
export const portalActor = (customerId: number): string => `portal:customer-${customerId}`;

/** A browser asked for a page (a form post or a link), not a program for JSON. */
const wantsHtml = (req: FastifyRequest): boolean => /\btext\/html\b/.test(req.headers.accept ?? '');

const csrfOf = (req: FastifyRequest): string => (req.sessionSecret ? csrfTokenFor(req.sessionSecret) : '');

const html = (reply: FastifyReply, status: number, body: string) => reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);

const pdf = (reply: FastifyReply, filename: string, bytes: Buffer) =>
  reply.header('cache-control', 'private, no-store').header('content-disposition', `inline; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`).type('application/pdf').send(bytes);

/** A query value as given, '' and absent alike meaning "not given". */
const query = (req: FastifyRequest, name: string): string | undefined => {
  const v = (req.query as Record<string, unknown> | undefined)?.[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw invalid(`${name} must be given once`, { field: name, value: v, rule: 'single_value' });
  return v;
};

/**
 * The fields of a form post (or of a JSON object), each as text: a field the form does not
 * have is refused, naming it; `_csrf` was checked before and is not a field.
 */
export function formFields<K extends string>(body: unknown, allowed: readonly K[]): Partial<Record<K, string>> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw invalid('send the form as fields (application/x-www-form-urlencoded) or as one JSON object', { field: 'body', rule: 'form' });
  const out: Partial<Record<K, string>> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key === '_csrf') continue;
    if (!(allowed as readonly string[]).includes(key)) throw invalid(`${key} is not a field of this form (its fields: ${allowed.join(', ')})`, { field: key, value, rule: 'unknown_field' });
    if (typeof value !== 'string' && typeof value !== 'number') throw invalid(`${key} must be text, got ${JSON.stringify(value)}`, { field: key, value, rule: 'type' });
    out[key as K] = String(value);
  }
  return out;
}

const DISPUTE_FIELDS = ['reason', 'line', 'amount'] as const;
const PROMISE_FIELDS = ['date', 'amount', 'promisedBy', 'note'] as const;

export function registerPortalPages(app: FastifyInstance, core: Core): void {
  void app.register(async (scope) => {
    acceptForms(scope);
    const customerOf = async (req: FastifyRequest) => {
      const c = await getCustomer(core, me(req));
      return { id: c.id, name: c.name };
    };

    // A browser gets a page that says what went wrong and the way back; programs get problem+json.
    scope.setErrorHandler(async (error: FastifyError | Error, req, reply) => {
      const validation = (error as FastifyError).validation !== undefined;
      if (!wantsHtml(req) || req.portalCustomerId === undefined || !(error instanceof DomainError || validation)) return errorHandler(error, req, reply);
      const status = error instanceof DomainError ? httpStatus(error.kind) : 400;
      const customer = await customerOf(req).catch(() => ({ id: me(req), name: 'Your account' }));
      const title = status === 404 ? 'Not found' : 'That did not work';
      return html(reply, status, page({ title, customer, csrf: csrfOf(req), body: `<h1>${title}</h1><div class="alert error" role="alert">${esc(error.message)}</div><p><a href="/portal">Back to the overview</a></p>` }));
    });

    const config = { permission: 'portal' as const };
    const hidden = { hide: true };
    const NumberParam = Type.Object({ number: Type.String({ minLength: 1, maxLength: 100 }) });

    // Pages.
    scope.get('/portal', { config, schema: hidden }, async (req, reply) => html(reply, 200, homePage(await customerOf(req), csrfOf(req), await loadHome(core, me(req)))));
    scope.get('/portal/orders', { config, schema: hidden }, async (req, reply) => html(reply, 200, orderListPage(await customerOf(req), csrfOf(req), await loadOrderList(core, me(req), query(req, 'page')))));
    scope.get('/portal/orders/:id', { config, schema: { ...hidden, params: Type.Object({ id: Id }) } }, async (req, reply) =>
      html(reply, 200, orderPage(await customerOf(req), csrfOf(req), await loadOrder(core, me(req), (req.params as { id: number }).id))),
    );
    scope.get('/portal/invoices/:number', { config, schema: { ...hidden, params: NumberParam } }, async (req, reply) =>
      html(reply, 200, invoicePage(await customerOf(req), csrfOf(req), await loadInvoice(core, me(req), (req.params as { number: string }).number), { done: query(req, 'done') })),
    );
    scope.get('/portal/statement', { config, schema: hidden }, async (req, reply) => {
      const period = { from: query(req, 'from'), to: query(req, 'to') };
      return html(reply, 200, statementPage(await customerOf(req), csrfOf(req), await loadStatement(core, me(req), period), period));
    });

    // Documents.
    scope.get('/portal/invoices/:number.pdf', { config, schema: { ...hidden, params: NumberParam } }, async (req, reply) => {
      const invoice = await ownInvoice(core, me(req), (req.params as { number: string }).number);
      const doc = await invoicePdf(core, invoice.number);
      return pdf(reply, `${doc.number}.pdf`, doc.pdf);
    });
    scope.get('/portal/statement.pdf', { config, schema: hidden }, async (req, reply) => {
      const doc = await accountStatementPdf(core, { customerId: me(req), from: query(req, 'from'), to: query(req, 'to') });
      return pdf(reply, `statement-${doc.customerId}-${doc.from}-${doc.to}.pdf`, doc.pdf);
    });

    // Forms: a dispute, a promise to pay. A browser is sent back to the invoice (303) or shown
    // the form again with the refused field marked; a program gets 201 with the record, or
    // problem+json naming the field.
    const submit = async <K extends string>(req: FastifyRequest, reply: FastifyReply, form: FormState['form'], fields: readonly K[], act: (invoice: string, values: Partial<Record<K, string>>) => Promise<unknown>) => {
      const invoice = await ownInvoice(core, me(req), (req.params as { number: string }).number);
      let values: Partial<Record<K, string>> = {};
      try {
        values = formFields(req.body, fields);
        const made = await act(invoice.number, values);
        if (!wantsHtml(req)) return reply.status(201).send(made);
        return reply.redirect(`/portal/invoices/${encodeURIComponent(invoice.number)}?done=${form}#${form}`, 303);
      } catch (error) {
        if (!(error instanceof DomainError) || !wantsHtml(req) || (error.kind !== 'invalid' && error.kind !== 'transition' && error.kind !== 'conflict')) throw error;
        const named = error.detail.field && (fields as readonly string[]).includes(error.detail.field) ? error.detail.field : '_form';
        const state: FormState = { form, values: values as Record<string, string>, errors: { [named]: error.message } };
        // As the sign-in page does: a refused field is an answer to show (200), not a failed page load.
        return html(reply, 200, invoicePage(await customerOf(req), csrfOf(req), await loadInvoice(core, me(req), invoice.number), { state }));
      }
    };
    scope.post('/portal/invoices/:number/dispute', { config, schema: { ...hidden, params: NumberParam } }, async (req, reply) =>
      submit(req, reply, 'dispute', DISPUTE_FIELDS, (invoice, v) => openDispute(core, { invoice, reason: v.reason ?? '', line: v.line || null, amount: v.amount || null }, portalActor(me(req)))),
    );
    scope.post('/portal/invoices/:number/promise', { config, schema: { ...hidden, params: NumberParam } }, async (req, reply) =>
      submit(req, reply, 'promise', PROMISE_FIELDS, (invoice, v) =>
        recordPromise(core, { customerId: me(req), invoices: [invoice], date: v.date ?? '', amount: v.amount || null, promisedBy: v.promisedBy || null, note: v.note || null }, portalActor(me(req))),
      ),
    );
  });
}
