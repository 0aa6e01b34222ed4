import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { invoicePdf } from '../../documents/invoice.pdf.ts';
import { accountStatementPdf } from '../../documents/account-statement.pdf.ts';
import { BusinessDate, IdParams, NumberParams } from './schemas.ts';

/** The customer's documents as PDFs, for staff: the same files the portal gives the customer. */
export const documentRoutes: RouteSpec[] = [
  { method: 'GET', url: '/invoices/:number/pdf', produces: 'application/pdf', permission: 'invoices:read', tag: 'invoicing', summary: 'The invoice as a PDF (lines, tax, totals, due date, how to pay)', params: NumberParams,
    filename: (req) => `${(req.params as { number: string }).number}.pdf`,
    handler: async (req, core) => (await invoicePdf(core, (req.params as { number: string }).number)).pdf },
  { method: 'GET', url: '/customers/:id/account-statement.pdf', formerly: '/customers/:id/statement.pdf', produces: 'application/pdf', permission: 'statements:read', tag: 'customers', summary: 'The statement of account as a PDF (default: the last 90 days)', params: IdParams, querystring: Type.Object({ from: Type.Optional(BusinessDate), to: Type.Optional(BusinessDate) }),
    filename: (req) => `account-statement-${(req.params as { id: number }).id}.pdf`,
    handler: async (req, core) => { const q = req.query as { from?: string; to?: string }; return (await accountStatementPdf(core, { customerId: (req.params as { id: number }).id, from: q.from, to: q.to })).pdf; } },
];
