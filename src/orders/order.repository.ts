import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/** Reads of orders by customer, newest first (the customer's own view of its orders). */

/** Ids of a customer's orders, newest first (by id: ids grow with entry), a page at a time. */
export async function customerOrderIdsNewestFirst(db: Kysely<Database>, customerId: number, offset: number, limit: number): Promise<number[]> {
  const rows = await db.selectFrom('orders').select('id').where('customer_id', '=', customerId).orderBy('id', 'desc').limit(limit).offset(offset).execute();
  return rows.map((r) => r.id);
}

export async function countCustomerOrders(db: Kysely<Database>, customerId: number): Promise<number> {
  const r = await db.selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).where('customer_id', '=', customerId).executeTakeFirstOrThrow();
  return Number(r.n);
}
