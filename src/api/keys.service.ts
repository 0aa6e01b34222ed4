import { createHash, randomBytes } from 'node:crypto';
import type { Core } from '../core.ts';
import { runChange } from '../core.ts';
import { getSettings } from '../settings/settings.service.ts';
import { badTransition, invalid, notFound } from '../shared/errors.ts';
import { isBusinessDate, addDays } from '../shared/dates.ts';
import { oneOf, requireId, requireInt, requireText } from '../shared/validate.ts';
import { ROLES, type Role } from './permissions.ts';
import * as repo from './keys.repository.ts';

/** Keys are random 32 bytes, shown once; only their SHA-256 is stored. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export interface ApiKey {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt: string | null;
  /** When the key stops working; null when it does not expire. */
  expiresAt: string | null;
}

const toApiKey = (r: repo.ApiKeyRow): ApiKey => ({ id: r.id, name: r.name, role: r.role as Role, createdAt: r.created_at, revokedAt: r.revoked_at, expiresAt: r.expires_at });
const visible = <T extends { key_hash?: string; token_hash?: string }>(row: T) => {
  const { key_hash: _k, token_hash: _t, ...rest } = row;
  return rest;
};

const MAX_DAYS = 3650;

/**
 * When a new key stops working: `expiresIn` as `12h`, `90d` or `8w` from now, or `expires`
 * as a date `YYYY-MM-DD` through which the key works (it stops at the next midnight UTC).
 * Neither: the key does not expire.
 *
 * @example parseExpiry({ expiresIn: '90d' }, new Date('2026-03-01T10:00:00Z')) // '2026-05-30T10:00:00.000Z'
 */
export function parseExpiry(input: { expiresIn?: string | null; expires?: string | null }, now: Date): string | null {
  const { expiresIn, expires } = input;
  if (expiresIn != null && expires != null) throw invalid('give --expires-in or --expires, not both', { field: 'expires', value: expires, rule: 'one_expiry' });
  if (expiresIn != null) {
    const m = /^(\d{1,6})([hdw])$/.exec(String(expiresIn).trim());
    if (!m) throw invalid(`expiresIn must be a number of hours, days or weeks such as 12h, 90d or 8w, got ${JSON.stringify(expiresIn)}`, { field: 'expiresIn', value: expiresIn, rule: 'duration' });
    const hours = Number(m[1]) * { h: 1, d: 24, w: 168 }[m[2] as 'h' | 'd' | 'w'];
    if (hours < 1 || hours > MAX_DAYS * 24) throw invalid(`expiresIn must be from 1h to ${MAX_DAYS}d, got ${expiresIn}`, { field: 'expiresIn', value: expiresIn, rule: 'duration_range' });
    return new Date(now.getTime() + hours * 3_600_000).toISOString();
  }
  if (expires != null) {
    if (!isBusinessDate(expires)) throw invalid(`expires must be a date written YYYY-MM-DD, got ${JSON.stringify(expires)}`, { field: 'expires', value: expires, rule: 'date_format' });
    const today = now.toISOString().slice(0, 10);
    if (expires < today) throw invalid(`expires ${expires} is in the past (today is ${today})`, { field: 'expires', value: expires, rule: 'future_date' });
    if (expires > addDays(today, MAX_DAYS)) throw invalid(`expires ${expires} is more than ${MAX_DAYS} days ahead`, { field: 'expires', value: expires, rule: 'duration_range' });
    return `${addDays(expires, 1)}T00:00:00.000Z`;
  }
  return null;
}

export async function createApiKey(core: Core, input: { role: string; name: string; expiresIn?: string | null; expires?: string | null }, actor: string): Promise<ApiKey & { key: string }> {
  const role = oneOf(input.role, 'role', ROLES);
  const name = requireText(input.name, 'name', 100);
  const expiresAt = parseExpiry(input, core.clock.now());
  const key = `clk_${randomBytes(24).toString('base64url')}`;
  return runChange(core, actor, async ({ trx, at }) => {
    const row = await repo.insertApiKey(trx, { name, role, key_hash: hashSecret(key), created_at: at, revoked_at: null, expires_at: expiresAt });
    return { result: { ...toApiKey(row), key }, events: [{ type: 'api_key.created', aggregate: 'api_key', id: row.id, after: { api_keys: [visible(row)] } }] };
  });
}

export async function listApiKeys(core: Core): Promise<ApiKey[]> {
  return (await repo.allApiKeys(core.db.kysely)).map(toApiKey);
}

