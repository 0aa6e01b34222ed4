import fs from 'node:fs';
import path from 'node:path';
import { conflict, invalid, notFound } from '../shared/errors.ts';
import { dataDir } from './connection.ts';
import type { BackupResult, BackupTarget, RestoreResult } from './backup-files.ts';

export type { BackupResult, BackupTarget, DatabaseContents, RestoreResult, TableCount } from './backup-files.ts';

/**
 * Backups of the core database and their restore (`cashloop backup FILE`, `cashloop restore
 * FILE`). This module decides which database is configured and which way it is backed up,
 * and checks where a backup goes and what a file to restore is. What both databases share —
 * what a backup is said to contain, the schema check, how a file is written so that it
 * appears whole or not at all — is in `backup-files.ts`; the work per database is in
 * `backup-sqlite.ts` (SQLite's online backup API) and `backup-postgres.ts` (pg_dump and
 * pg_restore).
 */

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
