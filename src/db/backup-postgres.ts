import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { conflict, DomainError, invalid } from '../shared/errors.ts';
import { connect } from './connection.ts';
import { migrate } from './migrate.ts';
import {
  checkBackupSchema,
  commitFile,
  contents,
  fileMode,
  latestVersion,
  privateTempFile,
  type BackupResult,
  type BackupTarget,
  type DatabaseContents,
  type RestoreResult,
} from './backup-files.ts';

type PgTarget = Extract<BackupTarget, { dialect: 'postgres' }>;

/** The PostgreSQL client tools are missing: the message says how to do the same by hand. */
export class MissingToolError extends Error {
  constructor(tool: string, procedure: string[]) {
    super(
      `${tool} was not found (install the PostgreSQL client tools of your server's version, e.g. apt-get install postgresql-client, or set CASHLOOP_PG_BIN to the folder that holds them); nothing was done. By hand:\n${procedure.map((l) => `  ${l}`).join('\n')}`,
    );
    this.name = 'MissingToolError';
  }
}

/** The hand procedures, as printed when a tool is missing and as written in the README. */
export function backupProcedure(file: string): string[] {
  return [`pg_dump --format=custom --file=${quote(file)} "$DATABASE_URL"`, `chmod 600 ${quote(file)}`];
}
export function restoreProcedure(file: string): string[] {
  return [
    '# stop the server and the scheduler first',
    `pg_restore --clean --if-exists --single-transaction --no-owner --no-privileges --dbname="$DATABASE_URL" ${quote(file)}`,
    'cashloop migrate',
  ];
}

/**
 * Backs up the PostgreSQL database with `pg_dump --format=custom`. The counts and the last
 * event number the result reports are read in the very snapshot pg_dump copies (exported
 * from a repeatable-read transaction and handed to it), so they describe the file exactly
 * even while the server keeps taking orders.
 */
export async function backupPostgres(target: PgTarget, out: string, progress?: (line: string) => void): Promise<BackupResult> {
  const t0 = performance.now();
  const pgDump = await findTool('pg_dump', backupProcedure(out));
  const client = await connectClient(target);
  const tmp = privateTempFile(out, 'partial');
  try {
    await client.query('begin isolation level repeatable read read only');
    const snapshot = String((await client.query<{ s: string }>('select pg_export_snapshot() as s')).rows[0]!.s);
    const found = await readContents(client, target.location);
    progress?.(`dumping ${target.location} to ${out} (pg_dump, custom format)`);
    const conn = toolConnection(target.url);
    await runTool(pgDump, ['--format=custom', `--snapshot=${snapshot}`, `--file=${tmp}`, '--no-password', `--dbname=${conn.url}`], conn.env);
    await client.query('commit');
    const pgRestore = await findTool('pg_restore', []).catch(() => null);
    if (pgRestore) {
      progress?.('checking the archive (pg_restore --list)');
      await runTool(pgRestore, ['--list', tmp], process.env);
    }
    commitFile(tmp, out);
    return { dialect: 'postgres', database: target.location, file: out, bytes: fs.statSync(out).size, mode: fileMode(out), ...found, ms: Math.round(performance.now() - t0) };
  } finally {
    fs.rmSync(tmp, { force: true });
    await client.end().catch(() => undefined);
  }
}

/**
 * Restores a pg_dump archive into the configured PostgreSQL database with
 * `pg_restore --clean --if-exists`, in one transaction: it lands whole or not at all.
 * The archive is checked first (a cashloop schema no newer than this program's), and refused
 * while other sessions use the database. Tables the database has that the archive does not
 * (made by a later migration) are dropped in the same transaction, and the migrations the
 * archive lacks are applied after it, so the result is the backup at this program's schema.
 */
