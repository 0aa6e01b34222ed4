import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import type { Core } from '../../core.ts';
import { DomainError } from '../../shared/errors.ts';
import { allowed } from '../permissions.ts';
import { sendProblem } from '../problem.ts';
import { checkApiKey, checkPortalToken, hashSecret, type Refusal } from '../keys.service.ts';
import { checkSession, csrfMatches, csrfTokenFor, endSession, startSession, type Session, type SessionCredential } from './session.service.ts';
import { FailedAuthLimiter, type FailedAuthOptions } from './failed-auth.ts';
import { addSecurityHeaders } from './headers.ts';
import { isSecretParam } from './redact.ts';
import { homePage, portalClosedPage, signInPage } from './pages.ts';
import { checkCredentials } from '../../users/user.service.ts';
import { createHmac, randomBytes } from 'node:crypto';

/**
 * Access to the server, in one place: who a request is (API key, portal token, or a browser
 * session opened with one of them), the failed-authentication limit, CSRF tokens on writes
 * made with a session cookie, the security headers, and the sign-in / sign-out pages.
 *
 * - `Authorization: Bearer <key>` (API clients): checked on every request; no session, no CSRF.
 * - `?key=…` on a GET (a link to a page) or the sign-in form: the key is exchanged for a
 *   session (cookie `cashloop_session`), and the browser is sent (303) to the same address
 *   without the key, so it leaves no trace in history, logs or bookmarks.
 * - `?token=…` on a portal page: the same, with the cookie `cashloop_portal`.
 * - A browser (Accept: text/html) without a session is sent to /sign-in instead of a 401
 *   (portal pages say the link no longer works); other clients get 401 problem+json.
 *
 * `registerAccess` adds the hooks before any route; `addAccessRoutes` adds the pages last,
 * so they get every hook of the server (rate limit included).
 */
export interface AccessOptions {
  /** Mark cookies `Secure` and send HSTS. Default: `CASHLOOP_COOKIE_SECURE=1`, or `CASHLOOP_BASE_URL` starting with https. */
  secureCookies?: boolean;
  /** The failed-authentication limit (default 20 failures per minute per address). */
  failedAuth?: FailedAuthOptions;
}

export const SESSION_COOKIE = 'cashloop_session';
export const PORTAL_COOKIE = 'cashloop_portal';
/** Readable by this server's pages (not HttpOnly) so their scripts can send it as `x-csrf-token`. */
export const CSRF_COOKIE = 'cashloop_csrf';

declare module 'fastify' {
  interface FastifyRequest {
    /** How the request was authenticated: a bearer secret, or a session cookie (writes then need the CSRF token). */
    authVia?: 'bearer' | 'session';
    /** The browser session behind the cookie, when `authVia` is `session`. */
    browserSession?: Session;
    /** The cookie's secret session id: kept in memory for this request only, to check its CSRF token. */
    sessionSecret?: string;
  }
}

export interface Access {
  limiter: FailedAuthLimiter;
  secureCookies: boolean;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function secureCookiesFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CASHLOOP_COOKIE_SECURE === '1' || /^https:\/\//i.test(env.CASHLOOP_BASE_URL ?? '');
}

function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  const secret = h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
  return secret ? secret : undefined;
}

