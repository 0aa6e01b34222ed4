import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Core } from '../../core.ts';
import { runChange } from '../../core.ts';
import { getSettings } from '../../settings/settings.service.ts';
import { badTransition } from '../../shared/errors.ts';
import { apiKeyVerdict, hashSecret, portalTokenVerdict, type ApiKey, type Refusal } from '../keys.service.ts';
import { userVerdict, type User } from '../../users/user.service.ts';
import * as repo from './session.repository.ts';

/**
 * Browser sessions. A browser shows its API key or its user's name and password (or a
 * customer its portal token) once; the
 * server answers with a random session id in an HttpOnly cookie and keeps only the id's
 * SHA-256. A session ends when it is signed out, when it has not been used for
 * `access.session_idle_hours`, `access.session_max_hours` after it started, and as soon as the
 * key or token it was opened with is revoked or expires, or its user is disabled.
 *
 * Writes made with a session cookie must carry the session's CSRF token (`csrfTokenFor`): a
 * page of this server can read it, another site cannot, so a forged form or fetch is refused.
 */
export interface Session {
  id: number;
  kind: 'staff' | 'portal';
  /** Who a staff session acts as: its API key, or its user as a principal (`principalOf`). */
  apiKey: ApiKey | null;
  /** The user a staff session was opened by, when it was opened with a password. */
  user: User | null;
  /** The customer a portal session shows. */
  customerId: number | null;
  createdAt: string;
  /** The session ends at this time whatever happens. */
  expiresAt: string;
  /** …or at this one, if it is not used before (moves on with use). */
  idleExpiresAt: string;
}

export type SessionCheck = { ok: true; session: Session } | (Refusal & { known: boolean });

/** How often a session's last use is written: a write per request would cost more than the idle clock needs. */
const TOUCH_EVERY_MS = 60_000;

const plusMinutes = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();
// A session never outlives the key or token it was opened with (its cookie neither).
const earliest = (a: string, b: string | null) => (b !== null && b < a ? b : a);

/**
 * A user as the principal the routes act for (the shape of an API key): the user's name and
 * role. Its id is the user's id negated, so a user and an API key never share an
 * idempotency scope; a user's password expires never (it is disabled instead).
 */
export const principalOf = (user: User): ApiKey => ({ id: -user.id, name: user.name, role: user.role, createdAt: user.createdAt, revokedAt: null, expiresAt: null });

function toSession(s: repo.SessionRow, apiKey: ApiKey | null, customerId: number | null, user: User | null = null): Session {
  return { id: s.id, kind: s.kind, apiKey, user, customerId, createdAt: s.created_at, expiresAt: s.expires_at, idleExpiresAt: plusMinutes(s.last_seen_at, s.idle_minutes) };
}

const visible = (s: repo.SessionRow) => {
  const { secret_hash: _hash, ...rest } = s;
  return rest;
};

export type SessionCredential = { kind: 'staff'; apiKey: ApiKey } | { kind: 'user'; user: User } | { kind: 'portal'; tokenId: number; customerId: number; expiresAt: string | null };

/**
 * Opens a session for a credential that has just been checked, and returns its secret id
 * (for the cookie, never stored) and its CSRF token.
 */
export async function startSession(core: Core, credential: SessionCredential, actor: string): Promise<{ session: Session; secret: string; csrfToken: string }> {
  const secret = `cls_${randomBytes(32).toString('base64url')}`;
  return runChange(core, actor, async ({ trx, at }) => {
    const settings = await getSettings(trx);
    const idleMinutes = settings['access.session_idle_hours'] * 60;
    const row = await repo.insertSession(trx, {
      secret_hash: hashSecret(secret),
      kind: credential.kind === 'portal' ? 'portal' : 'staff',
      api_key_id: credential.kind === 'staff' ? credential.apiKey.id : null,
      portal_token_id: credential.kind === 'portal' ? credential.tokenId : null,
      user_id: credential.kind === 'user' ? credential.user.id : null,
      created_at: at,
      last_seen_at: at,
      idle_minutes: idleMinutes,
      expires_at: earliest(plusMinutes(at, settings['access.session_max_hours'] * 60), credential.kind === 'staff' ? credential.apiKey.expiresAt : credential.kind === 'portal' ? credential.expiresAt : null),
      ended_at: null,
      end_reason: null,
    });
    const session =
      credential.kind === 'user'
        ? toSession(row, principalOf(credential.user), null, credential.user)
        : toSession(row, credential.kind === 'staff' ? credential.apiKey : null, credential.kind === 'portal' ? credential.customerId : null);
    return { result: { session, secret, csrfToken: csrfTokenFor(secret) }, events: [{ type: 'session.started', aggregate: 'session', id: row.id, after: { sessions: [visible(row)] } }] };
  });
}

