import { sql, type Kysely } from 'kysely';
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

/**
 * Customers whose name or external id contains `needle` (lower case, LIKE wildcards escaped),
 * or whose id is `id`: the id first, then names that start with the text, then the rest, by
 * name. `limit + 1` rows read tell the caller whether a next page exists.
 */
export function searchCustomerRows(db: Kysely<Database>, needle: string, id: number | null, offset: number, limit: number): Promise<CustomerRow[]> {
  const contains = `%${needle}%`;
  const starts = `${needle}%`;
  return db
    .selectFrom('customers')
    .selectAll()
    .where((eb) => eb.or([
      sql<boolean>`lower(name) like ${contains} escape '\\'`,
      sql<boolean>`lower(coalesce(external_id, '')) like ${contains} escape '\\'`,
      ...(id === null ? [] : [eb('id', '=', id)]),
    ]))
    .orderBy(sql`case when id = ${id ?? -1} then 0 when lower(name) like ${starts} escape '\\' then 1 else 2 end`)
    .orderBy(sql`lower(name)`)
    .orderBy('id')
    .offset(offset)
    .limit(limit)
    .execute();
}

/** Inserts a customer unless its external id is taken (then undefined; see `insertPayment`). */
export function insertCustomer(db: Kysely<Database>, row: NewCustomer): Promise<CustomerRow | undefined> {
  return db.insertInto('customers').values(row).onConflict((oc) => oc.column('external_id').doNothing()).returningAll().executeTakeFirst();
}
