import { sql, type Kysely } from 'kysely';

/**
 * Idempotency-Keys bound to their request and reserved before the work: a row is now
 * `in_flight` (reserved, no response yet, held under a lease) or `completed` (status, content
 * type and body stored), carries the SHA-256 of the request's canonical body, the holder's
 * token, and the instant it expires; an index on `expires_at` serves the cleanup.
 *
 * Rows stored before this migration were all completed answers: they keep their response,
 * expire 24 hours after they were stored (the default period), and have no body hash, so a
 * retry of one is compared by method and path only.
 */
export async function up(db: Kysely<unknown>, isPg: boolean): Promise<void> {
  const run = (text: string) => sql.raw(text).execute(db);
  if (isPg) {
    await run(`alter table api_idempotency
      alter column status drop not null, alter column body drop not null,
      add column request_hash text, add column state text not null default 'completed', add column content_type text,
      add column token text, add column lease_until text, add column expires_at text`);
    await run(`update api_idempotency set content_type = 'application/json; charset=utf-8',
      expires_at = to_char((created_at::timestamptz + interval '24 hours') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`);
    await run(`alter table api_idempotency alter column expires_at set not null, alter column state drop default`);
  } else {
    // SQLite cannot drop a NOT NULL: the table is rebuilt with the same ids (nothing refers to it).
    await run(`create table api_idempotency_v2 (
      id integer primary key autoincrement, scope text not null, idem_key text not null, method text not null, path text not null,
      request_hash text, state text not null, status integer, content_type text, body text, token text, lease_until text,
      created_at text not null, expires_at text not null, unique (scope, idem_key))`);
    await run(`insert into api_idempotency_v2 (id, scope, idem_key, method, path, request_hash, state, status, content_type, body, token, lease_until, created_at, expires_at)
      select id, scope, idem_key, method, path, null, 'completed', status, 'application/json; charset=utf-8', body, null, null, created_at,
        strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+24 hours')
      from api_idempotency`);
    await run(`drop table api_idempotency`);
    await run(`alter table api_idempotency_v2 rename to api_idempotency`);
  }
  await run(`create index api_idempotency_expires on api_idempotency (expires_at)`);
}
