import type { Kysely } from 'kysely';
import type { CustomerRow, Database, NewCustomer } from '../db/schema.ts';

/** All SQL about customers. */
export function findCustomer(db: Kysely<Database>, id: number): Promise<CustomerRow | undefined> {
  return db.selectFrom('customers').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findCustomerByExternalId(db: Kysely<Database>, externalId: string): Promise<CustomerRow | undefined> {
  return db.selectFrom('customers').selectAll().where('external_id', '=', externalId).executeTakeFirst();
}

export function listCustomerRows(db: Kysely<Database>, options: { afterId?: number; limit?: number; status?: string } = {}): Promise<CustomerRow[]> {
  let q = db.selectFrom('customers').selectAll().orderBy('id').limit(options.limit ?? 100);
  if (options.afterId) q = q.where('id', '>', options.afterId);
  if (options.status) q = q.where('status', '=', options.status as CustomerRow['status']);
  return q.execute();
}

/** Inserts a customer unless its external id is taken (then undefined; see `insertPayment`). */
export function insertCustomer(db: Kysely<Database>, row: NewCustomer): Promise<CustomerRow | undefined> {
  return db.insertInto('customers').values(row).onConflict((oc) => oc.column('external_id').doNothing()).returningAll().executeTakeFirst();
}
