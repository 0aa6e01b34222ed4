import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver } from 'kysely';
import type { Database } from './schema.ts';
import { invalid } from '../shared/errors.ts';
import { createPrivate, keepPrivate } from '../shared/files.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: DialectName;
  /** Where the data lives: a file path for SQLite, the URL without password for PostgreSQL. */
  location: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** `postgres://…` selects PostgreSQL; `sqlite:PATH` or a plain path selects SQLite. */
  url?: string;
  dataDir?: string;
  /** PostgreSQL connections kept by this process; default `CASHLOOP_DB_POOL_SIZE`, else 10. */
  poolSize?: number;
}

/** The PostgreSQL pool size: `CASHLOOP_DB_POOL_SIZE` (1–500), default 10. */
export function poolSizeFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.CASHLOOP_DB_POOL_SIZE;
  if (text === undefined || text === '') return 10;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 500) throw new Error(`CASHLOOP_DB_POOL_SIZE must be a whole number from 1 to 500, got ${JSON.stringify(text)}`);
  return n;
}

/** The data directory: `CASHLOOP_DATA_DIR`, default `./data`. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.CASHLOOP_DATA_DIR ?? 'data');
}

// PostgreSQL returns 64-bit integers as strings; money fits in a double's 53-bit integer
// range (±90 trillion in cents), so read them as numbers and refuse anything larger.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === NUMERIC_OID) {
      return (value: string) => {
        const n = Number(value);
        if (oid === INT8_OID && !Number.isSafeInteger(n)) throw new Error(`integer ${value} exceeds the safe range`);
        return n;
      };
    }
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/**
 * SQLite transactions start with BEGIN IMMEDIATE: the write lock is taken up front, so a
 * second process (the CLI beside a running server) waits for it under busy_timeout instead
 * of failing midway when its read snapshot turns stale.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}
class ImmediateSqliteDialect extends SqliteDialect {
  readonly #database: SQLite.Database;
  constructor(database: SQLite.Database) {
    super({ database });
    this.#database = database;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver({ database: this.#database });
  }
}

/**
 * Kysely's SQLite driver prepares every query afresh; preparing cost about a quarter of the
 * CPU time of a service call (profile in docs/demo.md). The core's queries come from a few
 * hundred shapes, so prepared statements are kept by SQL text (most recently used first,
 * at most `size`). A statement still being iterated (a streaming read) is busy and cannot be
 * shared: that caller gets a fresh one. SQLite re-prepares a cached statement by itself
 * when the schema changes.
 */
export function cacheStatements(database: SQLite.Database, size = 1000): SQLite.Database {
  const prepare = database.prepare.bind(database);
  const cache = new Map<string, SQLite.Statement>();
  database.prepare = ((source: string) => {
    const hit = cache.get(source);
    if (hit) {
      if (hit.busy) return prepare(source);
      cache.delete(source);
      cache.set(source, hit);
      return hit;
    }
    const stmt = prepare(source);
    cache.set(source, stmt);
    if (cache.size > size) cache.delete(cache.keys().next().value!);
    return stmt;
  }) as SQLite.Database['prepare'];
  return database;
}

/**
 * Opens the core database: PostgreSQL when `DATABASE_URL` (or `url`) is a postgres URL,
 * otherwise the SQLite file `cashloop.db` in the data directory, in WAL mode.
 */
export function connect(options: ConnectOptions = {}): Db {
  const url = options.url ?? process.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? poolSizeFromEnv(), types: pgTypes });
    // An idle connection the server closes (restart, admin command) is dropped from the pool
    // and replaced on next use; without a listener Node would end the process.
    pool.on('error', () => undefined);
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      kysely,
      dialect: 'postgres',
      location: url.replace(/:[^:@/]*@/, ':***@'),
      close: () => kysely.destroy(),
    };
  }
  const file = url ? url.replace(/^sqlite:/, '') : path.join(options.dataDir ?? dataDir(), 'cashloop.db');
  // A bad setting is refused before any file is made.
  const synchronous = sqliteSynchronous();
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    // Owner only (0600), the -wal and -shm files too (SQLite copies the database file's mode;
    // files made before this rule are corrected here).
    createPrivate(file);
    keepPrivate(`${file}-wal`, `${file}-shm`);
  }
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  database.pragma(`synchronous = ${synchronous}`);
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 10000');
  const kysely = new Kysely<Database>({ dialect: new ImmediateSqliteDialect(cacheStatements(database)) });
  return { kysely, dialect: 'sqlite', location: path.resolve(file), close: () => kysely.destroy() };
}

/**
 * How hard SQLite syncs a commit to disk, from `CASHLOOP_SQLITE_SYNCHRONOUS` (default `full`).
 * In WAL mode FULL syncs the log at every commit, so a committed payment survives a power
 * cut or an OS crash; NORMAL syncs only at checkpoints and may lose the last commits then
 * (never corrupting the file). `npm run bench:durability` measures what FULL costs.
 */
export function sqliteSynchronous(env: NodeJS.ProcessEnv = process.env): 'normal' | 'full' | 'extra' {
  const value = (env.CASHLOOP_SQLITE_SYNCHRONOUS ?? 'full').trim().toLowerCase();
  if (value === 'normal' || value === 'full' || value === 'extra') return value;
  throw invalid(`CASHLOOP_SQLITE_SYNCHRONOUS ${JSON.stringify(env.CASHLOOP_SQLITE_SYNCHRONOUS)} is not a SQLite synchronous mode cashloop accepts: use full (default), extra or normal`, {
    field: 'CASHLOOP_SQLITE_SYNCHRONOUS',
    value: env.CASHLOOP_SQLITE_SYNCHRONOUS,
    rule: 'sqlite_synchronous_mode',
  });
}

/** True when the database answers a trivial query. */
export async function ping(db: Db): Promise<boolean> {
  try {
    await sql`select 1`.execute(db.kysely);
    return true;
  } catch {
    return false;
  }
}
