import type { Kysely } from 'kysely';
import type { Core, Tx } from '../core.ts';
import { runChange } from '../core.ts';
import type { CollectionActionKind, CollectionActionsTable, Database } from '../db/schema.ts';
import type { Insertable, Selectable } from 'kysely';
import { notFound } from '../shared/errors.ts';
import { parseBusinessDate } from '../shared/dates.ts';
import { oneOf, optionalText, requireId } from '../shared/validate.ts';
import { findByNumber } from '../invoicing/invoice.service.ts';

/**
 * The collectors' log: every call, e-mail, note and escalation on a customer (optionally on
 * one invoice), with the next action and when it is due. Promises, disputes and reminders
 * add their own entries, so the log is the customer's whole collections history.
 */
export const LOGGED_KINDS = ['call', 'email', 'note', 'escalation'] as const satisfies readonly CollectionActionKind[];

export type CollectionActionRow = Selectable<CollectionActionsTable>;

export interface CollectionAction {
  id: number;
  customerId: number;
  invoiceId: number | null;
  kind: CollectionActionKind;
  note: string | null;
  nextAction: string | null;
  nextActionOn: string | null;
  actionDate: string;
  actor: string;
  createdAt: string;
}

export const toAction = (r: CollectionActionRow): CollectionAction => ({
  id: r.id, customerId: r.customer_id, invoiceId: r.invoice_id, kind: r.kind, note: r.note, nextAction: r.next_action, nextActionOn: r.next_action_on, actionDate: r.action_date, actor: r.actor, createdAt: r.created_at,
});

/** Writes one log entry inside an open change (services that log as a side effect use this). */
export async function insertAction(trx: Tx, values: Omit<Insertable<CollectionActionsTable>, 'id'>): Promise<CollectionActionRow> {
  return trx.insertInto('collection_actions').values(values).returningAll().executeTakeFirstOrThrow();
}

export interface ActionInput {
  customerId: number | string;
  invoice?: string | null;
  kind: string;
  note?: string | null;
  nextAction?: string | null;
  nextActionOn?: string | null;
  date?: string | null;
}

/** Logs a call, e-mail, note or escalation by a collector. */
export async function logAction(core: Core, input: ActionInput, actor: string): Promise<CollectionAction> {
  const customerId = requireId(input.customerId, 'customerId');
  const kind = oneOf(input.kind, 'kind', LOGGED_KINDS);
  const note = optionalText(input.note, 'note', 2000);
  const nextAction = optionalText(input.nextAction, 'nextAction', 200);
  const nextActionOn = input.nextActionOn ? parseBusinessDate(input.nextActionOn, 'nextActionOn') : null;
  const invoice = input.invoice ? await findByNumber(core, input.invoice) : null;
  if (invoice && invoice.customer_id !== customerId) throw notFound('invoice', `${invoice.number} of customer ${customerId}`);
  return runChange(core, actor, async ({ trx, at, today }) => {
    const customer = await trx.selectFrom('customers').select('id').where('id', '=', customerId).executeTakeFirst();
    if (!customer) throw notFound('customer', customerId);
    const row = await insertAction(trx, {
      customer_id: customerId, invoice_id: invoice?.id ?? null, kind, note, next_action: nextAction, next_action_on: nextActionOn,
      action_date: input.date ? parseBusinessDate(input.date, 'date') : today, actor, created_at: at,
    });
    return { result: toAction(row), events: [{ type: `collections.${kind}_logged`, aggregate: 'customer', id: customerId, after: { collection_actions: [row] } }] };
  });
}

/** A customer's collections log, newest first. */
export async function listActions(db: Kysely<Database>, customerId: number, limit = 100): Promise<CollectionAction[]> {
  const rows = await db.selectFrom('collection_actions').selectAll().where('customer_id', '=', customerId).orderBy('id', 'desc').limit(limit).execute();
  return rows.map(toAction);
}
