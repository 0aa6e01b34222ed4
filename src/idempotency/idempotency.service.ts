import { createHash, randomUUID } from 'node:crypto';
import { writeInGroup, type Core } from '../core.ts';
import type { Db } from '../db/connection.ts';
import { getSettings } from '../settings/settings.service.ts';
import { conflict, DomainError, invalid } from '../shared/errors.ts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { completeReservation, deleteExpired, deleteReservation, findKey, insertCompleted, insertReservation, takeOverReservation, type NewReservation } from './idempotency.repository.ts';

/**
 * Idempotency-Keys as payment APIs promise them: a request carrying a key runs at most
 * once per scope (the API key), and every retry of it gets the first answer.
 *
 * The key is reserved before the work runs (an insert the unique (scope, key) index makes
 * exclusive), bound to its request (method, path, SHA-256 of the canonical body), then
 * completed with the response, or released when the work failed on the server's side so a
 * retry can run it. Same key and same request: the stored answer, or, while the first is
 * still running, a bounded wait for it. Same key, another request: refused. A reservation
 * left by a crashed process is taken over after its lease; keys expire after
 * `api.idempotency_ttl_hours` and are then new again (`purgeExpiredKeys` deletes them).
 */

/** How long a reservation is held before it counts as left by a crashed process. */
export const LEASE_MS = 60_000;
/** How long a retry waits for the first request with its key, by default. */
export const DEFAULT_WAIT_MS = 5_000;
/** Seconds a client is told to wait (Retry-After) when the first request is still running. */
export const RETRY_AFTER_SECONDS = 1;
// As long as an order's own idempotency key (POST /orders keeps the key on the order too).
export const KEY_MAX_LENGTH = 200;

export interface IdempotentRequest {
  /** Whose keys these are: the API key's id. Two scopes never see each other's keys. */
  scope: string;
  /** The Idempotency-Key as the client sent it. */
  key: string;
  method: string;
  /** The URL, query string included. */
  path: string;
  /** The parsed JSON body (undefined when there is none). */
  body: unknown;
}

export interface StoredResponse {
  status: number;
  contentType: string;
  body: string;
}

/** A key held by this request: only its token may complete or release it. */
export interface Reservation {
  id: number;
  scope: string;
  key: string;
  token: string;
}

/**
 * A key nobody holds yet, for a request that will claim it inside the transaction of its work
 * (`claimKey`), so the key and the work commit together: no commit of its own before the work.
 */
export interface Deferred {
  scope: string;
  key: string;
  fresh: NewReservation;
}

export type Begun = { outcome: 'reserved'; reservation: Reservation } | { outcome: 'replay'; response: StoredResponse };

/** Thrown by `claimKey` when another request has the key: the caller starts over with `beginRequest`. */
export class KeyTaken extends Error {
  constructor(readonly key: string) {
    super(`Idempotency-Key ${key} was taken by another request first`);
  }
}

/**
 * The body as canonical JSON: object keys sorted at every level, no whitespace, so the
 * same content hashes the same however the client ordered or spaced it. No body is ''.
 * Example: `canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })` is `{"a":[{"c":3,"d":2}],"b":1}`.
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return '';
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export const requestHash = (body: unknown): string => createHash('sha256').update(canonicalJson(body)).digest('hex');

function checkKey(key: string): string {
  if (!/^[\x20-\x7e]+$/.test(key) || key.length > KEY_MAX_LENGTH) {
    throw invalid(`Idempotency-Key must be 1 to ${KEY_MAX_LENGTH} printable ASCII characters, got ${JSON.stringify(key.slice(0, 80))}${key.length > 80 ? '…' : ''} (${key.length} characters)`, {
      field: 'headers.idempotency-key',
      value: key.slice(0, KEY_MAX_LENGTH + 1),
      rule: 'idempotency_key_format',
    });
  }
  return key;
}

// Keys held by requests of this process, and the requests of this process waiting for
// them. A waiter for a key held here is woken when it completes or is released, and does not
// poll; a waiter for a key held by another process polls the row, less and less often. The
// database stays the only judge: a woken waiter reads the row again.
interface LocalKeys {
  held: Set<string>;
  waiting: Map<string, Set<() => void>>;
}
const local = new WeakMap<Db, LocalKeys>();
const localKey = (scope: string, key: string) => `${scope}\u0000${key}`;

function localKeys(core: Core): LocalKeys {
  let keys = local.get(core.db);
  if (!keys) local.set(core.db, (keys = { held: new Set(), waiting: new Map() }));
  return keys;
}

function letGo(core: Core, scope: string, key: string): void {
  const keys = localKeys(core);
  const id = localKey(scope, key);
  keys.held.delete(id);
  for (const resolve of [...(keys.waiting.get(id) ?? [])]) resolve();
}

/** Waits until the key held here is let go, or `ms` have passed. */
function waitForKey(core: Core, scope: string, key: string, ms: number): Promise<void> {
  const { waiting } = localKeys(core);
  const id = localKey(scope, key);
  const set = waiting.get(id) ?? new Set();
  waiting.set(id, set);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      set.delete(done);
      if (set.size === 0 && waiting.get(id) === set) waiting.delete(id);
      resolve();
    };
    const timer = setTimeout(done, ms);
    set.add(done);
  });
}

