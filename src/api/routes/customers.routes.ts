import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { actorOf } from '../http.ts';
import { page } from '../../shared/facing.ts';
import { createCustomer, getCustomer, listCustomers, setCustomerStatus, updateCustomer } from '../../customers/customer.service.ts';
import { accountStatement } from '../../payments/account-statement.service.ts';
import { BusinessDate, IdParams, ListQuery, Money, Percent, Reason, strict } from './schemas.ts';
import { CustomerResponse, Page, AccountStatementResponse } from './responses.ts';

const CustomerFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  country: Type.Optional(Type.String({ maxLength: 60 })),
  segment: Type.Optional(Type.String({ maxLength: 60 })),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
  paymentTermsDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  earlyDiscountPercent: Type.Optional(Percent),
  earlyDiscountDays: Type.Optional(Type.Integer({ minimum: 0, maximum: 365 })),
  creditLimit: Type.Optional(Money),
  riskClass: Type.Optional(Type.Union([Type.Literal('A'), Type.Literal('B'), Type.Literal('C'), Type.Literal('D'), Type.Literal('E')])),
  salesRep: Type.Optional(Type.String({ maxLength: 100 })),
  email: Type.Optional(Type.String({ maxLength: 200 })),
  iban: Type.Optional(Type.String({ maxLength: 40 })),
};

type Q = { after?: number; limit?: number; status?: 'active' | 'blocked' };

export const customerRoutes: RouteSpec[] = [
  { method: 'GET', url: '/customers', response: Page(CustomerResponse), permission: 'customers:read', tag: 'customers', summary: 'List customers (cursor: ?after=ID)', querystring: Type.Composite([ListQuery, Type.Object({ status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('blocked')])) })]),
    handler: async (req, core) => { const q = req.query as Q; const limit = q.limit ?? 100; return page(await listCustomers(core, { afterId: q.after, limit, status: q.status }), limit); } },
  { method: 'POST', url: '/customers', response: CustomerResponse, permission: 'customers:write', tag: 'customers', summary: 'Create a customer', status: 201, body: Type.Object({ ...CustomerFields, externalId: Type.Optional(Type.String({ maxLength: 100 })) }, strict),
    handler: async (req, core) => createCustomer(core, req.body as never, actorOf(req)) },
  { method: 'GET', url: '/customers/:id', response: CustomerResponse, permission: 'customers:read', tag: 'customers', summary: 'Show a customer', params: IdParams,
    handler: async (req, core) => getCustomer(core, (req.params as { id: number }).id) },
  { method: 'PATCH', url: '/customers/:id', response: CustomerResponse, permission: 'customers:write', tag: 'customers', summary: 'Change terms, limit, risk class or contact data', params: IdParams, body: Type.Partial(Type.Object(CustomerFields), strict),
    handler: async (req, core) => updateCustomer(core, (req.params as { id: number }).id, req.body as never, actorOf(req)) },
  { method: 'POST', url: '/customers/:id/block', response: CustomerResponse, permission: 'customers:write', tag: 'customers', summary: 'Block a customer (new orders go on credit hold)', params: IdParams, body: Reason,
    handler: async (req, core) => setCustomerStatus(core, (req.params as { id: number }).id, 'blocked', (req.body as { reason: string }).reason, actorOf(req)) },
  { method: 'POST', url: '/customers/:id/activate', response: CustomerResponse, permission: 'customers:write', tag: 'customers', summary: 'Re-activate a blocked customer', params: IdParams, body: Reason,
    handler: async (req, core) => setCustomerStatus(core, (req.params as { id: number }).id, 'active', (req.body as { reason: string }).reason, actorOf(req)) },
  { method: 'GET', url: '/customers/:id/account-statement', formerly: '/customers/:id/statement', response: AccountStatementResponse, permission: 'statements:read', tag: 'customers', summary: 'Statement of account with running balance and aging', params: IdParams, querystring: Type.Object({ from: Type.Optional(BusinessDate), to: Type.Optional(BusinessDate) }),
    handler: async (req, core) => { const q = req.query as { from?: string; to?: string }; return accountStatement(core, { customerId: (req.params as { id: number }).id, from: q.from, to: q.to }); } },
];
