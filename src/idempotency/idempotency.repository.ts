import type { Kysely, Selectable } from 'kysely';
import type { ApiIdempotencyTable, Database } from '../db/schema.ts';

/**
 * The SQL of the Idempotency-Key store (table `api_idempotency`). Each statement stands
 * alone (no surrounding transaction): the unique (scope, idem_key) index makes the insert
 * exclusive, and every later write is a compare-and-set on the holder's token, so two
 * requests can never both hold one key. These rows are bookkeeping of the HTTP API, not
 * business changes: they write no event.
 */
export type KeyRow = Selectable<ApiIdempotencyTable>;

export interface NewReservation {
  scope: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  token: string;
  createdAt: string;
  leaseUntil: string;
  expiresAt: string;
}

const reservationValues = (r: NewReservation) => ({
  method: r.method,
  path: r.path,
  request_hash: r.requestHash,
  state: 'in_flight' as const,
  status: null,
  content_type: null,
  body: null,
  token: r.token,
  lease_until: r.leaseUntil,
  created_at: r.createdAt,
  expires_at: r.expiresAt,
});

/**
 * Reserves a key that has no row: the new row's id when this call inserted it, else
 * undefined. A concurrent insert of the same (scope, key) makes this one do nothing
 * (PostgreSQL waits for the other to commit first), so exactly one caller gets an id.
 */
export async function insertReservation(db: Kysely<Database>, r: NewReservation): Promise<number | undefined> {
  const row = await db
    .insertInto('api_idempotency')
    .values({ scope: r.scope, idem_key: r.key, ...reservationValues(r) })
    .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  return row?.id;
}

/** Inserts a key already completed with its answer; a row already there (another request's) is kept. */
export async function insertCompleted(db: Kysely<Database>, r: NewReservation, response: { status: number; contentType: string; body: string }): Promise<void> {
  await db
    .insertInto('api_idempotency')
    .values({ scope: r.scope, idem_key: r.key, ...reservationValues(r), state: 'completed', status: response.status, content_type: response.contentType, body: response.body, lease_until: null })
    .onConflict((oc) => oc.columns(['scope', 'idem_key']).doNothing())
    .execute();
}

export async function findKey(db: Kysely<Database>, scope: string, key: string): Promise<KeyRow | undefined> {
  return db.selectFrom('api_idempotency').selectAll().where('scope', '=', scope).where('idem_key', '=', key).executeTakeFirst();
}

/**
 * Reserves a key whose row is dead (expired, or in flight past its lease) for a new
 * request, provided the row is still exactly as the caller read it (same token and state):
 * of two callers taking over the same row, one changes the token and the other finds
 * nothing left to update.
 */
export async function takeOverReservation(db: Kysely<Database>, seen: Pick<KeyRow, 'id' | 'token' | 'state'>, r: NewReservation): Promise<boolean> {
  const query = db.updateTable('api_idempotency').set(reservationValues(r)).where('id', '=', seen.id).where('state', '=', seen.state);
  const result = await (seen.token === null ? query.where('token', 'is', null) : query.where('token', '=', seen.token)).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Stores the answer of the reservation held with `token`; false when the reservation was taken over meanwhile. */
export async function completeReservation(db: Kysely<Database>, id: number, token: string, response: { status: number; contentType: string; body: string }): Promise<boolean> {
  const result = await db
    .updateTable('api_idempotency')
    .set({ state: 'completed', status: response.status, content_type: response.contentType, body: response.body, lease_until: null })
    .where('id', '=', id)
    .where('token', '=', token)
    .where('state', '=', 'in_flight')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Deletes the reservation held with `token`, so the key is free for a retry. */
export async function deleteReservation(db: Kysely<Database>, id: number, token: string): Promise<void> {
  await db.deleteFrom('api_idempotency').where('id', '=', id).where('token', '=', token).where('state', '=', 'in_flight').execute();
}

/**
 * Deletes the keys expired at `now`, except a reservation still within its lease (its
 * request is running). Served by the index on `expires_at`. Returns how many went.
 */
export async function deleteExpired(db: Kysely<Database>, now: string): Promise<number> {
  const result = await db
    .deleteFrom('api_idempotency')
    .where('expires_at', '<=', now)
    .where((eb) => eb.or([eb('state', '=', 'completed'), eb('lease_until', '<=', now)]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
