import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { actorOf } from '../http.ts';
import { page } from '../../shared/facing.ts';
import { applyPaymentToInvoice, getPayment, listPayments, recordPayment, reversePayment } from '../../payments/payment.service.ts';
import { BusinessDate, Id, IdParams, ListQuery, Money, Reason, strict } from './schemas.ts';
import { Page, PaymentResponse } from './responses.ts';

/** Payments: receipts, their application to invoices, reversals. */
export const paymentRoutes: RouteSpec[] = [
  { method: 'GET', url: '/payments', response: Page(PaymentResponse), permission: 'payments:read', tag: 'payments', summary: 'List payments (cursor: ?after=ID)', querystring: Type.Composite([ListQuery, Type.Object({ customerId: Type.Optional(Id) })]),
    handler: async (req, core) => { const q = req.query as { after?: number; limit?: number; customerId?: number }; const limit = q.limit ?? 100; return page(await listPayments(core, { afterId: q.after, limit, customerId: q.customerId }), limit); } },
  { method: 'POST', url: '/payments', response: PaymentResponse, permission: 'payments:write', tag: 'payments', summary: 'Record a receipt and apply it (reference → exact amount → oldest due)', status: 201,
    body: Type.Object({ customerId: Id, amount: Money, currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })), date: Type.Optional(BusinessDate), method: Type.Optional(Type.String({ maxLength: 50 })), reference: Type.Optional(Type.String({ maxLength: 500 })), payer: Type.Optional(Type.String({ maxLength: 200 })), externalId: Type.Optional(Type.String({ maxLength: 200 })) }, strict),
    handler: async (req, core) => recordPayment(core, req.body as never, actorOf(req)) },
  { method: 'GET', url: '/payments/:id', response: PaymentResponse, permission: 'payments:read', tag: 'payments', summary: 'Show a payment and where it was applied', params: IdParams,
    handler: async (req, core) => getPayment(core, (req.params as { id: number }).id) },
  { method: 'POST', url: '/payments/:id/reverse', response: PaymentResponse, permission: 'payments:write', tag: 'payments', summary: 'Reverse a bounced payment (its invoices re-open)', params: IdParams, body: Reason,
    handler: async (req, core) => reversePayment(core, (req.params as { id: number }).id, (req.body as { reason: string }).reason, actorOf(req)) },
  { method: 'POST', url: '/payments/:id/apply', response: PaymentResponse, permission: 'payments:write', tag: 'payments', summary: 'Apply unapplied cash to a named invoice', params: IdParams,
    body: Type.Object({ invoice: Type.String({ minLength: 1, maxLength: 100 }), amount: Type.Optional(Money) }, strict),
    handler: async (req, core) => { const b = req.body as { invoice: string; amount?: string }; return applyPaymentToInvoice(core, { paymentId: (req.params as { id: number }).id, invoice: b.invoice, amount: b.amount }, actorOf(req)); } },
];
