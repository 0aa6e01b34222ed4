import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { PRIVATE_MODE } from '../shared/files.ts';
import { connect } from './connection.ts';
import { migrate } from './migrate.ts';
import {
  checkBackupSchema,
  commitFile,
  contents,
  fileMode,
  latestVersion,
  privateTempFile,
  syncFolder,
  type BackupResult,
  type DatabaseContents,
  type RestoreResult,
} from './backup-files.ts';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/**
 * Backs up the SQLite database with SQLite's online backup API while servers and commands
 * keep using it. The copy is made in one step, inside one read transaction: in WAL mode a
 * reader does not hold writers up, and a backup made in small steps starts over whenever
 * another process commits, which on a busy server it might never stop doing.
 */
export async function backupSqlite(source: string, out: string, progress?: (line: string) => void): Promise<BackupResult> {
  const t0 = performance.now();
  if (!fs.existsSync(source)) throw notFound('database', source);
  const tmp = privateTempFile(out, 'partial');
  try {
    const db = new SQLite(source, { fileMustExist: true });
    try {
      db.pragma('busy_timeout = 10000');
      progress?.(`backing up ${source} (${mb(fs.statSync(source).size)}) to ${out}`);
      await db.backup(tmp, { progress: () => 0x7fffffff });
    } finally {
      db.close();
    }
    progress?.('checking the copy (integrity check)');
    const copy = new SQLite(tmp, { fileMustExist: true });
    let found: DatabaseContents;
    try {
      // The copy carries the source's WAL flag; a backup is one self-contained file instead,
      // which opens read-only without creating journal files beside it.
      copy.pragma('journal_mode = DELETE');
      checkIntegrity(copy, tmp);
      found = readContents(copy, source);
    } finally {
      copy.close();
    }
    commitFile(tmp, out);
    return { dialect: 'sqlite', database: source, file: out, bytes: fs.statSync(out).size, mode: fileMode(out), ...found, ms: Math.round(performance.now() - t0) };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * Replaces the SQLite database with a backup, atomically: the backup is copied beside the
 * database, checked (integrity, a cashloop schema no newer than this program's), brought up
 * to this program's schema, and renamed over the database in one step. The database it
 * replaces is kept beside it (`cashloop.db.replaced-<time>`). Refused while another process
 * has the database open: its connection would go on writing into the replaced file.
 */
export async function restoreSqlite(from: string, dbFile: string, progress?: (line: string) => void): Promise<RestoreResult> {
  const t0 = performance.now();
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  const tmp = privateTempFile(dbFile, 'restore');
  try {
    progress?.(`checking ${from} (${mb(fs.statSync(from).size)})`);
    fs.copyFileSync(from, tmp);
    let versions: string[] | null;
    const copy = openChecked(tmp, from);
    try {
      checkIntegrity(copy, from);
      versions = migrationVersions(copy);
    } finally {
      copy.close();
    }
    checkBackupSchema(from, versions);
    const db = connect({ url: `sqlite:${tmp}` });
    let applied: string[];
    try {
      applied = (await migrate(db)).applied;
    } finally {
      await db.close();
    }
    if (applied.length > 0) progress?.(`applied migrations the backup did not have: ${applied.join(', ')}`);
    const restored = new SQLite(tmp, { fileMustExist: true });
    let found: DatabaseContents;
    try {
      found = readContents(restored, dbFile);
    } finally {
      restored.close();
    }
    for (const leftover of [`${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(leftover, { force: true });

    const keptAt = fs.existsSync(dbFile) || fs.existsSync(`${dbFile}-wal`) ? `${dbFile}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}` : null;
    if (fs.existsSync(dbFile)) {
      quiesce(dbFile);
      // A hard link keeps the old database under its new name while the path still points to
      // it: there is no moment without a database at the path (a command starting then
      // would create an empty one).
      try {
        fs.linkSync(dbFile, keptAt!);
      } catch {
        fs.copyFileSync(dbFile, keptAt!);
      }
      fs.chmodSync(keptAt!, PRIVATE_MODE);
    }
    // Journal files by the database's name belong to the file being replaced: left there,
    // SQLite would play them into the restored one.
    for (const suffix of ['-wal', '-shm', '-journal']) {
      if (fs.existsSync(`${dbFile}${suffix}`)) fs.renameSync(`${dbFile}${suffix}`, `${keptAt}${suffix}`);
    }
    progress?.(`replacing ${dbFile}${keptAt ? ` (the database it replaces is kept as ${keptAt})` : ''}`);
    commitFile(tmp, dbFile);
    syncFolder(path.dirname(dbFile));
    return {
      dialect: 'sqlite',
      database: dbFile,
      file: from,
      bytes: fs.statSync(from).size,
      ...found,
      migrationsApplied: applied,
      replacedKeptAt: keptAt,
      tablesDropped: [],
      ms: Math.round(performance.now() - t0),
    };
  } finally {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`, `${tmp}-journal`]) fs.rmSync(f, { force: true });
  }
}

/**
 * Makes sure no other process has the database open, and leaves it as one file. Leaving WAL
 * mode needs every other connection closed (an idle one holds a lock on the WAL index), so
 * SQLite refusing it is the sign that a server, a scheduler or a command still uses the file;
 * when it succeeds, the WAL has been written into the file and removed. A file SQLite cannot
 * read at all (a damaged database, the usual reason to restore) is simply replaced.
 */
function quiesce(dbFile: string): void {
  let db: SQLite.Database | undefined;
  try {
    db = new SQLite(dbFile, { fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    const mode = db.pragma('journal_mode = DELETE', { simple: true });
    if (mode !== 'delete') throw Object.assign(new Error(`journal mode stayed ${String(mode)}`), { code: 'SQLITE_BUSY' });
  } catch (error) {
    const code = String((error as { code?: unknown }).code ?? '');
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw conflict(`the database ${dbFile} is in use by another process (a running server, scheduler or command): stop it, then restore again`, {
        entity: 'database',
        id: dbFile,
        rule: 'not_in_use',
      });
    }
  } finally {
    db?.close();
  }
}

function openChecked(file: string, shownAs: string): SQLite.Database {
  try {
    const db = new SQLite(file, { fileMustExist: true });
    db.pragma('schema_version');
    return db;
  } catch (error) {
    // Its first bytes say SQLite (checked before): a file SQLite cannot open past them is damaged.
    throw invalid(`${shownAs} is damaged: SQLite cannot read it (${(error as Error).message})`, { field: 'file', value: shownAs, rule: 'integrity_check' });
  }
}

function checkIntegrity(db: SQLite.Database, shownAs: string): void {
  let problems: string[];
  try {
    problems = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check);
  } catch (error) {
    problems = [(error as Error).message];
  }
  if (problems.length !== 1 || problems[0] !== 'ok') {
    throw invalid(`${shownAs} is damaged: the SQLite integrity check found ${problems.length} problem(s), the first: ${problems[0]}`, { field: 'file', value: shownAs, rule: 'integrity_check' });
  }
}

/** The migrations recorded in a database, or null when it has no cashloop schema at all. */
function migrationVersions(db: SQLite.Database): string[] | null {
  const tables = new Set((db.prepare(`select name from sqlite_master where type = 'table'`).all() as { name: string }[]).map((r) => r.name));
  if (!tables.has('schema_migrations') || !tables.has('events')) return null;
  return (db.prepare('select version from schema_migrations').all() as { version: string }[]).map((r) => r.version);
}

function readContents(db: SQLite.Database, database: string): DatabaseContents {
  const versions = migrationVersions(db);
  if (versions === null) throw invalid(`the database ${database} has no cashloop schema (no schema_migrations and events tables): run cashloop migrate first`, { entity: 'database', id: database, rule: 'cashloop_schema' });
  const schema = latestVersion(versions);
  const names = (db.prepare(`select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name`).all() as { name: string }[]).map((r) => r.name);
  const tables = names.map((table) => ({ table, rows: Number((db.prepare(`select count(*) as n from "${table.replaceAll('"', '""')}"`).get() as { n: number }).n) }));
  const seq = db.prepare('select max(seq) as seq from events').get() as { seq: number | null };
  return contents(schema, Number(seq.seq ?? 0), tables);
}
