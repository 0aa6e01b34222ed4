import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import SQLite from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeCore, openCore, type Core } from '../../src/core.ts';
import { backupDatabase, restoreDatabase, type BackupResult, type RestoreResult } from '../../src/db/backup.ts';
import { connect } from '../../src/db/connection.ts';
import { migrations } from '../../src/db/migrate.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { lastEventSeq } from '../../src/events/event.repository.ts';
import { accountStatement, type AccountStatement } from '../../src/payments/account-statement.service.ts';
import { recordPayment } from '../../src/payments/payment.service.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { cli } from '../helpers/cli.ts';
import { createPgDatabase, pgAdminUrl, testDialect } from '../helpers/db.ts';

/**
 * A database of the suite's dialect that the test can destroy and get back empty: the SQLite
 * file deleted, or the PostgreSQL database dropped and created again under its name.
 */
interface Scratch {
  url: string;
  dir: string;
  destroy(): Promise<void>;
  drop(): Promise<void>;
}

async function scratchDatabase(): Promise<Scratch> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-backup-'));
  if (testDialect === 'postgres') {
    const database = await createPgDatabase();
    const name = new URL(database.url).pathname.slice(1);
    return {
      url: database.url,
      dir,
      async destroy() {
        const admin = new pg.Client({ connectionString: pgAdminUrl });
        await admin.connect();
        await admin.query(`drop database ${name} with (force)`);
        await admin.query(`create database ${name}`);
        await admin.end();
      },
      async drop() {
        await database.drop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const file = path.join(dir, 'cashloop.db');
  return {
    url: `sqlite:${file}`,
    dir,
    async destroy() {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
    },
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Every customer's statement over the whole history, in customer order. */
async function allStatements(core: Core): Promise<AccountStatement[]> {
  const ids = (await core.db.kysely.selectFrom('customers').select('id').orderBy('id').execute()).map((r) => r.id);
  const out: AccountStatement[] = [];
  for (const id of ids) out.push(await accountStatement(core, { customerId: id, from: '2000-01-01', to: '2025-12-31' }));
  return out;
}

async function tableCounts(core: Core): Promise<Record<string, number>> {
  const k = core.db.kysely as unknown as Kysely<unknown>;
  const names =
    core.db.dialect === 'postgres'
      ? (await sql<{ t: string }>`select table_name as t from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(k)).rows.map((r) => r.t)
      : (await sql<{ t: string }>`select name as t from sqlite_master where type = 'table' and name not like 'sqlite_%'`.execute(k)).rows.map((r) => r.t);
  const out: Record<string, number> = {};
  for (const t of names.sort()) out[t] = Number((await sql<{ n: number }>`select count(*) as n from ${sql.table(t)}`.execute(k)).rows[0]!.n);
  return out;
}

const asCounts = (r: BackupResult | RestoreResult) => Object.fromEntries(r.tables.map((t) => [t.table, t.rows]));

async function demoCore(db: Scratch, customers: number, months: number): Promise<Core> {
  const clock = new ManualClock('2025-01-01T07:00:00Z');
  const core = await openCore({ url: db.url, clock });
  await generateDemo(core, clock, { seed: 5, customers, months, start: '2025-01-01' });
  return core;
}

async function expectDomainError(promise: Promise<unknown>, kind: DomainError['kind'], rule: string): Promise<DomainError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, `expected a ${kind} error (${rule})`).toBeInstanceOf(DomainError);
  expect({ kind: (error as DomainError).kind, rule: (error as DomainError).detail.rule }).toEqual({ kind, rule });
  return error as DomainError;
}

describe(`backup and restore (${testDialect})`, () => {
  let db: Scratch;
  let extra: Scratch[];
  let core: Core | null;
  beforeEach(async () => {
    db = await scratchDatabase();
    extra = [];
    core = null;
  });
  afterEach(async () => {
    if (core) await closeCore(core);
    await db.drop();
    for (const e of extra) await e.drop();
  });

  it('a backup taken while the core is open, restored into a destroyed database, gives every customer the same statement and the same last event seq', async () => {
    core = await demoCore(db, 10, 3);
    const statements = await allStatements(core);
    const seq = await lastEventSeq(core.db.kysely);
    const counts = await tableCounts(core);
    expect(statements.filter((s) => s.lines.length > 0).length).toBeGreaterThan(5);
    expect(seq).toBeGreaterThan(100);

    // The core stays open while the backup runs, as a server would.
    const file = path.join(db.dir, 'nightly.backup');
    const env = { DATABASE_URL: db.url, CASHLOOP_DATA_DIR: db.dir };
    const made = await cli(['backup', file, '--json'], env);
    expect(made.stderr).not.toMatch(/^error/m);
    expect(made.code).toBe(0);
    const backup = JSON.parse(made.stdout) as BackupResult;
    expect(backup).toMatchObject({ dialect: testDialect, file, mode: '0600', lastEventSeq: seq, schema: migrations.at(-1)!.version });
    expect(asCounts(backup)).toEqual(counts);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(backup.bytes).toBe(fs.statSync(file).size);
    // A second backup to the same name is refused unless asked to overwrite.
    expect((await cli(['backup', file], env)).code).toBe(4);

    await closeCore(core);
    core = null;
    await db.destroy();

    const restored = await cli(['restore', file, '--json'], env);
    expect(restored.stderr).not.toMatch(/^error/m);
    expect(restored.code).toBe(0);
    const result = JSON.parse(restored.stdout) as RestoreResult;
    expect(result).toMatchObject({ lastEventSeq: seq, migrationsApplied: [], tablesDropped: [] });
    expect(asCounts(result)).toEqual(counts);

    core = await openCore({ url: db.url, clock: new ManualClock('2025-06-01T09:00:00Z') });
    expect(await lastEventSeq(core.db.kysely)).toBe(seq);
    expect(await allStatements(core)).toEqual(statements);
    expect(await tableCounts(core)).toEqual(counts);
    if (testDialect === 'sqlite') expect(fs.statSync(db.url.slice('sqlite:'.length)).mode & 0o777).toBe(0o600);
    // The event feed goes on after the restored history: no number is handed out twice.
    const customerId = statements[0]!.customerId;
    await recordPayment(core, { customerId, amount: '1.00', date: '2025-06-01' }, 'test');
    expect(await lastEventSeq(core.db.kysely)).toBeGreaterThan(seq);
  }, 240_000);

  it('a backup taken while payments are being recorded reports exactly what the file holds (PostgreSQL: the counts are read in the snapshot pg_dump copies)', async () => {
    core = await demoCore(db, 6, 2);
    const customers = (await core.db.kysely.selectFrom('customers').select('id').execute()).map((r) => r.id);
    let stop = false;
    let recorded = 0;
    const writers = customers.slice(0, 4).map(async (customerId) => {
      while (!stop) {
        await recordPayment(core!, { customerId, amount: '1.00' }, 'writer');
        recorded++;
        // Each payment arrives as its own request would, through the event loop; on SQLite the
        // service call resolves without I/O and would otherwise never let the backup run.
        await new Promise((r) => setImmediate(r));
      }
    });
    const failed = Promise.race(writers).then(() => new Error('a writer stopped before the backup'));
    while (recorded < 20) {
      const early = await Promise.race([failed, new Promise((r) => setTimeout(r, 5))]);
      if (early instanceof Error) throw early;
    }
    const before = recorded;
    const file = path.join(db.dir, 'busy.backup');
    let backup: BackupResult;
    try {
      backup = await backupDatabase(file, { url: db.url });
      // A few more after it: the file must not take in anything recorded after its snapshot.
      const done = recorded;
      while (recorded < done + 10) await new Promise((r) => setTimeout(r, 5));
    } finally {
      stop = true;
      await Promise.all(writers);
    }
    const after = await lastEventSeq(core.db.kysely);
    // Payments went on being recorded while the backup ran, and after the point it copied.
    expect(recorded).toBeGreaterThan(before);
    expect(after).toBeGreaterThan(backup.lastEventSeq);

    await closeCore(core);
    core = null;
    await db.destroy();
    const restored = await restoreDatabase(file, { url: db.url });
    core = await openCore({ url: db.url });
    expect(await lastEventSeq(core.db.kysely)).toBe(backup.lastEventSeq);
    expect(await tableCounts(core)).toEqual(asCounts(backup));
    expect(asCounts(restored)).toEqual(asCounts(backup));
    // Each payment in the backup came with its event, and no event without its payment.
    const payments = await core.db.kysely.selectFrom('payments').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    const events = await core.db.kysely.selectFrom('events').where('event_type', '=', 'payment.recorded').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
    expect(Number(payments.n)).toBe(Number(events.n));
  }, 240_000);

  it('restore refuses a database in use, a file that is no cashloop backup, a damaged one and one from a newer schema, and changes nothing', async () => {
    core = await demoCore(db, 4, 1);
    const good = path.join(db.dir, 'good.backup');
    await backupDatabase(good, { url: db.url });
    await expectDomainError(backupDatabase(good, { url: db.url }), 'conflict', 'no_overwrite');
    if (testDialect === 'sqlite') await expectDomainError(backupDatabase(db.url.slice('sqlite:'.length), { url: db.url, overwrite: true }), 'invalid', 'not_the_database');

    // A server (here: this open core) still uses the database.
    await expectDomainError(restoreDatabase(good, { url: db.url }), 'conflict', 'not_in_use');

    // From a newer cashloop: a migration this program does not know.
    await sql`insert into schema_migrations (version, applied_at) values ('9999_from_the_future', '2030-01-01T00:00:00Z')`.execute(core.db.kysely);
    const newer = path.join(db.dir, 'newer.backup');
    await backupDatabase(newer, { url: db.url });
    await sql`delete from schema_migrations where version = '9999_from_the_future'`.execute(core.db.kysely);
    // Work done since the backups: a restore that went even part of the way would lose it.
    const customerId = (await core.db.kysely.selectFrom('customers').select('id').orderBy('id').executeTakeFirstOrThrow()).id;
    await recordPayment(core, { customerId, amount: '1.00' }, 'test');
    const seq = await lastEventSeq(core.db.kysely);
    const counts = await tableCounts(core);
    await closeCore(core);
    core = null;

    const notBackup = path.join(db.dir, 'notes.txt');
    fs.writeFileSync(notBackup, 'these are not the rows you are looking for\n'.repeat(10));
    const otherKind = path.join(db.dir, 'other-kind.backup');
    if (testDialect === 'sqlite') fs.writeFileSync(otherKind, Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(200)]));
    else new SQLite(otherKind).exec('create table t (x)').close();
    const damaged = path.join(db.dir, 'damaged.backup');
    fs.copyFileSync(good, damaged);
    fs.truncateSync(damaged, Math.floor(fs.statSync(good).size / 2));

    await expectDomainError(restoreDatabase(path.join(db.dir, 'missing.backup'), { url: db.url }), 'not_found', 'exists');
    if (testDialect === 'postgres') await expectDomainError(restoreDatabase(good, { url: db.url.replace(/\/[^/]+$/, '/cashloop_no_such_database') }), 'not_found', 'exists');
    const e1 = await expectDomainError(restoreDatabase(notBackup, { url: db.url }), 'invalid', 'backup_matches_database');
    expect(e1.message).toContain('not a cashloop backup');
    const e2 = await expectDomainError(restoreDatabase(otherKind, { url: db.url }), 'invalid', 'backup_matches_database');
    expect(e2.message).toContain(testDialect === 'sqlite' ? 'is a PostgreSQL backup' : 'is an SQLite backup');
    const e3 = await expectDomainError(restoreDatabase(newer, { url: db.url }), 'invalid', 'schema_not_newer');
    expect(e3.message).toContain('9999_from_the_future');
    if (testDialect === 'sqlite') {
      await expectDomainError(restoreDatabase(damaged, { url: db.url }), 'invalid', 'integrity_check');
    } else {
      // Cut in half, the archive's table of contents is gone: refused before anything starts.
      const e4 = await expectDomainError(restoreDatabase(damaged, { url: db.url }), 'invalid', 'cashloop_backup');
      expect(e4.message).toContain('is damaged or not a pg_dump archive');
      // Cut near its end, it still lists its contents and the restore starts: dropping and
      // refilling tables until the data runs out. All of it is rolled back.
      const cut = path.join(db.dir, 'cut-short.backup');
      fs.copyFileSync(good, cut);
      fs.truncateSync(cut, fs.statSync(good).size - 16);
      const error = await restoreDatabase(cut, { url: db.url }).then(
        () => null,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/^the restore failed and changed nothing \(it runs as one transaction\): pg_restore exited with code 1/);
    }

    core = await openCore({ url: db.url });
    expect(await lastEventSeq(core.db.kysely)).toBe(seq);
    expect(await tableCounts(core)).toEqual(counts);
    if (testDialect === 'sqlite') expect(fs.readdirSync(db.dir).filter((f) => f.includes('.replaced-') || f.startsWith('.cashloop.db'))).toEqual([]);
  }, 240_000);

  it('a backup from before the last migration restores over a database at the current schema and is brought up to date', async () => {
    // A database as the previous release left it: every migration but the last.
    const old = await scratchDatabase();
    extra.push(old);
    const conn = connect({ url: old.url });
    const k = conn.kysely as unknown as Kysely<unknown>;
    await sql`create table schema_migrations (version text primary key, applied_at text not null)`.execute(k);
    for (const m of migrations.slice(0, -1)) {
      await k.transaction().execute(async (trx) => {
        await m.up(trx, conn.dialect === 'postgres');
        await sql`insert into schema_migrations (version, applied_at) values (${m.version}, '2025-01-01T00:00:00Z')`.execute(trx);
      });
    }
    await sql`insert into customers (name, country, currency, payment_terms_days, credit_limit_minor, status, created_at, updated_at) values ('Before the upgrade', 'DE', 'EUR', 30, 100000, 'active', '2025-01-01', '2025-01-01')`.execute(k);
    await sql`insert into events (event_type, aggregate_type, aggregate_id, payload, actor, occurred_at) values ('customer.created', 'customer', '1', '{}', 'test', '2025-01-01T00:00:00Z')`.execute(k);
    await conn.close();
    const file = path.join(old.dir, 'before-upgrade.backup');
    const backup = await backupDatabase(file, { url: old.url });
    expect(backup.schema).toBe(migrations.at(-2)!.version);

    // The database after the upgrade, with work done since; then the backup is restored over it.
    core = await demoCore(db, 3, 1);
    await closeCore(core);
    core = null;
    const restored = await restoreDatabase(file, { url: db.url });
    expect(restored.migrationsApplied).toEqual([migrations.at(-1)!.version]);
    expect(restored.schema).toBe(migrations.at(-1)!.version);
    expect(restored.lastEventSeq).toBe(1);
    // Tables only a later migration creates are reported as dropped (and made again by the migration); the backup's own never.
    expect(restored.tablesDropped.filter((t) => ['customers', 'orders', 'invoices', 'payments', 'events'].includes(t))).toEqual([]);
    core = await openCore({ url: db.url });
    expect((await core.db.kysely.selectFrom('customers').select('name').execute()).map((r) => r.name)).toEqual(['Before the upgrade']);
    expect(await lastEventSeq(core.db.kysely)).toBe(1);
  }, 240_000);

  it.skipIf(testDialect !== 'postgres')('without the PostgreSQL client tools, backup and restore print the procedure by hand and exit non-zero', async () => {
    core = await demoCore(db, 2, 1);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-nopath-'));
    try {
      const env = { DATABASE_URL: db.url, CASHLOOP_DATA_DIR: db.dir, PATH: empty };
      const file = path.join(db.dir, 'by-hand.backup');
      const b = await cli(['backup', file], env);
      expect(b.code).toBe(1);
      expect(b.stderr).toContain('pg_dump was not found');
      expect(b.stderr).toContain(`pg_dump --format=custom --file=${file} "$DATABASE_URL"`);
      expect(fs.existsSync(file)).toBe(false);
      expect(fs.readdirSync(db.dir).filter((f) => f.includes('by-hand'))).toEqual([]);
      const r = await cli(['restore', file], { ...env, PATH: empty });
      expect(r.code).toBe(3); // the file does not exist: that is said first
      fs.writeFileSync(file, Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(100)]));
      const r2 = await cli(['restore', file], env);
      expect(r2.code).toBe(1);
      expect(r2.stderr).toContain(`pg_restore --clean --if-exists --single-transaction --no-owner --no-privileges --dbname="$DATABASE_URL" ${file}`);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  }, 120_000);
});