function forgetApiKey(core: Core, id: number): void {
  const cache = cacheOf(core);
  for (const [hash, entry] of cache) if (entry.row.id === id) cache.delete(hash);
}

export async function revokeApiKey(core: Core, id: number | string, actor: string): Promise<ApiKey> {
  const keyId = requireId(id, 'id');
  // Forgotten once the revocation has committed: from then on no request of this process uses it.
  const revoked = await runChange(core, actor, async ({ trx, at }) => {
    const row = await repo.apiKeyById(trx, keyId);
    if (!row) throw notFound('api key', keyId);
    if (row.revoked_at) throw badTransition('api key', keyId, 'revoked', 'revoked', 'it is already revoked');
    await repo.setApiKeyRevoked(trx, keyId, at);
    const after = { ...row, revoked_at: at };
    return { result: toApiKey(after), events: [{ type: 'api_key.revoked', aggregate: 'api_key', id: keyId, after: { api_keys: [visible(after)] } }] };
  });
  forgetApiKey(core, keyId);
  return revoked;
}

/** Why a credential was refused: the rule (problem+json `rule`) and a sentence for the user. */
export interface Refusal {
  ok: false;
  rule: string;
  detail: string;
}

/** Whether a stored key or token works at `now`: not revoked and not past its expiry. */
export function liveness(row: { revoked_at: string | null; expires_at: string | null }, now: string): 'live' | 'revoked' | 'expired' {
  if (row.revoked_at) return 'revoked';
  if (row.expires_at !== null && now >= row.expires_at) return 'expired';
  return 'live';
}

/**
 * How long this process trusts an API key it has read without reading it again: every
 * request with a bearer key looked it up, one more database round trip per request (on
 * PostgreSQL a pooled connection too). A key revoked in this process stops working at once
 * (`revokeApiKey` forgets it); one revoked by another process (`cashloop apikey revoke` beside
 * a running server) within this time. Expiry is checked on every request against the clock.
 */
export const API_KEY_CACHE_MS = 1_000;
const REMEMBERED_KEYS = 10_000;
const keyCache = new WeakMap<object, Map<string, { row: repo.ApiKeyRow; until: number }>>();

function cacheOf(core: Core): Map<string, { row: repo.ApiKeyRow; until: number }> {
  let cache = keyCache.get(core.db);
  if (!cache) keyCache.set(core.db, (cache = new Map()));
  return cache;
}

/** Checks an API key: the key, or why it is refused (unknown, revoked, expired). */
export async function checkApiKey(core: Core, secret: string): Promise<{ ok: true; key: ApiKey } | Refusal> {
  const hash = hashSecret(secret);
  const cache = cacheOf(core);
  const now = performance.now();
  const hit = cache.get(hash);
  let row = hit && hit.until > now ? hit.row : undefined;
  if (!row) {
    row = await repo.apiKeyByHash(core.db.kysely, hash);
    // Only keys that exist are remembered: guesses are not, and never fill the cache.
    if (row) {
      if (cache.size >= REMEMBERED_KEYS) cache.delete(cache.keys().next().value!);
      cache.set(hash, { row, until: now + API_KEY_CACHE_MS });
    } else cache.delete(hash);
  }
  return apiKeyVerdict(row, core.clock.now().toISOString());
}

export function apiKeyVerdict(row: repo.ApiKeyRow | undefined, now: string): { ok: true; key: ApiKey } | Refusal {
  if (!row) return { ok: false, rule: 'api_key', detail: 'a valid API key is required: Authorization: Bearer <key> (create one with `cashloop apikey create`)' };
  const state = liveness(row, now);
  if (state === 'revoked') return { ok: false, rule: 'api_key_revoked', detail: `API key ${row.id} (${row.name}) was revoked at ${row.revoked_at}` };
  if (state === 'expired') return { ok: false, rule: 'api_key_expired', detail: `API key ${row.id} (${row.name}) expired at ${row.expires_at}: create a new one with \`cashloop apikey create\`` };
  return { ok: true, key: toApiKey(row) };
}

/** The key behind a bearer secret, if it exists, is not revoked and has not expired. */
export async function resolveApiKey(core: Core, secret: string): Promise<ApiKey | null> {
  const verdict = await checkApiKey(core, secret);
  return verdict.ok ? verdict.key : null;
}