/**
 * The session behind a cookie value, or why it no longer works. `known` tells a session that
 * existed (ended, timed out, its key revoked) from a value nobody was ever given.
 */
export async function checkSession(core: Core, secret: string): Promise<SessionCheck> {
  const found = await repo.sessionByHash(core.db.kysely, hashSecret(secret));
  if (!found) return { ok: false, known: false, rule: 'session', detail: 'this session does not exist: sign in again' };
  const { session: s } = found;
  const now = core.clock.now();
  const at = now.toISOString();
  if (s.ended_at) return { ok: false, known: true, rule: 'session_ended', detail: `session ${s.id} was ended at ${s.ended_at} (${s.end_reason ?? 'ended'}): sign in again` };
  let apiKey: ApiKey | null = null;
  let customerId: number | null = null;
  let user: User | null = null;
  if (s.kind === 'staff' && s.user_id !== null) {
    const verdict = userVerdict(found.user ?? undefined);
    if (!verdict.ok) return { ...verdict, known: true };
    user = verdict.user;
    apiKey = principalOf(user);
  } else if (s.kind === 'staff') {
    const verdict = apiKeyVerdict(found.apiKey ?? undefined, at);
    if (!verdict.ok) return { ...verdict, known: true };
    apiKey = verdict.key;
  } else {
    const verdict = portalTokenVerdict(found.portalToken ?? undefined, at);
    if (!verdict.ok) return { ...verdict, known: true };
    customerId = verdict.customerId;
  }
  // After the credential: a session that ends with its key says the key expired.
  const idleEnd = plusMinutes(s.last_seen_at, s.idle_minutes);
  if (at >= s.expires_at || at >= idleEnd) {
    const when = at >= s.expires_at ? `it reached its ${Math.round((Date.parse(s.expires_at) - Date.parse(s.created_at)) / 3_600_000)} h limit at ${s.expires_at}` : `it was not used for ${s.idle_minutes / 60} h`;
    return { ok: false, known: true, rule: 'session_expired', detail: `session ${s.id} has expired: ${when}; sign in again` };
  }
  if (now.getTime() - Date.parse(s.last_seen_at) >= TOUCH_EVERY_MS) {
    // Not a business change: no event, and outside runChange so a read stays a read.
    await repo.touchSession(core.db.kysely, s.id, at);
    s.last_seen_at = at;
  }
  return { ok: true, session: toSession(s, apiKey, customerId, user) };
}

/** Ends a session (sign-out); a session that has already ended cannot end again (a transition error). */
export async function endSession(core: Core, sessionId: number, actor: string, reason = 'signed_out'): Promise<void> {
  await runChange(core, actor, async ({ trx, at }) => {
    const ended = await repo.endSessionRow(trx, sessionId, at, reason);
    if (!ended) throw badTransition('session', sessionId, 'ended', 'ended', 'it has already ended');
    return { result: undefined, events: [{ type: 'session.ended', aggregate: 'session', id: sessionId, after: { sessions: [visible(ended)] } }] };
  });
}

/**
 * The CSRF token of a session: an HMAC of the session's secret id, so it needs no storage,
 * cannot be computed without the HttpOnly cookie, and changes with every session.
 */
export function csrfTokenFor(secret: string): string {
  return createHmac('sha256', secret).update('cashloop csrf v1').digest('base64url');
}

/** True when `token` is the CSRF token of the session `secret` (compared in constant time). */
export function csrfMatches(secret: string, token: unknown): boolean {
  if (typeof token !== 'string' || token.length === 0 || token.length > 200) return false;
  const expected = Buffer.from(csrfTokenFor(secret));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
