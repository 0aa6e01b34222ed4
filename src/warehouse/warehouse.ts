import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { DomainError } from '../shared/errors.ts';
import { keepPrivate } from '../shared/files.ts';
import { defineMoneyMacros } from './money.ts';

/**
 * Where the warehouse lives inside a data directory. The pipeline writes `warehouse.duckdb`;
 * analysts read the published copies, which a run replaces atomically when it succeeds.
 */
export function warehousePaths(dataDir: string) {
  const published = path.join(dataDir, 'published');
  return {
    warehouse: path.join(dataDir, 'warehouse.duckdb'),
    published,
    snapshot: path.join(published, 'warehouse.duckdb'),
    parquet: path.join(published, 'parquet'),
    locks: path.join(dataDir, 'locks'),
  };
}

/** An open DuckDB file and one connection to it. */
export interface Warehouse {
  conn: DuckDBConnection;
  file: string;
  close(): void;
}

/**
 * How much of the machine DuckDB may use, from the environment:
 *
 * - `CASHLOOP_DUCKDB_MEMORY` (default `1GB`): DuckDB's `memory_limit`. DuckDB takes 80 % of
 *   RAM by default; a pipeline shares its machine with the core. What does not fit spills.
 * - `CASHLOOP_DUCKDB_TEMP` (default `<warehouse file>.tmp`): the `temp_directory` it spills
 *   to (sorts, joins, windows and temporary tables larger than the limit), emptied on close.
 * - `CASHLOOP_DUCKDB_THREADS` (default: DuckDB's, one per core): `threads`.
 *
 * `preserve_insertion_order` is off: no model or copy relies on the order rows were
 * inserted in (every order that matters is an ORDER BY), and keeping it costs memory.
 */
export function duckdbResources(file: string, readOnly = false): Record<string, string> {
  const config: Record<string, string> = {
    memory_limit: process.env.CASHLOOP_DUCKDB_MEMORY || '1GB',
    preserve_insertion_order: 'false',
  };
  if (!readOnly) config.temp_directory = process.env.CASHLOOP_DUCKDB_TEMP || `${file}.tmp`;
  const threads = process.env.CASHLOOP_DUCKDB_THREADS;
  if (threads) {
    if (!/^[1-9][0-9]*$/.test(threads)) throw new DomainError('invalid', `CASHLOOP_DUCKDB_THREADS must be a whole number of threads above zero, not ${threads}`, { field: 'CASHLOOP_DUCKDB_THREADS', value: threads, rule: 'positive_integer' });
    config.threads = threads;
  }
  return config;
}

/** DuckDB's own number of vacuum tasks per checkpoint (its default): checkpoints compact row groups. */
export const VACUUM_TASKS = 100;

/**
 * The storage format a new warehouse file is made in: the first that stores a column with
 * zstd (DuckDB 1.2 and later read it). The landed events' payloads are stored so (see
 * `ensureWarehouseSchema`). Only the file the pipeline writes: the published snapshot and
 * other files a run makes keep DuckDB's default format.
 */
export const WAREHOUSE_STORAGE_VERSION = 'v1.2.0';

/** Whether the open file's storage format can store a column with zstd (a warehouse made before it was the format, or DuckDB's default, cannot). */
export async function storesZstd(conn: DuckDBConnection): Promise<boolean> {
  const tags = (await conn.runAndReadAll(`select cast(tags['storage_version'] as varchar) from duckdb_databases() where database_name = current_database()`)).getRowsJS()[0]?.[0];
  const m = /^v(\d+)\.(\d+)\./.exec(String(tags ?? ''));
  return m !== null && (Number(m[1]) > 1 || (Number(m[1]) === 1 && Number(m[2]) >= 2));
}

/**
 * Opens a DuckDB file. Nothing is ever downloaded: extension auto-install is off, and only
 * the built-in parquet, json and icu extensions are used. With `deferCompaction`, checkpoints
 * do not merge row groups (see `compactWarehouse`). A file that does not exist yet is made in
 * `WAREHOUSE_STORAGE_VERSION`, unless `defaultFormat` (DuckDB's own, as a comparison needs).
 */
export async function openWarehouse(file: string, options: { readOnly?: boolean; deferCompaction?: boolean; defaultFormat?: boolean } = {}): Promise<Warehouse> {
  if (!options.readOnly) fs.mkdirSync(path.dirname(file), { recursive: true });
  const config: Record<string, string> = {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'true',
    ...duckdbResources(file, options.readOnly === true),
  };
  if (options.readOnly) config.access_mode = 'READ_ONLY';
  if (options.deferCompaction) config.max_vacuum_tasks = '0';
  // After the settings are checked: a refused setting leaves no file behind.
  if (!options.readOnly && !options.defaultFormat && !fs.existsSync(file)) await makeWarehouseFile(file);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, config);
  } catch (error) {
    const message = (error as Error).message;
    if (/could not set lock/i.test(message)) {
      throw new DomainError('conflict', `the warehouse ${file} is in use by another pipeline run; try again when it has finished (${message.split('\n')[0]})`, {
        entity: 'warehouse',
        id: file,
        rule: 'single_writer',
      });
    }
    throw asDamaged(error, file, true);
  }
  // The warehouse holds every customer's receivables: owner only (0600). DuckDB makes its
  // files by the umask; its .wal comes and goes with writes and follows the umask.
  if (!options.readOnly) keepPrivate(file, `${file}.wal`);
  const conn = await instance.connect();
  await defineMoneyMacros(conn);
  return {
    conn,
    file,
    close() {
      conn.closeSync();
      instance.closeSync();
    },
  };
}

