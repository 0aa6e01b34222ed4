import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cliEnv } from '../helpers/cli.ts';
import { buildServer } from '../../src/api/server.ts';
import { createUser, disableUser, listUsers, resetPassword, checkCredentials } from '../../src/users/user.service.ts';
import { hashPassword, verifyPassword, SCRYPT } from '../../src/users/password.ts';
import { DomainError } from '../../src/shared/errors.ts';

const HTML = { accept: 'text/html,application/xhtml+xml' };
const FORM = { 'content-type': 'application/x-www-form-urlencoded', ...HTML };
const cookieOf = (r: LightMyRequestResponse, name: string) => r.cookies.find((c) => c.name === name);
const bin = path.resolve(import.meta.dirname, '../../bin/cashloop.js');

/** Runs the real binary with `input` on standard input. */
function cliWithInput(args: string[], env: Record<string, string>, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += String(d)));
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function refusal(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe(`user accounts on ${testDialect}: passwords, sign-in, sessions, the CLI`, () => {
  let t: TestCore;
  let app: FastifyInstance;

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000, access: { failedAuth: { max: 5 } } });
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('hashes passwords with scrypt at the documented parameters, salted, and verifies only the right one', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(new RegExp(`^scrypt\\$${SCRYPT.log2N}\\$${SCRYPT.r}\\$${SCRYPT.p}\\$[\\w-]{22}\\$[\\w-]{43}$`));
    expect(a).not.toBe(b); // a salt of its own
    expect(await verifyPassword('correct horse battery', a)).toBe(true);
    expect(await verifyPassword('correct horse batterY', a)).toBe(false);
    expect(await verifyPassword('correct horse battery', 'scrypt$30$8$1$abc$def')).toBe(false);
    expect(await verifyPassword('x', 'plain')).toBe(false);
  });

  it('creates users with a role of the matrix and refuses bad input with the field and the rule, writing nothing', async () => {
    const anna = await createUser(t.core, { name: 'Anna', role: 'sales', password: 'anna-sells-a-lot' }, 'test');
    expect(anna).toMatchObject({ name: 'Anna', role: 'sales', disabledAt: null });
    expect(JSON.stringify(anna)).not.toContain('scrypt');
    const cases: [Record<string, unknown>, string, string][] = [
      [{ name: '', role: 'sales', password: 'long enough pw' }, 'name', 'required'],
      [{ name: 'Ben', role: 'boss', password: 'long enough pw' }, 'role', 'one_of'],
      [{ name: 'Ben', role: 'sales', password: 'short' }, 'password', 'min_length'],
      [{ name: 'Ben', role: 'sales', password: 'x'.repeat(201) }, 'password', 'max_length'],
      [{ name: 'Benjamin1234', role: 'sales', password: 'benjamin1234' }, 'password', 'not_the_name'],
      [{ name: '42', role: 'sales', password: 'long enough pw' }, 'name', 'not_a_number'],
      [{ name: 'Anna', role: 'viewer', password: 'long enough pw' }, 'name', 'unique'],
    ];
    for (const [input, field, rule] of cases) {
      const e = await refusal(createUser(t.core, input as never, 'test'));
      expect(e.detail, JSON.stringify(input)).toMatchObject({ field, rule });
    }
    expect((await listUsers(t.core)).map((u) => u.name)).toEqual(['Anna']);
    const events = await t.core.db.kysely.selectFrom('events').select('payload').where('aggregate_type', '=', 'user').execute();
    expect(events.length).toBe(1);
    expect(events[0]!.payload).not.toContain('scrypt');
  });

  it('signs a user in on the sign-in page beside the API key, and acts as the user with their role', async () => {
    const page = await app.inject({ method: 'GET', url: '/sign-in', headers: HTML });
    expect(page.body).toContain('name="password"');
    expect(page.body).toContain('name="key"');
    const wrong = await app.inject({ method: 'POST', url: '/sign-in', headers: FORM, payload: 'name=Anna&password=not-her-password&next=/app' });
    expect(wrong.statusCode).toBe(200);
    expect(wrong.body).toContain('That name and password do not match.');
    expect(wrong.body).toContain('value="Anna"');
    expect(cookieOf(wrong, 'cashloop_session')).toBeUndefined();
    const nobody = await app.inject({ method: 'POST', url: '/sign-in', payload: { name: 'Nobody', password: 'whatever-it-is' } });
    expect(nobody.statusCode).toBe(401);
    expect(nobody.json()).toMatchObject({ rule: 'credentials', field: 'password' });
    const missing = await app.inject({ method: 'POST', url: '/sign-in', payload: { name: 'Anna' } });
    expect(missing.json()).toMatchObject({ status: 400, rule: 'required', field: 'password' });

    const ok = await app.inject({ method: 'POST', url: '/sign-in', headers: FORM, payload: 'name=Anna&password=anna-sells-a-lot&next=/app/sales' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/app/sales');
    const session = cookieOf(ok, 'cashloop_session')!.value;
    const csrf = cookieOf(ok, 'cashloop_csrf')!.value;
    const me = await app.inject({ method: 'GET', url: '/session', cookies: { cashloop_session: session } });
    expect(me.json()).toMatchObject({ kind: 'staff', user: { name: 'Anna', role: 'sales' }, apiKey: { name: 'Anna', role: 'sales' } });
    const row = await t.core.db.kysely.selectFrom('sessions').selectAll().where('user_id', 'is not', null).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ kind: 'staff', api_key_id: null });
    // The role of the matrix: a salesperson reads customers, may not decide credit.
    expect((await app.inject({ method: 'GET', url: '/customers', cookies: { cashloop_session: session } })).statusCode).toBe(200);
    const decide = await app.inject({ method: 'POST', url: '/orders/1/release', cookies: { cashloop_session: session }, headers: { 'x-csrf-token': csrf }, payload: { reason: 'x' } });
    expect(decide.statusCode).toBe(403);
    const home = await app.inject({ method: 'GET', url: '/', headers: HTML, cookies: { cashloop_session: session } });
    expect(home.body).toContain('Signed in as <strong>Anna</strong>');
  });

  it("ends a user's sessions when the user is disabled or the password reset, and a disabled user cannot sign in", async () => {
    await createUser(t.core, { name: 'Ben', role: 'collector', password: 'ben-collects-cash' }, 'test');
    const signIn = async (password: string) => app.inject({ method: 'POST', url: '/sign-in', payload: { name: 'Ben', password } });
    const s1 = cookieOf(await signIn('ben-collects-cash'), 'cashloop_session')!.value;
    const use = (s: string) => app.inject({ method: 'GET', url: '/customers', cookies: { cashloop_session: s } });
    expect((await use(s1)).statusCode).toBe(200);
    const reset = await resetPassword(t.core, 'Ben', 'a-new-secret-for-ben', 'test');
    expect(reset.sessionsEnded).toBe(1);
    expect((await use(s1)).statusCode).toBe(401);
    expect((await signIn('ben-collects-cash')).statusCode).toBe(401);
    const s2 = cookieOf(await signIn('a-new-secret-for-ben'), 'cashloop_session')!.value;
    expect((await use(s2)).statusCode).toBe(200);
    const disabled = await disableUser(t.core, 'Ben', 'test');
    expect(disabled.sessionsEnded).toBe(1);
    const after = await use(s2);
    expect(after.statusCode).toBe(401);
    expect(after.json()).toMatchObject({ rule: 'session_ended' });
    const again = await signIn('a-new-secret-for-ben');
    expect(again.statusCode).toBe(401);
    expect(again.json()).toMatchObject({ rule: 'user_disabled' });
    expect((await refusal(disableUser(t.core, 'Ben', 'test'))).kind).toBe('transition');
    expect((await refusal(disableUser(t.core, 'Nobody', 'test'))).kind).toBe('not_found');
  });

  it('checks the session against its user on each request, even if the sessions were not ended', async () => {
    await createUser(t.core, { name: 'Chloé', role: 'credit', password: 'chloé-decides-credit' }, 'test');
    const ok = await app.inject({ method: 'POST', url: '/sign-in', payload: { name: 'Chloé', password: 'chloé-decides-credit' } });
    const session = cookieOf(ok, 'cashloop_session')!.value;
    // Disabled behind the service's back: the session check still refuses.
    await t.core.db.kysely.updateTable('users').set({ disabled_at: '2026-03-02T09:30:00.000Z' }).where('name', '=', 'Chloé').execute();
    const r = await app.inject({ method: 'GET', url: '/customers', cookies: { cashloop_session: session } });
    expect(r.statusCode).toBe(401);
    expect(r.json()).toMatchObject({ rule: 'user_disabled' });
    expect(await checkCredentials(t.core, 'Chloé', 'chloé-decides-credit')).toMatchObject({ ok: false, rule: 'user_disabled' });
  });

  it('sends failed password sign-ins through the failed-authentication limit', async () => {
    const limited = await buildServer(t.core, { rateLimitPerMinute: 1_000_000, access: { failedAuth: { max: 3 } } });
    try {
      const post = (password: string) => limited.inject({ method: 'POST', url: '/sign-in', remoteAddress: '10.9.0.1', payload: { name: 'Anna', password } });
      for (let i = 0; i < 3; i++) expect((await post(`guess-number-${i}`)).statusCode).toBe(401);
      const held = await post('anna-sells-a-lot');
      expect(held.statusCode).toBe(429);
      expect(held.json()).toMatchObject({ rule: 'failed_auth_limit' });
      expect(Number(held.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('manages users from the CLI with the password from standard input, never an argument', async () => {
    const env = cliEnv(t.url, t.dataDir, '2026-03-02T10:00:00Z');
    const created = await cliWithInput(['user', 'create', '--name', 'David', '--role', 'finance', '--password-stdin', '--json'], env, 'david-matches-cash\n');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'David', role: 'finance' });
    expect(await checkCredentials(t.core, 'David', 'david-matches-cash')).toMatchObject({ ok: true });
    const short = await cliWithInput(['user', 'create', '--name', 'Eve', '--role', 'viewer', '--password-stdin'], env, 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('password must be at least 12 characters');
    const noTty = await cliWithInput(['user', 'create', '--name', 'Eve', '--role', 'viewer'], env, '');
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--password-stdin');
    const reset = await cliWithInput(['user', 'reset-password', 'David', '--password-stdin'], env, 'david-has-a-new-one\n');
    expect(reset.code, reset.stderr).toBe(0);
    expect(await checkCredentials(t.core, 'David', 'david-has-a-new-one')).toMatchObject({ ok: true });
    const disabled = await cliWithInput(['user', 'disable', 'David'], env, '');
    expect(disabled.stdout).toContain('disabled');
    const list = await cliWithInput(['user', 'list', '--json'], env, '');
    expect(JSON.parse(list.stdout).find((u: { name: string }) => u.name === 'David').disabledAt).not.toBeNull();
  }, 300_000);
});