export async function restorePostgres(from: string, target: PgTarget, progress?: (line: string) => void): Promise<RestoreResult> {
  const t0 = performance.now();
  const pgRestore = await findTool('pg_restore', restoreProcedure(from));
  const psql = await findTool('psql', restoreProcedure(from));
  progress?.(`checking ${from}`);
  let toc: string;
  try {
    toc = await runTool(pgRestore, ['--list', from], process.env);
  } catch (error) {
    throw invalid(`${from} is damaged or not a pg_dump archive: ${(error as Error).message}`, { field: 'file', value: from, rule: 'cashloop_backup' });
  }
  const archived = new Set([...toc.matchAll(/^\d+; \d+ \d+ TABLE (\S+) (\S+) /gm)].map((m) => m[2]!));
  const versions = archived.has('schema_migrations') && archived.has('events') ? copyRows(await runTool(pgRestore, ['--data-only', '--table=schema_migrations', '--file=-', from], process.env)) : null;
  checkBackupSchema(from, versions);

  const client = await connectClient(target);
  try {
    const others = (
      await client.query<{ n: number; apps: string | null }>(
        `select count(*)::int as n, string_agg(distinct coalesce(nullif(application_name, ''), 'unnamed'), ', ') as apps
         from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
      )
    ).rows[0]!;
    if (others.n > 0) {
      throw conflict(`the database ${target.location} is in use by ${others.n} other session(s) (${others.apps}): stop the server and the scheduler, then restore again`, {
        entity: 'database',
        id: target.location,
        rule: 'not_in_use',
      });
    }
    const schema = String((await client.query<{ s: string }>('select current_schema() as s')).rows[0]!.s);
    const present = await baseTables(client);
    const dropped = present.filter((t) => !archived.has(t));
    if (dropped.length > 0) progress?.(`the database has tables the backup does not (from a later migration); they are dropped in the same transaction: ${dropped.join(', ')}`);
    progress?.(`restoring into ${target.location} (pg_restore --clean --if-exists, applied by psql in one transaction)`);
    await restoreInOneTransaction(
      pgRestore,
      psql,
      from,
      toolConnection(target.url),
      // Every table goes first, in the same transaction: a later migration may have tied a table
      // the backup has to one it does not know (a foreign key its own drops would trip over).
      present.map((t) => `drop table if exists ${ident(schema)}.${ident(t)} cascade;`),
    );
    const db = connect({ url: target.url, poolSize: 1 });
    let applied: string[];
    try {
      applied = (await migrate(db)).applied;
    } finally {
      await db.close();
    }
    if (applied.length > 0) progress?.(`applied migrations the backup did not have: ${applied.join(', ')}`);
    const found = await readContents(client, target.location);
    return {
      dialect: 'postgres',
      database: target.location,
      file: from,
      bytes: fs.statSync(from).size,
      ...found,
      migrationsApplied: applied,
      replacedKeptAt: null,
      tablesDropped: dropped,
      ms: Math.round(performance.now() - t0),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Runs pg_restore's script (`--clean --if-exists`: drop what the backup has, then create and
 * fill it) through psql inside one transaction that is committed only when pg_restore has
 * read the whole archive without error. pg_restore's own `--single-transaction` would do for
 * a backup of the same schema, but a backup older than the database (restoring last night's
 * backup after an upgrade) meets tables it does not know, whose foreign keys stop its drops:
 * those tables are dropped first, in the same transaction, so a failure at any point leaves
 * the database exactly as it was.
 */
function restoreInOneTransaction(pgRestore: string, psql: string, from: string, conn: { url: string; env: NodeJS.ProcessEnv }, prelude: string[]): Promise<void> {
  const script = spawn(pgRestore, ['--clean', '--if-exists', '--no-owner', '--no-privileges', '--file=-', from], { stdio: ['ignore', 'pipe', 'pipe'] });
  const apply = spawn(psql, ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', '--no-password', `--dbname=${conn.url}`], { env: conn.env, stdio: ['pipe', 'ignore', 'pipe'] });
  const ended = (child: ChildProcess, name: string) =>
    new Promise<{ code: number | null; stderr: string; name: string }>((resolve) => {
      const err: Buffer[] = [];
      child.stderr!.on('data', (c: Buffer) => err.push(c));
      child.on('error', (e) => err.push(Buffer.from(e.message)));
      child.on('close', (code) => resolve({ code, name, stderr: Buffer.concat(err).toString('utf8').trim() }));
    });
  const scriptDone = ended(script, 'pg_restore');
  const applyDone = ended(apply, 'psql');
  // psql stopping early (ON_ERROR_STOP) closes its input; its exit code says why.
  apply.stdin!.on('error', () => undefined);
  apply.stdin!.write(`begin;\n${prelude.map((l) => `${l}\n`).join('')}`);
  script.stdout!.pipe(apply.stdin!, { end: false });
  // Without the commit, psql ends its session at the end of its input and the server rolls back.
  void scriptDone.then((r) => apply.stdin!.end(r.code === 0 ? 'commit;\n' : ''));
  return Promise.all([scriptDone, applyDone]).then((results) => {
    const failed = results.filter((r) => r.code !== 0);
    if (failed.length > 0) {
      throw new Error(`the restore failed and changed nothing (it runs as one transaction): ${failed.map((r) => `${r.name} exited with code ${r.code}: ${r.stderr.split('\n').slice(-5).join(' | ')}`).join('; ')}`);
    }
  });
}

async function connectClient(target: PgTarget): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: target.url });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (error) {
    // 3D000: the database named in DATABASE_URL does not exist (a restore goes into an existing one).
    if ((error as { code?: string }).code === '3D000') {
      throw new DomainError('not_found', `the database ${target.location} does not exist; create it first (createdb), then run the command again`, { entity: 'database', id: target.location, rule: 'exists' });
    }
    throw error;
  }
  return client;
}

async function baseTables(client: pg.Client): Promise<string[]> {
  const r = await client.query<{ t: string }>(`select table_name as t from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by 1`);
  return r.rows.map((x) => x.t);
}

async function readContents(client: pg.Client, location: string): Promise<DatabaseContents> {
  const tables = await baseTables(client);
  if (!tables.includes('schema_migrations') || !tables.includes('events')) {
    throw invalid(`the database ${location} has no cashloop schema (no schema_migrations and events tables): run cashloop migrate first`, { entity: 'database', id: location, rule: 'cashloop_schema' });
  }
  const counts = await client.query<{ t: string; n: string }>(tables.map((t) => `select ${lit(t)} as t, count(*) as n from ${ident(t)}`).join(' union all '));
  const versions = (await client.query<{ version: string }>('select version from schema_migrations')).rows.map((r) => r.version);
  const seq = (await client.query<{ seq: string | null }>('select max(seq) as seq from events')).rows[0]!.seq;
  return contents(
    latestVersion(versions),
    Number(seq ?? 0),
    counts.rows.map((r) => ({ table: r.t, rows: Number(r.n) })),
  );
}

/** The rows of the one COPY block in a plain-text dump (first column only). */
function copyRows(script: string): string[] {
  const block = /^COPY [^\n]* FROM stdin;\n([\s\S]*?)^\\\.$/m.exec(script);
  return block ? block[1]!.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t')[0]!) : [];
}

/**
 * The URL a tool connects with, and its environment: the password travels in PGPASSWORD,
 * not on the command line, where any user of the machine could read it.
 */
function toolConnection(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (u.password) {
    env.PGPASSWORD = decodeURIComponent(u.password);
    u.password = '';
  }
  return { url: u.toString(), env };
}

/** The tool's path (`CASHLOOP_PG_BIN/<tool>`, else from PATH) once it has answered `--version`. */
async function findTool(tool: string, procedure: string[]): Promise<string> {
  const bin = process.env.CASHLOOP_PG_BIN ? path.join(process.env.CASHLOOP_PG_BIN, tool) : tool;
  try {
    await runTool(bin, ['--version'], process.env);
    return bin;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingToolError(tool, procedure);
    throw error;
  }
}

/** Runs a client tool; resolves with its stdout, rejects with the end of its stderr. */
function runTool(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${path.basename(bin)} exited with code ${code}: ${Buffer.concat(err).toString('utf8').trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

function quote(s: string): string {
  return /^[\w./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}