/**
 * Starts a request that carries an Idempotency-Key. Answers `reserved` when this request
 * holds the key and must do the work (then `completeRequest` or `releaseRequest`), or
 * `replay` with the first request's stored answer.
 * Throws `invalid` (400, rule `idempotency_key_format`) for a malformed key, `conflict`
 * (409, rule `idempotency_key_reuse`) when the key was used for another method or path,
 * `unprocessable` (422, rule `idempotency_key_reuse`) when it was used with another body,
 * and `conflict` (409, rule `idempotency_in_flight`) when the first request with the key is
 * still running after `waitMs`.
 */
export async function beginRequest(core: Core, request: IdempotentRequest, options: { waitMs?: number } = {}): Promise<Begun> {
  return (await begin(core, request, options, false)) as Begun;
}

/**
 * As `beginRequest`, but a key that has no row yet is not reserved here: the answer is
 * `deferred`, and the request claims the key in the transaction of its work (`claimKey`),
 * one commit for both.
 */
export async function lookUpRequest(core: Core, request: IdempotentRequest, options: { waitMs?: number } = {}): Promise<Begun | { outcome: 'deferred'; deferred: Deferred }> {
  return begin(core, request, options, true);
}

async function begin(core: Core, request: IdempotentRequest, options: { waitMs?: number }, defer: boolean): Promise<Begun | { outcome: 'deferred'; deferred: Deferred }> {
  const db = core.db.kysely;
  const { scope, method, path } = request;
  const key = checkKey(request.key);
  const hash = requestHash(request.body);
  const ttlMs = (await getSettings(db))['api.idempotency_ttl_hours'] * 3_600_000;
  const deadline = Date.now() + (options.waitMs ?? DEFAULT_WAIT_MS);
  let pollMs = 20;
  for (;;) {
    const now = core.clock.now();
    const at = now.toISOString();
    const fresh: NewReservation = {
      scope, key, method, path, requestHash: hash, token: randomUUID(), createdAt: at,
      leaseUntil: new Date(now.getTime() + LEASE_MS).toISOString(),
      expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
    };
    const reserved = (id: number): Begun => {
      localKeys(core).held.add(localKey(scope, key));
      return { outcome: 'reserved', reservation: { id, scope, key, token: fresh.token } };
    };
    // `defer`: a key without a row is claimed later, in the work's own transaction (`claimKey`).
    if (!defer) {
      const id = await insertReservation(db, fresh);
      if (id !== undefined) return reserved(id);
    }
    const row = await findKey(db, scope, key);
    if (!row && defer) return { outcome: 'deferred', deferred: { scope, key, fresh } };
    // Released or cleaned up between the two statements: the key is free, reserve it again.
    if (!row) continue;
    // An expired key is new again, whatever it was used for before.
    if (row.expires_at <= at) {
      if (await takeOverReservation(db, row, fresh)) return reserved(row.id);
      continue;
    }
    const detail = { entity: 'idempotency key', id: key, field: 'headers.idempotency-key', value: key, rule: 'idempotency_key_reuse' };
    if (row.method !== method || row.path !== path) {
      throw conflict(`Idempotency-Key ${key} was used for ${row.method} ${row.path}; it cannot be reused for ${method} ${path}: send a new key`, detail);
    }
    // Answers stored before bodies were compared have no hash: their method and path decide.
    if (row.request_hash !== null && row.request_hash !== hash) {
      throw new DomainError('unprocessable', `Idempotency-Key ${key} was used for ${method} ${path} with another body; a retry must send the same body, a new request a new key`, detail);
    }
    if (row.state === 'completed') {
      return { outcome: 'replay', response: { status: row.status!, contentType: row.content_type ?? 'application/json; charset=utf-8', body: row.body ?? '' } };
    }
    // In flight past its lease: the process that held it is gone, this retry runs the work.
    if (row.lease_until !== null && row.lease_until <= at) {
      if (await takeOverReservation(db, row, fresh)) return reserved(row.id);
      continue;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw conflict(`Idempotency-Key ${key}: the first request with this key is still being processed; retry in a moment to get its answer`, { ...detail, rule: 'idempotency_in_flight' });
    }
    const heldHere = localKeys(core).held.has(localKey(scope, key));
    await waitForKey(core, scope, key, heldHere ? left : Math.min(pollMs, left));
    pollMs = Math.min(pollMs * 2, 500);
  }
}

