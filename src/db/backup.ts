import fs from 'node:fs';
import path from 'node:path';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { PRIVATE_MODE } from '../shared/files.ts';
import { dataDir } from './connection.ts';
import { migrations } from './migrate.ts';

/**
 * Backups of the core database and their restore (`cashloop backup FILE`, `cashloop restore
 * FILE`). This module holds what both databases share: which database is configured, what a
 * backup is said to contain, the checks a backup must pass before it replaces anything, and
 * how a file is written so that it appears whole or not at all. The work per database is in
 * `backup-sqlite.ts` (SQLite's online backup API) and `backup-postgres.ts` (pg_dump and
 * pg_restore).
 */

/** The configured core database, resolved the way `connect()` resolves it. */
export type BackupTarget = { dialect: 'sqlite'; file: string } | { dialect: 'postgres'; url: string; location: string };

export interface TableCount {
  table: string;
  rows: number;
}

/** What a backup holds, or what a restore put back: read from the data itself, not assumed. */
export interface DatabaseContents {
  /** Latest migration the data carries (`schema_migrations`). */
  schema: string | null;
  /** Highest event sequence number: everything up to it is in the backup. */
  lastEventSeq: number;
  tables: TableCount[];
  rows: number;
}

export interface BackupResult extends DatabaseContents {
  dialect: 'sqlite' | 'postgres';
  /** The database backed up: a file, or the PostgreSQL URL without its password. */
  database: string;
  file: string;
  bytes: number;
  /** File mode of the backup, as octal text (`0600`). */
  mode: string;
  ms: number;
}

export interface RestoreResult extends DatabaseContents {
  dialect: 'sqlite' | 'postgres';
  database: string;
  file: string;
  bytes: number;
  /** Migrations of this program the backup did not have yet, applied after the restore. */
  migrationsApplied: string[];
  /** SQLite: where the database that was replaced was kept (null when there was none). */
  replacedKeptAt: string | null;
  /** PostgreSQL: tables the database had that the backup does not, dropped after the restore. */
  tablesDropped: string[];
  ms: number;
}

export interface BackupOptions {
  /** Database URL; default `DATABASE_URL`, else the SQLite file in the data directory. */
  url?: string;
  dataDir?: string;
  /** Replace `file` if it exists (a backup never overwrites one unless asked). */
  overwrite?: boolean;
  /** Progress lines (what is being done now); the result says what was done. */
  progress?: (line: string) => void;
}

export type RestoreOptions = Omit<BackupOptions, 'overwrite'>;

/** Which database the configuration points at (the same rule as `connect()`). */
export function backupTarget(options: { url?: string; dataDir?: string } = {}): BackupTarget {
  const url = options.url ?? process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) return { dialect: 'postgres', url, location: url.replace(/:[^:@/]*@/, ':***@') };
  const file = url ? url.replace(/^sqlite:/, '') : path.join(options.dataDir ?? dataDir(), 'cashloop.db');
  if (file === ':memory:') throw invalid('an in-memory database cannot be backed up or restored', { field: 'DATABASE_URL', value: url, rule: 'file_database' });
  return { dialect: 'sqlite', file: path.resolve(file) };
}

/** Writes a backup of the configured database to `file` (mode 0600, complete or absent). */
export async function backupDatabase(file: string, options: BackupOptions = {}): Promise<BackupResult> {
  const target = backupTarget(options);
  const out = checkBackupDestination(file, target, options.overwrite === true);
  if (target.dialect === 'sqlite') {
    const { backupSqlite } = await import('./backup-sqlite.ts');
    return backupSqlite(target.file, out, options.progress);
  }
  const { backupPostgres } = await import('./backup-postgres.ts');
  return backupPostgres(target, out, options.progress);
}

/** Replaces the configured database with the content of a backup made by `backupDatabase`. */
export async function restoreDatabase(file: string, options: RestoreOptions = {}): Promise<RestoreResult> {
  const target = backupTarget(options);
  const from = path.resolve(file);
  if (!fs.existsSync(from) || !fs.statSync(from).isFile()) throw notFound('backup file', from);
  const kind = backupKind(from);
  if (target.dialect === 'sqlite') {
    if (kind !== 'sqlite') throw notThisDatabase(from, kind, `this cashloop uses the SQLite file ${target.file}; to restore into PostgreSQL set DATABASE_URL to its database`);
    const { restoreSqlite } = await import('./backup-sqlite.ts');
    return restoreSqlite(from, target.file, options.progress);
  }
  if (kind !== 'postgres') throw notThisDatabase(from, kind, `this cashloop uses PostgreSQL (${target.location}); to restore an SQLite backup unset DATABASE_URL`);
  const { restorePostgres } = await import('./backup-postgres.ts');
  return restorePostgres(from, target, options.progress);
}

