import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { faultPoint, ident, lit, rowsJson } from '../src/warehouse/warehouse.ts';
import { warehousePaths } from '../src/warehouse/warehouse.ts';
import { partFilter } from './transform/models.ts';
import { keepPrivate } from '../src/shared/files.ts';

export interface PublishResult {
  snapshot: string;
  parquet: string;
  tables: string[];
  /** Tables whose published copies were written (in whole or in part) this time. */
  tablesChanged: string[];
  /** Parts written into the Parquet folder; the others were kept as published (hard links to the previous folder's files). */
  partsWritten: number;
  partsKept: number;
  /** The Parquet version folder the snapshot's views read (`published/.parquet-<run>`). */
  parquetVersion: string;
  /** Where the publish's time went, ms: finding the parts, the Parquet folder, the snapshot. */
  ms: { parts: number; parquet: number; snapshot: number };
  /** Each table whose Parquet was written: its parts written and the ms they took. */
  written: { table: string; parts: number; ms: number }[];
}

/**
 * How long a Parquet version folder is kept after the next publish replaced it: a reader that
 * opened the snapshot before then (its views name that folder) can read on for this long.
 * The folder of the publish before the current one is kept whatever its age.
 */
export const KEEP_REPLACED_PARQUET_MS = 60 * 60 * 1000;

/** The schemas analysts read; raw, staging and ops stay inside the warehouse file. */
export const PUBLIC_SCHEMAS = ['marts', 'metrics', 'forecast'];
/** The run log tables published beside them (small: always copied whole). */
const OPS_TABLES = ['ops.pipeline_runs', 'ops.reconciliation', 'ops.extract_loads'];
/** The layout of the Parquet folders this code writes (see `Manifest.layout`). */
const LAYOUT = 'hive-exact';

/** A public table as it is now: how it splits into parts, each part's version, and its columns. */
interface TableParts {
  table: string;
  /** Date column of monthly parts, or null for one part. */
  column: string | null;
  /** part → version (the run that last changed it, or a content fingerprint). */
  parts: Map<string, string>;
  /** Column names and types: a different one republishes the table whole. */
  columns: string;
  /** The same, one entry per column. */
  columnList: { name: string; type: string }[];
}

/** What a Parquet version folder holds, in its `_manifest.json`. */
interface Manifest {
  run: string;
  /**
   * `hive-exact` since HUGEINT columns are written as DECIMAL(38,0) (exact, where DuckDB's Parquet writer made them DOUBLE);
   * `hive` since the monthly parts moved into `<column>_month=YYYY-MM/` folders; older manifests have none. A folder of
   * another layout than the current one is rewritten whole.
   */
  layout?: string;
  tables: Record<string, { column: string | null; columns: string; parts: Record<string, { version: string; files: string[] }> }>;
}

/**
 * Publishes what the run built, copying only what changed since the last publish: a table
 * is published in parts (one per month of a date column for the large tables, else one),
 * and a part whose version (the run that last changed it, see `ops.table_parts`) is the
 * published one is kept as it is.
 *
 * - Parquet: a new folder `published/.parquet-<run>` gets the changed parts written and the
 *   unchanged ones hard-linked from the previous folder; then the symbolic link
 *   `published/parquet` is switched to it by rename.
 * - Snapshot: `published/warehouse.duckdb` is a small DuckDB file of views, one per public
 *   table, over the files of that Parquet folder (absolute paths; the table and column
 *   comments are on the views), with the run log tables (`ops.*`, small) copied in. It is
 *   written afresh under a temporary name each time — it holds no rows of the marts, so it
 *   costs next to nothing — and renamed over `warehouse.duckdb`.
 *
 * Both appear by rename, so a reader sees the previous complete set or the new one, never
 * half of either. A reader that has the snapshot open keeps reading the Parquet folder its
 * views name: a folder is kept while it is current, while it is the one before the current
 * one, and for `KEEP_REPLACED_PARQUET_MS` after a later publish replaced it. A run killed at
 * any point leaves the previous copies in place (its leftovers are removed next time).
 */
