import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { countEvents, seedBasics } from '../helpers/fixtures.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import { buildServer } from '../../src/api/server.ts';
import { createApiKey, createPortalToken, hashSecret, parseExpiry, revokeApiKey } from '../../src/api/keys.service.ts';
import { redactUrl } from '../../src/api/auth/redact.ts';
import { safeNext } from '../../src/api/auth/access.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { connect } from '../../src/db/connection.ts';
import { openWarehouse } from '../../src/warehouse/warehouse.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { DomainError } from '../../src/shared/errors.ts';

const HTML = { accept: 'text/html,application/xhtml+xml' };
const cookieOf = (r: LightMyRequestResponse, name: string) => r.cookies.find((c) => c.name === name);
const mode = (file: string) => (fs.statSync(file).mode & 0o777).toString(8);

describe(`access on ${testDialect}: sessions, CSRF, sign-in, headers, key and token lifecycle`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let siteDir: string;
  let admin: string;
  let customerId: number;

  /** Exchanges a key for a session the way a browser does; answers the two cookies. */
  async function signIn(key: string, target = '/reports/') {
    const r = await app.inject({ method: 'GET', url: `${target}${target.includes('?') ? '&' : '?'}key=${key}`, headers: HTML });
    expect(r.statusCode, r.body).toBe(303);
    return { session: cookieOf(r, 'cashloop_session')!.value, csrf: cookieOf(r, 'cashloop_csrf')!.value, response: r };
  }

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    customerId = (await seedBasics(t.core)).customer.id;
    // A small stand-in for the built reports: one page with an inline script and style, like Observable Framework's.
    siteDir = path.join(t.dataDir, 'site');
    fs.mkdirSync(siteDir, { recursive: true });
    fs.writeFileSync(path.join(siteDir, 'index.html'), '<!doctype html><html><head><style>p{color:red}</style></head><body><p>Overview</p><script type="module">document.title = "Overview";</script></body></html>');
    app = await buildServer(t.core, { siteDir, rateLimitPerMinute: 1_000_000, access: { failedAuth: { max: 1_000 } } });
    admin = (await createApiKey(t.core, { role: 'admin', name: 'ada' }, 'test')).key;
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('exchanges ?key= for a server-side session and sends the browser on without the key', async () => {
    const { session, csrf, response } = await signIn(admin, '/reports/?tab=aging');
    expect(response.headers.location).toBe('/reports/?tab=aging');
    const cookie = cookieOf(response, 'cashloop_session')!;
    expect(cookie).toMatchObject({ path: '/', httpOnly: true, sameSite: 'Lax' });
    expect(cookie.secure).toBeUndefined();
    // Bounded: the cookie lives as long as the session may (access.session_max_hours, 168 h).
    expect(cookie.maxAge).toBe(168 * 3600);
    expect(cookieOf(response, 'cashloop_csrf')!.httpOnly).toBeUndefined();
    expect(session).not.toBe(admin);
    expect(JSON.stringify(response.headers)).not.toContain(admin);
    // Only the hash of the session id is stored.
    const rows = await t.core.db.kysely.selectFrom('sessions').selectAll().execute();
    expect(rows.some((r) => r.secret_hash === hashSecret(session))).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(session);
    const page = await app.inject({ method: 'GET', url: '/reports/', headers: HTML, cookies: { cashloop_session: session } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Overview');
    const me = (await app.inject({ method: 'GET', url: '/session', cookies: { cashloop_session: session } })).json();
    expect(me).toMatchObject({ kind: 'staff', apiKey: { name: 'ada', role: 'admin' }, csrfToken: csrf });
    // The docs open on the first load: /docs?key= becomes /docs with a session, and the API definition loads with it.
    const docs = await signIn(admin, '/docs');
    expect(docs.response.headers.location).toBe('/docs');
    expect((await app.inject({ method: 'GET', url: '/docs/json', cookies: { cashloop_session: docs.session } })).json().openapi).toMatch(/^3\./);
  });

  it('refuses a write made with the session cookie unless it carries the CSRF token; the Authorization header needs none', async () => {
    const { session, csrf } = await signIn(admin);
    const other = await signIn(admin);
    const before = await countEvents(t.core);
    const post = (headers: Record<string, string>, cookies: Record<string, string> = { cashloop_session: session }) =>
      app.inject({ method: 'POST', url: '/customers', headers: { 'content-type': 'application/json', ...headers }, cookies, payload: { name: 'Forged Ltd', currency: 'EUR' } });
    const none = await post({});
    expect(none.statusCode).toBe(403);
    expect(none.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(none.json()).toMatchObject({ rule: 'csrf_token' });
    expect((await post({ 'x-csrf-token': other.csrf })).statusCode).toBe(403); // another session's token
    expect((await post({ 'x-csrf-token': 'x'.repeat(43) })).statusCode).toBe(403);
    const patch = await app.inject({ method: 'PATCH', url: `/customers/${customerId}`, headers: { 'content-type': 'application/json' }, cookies: { cashloop_session: session }, payload: { creditLimit: '1' } });
    expect(patch.statusCode).toBe(403);
    expect(await countEvents(t.core)).toBe(before);
    const ok = await post({ 'x-csrf-token': csrf });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().name).toBe('Forged Ltd');
    const bearer = await app.inject({ method: 'POST', url: '/customers', headers: { authorization: `Bearer ${admin}` }, payload: { name: 'Bearer Ltd', currency: 'EUR' } });
    expect(bearer.statusCode).toBe(201);
    // A form post carries the token as the field _csrf; it is checked and then removed before validation.
    const form = await app.inject({ method: 'POST', url: '/sign-out', headers: { 'content-type': 'application/x-www-form-urlencoded', ...HTML }, cookies: { cashloop_session: other.session }, payload: 'nothing=1' });
    expect(form.statusCode).toBe(403);
    const out = await app.inject({ method: 'POST', url: '/sign-out', headers: { 'content-type': 'application/x-www-form-urlencoded', ...HTML }, cookies: { cashloop_session: other.session }, payload: `_csrf=${encodeURIComponent(other.csrf)}` });
    expect(out.statusCode).toBe(303);
    expect(out.headers.location).toBe('/sign-in?reason=signed-out');
    expect(cookieOf(out, 'cashloop_session')!.maxAge).toBe(0);
    const ended = await t.core.db.kysely.selectFrom('sessions').select(['ended_at', 'end_reason']).where('secret_hash', '=', hashSecret(other.session)).executeTakeFirstOrThrow();
    expect(ended).toMatchObject({ end_reason: 'signed_out' });
    const after = await app.inject({ method: 'GET', url: '/customers', cookies: { cashloop_session: other.session } });
    expect(after.statusCode).toBe(401);
    expect(after.json().rule).toBe('session_ended');
  });

  it('shows browsers a sign-in page instead of 401 JSON, and signs in with the form', async () => {
    for (const url of ['/', '/reports/', '/docs', '/customers/1']) {
      const r = await app.inject({ method: 'GET', url, headers: HTML });
      expect(r.statusCode, url).toBe(303);
      expect(r.headers.location, url).toBe(`/sign-in?next=${encodeURIComponent(url)}`);
    }
    const json = await app.inject({ method: 'GET', url: '/' });
    expect(json.statusCode).toBe(401);
    expect(json.headers['content-type']).toMatch(/application\/problem\+json/);
    const form = await app.inject({ method: 'GET', url: '/sign-in?next=/reports/', headers: HTML });
    expect(form.statusCode).toBe(200);
    expect(form.headers['content-type']).toMatch(/text\/html/);
    expect(form.body).toContain('<form method="post" action="/sign-in">');
    expect(form.body).toContain('value="/reports/"');
    expect(form.body).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const submit = (key: string, extra: Record<string, string> = {}, next = '/reports/') =>
      app.inject({ method: 'POST', url: '/sign-in', headers: { 'content-type': 'application/x-www-form-urlencoded', ...HTML, ...extra }, payload: new URLSearchParams({ key, next }).toString() });
    // A browser gets the form again with the message; a JSON client gets 401 problem+json.
    const bad = await submit('clk_not-a-key');
    expect(bad.statusCode).toBe(200);
    expect(bad.body).toContain('That API key is not valid.');
    expect(bad.cookies).toEqual([]);
    const badJson = await app.inject({ method: 'POST', url: '/sign-in', payload: { key: 'clk_not-a-key' } });
    expect(badJson.statusCode).toBe(401);
    expect(badJson.json().rule).toBe('api_key');
    expect((await submit('')).body).toContain('Enter your API key.');
    // Another site may not sign a browser in with its own key.
    expect((await submit(admin, { 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    const good = await submit(admin, { 'sec-fetch-site': 'same-origin' });
    expect(good.statusCode).toBe(303);
    expect(good.headers.location).toBe('/reports/');
    const session = cookieOf(good, 'cashloop_session')!.value;
    // Only paths of this server are followed after signing in.
    expect((await submit(admin, {}, '//evil.example/x')).headers.location).toBe('/');
    expect((await submit(admin, {}, 'https://evil.example/')).headers.location).toBe('/');
    expect(safeNext('/reports/?key=abc&x=1')).toBe('/reports/?x=1');
    // Signed in, / is a home page listing the reports and the docs, with a sign-out form.
    const home = await app.inject({ method: 'GET', url: '/', headers: HTML, cookies: { cashloop_session: session } });
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('href="/reports/"');
    expect(home.body).toContain('href="/docs/"');
    expect(home.body).toMatch(/name="_csrf" value="[\w-]{43}"/);
    expect(home.body).toContain('ada');
    expect((await app.inject({ method: 'GET', url: '/sign-in?next=/docs', headers: HTML, cookies: { cashloop_session: session } })).headers.location).toBe('/docs');
  });

  it('ends a session after its idle time and its maximum life, and with its key', async () => {
    await setSetting(t.core, 'access.session_idle_hours', '2', 'test');
    await setSetting(t.core, 'access.session_max_hours', '3', 'test');
    const idle = await signIn(admin);
    const busy = await signIn(admin);
    const use = (session: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/reports/', headers, cookies: { cashloop_session: session } });
    t.clock.advance(3_600_000 + 60_000);
    expect((await use(busy.session)).statusCode).toBe(200);
    t.clock.advance(3_600_000);
    // idle: not used for 2 h 1 min
    const gone = await use(idle.session, HTML);
    expect(gone.statusCode).toBe(303);
    expect(gone.headers.location).toBe('/sign-in?next=%2Freports%2F&reason=expired');
    expect(cookieOf(gone, 'cashloop_session')!.maxAge).toBe(0);
    const goneJson = await use(idle.session);
    expect(goneJson.statusCode).toBe(401);
    expect(goneJson.json().rule).toBe('session_expired');
    expect((await use(busy.session)).statusCode).toBe(200); // used an hour ago
    t.clock.advance(59 * 60_000);
    expect((await use(busy.session)).statusCode).toBe(401); // 3 h after sign-in, used or not
    await setSetting(t.core, 'access.session_idle_hours', '12', 'test');
    await setSetting(t.core, 'access.session_max_hours', '168', 'test');
    // Revoking the key ends the sessions opened with it.
    const viewer = await createApiKey(t.core, { role: 'viewer', name: 'vic' }, 'test');
    const s = await signIn(viewer.key);
    expect((await use(s.session)).statusCode).toBe(200);
    await revokeApiKey(t.core, viewer.id, 'test');
    const revoked = await use(s.session);
    expect(revoked.statusCode).toBe(401);
    expect(revoked.json().rule).toBe('api_key_revoked');
  });

  it('lets API keys expire: an expired key answers 401 api_key_expired, and so do its sessions', async () => {
    const now = t.clock.now();
    expect(parseExpiry({ expiresIn: '90d' }, new Date('2026-03-01T10:00:00Z'))).toBe('2026-05-30T10:00:00.000Z');
    expect(parseExpiry({ expiresIn: '12h' }, new Date('2026-03-01T10:00:00Z'))).toBe('2026-03-01T22:00:00.000Z');
    expect(parseExpiry({ expires: '2026-03-01' }, new Date('2026-03-01T10:00:00Z'))).toBe('2026-03-02T00:00:00.000Z');
    expect(parseExpiry({}, now)).toBeNull();
    for (const [input, rule] of [[{ expiresIn: '0d' }, 'duration_range'], [{ expiresIn: '90 days' }, 'duration'], [{ expires: '2020-01-01' }, 'future_date'], [{ expires: '2026-02-30' }, 'date_format'], [{ expiresIn: '1d', expires: '2030-01-01' }, 'one_expiry']] as const) {
      const error = (() => {
        try {
          parseExpiry(input, new Date('2026-03-01T10:00:00Z'));
        } catch (e) {
          return e as DomainError;
        }
      })();
      expect(error, JSON.stringify(input)).toBeInstanceOf(DomainError);
      expect(error!.detail.rule).toBe(rule);
    }
    const before = await countEvents(t.core);
    await expect(createApiKey(t.core, { role: 'viewer', name: 'x', expiresIn: 'soon' }, 'test')).rejects.toThrow(/expiresIn must be a number of hours, days or weeks/);
    expect(await countEvents(t.core)).toBe(before);
    const k = await createApiKey(t.core, { role: 'finance', name: 'fin', expiresIn: '6h' }, 'test');
    expect(k.expiresAt).toBe(new Date(now.getTime() + 6 * 3_600_000).toISOString());
    const get = (headers: Record<string, string>) => app.inject({ method: 'GET', url: '/invoices', headers });
    expect((await get({ authorization: `Bearer ${k.key}` })).statusCode).toBe(200);
    const s = await signIn(k.key);
    // The session (and its cookie) ends with the key, not a week later.
    expect(cookieOf(s.response, 'cashloop_session')!.maxAge).toBe(6 * 3600);
    t.clock.advance(6 * 3_600_000);
    const expired = await get({ authorization: `Bearer ${k.key}` });
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ rule: 'api_key_expired' });
    expect(expired.json().detail).toContain(`API key ${k.id} (fin) expired at ${k.expiresAt}`);
    expect((await app.inject({ method: 'GET', url: '/invoices', cookies: { cashloop_session: s.session } })).json().rule).toBe('api_key_expired');
    const form = await app.inject({ method: 'POST', url: '/sign-in', headers: { 'content-type': 'application/x-www-form-urlencoded', ...HTML }, payload: `key=${k.key}` });
    expect(form.body).toContain('That API key has expired.');
    expect(form.cookies).toEqual([]);
  });

  it('lets portal tokens expire (portal.token_days) and be withdrawn; the portal cookie is a session too', async () => {
    await setSetting(t.core, 'portal.token_days', '5', 'test');
    const issued = await app.inject({ method: 'POST', url: `/customers/${customerId}/portal-tokens`, headers: { authorization: `Bearer ${admin}` }, payload: {} });
    expect(issued.statusCode).toBe(201);
    const { token, expiresAt } = issued.json();
    expect(expiresAt).toBe(new Date(t.clock.now().getTime() + 5 * 86_400_000).toISOString());
    await setSetting(t.core, 'portal.token_days', '90', 'test');
    const viewer = (await createApiKey(t.core, { role: 'viewer', name: 'v2' }, 'test')).key;
    expect((await app.inject({ method: 'POST', url: `/customers/${customerId}/portal-tokens/revoke`, headers: { authorization: `Bearer ${viewer}` } })).statusCode).toBe(403);
    const link = await app.inject({ method: 'GET', url: `/portal?token=${token}`, headers: HTML });
    expect(link.statusCode).toBe(303);
    expect(link.headers.location).toBe('/portal');
    const portalCookie = cookieOf(link, 'cashloop_portal')!;
    expect(portalCookie).toMatchObject({ path: '/', httpOnly: true, sameSite: 'Lax' });
    expect(portalCookie.value).not.toBe(token);
    const page = () => app.inject({ method: 'GET', url: '/portal', headers: HTML, cookies: { cashloop_portal: portalCookie.value } });
    expect((await page()).statusCode).toBe(200);
    // A staff session does not open the portal, nor a portal session the staff pages.
    expect((await app.inject({ method: 'GET', url: '/portal/api/orders', cookies: { cashloop_session: portalCookie.value } })).statusCode).toBe(401);
    const revoked = await app.inject({ method: 'POST', url: `/customers/${customerId}/portal-tokens/revoke`, headers: { authorization: `Bearer ${admin}` } });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revoked.map((r: { status: string }) => r.status)).toContain('revoked');
    const closed = await page();
    expect(closed.statusCode).toBe(401);
    expect(closed.headers['content-type']).toMatch(/text\/html/);
    expect(closed.body).toContain('this portal link was withdrawn');
    expect((await app.inject({ method: 'GET', url: '/portal/api/orders', headers: { authorization: `Bearer ${token}` } })).json().rule).toBe('portal_token_revoked');
    const short = await createPortalToken(t.core, customerId, 'test', { days: 1 });
    expect((await app.inject({ method: 'GET', url: '/portal/api/orders', headers: { authorization: `Bearer ${short.token}` } })).statusCode).toBe(200);
    t.clock.advance(86_400_000);
    const expired = await app.inject({ method: 'GET', url: '/portal/api/orders', headers: { authorization: `Bearer ${short.token}` } });
    expect(expired.statusCode).toBe(401);
    expect(expired.json().rule).toBe('portal_token_expired');
    const list = (await app.inject({ method: 'GET', url: `/customers/${customerId}/portal-tokens`, headers: { authorization: `Bearer ${admin}` } })).json();
    expect(list.items.map((x: { status: string }) => x.status)).toEqual(['revoked', 'expired']);
  });

  it('puts security headers on every page and a locked policy on everything else', async () => {
    const { session } = await signIn(admin);
    const portal = await createPortalToken(t.core, customerId, 'test');
    const portalSession = cookieOf(await app.inject({ method: 'GET', url: `/portal?token=${portal.token}`, headers: HTML }), 'cashloop_portal')!.value;
    const pages: [string, Record<string, string>][] = [
      ['/sign-in', {}],
      ['/', { cashloop_session: session }],
      ['/reports/', { cashloop_session: session }],
      ['/docs/', { cashloop_session: session }],
      ['/portal', { cashloop_portal: portalSession }],
    ];
    for (const [url, cookies] of pages) {
      const r = await app.inject({ method: 'GET', url, headers: HTML, cookies });
      expect(r.statusCode, url).toBe(200);
      expect(r.headers['content-type'], url).toMatch(/text\/html/);
      expect(r.headers['x-frame-options'], url).toBe('DENY');
      expect(r.headers['x-content-type-options'], url).toBe('nosniff');
      expect(r.headers['referrer-policy'], url).toBe('no-referrer');
      const csp = String(r.headers['content-security-policy']);
      expect(csp, url).toContain("frame-ancestors 'none'");
      expect(csp, url).toContain("object-src 'none'");
      expect(csp, url).not.toMatch(/https?:|\*|'unsafe-eval'/);
      expect(csp.match(/script-src ([^;]*)/)![1], url).not.toContain("'unsafe-inline'");
    }
    // The reports' inline script is allowed by its hash, nothing else inline.
    const reports = await app.inject({ method: 'GET', url: '/reports/', headers: HTML, cookies: { cashloop_session: session } });
    const hash = createHash('sha256').update('document.title = "Overview";').digest('base64');
    expect(reports.headers['content-security-policy']).toContain(`script-src 'self' 'sha256-${hash}'`);
    // Our own pages allow their one inline style by hash and no script at all.
    const signIn2 = await app.inject({ method: 'GET', url: '/sign-in', headers: HTML });
    const style = /<style>([\s\S]*?)<\/style>/.exec(signIn2.body)![1]!;
    expect(signIn2.headers['content-security-policy']).toContain(`style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'`);
    expect(signIn2.headers['content-security-policy']).toContain("script-src 'none'");
    expect(signIn2.headers['cache-control']).toBe('no-store');
    const api = await app.inject({ method: 'GET', url: '/customers', headers: { authorization: `Bearer ${admin}` } });
    expect(api.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(api.headers['x-content-type-options']).toBe('nosniff');
    // Secure cookies and HSTS when the server is reached over https.
    const secure = await buildServer(t.core, { access: { secureCookies: true } });
    const r = await secure.inject({ method: 'GET', url: `/docs?key=${admin}`, headers: HTML });
    expect(cookieOf(r, 'cashloop_session')!.secure).toBe(true);
    expect(cookieOf(r, 'cashloop_csrf')!.secure).toBe(true);
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    await secure.close();
  });

  it('limits failed authentication per address: 429 with Retry-After, successful requests not slowed', async () => {
    let now = 1_000_000;
    const limited = await buildServer(t.core, { access: { failedAuth: { max: 20, windowMs: 60_000, now: () => now } } });
    try {
      const viewer = await createApiKey(t.core, { role: 'viewer', name: 'limit-viewer' }, 'test');
      const fresh = await createApiKey(t.core, { role: 'viewer', name: 'limit-fresh' }, 'test');
      const get = (key: string, remoteAddress = '10.0.0.1') => limited.inject({ method: 'GET', url: '/customers', remoteAddress, headers: { authorization: `Bearer ${key}` } });
      // Successes never count.
      for (let i = 0; i < 50; i++) expect((await get(viewer.key)).statusCode).toBe(200);
      const codes: number[] = [];
      for (let i = 0; i < 20; i++) codes.push((await get(`clk_guess${i}`)).statusCode);
      expect(codes).toEqual(Array(20).fill(401));
      now += 10_000;
      const held = await get('clk_guess-21');
      expect(held.statusCode).toBe(429);
      expect(held.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(held.json()).toMatchObject({ status: 429, rule: 'failed_auth_limit' });
      expect(held.headers['retry-after']).toBe('50');
      // Held back, a key never seen working is not even looked up — the right one too…
      expect((await get(fresh.key)).statusCode).toBe(429);
      // …but a client whose key has worked before goes on, and other addresses are not touched.
      expect((await get(viewer.key)).statusCode).toBe(200);
      expect((await get('clk_other', '10.0.0.2')).statusCode).toBe(401);
      // The sign-in form and ?key= links count and are held back the same way.
      const form = await limited.inject({ method: 'POST', url: '/sign-in', remoteAddress: '10.0.0.1', headers: { 'content-type': 'application/x-www-form-urlencoded', ...HTML }, payload: `key=${fresh.key}` });
      expect(form.statusCode).toBe(429);
      expect(form.headers['retry-after']).toBe('50');
      expect(form.body).toContain('Too many failed sign-ins');
      expect((await limited.inject({ method: 'GET', url: `/reports/?key=${fresh.key}`, remoteAddress: '10.0.0.1', headers: HTML })).statusCode).toBe(429);
      // A made-up session cookie counts as a failure too.
      for (let i = 0; i < 20; i++) await limited.inject({ method: 'GET', url: '/customers', remoteAddress: '10.0.0.3', cookies: { cashloop_session: `cls_guess${i}` } });
      expect((await limited.inject({ method: 'GET', url: '/customers', remoteAddress: '10.0.0.3', cookies: { cashloop_session: 'cls_guess' } })).statusCode).toBe(429);
      now += 50_000;
      expect((await get(fresh.key)).statusCode).toBe(200);
      expect((await get('clk_guess-after')).statusCode).toBe(401);
    } finally {
      await limited.close();
    }
  });

  it('keeps keys, tokens, session ids and CSRF tokens out of the log, however the query spells them', async () => {
    const lines: string[] = [];
    const logged = await buildServer(t.core, { siteDir, logger: { level: 'info', stream: { write: (l: string) => lines.push(l) } }, access: { failedAuth: { max: 1_000 } } });
    try {
      const viewer = (await createApiKey(t.core, { role: 'viewer', name: 'logged' }, 'test')).key;
      const portal = (await createPortalToken(t.core, customerId, 'test')).token;
      // The query parser decodes k%65y to key: the encoded spelling authenticates, so it must be masked too.
      const encoded = await logged.inject({ method: 'GET', url: `/reports/?k%65y=${viewer}&page=2`, headers: HTML });
      expect(encoded.statusCode).toBe(303);
      expect(encoded.headers.location).toBe('/reports/?page=2');
      const session = cookieOf(encoded, 'cashloop_session')!.value;
      const csrf = cookieOf(encoded, 'cashloop_csrf')!.value;
      await logged.inject({ method: 'GET', url: `/portal?t%6Fk%65n=${portal}`, headers: HTML });
      await logged.inject({ method: 'GET', url: `/customers?KEY=${viewer}&Token=${portal}`, headers: { authorization: `Bearer ${viewer}` } });
      await logged.inject({ method: 'GET', url: `/no-such-page?key=${viewer}&%6B%45%59=${viewer}` });
      await logged.inject({ method: 'POST', url: '/customers', headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' }, cookies: { cashloop_session: session }, payload: { name: 'Logged Ltd' } });
      await logged.inject({ method: 'POST', url: '/sign-in', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `key=${viewer}` });
      const log = lines.join('\n');
      expect(lines.length).toBeGreaterThan(10);
      for (const secret of [viewer, portal, session, csrf]) expect(log).not.toContain(secret);
      expect(log).toContain('/reports/?k%65y=***&page=2');
      expect(log).toContain('/portal?t%6Fk%65n=***');
      expect(log).toContain('/customers?KEY=***&Token=***');
      expect(log).toContain('/no-such-page?key=***&%6B%45%59=***');
      expect(redactUrl('/x?a=1&%2565=2&k%65y=s&k%ZZey=t')).toBe('/x?a=1&%2565=2&k%65y=***&k%ZZey=t');
    } finally {
      await logged.close();
    }
  });

  it('signs out once when two sign-outs race, and refuses a repeated or odd query key without a 500', async () => {
    const { session, csrf } = await signIn(admin);
    const before = await countEvents(t.core);
    const out = () => app.inject({ method: 'POST', url: '/sign-out', headers: { 'x-csrf-token': csrf }, cookies: { cashloop_session: session } });
    const results = await Promise.all([out(), out(), out()]);
    expect(results.map((r) => r.statusCode)).toEqual([204, 204, 204]);
    // One session.ended event, whichever request ended it.
    expect((await countEvents(t.core)) - before).toBe(1);
    for (const url of [`/reports/?key=${admin}&key=${admin}`, '/reports/?key=', `/portal?token=a&token=b`]) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode, url).toBe(401);
    }
  });

  it('creates the database and warehouse files readable by their owner only (0600)', async () => {
    if (testDialect === 'sqlite') {
      const file = t.url.replace(/^sqlite:/, '');
      for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f), f).toBe('600');
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-modes-'));
    try {
      // A database file made before the rule (by the umask, world-readable) is corrected on open.
      const old = path.join(dir, 'old.db');
      new SQLite(old).close();
      fs.chmodSync(old, 0o644);
      const db = connect({ url: `sqlite:${old}` });
      await db.kysely.schema.createTable('x').addColumn('a', 'integer').execute();
      expect(mode(old)).toBe('600');
      expect(mode(`${old}-wal`)).toBe('600');
      await db.close();
      // The warehouse and its published snapshot.
      const wh = await openWarehouse(path.join(dir, 'plain.duckdb'));
      await wh.conn.run('create table t as select 1 as x');
      expect(mode(path.join(dir, 'plain.duckdb'))).toBe('600');
      wh.close();
      const run = await runPipeline({ dataDir: dir, coreUrl: t.url, steps: ['ingest', 'publish'], quiet: true });
      expect(mode(run.warehouse)).toBe('600');
      expect(mode(run.published!.snapshot)).toBe('600');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('creates expiring keys and withdraws portal links from the command line', async () => {
    const env = cliEnv(t.url, t.dataDir, t.clock.now().toISOString());
    const created = await cli(['apikey', 'create', '--role', 'viewer', '--name', 'cli-key', '--expires-in', '90d', '--json'], env);
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout).expiresAt).toBe(new Date(t.clock.now().getTime() + 90 * 86_400_000).toISOString());
    const both = await cli(['apikey', 'create', '--role', 'viewer', '--name', 'x', '--expires-in', '9d', '--expires', '2030-01-01'], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('give --expires-in or --expires, not both');
    const revoke = await cli(['customer', 'portal-token', String(customerId), '--revoke'], env);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout).toMatch(new RegExp(`customer ${customerId}: withdrew \\d+ portal token\\(s\\)`));
    const listed = await cli(['customer', 'portal-token', String(customerId), '--list', '--json'], env);
    expect((JSON.parse(listed.stdout) as { items: { status: string }[] }).items.every((x: { status: string }) => x.status !== 'live')).toBe(true);
  }, 120_000);
});