/** Makes an empty DuckDB file in `WAREHOUSE_STORAGE_VERSION` (an instance's own file takes DuckDB's default format; an attached one takes the format asked). */
async function makeWarehouseFile(file: string): Promise<void> {
  const maker = await DuckDBInstance.create(':memory:', { autoinstall_known_extensions: 'false' });
  const conn = await maker.connect();
  try {
    await conn.run(`attach ${lit(file)} as made (storage_version '${WAREHOUSE_STORAGE_VERSION}')`);
    await conn.run('detach made');
  } finally {
    conn.closeSync();
    maker.closeSync();
  }
}

/**
 * A warehouse file DuckDB cannot read back: cut short, overwritten, failing its checksums, or
 * not a DuckDB file at all. Everything in it can be made again from the core and the
 * extracts, and the message says how, instead of DuckDB's IO error.
 */
export class WarehouseDamagedError extends Error {
  readonly file: string;
  constructor(file: string, cause: unknown) {
    const said = (cause instanceof Error ? cause.message : String(cause)).split('\n')[0];
    super(
      `the warehouse file ${file} is damaged (DuckDB: ${said}); \`cashloop pipeline rebuild\` deletes the warehouse files and builds them again from the core (and extracts); until then the published snapshot and the reports stay as the last good run left them`,
    );
    this.name = 'WarehouseDamagedError';
    this.file = file;
  }
}

// DuckDB's words for a file it cannot read back. A serialization error means the same when
// a file is being opened (its catalog cannot be read), not in the middle of a query.
const DAMAGED = /Corrupt database file|does not match stored checksum|Could not read enough bytes|not a valid DuckDB database file|Failure while replaying WAL|replaying WAL file .* failed/i;
const DAMAGED_AT_OPEN = /Serialization Error|Catalog Error: .*(deseriali[sz]|corrupt)/i;

/** The error as a `WarehouseDamagedError` when it says `file` cannot be read back; otherwise unchanged. */
export function asDamaged(error: unknown, file: string, opening = false): unknown {
  if (error instanceof WarehouseDamagedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // DuckDB names the file when it can; otherwise it is the one being opened or written.
  const named = /(?:from file|The file) "([^"]+)"/.exec(message)?.[1];
  if (DAMAGED.test(message) || (opening && DAMAGED_AT_OPEN.test(message))) return new WarehouseDamagedError(named ?? file, error);
  return error;
}

/** Runs a query and returns its rows as JSON-safe values (BIGINT and DECIMAL as strings). */
export async function rowsJson(conn: DuckDBConnection, sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>) {
  const reader = await conn.runAndReadAll(sql, values);
  return reader.getRowObjectsJson();
}

/** Runs a query and returns its rows as JS values (BIGINT as bigint, DATE as Date). */
export async function rowsJs(conn: DuckDBConnection, sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>) {
  const reader = await conn.runAndReadAll(sql, values);
  return reader.getRowObjectsJS();
}

/** A single number from a one-row, one-column query (counts and sums). */
export async function scalarNumber(conn: DuckDBConnection, sql: string, values?: DuckDBValue[] | Record<string, DuckDBValue>): Promise<number> {
  const reader = await conn.runAndReadAll(sql, values);
  const v = reader.getRowsJS()[0]?.[0];
  return v === null || v === undefined ? 0 : Number(v);
}

/** Runs `fn` in one DuckDB transaction: everything it writes commits together or not at all. */
export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run('begin transaction');
  try {
    const result = await fn();
    await conn.run('commit');
    return result;
  } catch (error) {
    await conn.run('rollback').catch(() => undefined);
    throw error;
  }
}

/** Quotes a string as an SQL literal. */
export function lit(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Quotes an identifier. */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Fault injection for the exactly-once tests: `CASHLOOP_FAULT=<point>` throws at that point,
 * `CASHLOOP_FAULT=<point>:kill` kills the process there (as a power cut would).
 */
export function faultPoint(point: string): void {
  const fault = process.env.CASHLOOP_FAULT;
  if (!fault) return;
  if (fault === `${point}:kill`) process.kill(process.pid, 'SIGKILL');
  if (fault === point) throw new Error(`injected fault at ${point}`);
}