export async function publish(conn: DuckDBConnection, dataDir: string, runId: string, beforeSnapshot?: () => Promise<void>): Promise<PublishResult> {
  const paths = warehousePaths(dataDir);
  fs.mkdirSync(paths.published, { recursive: true });
  const t0 = performance.now();
  const current = await currentParts(conn);
  const tables = current.map((t) => t.table);
  const t1 = performance.now();
  const parquet = await publishParquet(conn, paths.published, paths.parquet, runId, current);
  const t2 = performance.now();
  await beforeSnapshot?.();
  await publishSnapshot(conn, paths.snapshot, runId, current, parquet);
  removeLeftovers(paths.published, parquet.keep);
  const t3 = performance.now();
  const changed = new Set(parquet.tablesChanged);
  return {
    snapshot: paths.snapshot,
    parquet: paths.parquet,
    tables,
    tablesChanged: tables.filter((t) => changed.has(t)),
    partsWritten: parquet.written,
    partsKept: parquet.kept,
    parquetVersion: parquet.dir,
    written: parquet.timings,
    ms: { parts: Math.round(t1 - t0), parquet: Math.round(t2 - t1), snapshot: Math.round(t3 - t2) },
  };
}

/**
 * The public tables and their parts. Tables the transform builds have their parts recorded
 * in `ops.table_parts`; any other (the forecasts) is one part whose version is a fingerprint
 * of its content, computed here.
 */
