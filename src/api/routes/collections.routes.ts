import { Type } from '@sinclair/typebox';
import type { RouteSpec } from '../http.ts';
import { actorOf } from '../http.ts';
import { pageOf, type ListPageQuery } from '../../shared/facing.ts';
import { runReminders } from '../../collections/reminder.service.ts';
import { runMonthlyStatements } from '../../collections/statement-run.service.ts';
import { getMessage, listOutbox, OUTBOX_STATUSES, sendOutbox } from '../../collections/outbox.service.ts';
import { worklistPage } from '../../collections/worklist.service.ts';
import { listActions, logAction, LOGGED_KINDS } from '../../collections/action.service.ts';
import { assignCustomer, listPolicies, savePolicy } from '../../collections/policy.service.ts';
import { policyToJson } from '../../collections/policy.ts';
import { cancelPromise, listPromises, PROMISE_STATUSES, recordPromise } from '../../collections/promise.service.ts';
import { DISPUTE_STATUSES, getDispute, listDisputes, openDispute, OUTCOMES, resolveDispute } from '../../collections/dispute.service.ts';
import type { DisputeStatus, OutboxStatus, PromiseStatus } from '../../db/schema.ts';
import { BusinessDate, Id, IdParams, ListQuery, Money, Reason, strict } from './schemas.ts';
import { ActionResponse, AnyObject, DisputeResponse, MessageResponse, Page, PolicyResponse, PromiseResponse, ReminderRunResponse, WorklistResponse } from './responses.ts';