/** A query value as one string: repeated or empty parameters are not credentials. */
function queryString(req: FastifyRequest, name: string): string | undefined {
  const value = (req.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

const wantsHtml = (req: FastifyRequest) => SAFE_METHODS.has(req.method) && /\btext\/html\b/.test(req.headers.accept ?? '');

/** The request's URL without secret query parameters (`key`, `token`, any spelling). */
export function withoutSecrets(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((part) => part !== '' && !isSecretParam(part.split('=')[0]!));
  return kept.length ? `${url.slice(0, q)}?${kept.join('&')}` : url.slice(0, q);
}

/** A path of this server to return to after signing in; anything else (another host, `//x`) becomes `/`. */
export function safeNext(value: unknown): string {
  if (typeof value !== 'string' || value.length > 2000 || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || [...value].some((c) => c.charCodeAt(0) < 0x20)) return '/';
  if (value.startsWith('/sign-in') || value.startsWith('/sign-out')) return '/';
  return withoutSecrets(value);
}

const REASONS: Record<string, string> = {
  expired: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You are signed out.',
  invalid: 'That API key is not valid.',
  revoked: 'That API key has been revoked.',
  'key-expired': 'That API key has expired. Ask an administrator for a new one.',
};

const reasonOf = (rule: string): string => (rule === 'api_key_expired' ? 'key-expired' : rule === 'api_key_revoked' ? 'revoked' : rule.startsWith('session') ? 'expired' : 'invalid');

export async function registerAccess(app: FastifyInstance, core: Core, options: AccessOptions = {}): Promise<Access> {
  const access: Access = { limiter: new FailedAuthLimiter(options.failedAuth), secureCookies: options.secureCookies ?? secureCookiesFromEnv() };
  const { limiter } = access;
  await app.register(cookie);
  addSecurityHeaders(app, { hsts: access.secureCookies });

  const tooMany = (req: FastifyRequest, reply: FastifyReply) => {
    const seconds = limiter.retryAfter(req.ip);
    reply.header('retry-after', String(seconds));
    return sendProblem(reply, 429, `too many failed authentications from ${req.ip}: try again in ${seconds} s`, { rule: 'failed_auth_limit', value: req.ip });
  };

  app.addHook('onRequest', async (req, reply) => {
    const permission = req.routeOptions.config?.permission ?? 'reports:read';
    if (permission === 'open') return;
    const portal = permission === 'portal';
    const cookieName = portal ? PORTAL_COOKIE : SESSION_COOKIE;
    // `missing`: nothing was presented, so the sign-in page shows no error.
    const refuse = (refusal: Refusal, missing = false) => {
      if (wantsHtml(req)) {
        if (portal) return reply.status(401).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(portalClosedPage(refusal.detail));
        return reply.redirect(`/sign-in?next=${encodeURIComponent(safeNext(req.url))}${missing ? '' : `&reason=${reasonOf(refusal.rule)}`}`, 303);
      }
      return sendProblem(reply, 401, refusal.detail, { rule: refusal.rule });
    };

    const headerSecret = bearer(req);
    const urlSecret = headerSecret === undefined && SAFE_METHODS.has(req.method) ? queryString(req, portal ? 'token' : 'key') : undefined;
    if (headerSecret !== undefined || urlSecret !== undefined) {
      const secret = (headerSecret ?? urlSecret)!;
      const verdict = portal ? await attempt(access, req, secret, (s) => checkPortalToken(core, s)) : await attempt(access, req, secret, (s) => checkApiKey(core, s));
      if (verdict === 'held') return tooMany(req, reply);
      if (!verdict.ok) return refuse(verdict);
      const credential: SessionCredential = 'key' in verdict ? { kind: 'staff', apiKey: verdict.key } : { kind: 'portal', tokenId: verdict.tokenId, customerId: verdict.customerId, expiresAt: verdict.expiresAt };
      if (urlSecret !== undefined) {
        // A secret in the address becomes a session, and the browser goes on without it.
        await openSession(core, access, reply, credential);
        return reply.redirect(withoutSecrets(req.url), 303);
      }
      req.authVia = 'bearer';
      if (credential.kind === 'staff') req.apiKey = credential.apiKey;
      else req.portalCustomerId = credential.customerId;
    } else {
      const secret = req.cookies[cookieName];
      if (!secret) {
        return refuse(
          portal
            ? { ok: false, rule: 'portal_token', detail: 'a valid portal token is required (Authorization: Bearer … or ?token=…)' }
            : { ok: false, rule: 'api_key', detail: 'a valid API key is required: Authorization: Bearer <key> (create one with `cashloop apikey create`)' },
          true,
        );
      }
      const hash = hashSecret(secret);
      if (limiter.holdsBack(req.ip, hash)) return tooMany(req, reply);
      const check = await checkSession(core, secret);
      const kindOk = check.ok && check.session.kind === (portal ? 'portal' : 'staff');
      if (!check.ok || !kindOk) {
        // A session that existed and ran out is no attack; a cookie nobody was given is a guess.
        if (!check.ok && !check.known) limiter.fail(req.ip);
        clearSessionCookies(reply, access, portal ? 'portal' : 'staff');
        return refuse(check.ok ? { ok: false, rule: 'session', detail: 'this session does not open these pages: sign in again' } : check);
      }
      limiter.succeeded(hash);
      req.authVia = 'session';
      req.browserSession = check.session;
      req.sessionSecret = secret;
      if (check.session.kind === 'staff') req.apiKey = check.session.apiKey!;
      else req.portalCustomerId = check.session.customerId!;
    }
    if (!portal && !allowed(req.apiKey!.role, permission)) {
      return sendProblem(reply, 403, `role ${req.apiKey!.role} may not ${permission.replace(':', ' ')}`, { rule: `permission_${permission.replace(':', '_')}`, value: req.apiKey!.role });
    }
  });

  // After the body is parsed (a form's `_csrf` field is in it), before validation and the handler.
  app.addHook('preValidation', async (req, reply) => {
    if (req.authVia !== 'session' || SAFE_METHODS.has(req.method)) return;
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? (req.body as Record<string, unknown>) : undefined;
    const token = req.headers['x-csrf-token'] ?? body?._csrf;
    if (!csrfMatches(req.sessionSecret!, token)) {
      return sendProblem(reply, 403, `${req.method} ${req.url.split('?')[0]} was sent with a session cookie but without its CSRF token: send the header x-csrf-token (GET /session gives it) or the form field _csrf, or authenticate with Authorization: Bearer <key>`, {
        rule: 'csrf_token',
      });
    }
    if (body && '_csrf' in body) delete body._csrf;
  });
  return access;
}

async function openSession(core: Core, access: Access, reply: FastifyReply, credential: SessionCredential): Promise<{ session: Session; csrfToken: string }> {
  const actor = credential.kind === 'staff' ? `api:${credential.apiKey.name}` : credential.kind === 'user' ? `user:${credential.user.name}` : `portal:customer ${credential.customerId}`;
  const { session, secret, csrfToken } = await startSession(core, credential, actor);
  const maxAge = Math.max(1, Math.floor((Date.parse(session.expiresAt) - core.clock.now().getTime()) / 1000));
  const base = { path: '/', sameSite: 'lax' as const, secure: access.secureCookies, maxAge };
  if (credential.kind !== 'portal') {
    reply.setCookie(SESSION_COOKIE, secret, { ...base, httpOnly: true });
    reply.setCookie(CSRF_COOKIE, csrfToken, { ...base, httpOnly: false });
  } else reply.setCookie(PORTAL_COOKIE, secret, { ...base, httpOnly: true });
  return { session, csrfToken };
}

function clearSessionCookies(reply: FastifyReply, access: Access, which: 'staff' | 'portal' | 'both'): void {
  const base = { path: '/', sameSite: 'lax' as const, secure: access.secureCookies };
  if (which !== 'portal') {
    reply.clearCookie(SESSION_COOKIE, { ...base, httpOnly: true });
    reply.clearCookie(CSRF_COOKIE, base);
  }
  if (which !== 'staff') reply.clearCookie(PORTAL_COOKIE, { ...base, httpOnly: true });
}

/** Forms post `application/x-www-form-urlencoded`; parsed here for the sign-in and sign-out pages (and any page that registers it). */
export function acceptForms(scope: FastifyInstance): void {
  scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
}

/** The sign-in and sign-out pages, the home page `/`, and `GET /session`. */
export async function addAccessRoutes(app: FastifyInstance, core: Core, access: Access, options: { reports: () => boolean }): Promise<void> {
  await app.register(async (scope) => {
    acceptForms(scope);
    const open = { config: { permission: 'open' as const }, schema: { hide: true } };
    const html = (reply: FastifyReply, status: number, page: string) => reply.status(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(page);

    scope.get('/sign-in', open, async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const next = safeNext(q.next);
      const secret = req.cookies[SESSION_COOKIE];
      if (secret) {
        const check = await checkSession(core, secret);
        if (check.ok && check.session.kind === 'staff') return reply.redirect(next, 303);
      }
      return html(reply, 200, signInPage({ next, ...(typeof q.reason === 'string' && q.reason in REASONS ? (q.reason === 'signed-out' || q.reason === 'expired' ? { info: REASONS[q.reason] } : { error: REASONS[q.reason] }) : {}) }));
    });

    scope.post('/sign-in', open, async (req, reply) => {
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      const asJson = /json/.test(req.headers['content-type'] ?? '');
      // A browser gets the form again with the message: a wrong key is an answer to show, not a failed page load
      // (200); refusals that are not the user's typing (another site, the limit) keep their status.
      const fail = (status: number, rule: string, message: string, field?: string) =>
        asJson ? sendProblem(reply, status, message, { rule, ...(field ? { field } : {}) }) : html(reply, status === 400 || status === 401 ? 200 : status, signInPage({ next, error: message, ...(field ? { field } : {}), name: typeof body.name === 'string' ? body.name.slice(0, 100) : '' }));
      // Another site may not sign a browser in (with the attacker's key); browsers say where a form came from.
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none') return fail(403, 'same_origin', 'Sign in from this server’s own sign-in page.');
      const held = () => {
        const seconds = access.limiter.retryAfter(req.ip);
        reply.header('retry-after', String(seconds));
        return fail(429, 'failed_auth_limit', `Too many failed sign-ins from your address. Try again in ${seconds} s.`);
      };
      const key = typeof body.key === 'string' ? body.key.trim() : '';
      const name = typeof body.name === 'string' ? body.name.trim() : '';
      const password = typeof body.password === 'string' ? body.password : '';
      let credential: SessionCredential;
      if (key === '' && (name !== '' || password !== '')) {
        // A user: the name and password go through the same failed-sign-in limit as keys.
        if (name === '') return fail(400, 'required', 'Enter your name.', 'name');
        if (password === '') return fail(400, 'required', 'Enter your password.', 'password');
        const verdict = await attempt(access, req, userSecret(name, password), () => checkCredentials(core, name, password));
        if (verdict === 'held') return held();
        if (!verdict.ok) return fail(401, verdict.rule, verdict.rule === 'user_disabled' ? 'This account has been disabled. Ask an administrator.' : 'That name and password do not match.', 'password');
        credential = { kind: 'user', user: verdict.user };
      } else {
        // The key form sends `key` (empty when nothing was typed); anything else named nothing.
        if (key === '') return typeof body.key === 'string' ? fail(400, 'required', 'Enter your API key.', 'key') : fail(400, 'required', 'Enter your name and password, or an API key.', 'name');
        const verdict = await attempt(access, req, key, (k) => checkApiKey(core, k));
        if (verdict === 'held') return held();
        if (!verdict.ok) return fail(401, verdict.rule, REASONS[reasonOf(verdict.rule)]!, 'key');
        credential = { kind: 'staff', apiKey: verdict.key };
      }
      const { session, csrfToken } = await openSession(core, access, reply, credential);
      if (asJson) return reply.status(200).send(sessionJson(session, csrfToken));
      return reply.redirect(next, 303);
    });

    scope.post('/sign-out', open, async (req, reply) => {
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const token = req.headers['x-csrf-token'] ?? body._csrf;
      const secrets = [req.cookies[SESSION_COOKIE], req.cookies[PORTAL_COOKIE]].filter((s): s is string => typeof s === 'string' && s !== '');
      if (secrets.length > 0 && !secrets.some((s) => csrfMatches(s, token))) {
        return sendProblem(reply, 403, 'signing out needs the session’s CSRF token (form field _csrf or header x-csrf-token)', { rule: 'csrf_token' });
      }
      for (const secret of secrets) {
        const check = await checkSession(core, secret);
        if (!check.ok) continue;
        const actor = check.session.user ? `user:${check.session.user.name}` : check.session.apiKey ? `api:${check.session.apiKey.name}` : `portal:customer ${check.session.customerId}`;
        await endSession(core, check.session.id, actor).catch((error: unknown) => {
          // Signed out twice at once: the other request ended it.
          if (!(error instanceof DomainError && error.kind === 'transition')) throw error;
        });
      }
      clearSessionCookies(reply, access, 'both');
      if (/json/.test(req.headers['content-type'] ?? '') || !/\btext\/html\b/.test(req.headers.accept ?? '')) return reply.status(204).send();
      return reply.redirect('/sign-in?reason=signed-out', 303);
    });

    scope.get('/', { config: { permission: 'reports:read' }, schema: { hide: true } }, async (req, reply) => {
      const s = req.browserSession;
      if (!s) return { reports: '/reports/', docs: '/docs', openapi: '/openapi.json', session: '/session' };
      return html(reply, 200, homePage({ keyName: s.apiKey!.name, user: s.user !== null, role: s.apiKey!.role, expiresAt: s.expiresAt < s.idleExpiresAt ? s.expiresAt : s.idleExpiresAt, csrfToken: csrfOf(req), reports: options.reports() }));
    });

    scope.get('/session', { config: { permission: 'reports:read' }, schema: { hide: true } }, async (req) => (req.browserSession ? sessionJson(req.browserSession, csrfOf(req)) : { kind: 'bearer', apiKey: req.apiKey, csrfToken: null }));
  });
}

/**
 * What the failed-sign-in limit remembers of a name and password that worked: an HMAC under a
 * key of this process, so not even a fast hash of a password is kept.
 */
const USER_SECRET_KEY = randomBytes(32);
const userSecret = (name: string, password: string) => createHmac('sha256', USER_SECRET_KEY).update(`${name}\0${password}`).digest('base64url');

/** Checks a secret unless the address is held back; counts a failure, remembers a success. */
async function attempt<T extends { ok: true }>(access: Access, req: FastifyRequest, secret: string, check: (secret: string) => Promise<T | Refusal>): Promise<T | Refusal | 'held'> {
  const hash = hashSecret(secret);
  if (access.limiter.holdsBack(req.ip, hash)) return 'held';
  const verdict = await check(secret);
  if (verdict.ok) access.limiter.succeeded(hash);
  else access.limiter.fail(req.ip);
  return verdict;
}

const csrfOf = (req: FastifyRequest): string => (req.sessionSecret ? csrfTokenFor(req.sessionSecret) : '');

function sessionJson(s: Session, csrfToken: string | null) {
  return { kind: s.kind, id: s.id, apiKey: s.apiKey, user: s.user, createdAt: s.createdAt, expiresAt: s.expiresAt, idleExpiresAt: s.idleExpiresAt, csrfToken };
}