/** What a file is, from its first bytes: an SQLite database, a pg_dump custom archive, or neither. */
export function backupKind(file: string): 'sqlite' | 'postgres' | 'other' {
  const head = Buffer.alloc(16);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 16, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head.toString('latin1') === 'SQLite format 3\u0000') return 'sqlite';
  if (head.subarray(0, 5).toString('latin1') === 'PGDMP') return 'postgres';
  return 'other';
}

function notThisDatabase(file: string, kind: 'sqlite' | 'postgres' | 'other', hint: string) {
  const what = kind === 'sqlite' ? 'an SQLite backup' : kind === 'postgres' ? 'a PostgreSQL backup (pg_dump custom format)' : 'not a cashloop backup (neither an SQLite database nor a pg_dump custom archive)';
  return invalid(`${file} is ${what}; ${hint}`, { field: 'file', value: file, rule: 'backup_matches_database' });
}

/**
 * A backup's migrations must all be known to this program: a backup made by a newer
 * cashloop may hold tables and columns this one would misread, so it is refused.
 * Returns the backup's latest migration.
 */
export function checkBackupSchema(file: string, versions: string[] | null): string | null {
  if (versions === null) {
    throw invalid(`${file} is not a cashloop backup: it has no schema_migrations and events tables`, { field: 'file', value: file, rule: 'cashloop_backup' });
  }
  const known = new Set(migrations.map((m) => m.version));
  const unknown = versions.filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw invalid(
      `${file} was made by a newer cashloop: its schema has migration${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}, which this program (schema ${migrations.at(-1)?.version}) does not know; restore it with that version of cashloop or a later one`,
      { field: 'file', value: file, rule: 'schema_not_newer' },
    );
  }
  return latestVersion(versions);
}

/** The latest of a database's migrations (versions are numbered, `0008_collections`). */
export function latestVersion(versions: string[] | null): string | null {
  return versions ? ([...versions].sort().at(-1) ?? null) : null;
}

/**
 * Where a backup goes: a file that does not exist yet (or `overwrite`), in an existing
 * folder, and never the database itself or its journal files.
 */
function checkBackupDestination(file: string, target: BackupTarget, overwrite: boolean): string {
  const out = path.resolve(file);
  if (target.dialect === 'sqlite' && [target.file, `${target.file}-wal`, `${target.file}-shm`, `${target.file}-journal`].includes(out)) {
    throw invalid(`the backup cannot be written over the database it backs up (${out}); name another file`, { field: 'file', value: file, rule: 'not_the_database' });
  }
  if (!fs.existsSync(path.dirname(out)) || !fs.statSync(path.dirname(out)).isDirectory()) {
    throw invalid(`folder ${path.dirname(out)} does not exist; create it first or name a file in another folder`, { field: 'file', value: file, rule: 'folder_exists' });
  }
  if (fs.existsSync(out)) {
    if (!overwrite) throw conflict(`${out} already exists; name a new file, or pass --overwrite to replace it`, { entity: 'backup file', id: out, rule: 'no_overwrite' });
    if (!fs.statSync(out).isFile()) throw invalid(`${out} is not a file`, { field: 'file', value: file, rule: 'regular_file' });
  }
  return out;
}

/**
 * An empty file that only its owner can read (0600), created exclusively beside `final`,
 * for a backup or a restore to be written into and then renamed into place.
 */
export function privateTempFile(final: string, label: string): string {
  const tmp = path.join(path.dirname(final), `.${path.basename(final)}.${label}-${process.pid}`);
  fs.rmSync(tmp, { force: true });
  fs.closeSync(fs.openSync(tmp, 'wx', PRIVATE_MODE));
  return tmp;
}

/**
 * Moves a finished file into place: its data synced, mode 0600, then one rename (a reader
 * sees the old file or the new one, never half of either), then the folder synced so the
 * rename itself survives a power cut.
 */
export function commitFile(tmp: string, final: string): void {
  fs.chmodSync(tmp, PRIVATE_MODE);
  const fd = fs.openSync(tmp, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, final);
  syncFolder(path.dirname(final));
}

export function syncFolder(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function fileMode(file: string): string {
  return `0${(fs.statSync(file).mode & 0o777).toString(8)}`;
}

/** Sums table counts into the contents record. */
export function contents(schema: string | null, lastEventSeq: number, tables: TableCount[]): DatabaseContents {
  const sorted = [...tables].sort((a, b) => a.table.localeCompare(b.table));
  return { schema, lastEventSeq, tables: sorted, rows: sorted.reduce((s, t) => s + t.rows, 0) };
}
