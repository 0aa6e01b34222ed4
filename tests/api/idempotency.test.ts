import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import { createPgDatabase, createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { countEvents } from '../helpers/fixtures.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import { buildServer } from '../../src/api/server.ts';
import type { RouteSpec } from '../../src/api/http.ts';
import { createApiKey } from '../../src/api/keys.service.ts';
import { setSetting } from '../../src/settings/settings.service.ts';
import { beginRequest, canonicalJson, completeRequest, LEASE_MS, purgeExpiredKeys, type Reservation } from '../../src/idempotency/idempotency.service.ts';
import { connect } from '../../src/db/connection.ts';
import { migrate, migrations } from '../../src/db/migrate.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { closeCore, openCore } from '../../src/core.ts';

/**
 * The Idempotency-Key rules, one request at a time (the concurrent case is in
 * tests/core/concurrency.test.ts): what is replayed, what is refused, what is stored,
 * waiting for a request in flight, the lease, expiry and the cleanup.
 */
describe(`Idempotency-Key on ${testDialect}`, () => {
  let t: TestCore;
  let app: FastifyInstance;
  let admin: { id: number; key: string };
  let other: { id: number; key: string };
  let flakyCalls = 0;
  // A route whose first call fails on the server's side (as a lost database connection would).
  const flaky: RouteSpec = {
    method: 'POST', url: '/test/flaky', permission: 'customers:write', tag: 'test', summary: 'fails once', status: 201,
    handler: async () => {
      flakyCalls++;
      if (flakyCalls === 1) throw new Error('the disk is full');
      return { attempt: flakyCalls };
    },
  };
  const post = (url: string, body: unknown, key: string | undefined, secret = admin.key) =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${secret}`, ...(key === undefined ? {} : { 'idempotency-key': key }) }, ...(body === undefined ? {} : { payload: body as object }) });
  const customersNamed = async (name: string) => Number((await t.core.db.kysely.selectFrom('customers').select((eb) => eb.fn.countAll().as('n')).where('name', '=', name).executeTakeFirstOrThrow()).n);
  const keyRows = async (key: string) => t.core.db.kysely.selectFrom('api_idempotency').selectAll().where('idem_key', '=', key).execute();
  const reserve = async (key: string, body: unknown): Promise<Reservation> => {
    const begun = await beginRequest(t.core, { scope: String(admin.id), key, method: 'POST', path: '/customers', body });
    if (begun.outcome !== 'reserved') throw new Error(`expected to reserve ${key}`);
    return begun.reservation;
  };

  beforeAll(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
    app = await buildServer(t.core, { rateLimitPerMinute: 1_000_000, idempotencyWaitMs: 300, extraRoutes: [flaky] });
    admin = await createApiKey(t.core, { role: 'admin', name: 'shop' }, 'test');
    other = await createApiKey(t.core, { role: 'admin', name: 'erp' }, 'test');
  });
  afterAll(async () => {
    await app.close();
    await t.cleanup();
  });

  it('runs a request once and replays its answer to a retry: same status, same body, Idempotent-Replayed: true', async () => {
    const events = await countEvents(t.core);
    const first = await post('/customers', { name: 'Retry Ltd', currency: 'EUR', paymentTermsDays: 14 }, 'c-1');
    expect(first.statusCode).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    // The same content, its fields in another order: the same request.
    const again = await post('/customers', { paymentTermsDays: 14, currency: 'EUR', name: 'Retry Ltd' }, 'c-1');
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toBe(first.headers['content-type']);
    expect(again.body).toBe(first.body);
    expect(await customersNamed('Retry Ltd')).toBe(1);
    expect(await countEvents(t.core)).toBe(events + 1);
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });

  it('keeps each API key to its own keys: the same key under another API key is another request', async () => {
    const mine = await post('/customers', { name: 'Scoped Ltd', currency: 'EUR' }, 'shared-1');
    const theirs = await post('/customers', { name: 'Scoped Ltd', currency: 'EUR' }, 'shared-1', other.key);
    expect(theirs.statusCode).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(theirs.json().id).not.toBe(mine.json().id);
    expect(await customersNamed('Scoped Ltd')).toBe(2);
  });

  it('refuses the key with another body (422) or on another path (409), writing nothing', async () => {
    const first = await post('/customers', { name: 'Bound Ltd', currency: 'EUR' }, 'c-2');
    const events = await countEvents(t.core);
    const otherBody = await post('/customers', { name: 'Bound Ltd', currency: 'USD' }, 'c-2');
    expect(otherBody.statusCode).toBe(422);
    expect(otherBody.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(otherBody.json()).toMatchObject({ rule: 'idempotency_key_reuse', field: 'headers.idempotency-key', value: 'c-2', title: 'Unprocessable content' });
    expect(otherBody.json().detail).toBe('Idempotency-Key c-2 was used for POST /customers with another body; a retry must send the same body, a new request a new key');
    const otherPath = await post('/products', { sku: 'X1', name: 'x', price: '1' }, 'c-2');
    expect(otherPath.statusCode).toBe(409);
    expect(otherPath.json()).toMatchObject({ rule: 'idempotency_key_reuse', detail: 'Idempotency-Key c-2 was used for POST /customers; it cannot be reused for POST /products: send a new key' });
    expect(await countEvents(t.core)).toBe(events);
    expect(await customersNamed('Bound Ltd')).toBe(1);
    // The refusals changed nothing: the true retry still gets the first answer.
    const retry = await post('/customers', { name: 'Bound Ltd', currency: 'EUR' }, 'c-2');
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body).toBe(first.body);
  });

  it('stores an answer below 500 and replays it: a payment for a customer that does not exist stays a 404', async () => {
    const first = await post('/payments', { customerId: 999_999, amount: '10.00' }, 'p-404');
    expect(first.statusCode).toBe(404);
    const again = await post('/payments', { customerId: 999_999, amount: '10.00' }, 'p-404');
    expect(again.statusCode).toBe(404);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(again.body).toBe(first.body);
  });

  it('stores nothing for a request refused before the work (invalid body, malformed key)', async () => {
    const events = await countEvents(t.core);
    const bad = await post('/customers', { name: 42 }, 'v-1');
    expect(bad.statusCode).toBe(400);
    expect(await keyRows('v-1')).toHaveLength(0);
    const fixed = await post('/customers', { name: 'Valid Ltd', currency: 'EUR' }, 'v-1');
    expect(fixed.statusCode).toBe(201);
    expect(fixed.headers['idempotent-replayed']).toBeUndefined();
    const long = await post('/customers', { name: 'Long Key Ltd' }, 'k'.repeat(201));
    expect(long.statusCode).toBe(400);
    expect(long.json()).toMatchObject({ rule: 'idempotency_key_format', field: 'headers.idempotency-key' });
    expect((await post('/customers', { name: 'Tab Key Ltd' }, 'a\u0001b')).statusCode).toBe(400);
    expect(await customersNamed('Long Key Ltd')).toBe(0);
    expect(await countEvents(t.core)).toBe(events + 1);
  });

  it('releases the key when the work fails on the server side, so a retry runs it', async () => {
    const failed = await post('/test/flaky', {}, 'f-1');
    expect(failed.statusCode).toBe(500);
    expect(await keyRows('f-1')).toHaveLength(0);
    const retry = await post('/test/flaky', {}, 'f-1');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.json()).toEqual({ attempt: 2 });
    const third = await post('/test/flaky', {}, 'f-1');
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(third.json()).toEqual({ attempt: 2 });
    expect(flakyCalls).toBe(2);
  });

  it('waits for the first request still in flight and answers with its response', async () => {
    const body = { name: 'Slow Ltd', currency: 'EUR' };
    const held = await reserve('w-1', body);
    const waiting = post('/customers', body, 'w-1');
    await new Promise((r) => setTimeout(r, 100));
    expect(await completeRequest(t.core, held, { status: 201, contentType: 'application/json; charset=utf-8', body: '{"id":4242,"name":"Slow Ltd"}' })).toBe(true);
    const answer = await waiting;
    expect(answer.statusCode).toBe(201);
    expect(answer.headers['idempotent-replayed']).toBe('true');
    expect(answer.json()).toEqual({ id: 4242, name: 'Slow Ltd' });
    expect(await customersNamed('Slow Ltd')).toBe(0);
  });

  it('waits, reading the row again, for a first request held by another process', async () => {
    const body = { name: 'Elsewhere Ltd', currency: 'EUR' };
    const elsewhere = await openCore({ url: t.url, clock: t.clock, migrate: false });
    try {
      const begun = await beginRequest(elsewhere, { scope: String(admin.id), key: 'w-3', method: 'POST', path: '/customers', body });
      if (begun.outcome !== 'reserved') throw new Error('expected to reserve w-3');
      const waiting = post('/customers', body, 'w-3');
      await new Promise((r) => setTimeout(r, 100));
      await completeRequest(elsewhere, begun.reservation, { status: 201, contentType: 'application/json; charset=utf-8', body: '{"id":4343}' });
      const answer = await waiting;
      expect(answer.statusCode).toBe(201);
      expect(answer.headers['idempotent-replayed']).toBe('true');
      expect(answer.json()).toEqual({ id: 4343 });
    } finally {
      await closeCore(elsewhere);
    }
  });

  it('answers 409 idempotency_in_flight with Retry-After when the first request outlasts the wait', async () => {
    const body = { name: 'Stuck Ltd', currency: 'EUR' };
    await reserve('w-2', body);
    const events = await countEvents(t.core);
    const started = Date.now();
    const answer = await post('/customers', body, 'w-2');
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(answer.statusCode).toBe(409);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.json()).toMatchObject({ rule: 'idempotency_in_flight', value: 'w-2' });
    expect(await countEvents(t.core)).toBe(events);
  });

  it('takes over a reservation left by a crashed process once its lease has run out', async () => {
    const body = { name: 'Crashed Ltd', currency: 'EUR' };
    const lost = await reserve('l-1', body);
    expect((await post('/customers', body, 'l-1')).statusCode).toBe(409);
    t.clock.advance(LEASE_MS + 1_000);
    const retry = await post('/customers', body, 'l-1');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
    expect(await customersNamed('Crashed Ltd')).toBe(1);
    // The old holder, had it only been slow, can no longer store an answer over the new one.
    expect(await completeRequest(t.core, lost, { status: 201, contentType: 'application/json', body: '{}' })).toBe(false);
    const replay = await post('/customers', body, 'l-1');
    expect(replay.body).toBe(retry.body);
  });

  it('expires keys after api.idempotency_ttl_hours: the cleanup deletes them and the key is new again', async () => {
    await setSetting(t.core, 'api.idempotency_ttl_hours', '1', 'test');
    const body = { name: 'Expiring Ltd', currency: 'EUR' };
    const first = await post('/customers', body, 'e-1');
    await post('/customers', { name: 'Kept Ltd', currency: 'EUR' }, 'e-keep');
    t.clock.advance(59 * 60_000);
    expect((await post('/customers', body, 'e-1')).headers['idempotent-replayed']).toBe('true');
    await post('/customers', { name: 'Young Ltd', currency: 'EUR' }, 'e-young');
    t.clock.advance(2 * 60_000); // e-1 is 61 minutes old, e-young 2 minutes
    const purged = await purgeExpiredKeys(t.core);
    expect(purged.deleted).toBeGreaterThanOrEqual(2);
    expect(await keyRows('e-1')).toHaveLength(0);
    expect(await keyRows('e-keep')).toHaveLength(0);
    expect(await keyRows('e-young')).toHaveLength(1);
    const reused = await post('/customers', body, 'e-1');
    expect(reused.statusCode).toBe(201);
    expect(reused.headers['idempotent-replayed']).toBeUndefined();
    expect(reused.json().id).not.toBe(first.json().id);
    expect(await customersNamed('Expiring Ltd')).toBe(2);
    // Expired but not cleaned up yet: new as well, even for another request.
    t.clock.advance(61 * 60_000);
    const unrelated = await post('/customers', { name: 'Another Use Ltd', currency: 'EUR' }, 'e-young');
    expect(unrelated.statusCode).toBe(201);
    expect(unrelated.headers['idempotent-replayed']).toBeUndefined();
    await setSetting(t.core, 'api.idempotency_ttl_hours', '24', 'test');
  });

  it('checks the period setting', async () => {
    for (const value of ['0', '8761', '1.5', 'day']) {
      await expect(setSetting(t.core, 'api.idempotency_ttl_hours', value, 'test')).rejects.toMatchObject({ kind: 'invalid', detail: { field: 'api.idempotency_ttl_hours', rule: 'hours_1_to_8760' } });
    }
  });

  it('deletes expired keys from the CLI and from the scheduled job', async () => {
    await post('/customers', { name: 'Cli Ltd', currency: 'EUR' }, 'cli-1');
    const later = new Date(t.clock.now().getTime() + 25 * 3_600_000).toISOString();
    const env = cliEnv(t.url, t.dataDir, later);
    const purged = await cli(['apikey', 'purge-idempotency', '--json'], env);
    expect(purged.code, purged.stderr).toBe(0);
    expect(JSON.parse(purged.stdout)).toEqual({ asOf: later, deleted: expect.any(Number) });
    expect(JSON.parse(purged.stdout).deleted).toBeGreaterThanOrEqual(1);
    expect(await keyRows('cli-1')).toHaveLength(0);
    await post('/customers', { name: 'Cli Ltd', currency: 'EUR' }, 'cli-2');
    const job = await cli(['schedule', '--once', 'idempotency-keys'], env);
    expect(job.code, job.stderr).toBe(0);
    expect(job.stdout).toContain(`idempotency-keys: succeeded (idempotency keys expired by ${later}: 1 deleted)`);
    expect(await keyRows('cli-2')).toHaveLength(0);
  });
});

describe(`migration 0009 on ${testDialect}: answers stored before it`, () => {
  it('keeps them for 24 hours from when they were stored, replayed by method and path', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-idem-'));
    const pgDb = testDialect === 'postgres' ? await createPgDatabase() : null;
    const db = connect({ url: pgDb?.url ?? `sqlite:${path.join(dir, 'old.db')}` });
    try {
      const isPg = db.dialect === 'postgres';
      const k = db.kysely;
      await sql`create table schema_migrations (version text primary key, applied_at text not null)`.execute(k);
      for (const m of migrations.filter((m) => m.version < '0009')) {
        await k.transaction().execute(async (trx) => {
          await m.up(trx as never, isPg);
          await sql`insert into schema_migrations (version, applied_at) values (${m.version}, ${'2026-01-01T00:00:00.000Z'})`.execute(trx);
        });
      }
      await sql`insert into api_idempotency (scope, idem_key, method, path, status, body, created_at) values ('1', 'old-1', 'POST', '/customers', 201, '{"id":7}', '2026-03-01T10:30:00.000Z')`.execute(k);
      // 0009 and every later migration run on this older database.
      expect((await migrate(db)).applied).toEqual(migrations.filter((m) => m.version >= '0009').map((m) => m.version));
      const row = await k.selectFrom('api_idempotency').selectAll().where('idem_key', '=', 'old-1').executeTakeFirstOrThrow();
      expect(row).toMatchObject({ state: 'completed', status: 201, body: '{"id":7}', request_hash: null, content_type: 'application/json; charset=utf-8', expires_at: '2026-03-02T10:30:00.000Z' });
      const core = { db, clock: new ManualClock('2026-03-02T10:00:00Z') };
      const replay = await beginRequest(core, { scope: '1', key: 'old-1', method: 'POST', path: '/customers', body: { name: 'anything' } });
      expect(replay).toEqual({ outcome: 'replay', response: { status: 201, contentType: 'application/json; charset=utf-8', body: '{"id":7}' } });
      core.clock.set('2026-03-02T10:30:00Z');
      expect((await purgeExpiredKeys(core)).deleted).toBe(1);
    } finally {
      await db.close();
      await pgDb?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
