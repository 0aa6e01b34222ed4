import fs from 'node:fs';
import path from 'node:path';
import { invalid } from '../shared/errors.ts';
import { PRIVATE_MODE } from '../shared/files.ts';
import { migrations } from './migrate.ts';

/**
 * What a backup is, and how its files are written and checked: the part of backups that
 * `backup.ts` (which database, which way) and the work per database (`backup-sqlite.ts`,
 * `backup-postgres.ts`) share, kept apart so the per-database modules that `backup.ts`
 * loads on demand do not import it back.
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
