import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { actorOf } from '../http.ts';
import { page } from '../../shared/facing.ts';
import { createCreditNote, getInvoice, listInvoices, writeOffInvoice } from '../../invoicing/invoice.service.ts';
import { BusinessDate, Id, ListQuery, Money, NumberParams, strict } from './schemas.ts';
import { AnyObject, InvoiceResponse, Page } from './responses.ts';

/** Invoices, their write-offs and credit notes. */
export const invoicingRoutes: RouteSpec[] = [
  { method: 'GET', url: '/invoices', response: Page(InvoiceResponse), permission: 'invoices:read', tag: 'invoicing', summary: 'List invoices with balances (cursor: ?after=ID)', querystring: Type.Composite([ListQuery, Type.Object({ customerId: Type.Optional(Id), open: Type.Optional(Type.Boolean()) })]),
    handler: async (req, core) => { const q = req.query as { after?: number; limit?: number; customerId?: number; open?: boolean }; const limit = q.limit ?? 100; return page(await listInvoices(core, { afterId: q.after, limit, customerId: q.customerId, openOnly: q.open }), limit); } },
  { method: 'GET', url: '/invoices/:number', response: InvoiceResponse, permission: 'invoices:read', tag: 'invoicing', summary: 'Show an invoice with lines, payments and credit notes', params: NumberParams,
    handler: async (req, core) => getInvoice(core, (req.params as { number: string }).number) },
  { method: 'POST', url: '/invoices/:number/write-off', response: AnyObject, permission: 'invoices:write', tag: 'invoicing', summary: 'Write off a remainder within the tolerance, or a bad debt', params: NumberParams,
    body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }), badDebt: Type.Optional(Type.Boolean()) }, strict),
    handler: async (req, core) => { const b = req.body as { reason: string; badDebt?: boolean }; return writeOffInvoice(core, (req.params as { number: string }).number, b.reason, actorOf(req), undefined, { badDebt: b.badDebt }); } },
  { method: 'POST', url: '/credit-notes', response: AnyObject, permission: 'invoices:write', tag: 'invoicing', summary: 'Issue a credit note against an invoice', status: 201,
    body: Type.Object({ invoice: Type.String({ minLength: 1, maxLength: 100 }), amount: Money, reason: Type.String({ minLength: 1, maxLength: 500 }), kind: Type.Optional(Type.Union([Type.Literal('return'), Type.Literal('price_correction'), Type.Literal('dispute'), Type.Literal('other')])), date: Type.Optional(BusinessDate) }, strict),
    handler: async (req, core) => createCreditNote(core, req.body as never, actorOf(req)) },
];