const lit = <T extends readonly string[]>(values: T) => Type.Union(values.map((v) => Type.Literal(v)));
const listQuery = (filters: Parameters<typeof Type.Object>[0]) => Type.Composite([ListQuery, Type.Object(filters)]);
/** The most entries a list read whole (a ranking, a log, the outbox) is paged over. */
const MAX_LOG = 10_000;
const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** Collections over HTTP: reminder and statement runs, the outbox, the worklist and its log, policies, promises, disputes. */
export const collectionRoutes: RouteSpec[] = [
  { method: 'GET', url: '/collections/worklist', response: WorklistResponse, permission: 'collections:read', tag: 'collections', summary: 'Open invoices ranked by amount at risk (open amount × probability of paying late), with promises, disputes, last and next action',
    querystring: listQuery({ collector: Type.Optional(Text(100)), asOf: Type.Optional(BusinessDate) }),
    handler: async (req, core) => {
      const { collector, asOf, after, limit } = req.query as ListPageQuery & { collector?: string; asOf?: string };
      return worklistPage(core, { collector, asOf }, { after, limit });
    } },
  { method: 'POST', url: '/collections/runs', response: ReminderRunResponse, permission: 'collections:run', tag: 'collections', summary: 'Reminder run: one consolidated reminder per customer with invoices at a new level (dryRun writes nothing)',
    body: Type.Object({ asOf: Type.Optional(BusinessDate), dryRun: Type.Optional(Type.Boolean()), send: Type.Optional(Type.Boolean()) }, strict),
    handler: async (req, core) => runReminders(core, actorOf(req), req.body as { asOf?: string; dryRun?: boolean; send?: boolean }) },
  { method: 'POST', url: '/collections/statement-runs', formerly: '/collections/statements', response: AnyObject, permission: 'collections:run', tag: 'collections', summary: 'Monthly statement run: each customer\'s statement of account into the outbox (default: last month)',
    body: Type.Object({ month: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}$' })), dryRun: Type.Optional(Type.Boolean()) }, strict),
    handler: async (req, core) => runMonthlyStatements(core, actorOf(req), req.body as { month?: string; dryRun?: boolean }) },
  { method: 'GET', url: '/collections/outbox', response: Page(MessageResponse), permission: 'collections:read', tag: 'collections', summary: 'Messages in the outbox',
    querystring: listQuery({ status: Type.Optional(lit(OUTBOX_STATUSES)), customerId: Type.Optional(Id) }),
    handler: async (req, core) => { const q = req.query as ListPageQuery & { status?: OutboxStatus; customerId?: number }; return pageOf(await listOutbox(core.db.kysely, { status: q.status, customerId: q.customerId, limit: MAX_LOG }), q); } },
  { method: 'GET', url: '/collections/outbox/:id', response: MessageResponse, permission: 'collections:read', tag: 'collections', summary: 'One message with its text and HTML bodies', params: IdParams,
    handler: async (req, core) => getMessage(core.db.kysely, (req.params as { id: number }).id) },
  { method: 'POST', url: '/collections/outbox/send', response: AnyObject, permission: 'collections:run', tag: 'collections', summary: 'Send pending messages over the configured SMTP server',
    body: Type.Object({ retryFailed: Type.Optional(Type.Boolean()) }, strict),
    handler: async (req, core) => sendOutbox(core, actorOf(req), req.body as { retryFailed?: boolean }) },
  { method: 'GET', url: '/customers/:id/collections', response: Page(ActionResponse), permission: 'collections:read', tag: 'collections', summary: "A customer's collections log, newest first", params: IdParams, querystring: ListQuery,
    handler: async (req, core) => pageOf(await listActions(core.db.kysely, (req.params as { id: number }).id, MAX_LOG), req.query as ListPageQuery) },
  { method: 'POST', url: '/customers/:id/collections', response: ActionResponse, permission: 'collections:write', tag: 'collections', summary: 'Log a call, e-mail, note or escalation with the next action', status: 201, params: IdParams,
    body: Type.Object({ kind: lit(LOGGED_KINDS), invoice: Type.Optional(Text(100)), note: Type.Optional(Text(2000)), nextAction: Type.Optional(Text(200)), nextActionOn: Type.Optional(BusinessDate) }, strict),
    handler: async (req, core) => logAction(core, { ...(req.body as { kind: string }), customerId: (req.params as { id: number }).id }, actorOf(req)) },
  { method: 'POST', url: '/customers/:id/collections/assignment', response: AnyObject, permission: 'collections:configure', tag: 'collections', summary: 'Assign a customer to a collector and/or a dunning policy (null clears)', params: IdParams,
    body: Type.Object({ collector: Type.Optional(Type.Union([Text(100), Type.Null()])), policy: Type.Optional(Type.Union([Text(40), Type.Null()])) }, strict),
    handler: async (req, core) => assignCustomer(core, { ...(req.body as object), customerId: (req.params as { id: number }).id }, actorOf(req)) },
  { method: 'GET', url: '/collections/policies', response: Page(PolicyResponse), permission: 'collections:read', tag: 'collections', summary: 'Dunning policies', querystring: ListQuery,
    handler: async (req, core) => pageOf((await listPolicies(core.db.kysely)).map(policyToJson), req.query as ListPageQuery) },
  { method: 'POST', url: '/collections/policies', response: AnyObject, permission: 'collections:configure', tag: 'collections', summary: 'Create or replace a dunning policy',
    body: Type.Object({ name: Text(40), levels: Type.Array(AnyObject, { minItems: 1, maxItems: 9 }) }, strict),
    handler: async (req, core) => policyToJson(await savePolicy(core, req.body, actorOf(req))) },
  { method: 'GET', url: '/promises', response: Page(PromiseResponse), permission: 'collections:read', tag: 'collections', summary: 'Promises to pay',
    querystring: listQuery({ customerId: Type.Optional(Id), status: Type.Optional(lit(PROMISE_STATUSES)) }),
    handler: async (req, core) => { const q = req.query as ListPageQuery & { customerId?: number; status?: PromiseStatus }; return pageOf(await listPromises(core.db.kysely, { customerId: q.customerId, status: q.status }), q); } },
  { method: 'POST', url: '/promises', response: PromiseResponse, permission: 'collections:write', tag: 'collections', summary: 'Record a promise to pay (pauses dunning for its invoices until its date)', status: 201,
    body: Type.Object({ customerId: Id, date: BusinessDate, invoices: Type.Optional(Type.Array(Text(100), { maxItems: 200 })), amount: Type.Optional(Money), promisedBy: Type.Optional(Text(200)), note: Type.Optional(Text(2000)) }, strict),
    handler: async (req, core) => recordPromise(core, req.body as never, actorOf(req)) },
  { method: 'POST', url: '/promises/:id/cancel', response: PromiseResponse, permission: 'collections:write', tag: 'collections', summary: 'Cancel a standing promise', params: IdParams, body: Reason,
    handler: async (req, core) => cancelPromise(core, (req.params as { id: number }).id, (req.body as { reason: string }).reason, actorOf(req)) },
  { method: 'GET', url: '/disputes', response: Page(DisputeResponse), permission: 'collections:read', tag: 'collections', summary: 'Disputes',
    querystring: listQuery({ customerId: Type.Optional(Id), status: Type.Optional(lit(DISPUTE_STATUSES)) }),
    handler: async (req, core) => { const q = req.query as ListPageQuery & { customerId?: number; status?: DisputeStatus }; return pageOf(await listDisputes(core.db.kysely, { customerId: q.customerId, status: q.status }), q); } },
  { method: 'POST', url: '/disputes', response: DisputeResponse, permission: 'collections:write', tag: 'collections', summary: 'Open a dispute on an invoice or one of its lines (pauses dunning for it)', status: 201,
    body: Type.Object({ invoice: Text(100), reason: Text(500), line: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })), amount: Type.Optional(Money) }, strict),
    handler: async (req, core) => openDispute(core, req.body as never, actorOf(req)) },
  { method: 'GET', url: '/disputes/:id', response: DisputeResponse, permission: 'collections:read', tag: 'collections', summary: 'One dispute', params: IdParams,
    handler: async (req, core) => getDispute(core, (req.params as { id: number }).id) },
  { method: 'POST', url: '/disputes/:id/resolve', response: DisputeResponse, permission: 'disputes:resolve', tag: 'collections', summary: 'End a dispute: credit (issues a dispute credit note), reject, or withdraw', params: IdParams,
    body: Type.Object({ outcome: lit(OUTCOMES), amount: Type.Optional(Money), note: Type.Optional(Text(2000)) }, strict),
    handler: async (req, core) => resolveDispute(core, (req.params as { id: number }).id, req.body as { outcome: string }, actorOf(req)) },
];
