import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, NotificationsTable, OutboxMessagesTable } from '../db/schema.ts';

/** The SQL of notifications; the rules are in notification.service.ts. Works on a database or a transaction. */
type Q = Kysely<Database>;
export type NotificationRow = Selectable<NotificationsTable>;

/** Inserts notifications not raised before (by `dedupe_key`); answers the ones inserted now. */
export async function insertNew(db: Q, rows: Insertable<NotificationsTable>[]): Promise<NotificationRow[]> {
  if (rows.length === 0) return [];
  return db.insertInto('notifications').values(rows).onConflict((oc) => oc.column('dedupe_key').doNothing()).returningAll().execute();
}

/** The names of the enabled users of a role: who "the credit controllers" are. */
export async function enabledUsersOfRole(db: Q, role: string): Promise<string[]> {
  return (await db.selectFrom('users').select('name').where('role', '=', role).where('disabled_at', 'is', null).orderBy('id').execute()).map((r) => r.name);
}

/** Dunning notices since `since` of customers that have a salesperson. */
export const dunningNoticesSince = (db: Q, since: string) =>
  db
    .selectFrom('dunning_notices as d')
    .innerJoin('customers as c', 'c.id', 'd.customer_id')
    .innerJoin('invoices as i', 'i.id', 'd.invoice_id')
    .select(['d.id', 'd.customer_id', 'd.level', 'd.level_name', 'd.days_past_due', 'd.balance_minor', 'i.number', 'i.currency', 'c.name as customer_name', 'c.sales_rep'])
    .where('d.created_at', '>=', since)
    .where('c.sales_rep', 'is not', null)
    .orderBy('d.id')
    .execute();

/** Broken promises resolved since `since` (a business date) of customers that have a salesperson. */
export const brokenPromisesSince = (db: Q, sinceDate: string) =>
  db
    .selectFrom('promises_to_pay as p')
    .innerJoin('customers as c', 'c.id', 'p.customer_id')
    .select(['p.id', 'p.customer_id', 'p.promised_date', 'p.amount_minor', 'p.currency', 'c.name as customer_name', 'c.sales_rep'])
    .where('p.status', '=', 'broken')
    .where('p.updated_at', '>=', sinceDate)
    .where('c.sales_rep', 'is not', null)
    .orderBy('p.id')
    .execute();

export const notificationsOf = (db: Q, recipient: string, options: { unreadOnly: boolean; beforeId?: number; limit: number }) => {
  let q = db.selectFrom('notifications').selectAll().where('recipient', '=', recipient).orderBy('id', 'desc').limit(options.limit);
  if (options.unreadOnly) q = q.where('read_at', 'is', null);
  if (options.beforeId) q = q.where('id', '<', options.beforeId);
  return q.execute();
};

export async function unreadCount(db: Q, recipient: string): Promise<number> {
  const row = await db.selectFrom('notifications').select((eb) => eb.fn.countAll<number>().as('n')).where('recipient', '=', recipient).where('read_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

export const markRead = (db: Q, recipient: string, at: string, ids: number[] | 'all') => {
  let q = db.updateTable('notifications').set({ read_at: at }).where('recipient', '=', recipient).where('read_at', 'is', null);
  if (ids !== 'all') q = q.where('id', 'in', ids.length ? ids : [0]);
  return q.returningAll().execute();
};

/** Enabled users with notifications neither read nor e-mailed yet: whom the daily digest is for. */
export const usersWithUndigested = (db: Q) =>
  db
    .selectFrom('users as u')
    .select(['u.id', 'u.name', 'u.email'])
    .where('u.disabled_at', 'is', null)
    .where((eb) => eb.exists(eb.selectFrom('notifications as n').select('n.id').whereRef('n.recipient', '=', 'u.name').where('n.read_at', 'is', null).where('n.digested_at', 'is', null)))
    .orderBy('u.id')
    .execute();

/** A person's notifications neither read nor e-mailed yet, oldest first. */
export const undigestedOf = (db: Q, recipient: string) =>
  db.selectFrom('notifications').selectAll().where('recipient', '=', recipient).where('read_at', 'is', null).where('digested_at', 'is', null).orderBy('id').execute();

/** Puts a digest into the outbox unless its key (`digest:<user>:<date>`) is there already: answers the new row, or undefined. */
export const insertDigestMessage = (db: Q, values: Insertable<OutboxMessagesTable>) =>
  db.insertInto('outbox_messages').values(values).onConflict((oc) => oc.column('dedupe_key').doNothing()).returningAll().executeTakeFirst();

export const markDigested = (db: Q, ids: number[], at: string) =>
  db.updateTable('notifications').set({ digested_at: at }).where('id', 'in', ids.length ? ids : [0]).where('digested_at', 'is', null).returningAll().execute();