/**
 * Claims a deferred key inside the transaction `trx` of the request's work: the reservation
 * row commits with the work or not at all. The unique (scope, key) index decides between
 * concurrent requests with the same key: on PostgreSQL the second insert waits for the first
 * transaction and then finds the row; on SQLite the changes run in turn. The loser gets
 * `KeyTaken`, its transaction writes nothing, and it starts over with `beginRequest` (which
 * waits for the winner's answer). Answers the reservation the request now holds.
 */
export async function claimKey(core: Core, trx: Kysely<Database>, deferred: Deferred): Promise<Reservation> {
  const id = await insertReservation(trx, deferred.fresh);
  if (id === undefined) throw new KeyTaken(deferred.key);
  localKeys(core).held.add(localKey(deferred.scope, deferred.key));
  return { id, scope: deferred.scope, key: deferred.key, token: deferred.fresh.token };
}

/**
 * Stores the answer of a deferred request whose work claimed nothing (it failed and was
 * rolled back, or wrote nothing): one insert, as a completed key. A concurrent request that
 * stored first keeps its answer.
 */
export async function storeAnswer(core: Core, deferred: Deferred, response: StoredResponse): Promise<void> {
  // In the next group commit on SQLite rather than a synced commit of its own.
  await writeInGroup(core, (db) => insertCompleted(db, deferred.fresh, response));
}

/**
 * Stores the answer of a reserved request; retries get it from now on. False when the
 * reservation was no longer this request's (its lease ran out and a retry took it over).
 */
export async function completeRequest(core: Core, reservation: Reservation, response: StoredResponse): Promise<boolean> {
  try {
    return await writeInGroup(core, (db) => completeReservation(db, reservation.id, reservation.token, response));
  } finally {
    letGo(core, reservation.scope, reservation.key);
  }
}

/** Gives a reserved key up without an answer (the work failed on the server's side): a retry runs the work. */
export async function releaseRequest(core: Core, reservation: Reservation): Promise<void> {
  try {
    await deleteReservation(core.db.kysely, reservation.id, reservation.token);
  } finally {
    letGo(core, reservation.scope, reservation.key);
  }
}

/**
 * Deletes the keys whose period (`api.idempotency_ttl_hours` from their first use) has
 * ended, except a reservation whose request is still running. Run by the scheduler
 * (`idempotency-purge`) and `cashloop apikey purge-idempotency`.
 */
export async function purgeExpiredKeys(core: Core): Promise<{ asOf: string; deleted: number }> {
  const asOf = core.clock.now().toISOString();
  return { asOf, deleted: await deleteExpired(core.db.kysely, asOf) };
}