export interface PortalToken {
  id: number;
  customerId: number;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  status: 'live' | 'revoked' | 'expired';
}

const toPortalToken = (r: repo.PortalTokenRow, now: string): PortalToken => ({ id: r.id, customerId: r.customer_id, createdAt: r.created_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, status: liveness(r, now) });

/**
 * Issues a portal token: it shows one customer their own orders, invoices, payments and
 * statement, for `days` days (default the setting `portal.token_days`, 90).
 */
export async function createPortalToken(core: Core, customerId: number | string, actor: string, options: { days?: number | string } = {}): Promise<{ customerId: number; tokenId: number; token: string; expiresAt: string }> {
  const id = requireId(customerId, 'customerId');
  const days = options.days === undefined ? undefined : requireInt(options.days, 'days', 1, MAX_DAYS);
  const token = `clp_${randomBytes(24).toString('base64url')}`;
  return runChange(core, actor, async ({ trx, at }) => {
    if (!(await repo.customerExists(trx, id))) throw notFound('customer', id);
    const lifetime = days ?? (await getSettings(trx))['portal.token_days'];
    const expiresAt = new Date(Date.parse(at) + lifetime * 86_400_000).toISOString();
    const row = await repo.insertPortalToken(trx, { customer_id: id, token_hash: hashSecret(token), created_at: at, revoked_at: null, expires_at: expiresAt });
    return { result: { customerId: id, tokenId: row.id, token, expiresAt }, events: [{ type: 'portal_token.issued', aggregate: 'customer', id, after: { portal_tokens: [visible(row)] } }] };
  });
}

/** A customer's portal tokens, oldest first, each with whether it still works. */
export async function listPortalTokens(core: Core, customerId: number | string): Promise<PortalToken[]> {
  const id = requireId(customerId, 'customerId');
  if (!(await repo.customerExists(core.db.kysely, id))) throw notFound('customer', id);
  const now = core.clock.now().toISOString();
  return (await repo.portalTokensOf(core.db.kysely, id)).map((r) => toPortalToken(r, now));
}

/**
 * Revokes every portal token of a customer that still works; the portal sessions opened with
 * them end at their next request. Revoking when none works is not an error: `revoked` is empty.
 */
export async function revokePortalTokens(core: Core, customerId: number | string, actor: string): Promise<{ customerId: number; revoked: PortalToken[] }> {
  const id = requireId(customerId, 'customerId');
  return runChange(core, actor, async ({ trx, at }) => {
    if (!(await repo.customerExists(trx, id))) throw notFound('customer', id);
    const live = (await repo.portalTokensOf(trx, id)).filter((r) => liveness(r, at) === 'live');
    await repo.setPortalTokensRevoked(trx, live.map((r) => r.id), at);
    const after = live.map((r) => ({ ...r, revoked_at: at }));
    return {
      result: { customerId: id, revoked: after.map((r) => toPortalToken(r, at)) },
      // The event records the request even when nothing was left to revoke: who tried, and when.
      events: [{ type: 'portal_token.revoked', aggregate: 'customer', id, after: { portal_tokens: after.map(visible) } }],
    };
  });
}

/** Checks a portal token: its customer, or why it is refused (unknown, revoked, expired). */
export async function checkPortalToken(core: Core, token: string): Promise<{ ok: true; customerId: number; tokenId: number; expiresAt: string | null } | Refusal> {
  const row = await repo.portalTokenByHash(core.db.kysely, hashSecret(token));
  return portalTokenVerdict(row, core.clock.now().toISOString());
}

export function portalTokenVerdict(row: repo.PortalTokenRow | undefined, now: string): { ok: true; customerId: number; tokenId: number; expiresAt: string | null } | Refusal {
  if (!row) return { ok: false, rule: 'portal_token', detail: 'a valid portal token is required (Authorization: Bearer … or ?token=…)' };
  const state = liveness(row, now);
  if (state === 'revoked') return { ok: false, rule: 'portal_token_revoked', detail: 'this portal link was withdrawn: ask us for a new one' };
  if (state === 'expired') return { ok: false, rule: 'portal_token_expired', detail: `this portal link expired at ${row.expires_at}: ask us for a new one` };
  return { ok: true, customerId: row.customer_id, tokenId: row.id, expiresAt: row.expires_at };
}

export async function resolvePortalToken(core: Core, token: string): Promise<number | null> {
  const verdict = await checkPortalToken(core, token);
  return verdict.ok ? verdict.customerId : null;
}