async function currentParts(conn: DuckDBConnection): Promise<TableParts[]> {
  const tables = (
    await rowsJson(
      conn,
      `select table_schema || '.' || table_name as t from information_schema.tables
       where table_catalog = current_database() and table_schema in (${PUBLIC_SCHEMAS.map(lit).join(', ')}) and table_type = 'BASE TABLE' order by 1`,
    )
  ).map((r) => String(r.t));
  const layouts = new Map((await rowsJson(conn, `select model, part_expr from ops.model_state where mode <> 'view'`)).map((r) => [String(r.model), String(r.part_expr)]));
  const recorded = new Map<string, Map<string, string>>();
  for (const r of await rowsJson(conn, 'select table_name, part, version from ops.table_parts')) {
    const t = String(r.table_name);
    if (!recorded.has(t)) recorded.set(t, new Map());
    recorded.get(t)!.set(String(r.part), String(r.version));
  }
  const signatures = await columnSignatures(conn);
  const out: TableParts[] = [];
  for (const table of tables) {
    const columnList = signatures.get(table) ?? [];
    const columns = columnList.map((c) => `${c.name} ${c.type}`).join(', ');
    const layout = layouts.get(table);
    if (layout !== undefined) {
      const column = /strftime\(([a-z0-9_]+),/.exec(layout)?.[1] ?? null;
      const parts = recorded.get(table) ?? new Map<string, string>();
      // An empty table is published as one empty part, so its schema is still there to read.
      out.push({ table, column, parts: parts.size > 0 ? parts : new Map([['all', `empty:${columns}`]]), columns, columnList });
    } else {
      const fp = (await rowsJson(conn, `select count(*) || ':' || coalesce(cast(sum(hash(t)::hugeint) as varchar), '0') as fp from ${table} as t`))[0]!.fp;
      out.push({ table, column: null, parts: new Map([['all', `fp:${String(fp)}`]]), columns, columnList });
    }
  }
  return out;
}

/** Each public table's columns, names and types in column order (one catalog query for all). */
async function columnSignatures(conn: DuckDBConnection): Promise<Map<string, { name: string; type: string }[]>> {
  const rows = await rowsJson(
    conn,
    `select schema_name || '.' || table_name as t, column_name as name, data_type as type
     from duckdb_columns() where database_name = current_database() and schema_name in (${PUBLIC_SCHEMAS.map(lit).join(', ')}) order by t, column_index`,
  );
  const out = new Map<string, { name: string; type: string }[]>();
  for (const r of rows) {
    const t = String(r.t);
    if (!out.has(t)) out.set(t, []);
    out.get(t)!.push({ name: String(r.name), type: String(r.type) });
  }
  return out;
}

/**
 * The columns a table's Parquet files hold: all of them, a HUGEINT as DECIMAL(38,0) — DuckDB's
 * Parquet writer would make it a DOUBLE, losing digits past 2^53; a DECIMAL is exact in every
 * engine that reads Parquet.
 */
function parquetSelect(t: Pick<TableParts, 'columnList'>): string {
  const huge = t.columnList.filter((c) => c.type === 'HUGEINT');
  return huge.length === 0 ? '*' : `* replace (${huge.map((c) => `cast(${ident(c.name)} as decimal(38, 0)) as ${ident(c.name)}`).join(', ')})`;
}

function partExpr(t: Pick<TableParts, 'column'>): string {
  return t.column === null ? `'all'` : `coalesce(strftime(${ident(t.column)}, '%Y-%m'), 'none')`;
}

/**
 * The Hive-style folder of one month of a partitioned table: `<column>_month=2026-03`, and
 * `__HIVE_DEFAULT_PARTITION__` for the rows without a date, as Spark, Trino and DuckDB write and
 * read it (a null month).
 */
export function hiveFolder(column: string, part: string): string {
  return `${column}_month=${part === 'none' ? '__HIVE_DEFAULT_PARTITION__' : part}`;
}

function readManifest(dir: string | null): Manifest | null {
  if (!dir) return null;
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, '_manifest.json'), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

/** The folder `published/parquet` currently points to (null when there is none, or it is a folder of an older layout). */
function currentParquetDir(link: string): string | null {
  try {
    if (!fs.lstatSync(link).isSymbolicLink()) return null;
    return path.resolve(path.dirname(link), fs.readlinkSync(link));
  } catch {
    return null;
  }
}

async function publishParquet(conn: DuckDBConnection, published: string, link: string, runId: string, current: TableParts[]) {
  const previousDir = currentParquetDir(link);
  const previous = readManifest(previousDir);
  const nextName = `.parquet-${runId}`;
  const next = path.join(published, nextName);
  fs.rmSync(next, { recursive: true, force: true });
  fs.mkdirSync(next, { recursive: true });
  const manifest: Manifest = { run: runId, layout: LAYOUT, tables: {} };
  const tablesChanged: string[] = [];
  const timings: { table: string; parts: number; ms: number }[] = [];
  let written = 0;
  let kept = 0;
  for (const t of current) {
    const dir = path.join(next, t.table);
    fs.mkdirSync(dir);
    const before = previous?.tables[t.table];
    const sameLayout = before !== undefined && previous?.layout === LAYOUT && before.column === t.column && before.columns === t.columns;
    const entry: Manifest['tables'][string] = { column: t.column, columns: t.columns, parts: {} };
    const toWrite: string[] = [];
    for (const [part, version] of t.parts) {
      const had = sameLayout ? before.parts[part] : undefined;
      if (had && had.version === version && had.files.every((f) => fs.existsSync(path.join(previousDir!, t.table, f)))) {
        for (const f of had.files) {
          fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
          fs.linkSync(path.join(previousDir!, t.table, f), path.join(dir, f));
        }
        entry.parts[part] = had;
        kept++;
      } else toWrite.push(part);
    }
    if (toWrite.length > 0) {
      const w0 = performance.now();
      tablesChanged.push(t.table);
      written += toWrite.length;
      if (t.column === null || toWrite.includes('all')) {
        const file = `${toWrite[0]}.parquet`;
        await conn.run(`copy (select ${parquetSelect(t)} from ${t.table}) to ${lit(path.join(dir, file))} (format parquet, compression zstd)`);
        entry.parts[toWrite[0]!] = { version: t.parts.get(toWrite[0]!)!, files: [file] };
      } else {
        // One scan writes every changed part, each into its own folder; the files are then named by part.
        const scratch = path.join(next, `.scratch-${t.table}`);
        await conn.run(
          `copy (select ${parquetSelect(t)}, ${partExpr(t)} as _part from ${t.table} where ${partFilter(t.column, toWrite)}) to ${lit(scratch)} (format parquet, compression zstd, partition_by (_part))`,
        );
        for (const part of toWrite) {
          const from = path.join(scratch, `_part=${part}`);
          const files = fs.existsSync(from) ? fs.readdirSync(from).filter((f) => f.endsWith('.parquet')).sort() : [];
          const folder = hiveFolder(t.column, part);
          const names = files.map((_, i) => `${folder}/${files.length === 1 ? 'data' : `data-${i}`}.parquet`);
          if (files.length > 0) fs.mkdirSync(path.join(dir, folder));
          files.forEach((f, i) => fs.renameSync(path.join(from, f), path.join(dir, names[i]!)));
          if (names.length > 0) entry.parts[part] = { version: t.parts.get(part)!, files: names };
        }
        fs.rmSync(scratch, { recursive: true, force: true });
      }
      timings.push({ table: t.table, parts: toWrite.length, ms: Math.round(performance.now() - w0) });
    }
    if (toWrite.length === 0 && before && Object.keys(before.parts).some((p) => !t.parts.has(p))) tablesChanged.push(t.table);
    manifest.tables[t.table] = entry;
  }
  fs.writeFileSync(path.join(next, '_manifest.json'), `${JSON.stringify(manifest, null, 1)}\n`);
  faultPoint('publish:before-parquet-switch');

  // Switch the link: a rename replaces it in one step. A folder of the older layout is moved aside first.
  const tmpLink = path.join(published, `.parquet-link-${runId}`);
  fs.rmSync(tmpLink, { force: true });
  fs.symlinkSync(nextName, tmpLink);
  if (fs.existsSync(link) && !fs.lstatSync(link).isSymbolicLink()) fs.renameSync(link, path.join(published, `.parquet-old-${runId}`));
  fs.renameSync(tmpLink, link);
  return { tablesChanged, timings, written, kept, dir: next, manifest, keep: [nextName, ...(previousDir ? [path.basename(previousDir)] : [])] };
}

/** A public table's Parquet files, absolute, in part order, from the manifest of the folder just written. */
function parquetFiles(folder: string, entry: Manifest['tables'][string]): string[] {
  return Object.keys(entry.parts)
    .sort()
    .flatMap((p) => entry.parts[p]!.files.map((f) => path.join(folder, f)));
}

/**
 * The view that reads one public table from its Parquet files: each column cast back to the
 * warehouse's type (a HUGEINT is kept in the Parquet as DECIMAL(38,0), see `parquetSelect`).
 * A table with no file (no rows in any part) is an empty query of the same columns.
 */
function viewSql(name: string, files: string[], columns: { name: string; type: string }[]): string {
  const list = columns.map((c) => `cast(${ident(c.name)} as ${c.type}) as ${ident(c.name)}`).join(', ');
  const from = files.length > 0 ? `from read_parquet([${files.map(lit).join(', ')}], hive_partitioning = false)` : 'where false';
  return files.length > 0 ? `create view ${name} as select ${list} ${from}` : `create view ${name} as select ${columns.map((c) => `cast(null as ${c.type}) as ${ident(c.name)}`).join(', ')} where false`;
}

/**
 * Writes the snapshot afresh as a small file of views over the Parquet folder this publish
 * wrote (absolute paths), with the warehouse's table and column comments and the run log
 * tables copied, then renames it over `warehouse.duckdb`.
 */
async function publishSnapshot(conn: DuckDBConnection, snapshot: string, runId: string, current: TableParts[], parquet: { dir: string; manifest: Manifest }) {
  const file = path.join(path.dirname(snapshot), `.warehouse-${runId}.duckdb`);
  fs.rmSync(file, { force: true });
  fs.rmSync(`${file}.wal`, { force: true });
  await conn.run(`attach ${lit(file)} as snap`);
  try {
    // One transaction: one sync for the whole file.
    await conn.run('begin transaction');
    for (const schema of [...PUBLIC_SCHEMAS, 'ops']) await conn.run(`create schema if not exists snap.${schema}`);
    const statements: string[] = [];
    for (const t of current) statements.push(viewSql(`snap.${t.table}`, parquetFiles(path.resolve(parquet.dir, t.table), parquet.manifest.tables[t.table]!), t.columnList));
    for (const t of OPS_TABLES) statements.push(`create table snap.${t} as select * from ${t}`);
    statements.push(...(await commentStatements(conn)));
    // Sent together: one call instead of one per statement.
    await conn.run(statements.join(';\n'));
    faultPoint('publish:before-snapshot-commit');
    await conn.run('commit');
  } catch (error) {
    await conn.run('rollback').catch(() => undefined);
    await conn.run('detach snap').catch(() => undefined);
    fs.rmSync(file, { force: true });
    throw error;
  }
  await conn.run('detach snap');
  fs.rmSync(`${file}.wal`, { force: true });
  faultPoint('publish:before-snapshot-rename');
  // Owner only (0600) before it appears under its public name, like the warehouse it reads from.
  keepPrivate(file);
  fs.renameSync(file, snapshot);
}

/** The warehouse's table and column comments on the public tables, as statements on the snapshot's views. */
async function commentStatements(conn: DuckDBConnection): Promise<string[]> {
  const schemas = PUBLIC_SCHEMAS.map(lit).join(', ');
  const tables = await rowsJson(
    conn,
    `select schema_name || '.' || table_name as t, comment from duckdb_tables()
     where database_name = current_database() and schema_name in (${schemas}) and comment is not null`,
  );
  const columns = await rowsJson(
    conn,
    `select c.schema_name || '.' || c.table_name as t, c.column_name as c, c.comment from duckdb_columns() as c
     join duckdb_tables() as w on w.database_name = c.database_name and w.schema_name = c.schema_name and w.table_name = c.table_name
     where c.database_name = current_database() and c.schema_name in (${schemas}) and c.comment is not null`,
  );
  return [
    ...tables.map((r) => `comment on view snap.${String(r.t)} is ${lit(String(r.comment))}`),
    ...columns.map((r) => `comment on column snap.${String(r.t)}.${ident(String(r.c))} is ${lit(String(r.comment))}`),
  ];
}

/**
 * Removes what earlier publishes left behind: Parquet folders other than the current one and
 * the one before it once a later one replaced them more than `KEEP_REPLACED_PARQUET_MS` ago
 * (a reader holding an older snapshot reads them until then), folders no publish finished,
 * unfinished snapshot files, and the two snapshot files of the earlier layout.
 */
function removeLeftovers(published: string, keep: string[], now = Date.now()): void {
  const finished = (f: string) => {
    try {
      return fs.statSync(path.join(published, f, '_manifest.json')).mtimeMs;
    } catch {
      return null;
    }
  };
  const versions = fs
    .readdirSync(published)
    .filter((f) => f.startsWith('.parquet-') && !f.startsWith('.parquet-link-'))
    .map((f) => ({ f, at: finished(f) }));
  const done = versions.filter((v): v is { f: string; at: number } => v.at !== null).sort((x, y) => x.at - y.at || x.f.localeCompare(y.f));
  const replacedAt = new Map(done.map((v, i) => [v.f, done[i + 1]?.at ?? now]));
  for (const { f, at } of versions) {
    const recent = at !== null && now - replacedAt.get(f)! < KEEP_REPLACED_PARQUET_MS;
    if (!keep.includes(f) && !recent) fs.rmSync(path.join(published, f), { recursive: true, force: true });
  }
  for (const f of fs.readdirSync(published)) {
    if (f.startsWith('.parquet-link-') || /^\.warehouse-.*\.duckdb(\.wal)?$/.test(f) || /^\.snapshot-[ab]\.duckdb(\.wal)?$/.test(f)) {
      fs.rmSync(path.join(published, f), { recursive: true, force: true });
    }
  }
}
