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
  /** Parts copied into the Parquet folder and the snapshot; the others were kept as published. */
  partsWritten: number;
  partsKept: number;
  /** True when the snapshot was written afresh rather than updated from the previous one. */
  freshSnapshot: boolean;
  /** Parts written into the snapshot file only to catch up with the publish before it (the file of the publish before last), beyond `partsWritten`. */
  snapshotPartsCaughtUp: number;
  /** True when the whole current snapshot file was copied to start from (no spare file to update in place, or a reader held it). */
  snapshotCopied: boolean;
  /** Where the publish's time went, ms: finding the parts, the Parquet folder, the snapshot. */
  ms: { parts: number; parquet: number; snapshot: number };
}

/** The two snapshot files that take turns as `published/warehouse.duckdb`. */
export const SNAPSHOT_FILES = ['.snapshot-a.duckdb', '.snapshot-b.duckdb'];

/** The schemas analysts read; raw, staging and ops stay inside the warehouse file. */
export const PUBLIC_SCHEMAS = ['marts', 'metrics', 'forecast'];
/** The run log tables published beside them (small: always copied whole). */
const OPS_TABLES = ['ops.pipeline_runs', 'ops.reconciliation', 'ops.extract_loads'];

/** A public table as it is now: how it splits into parts, each part's version, and its columns. */
interface TableParts {
  table: string;
  /** Date column of monthly parts, or null for one part. */
  column: string | null;
  /** part → version (the run that last changed it, or a content fingerprint). */
  parts: Map<string, string>;
  /** Column names and types: a different one republishes the table whole. */
  columns: string;
}

/** What a Parquet version folder holds, in its `_manifest.json`. */
interface Manifest {
  run: string;
  /** `hive` since the monthly parts moved into `<column>_month=YYYY-MM/` folders; older manifests have none and are rewritten whole. */
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
 * - Snapshot: two snapshot files take turns (`published/.snapshot-a.duckdb` and
 *   `.snapshot-b.duckdb`); `published/warehouse.duckdb` is a hard link to one of them. The
 *   other one — the snapshot of the publish before last — is brought up to date in place
 *   (the parts that changed since its own version are replaced, in one transaction), then
 *   linked under a temporary name and renamed over `warehouse.duckdb`. No copy of the whole
 *   file is made, unless a reader still holds that older file open (DuckDB's lock says so;
 *   this process's own open files are looked up too) or it does not exist yet: then the
 *   current snapshot is copied into it first, as every publish did before.
 *
 * Both appear by rename, so a reader sees the previous complete set or the new one, never
 * half of either; a reader that has the current snapshot open keeps reading it (the file
 * written is never the one `warehouse.duckdb` names); and a run killed at any point leaves the
 * previous copies in place (its leftovers are removed next time).
 */
export async function publish(conn: DuckDBConnection, dataDir: string, runId: string, beforeSnapshot?: () => Promise<void>): Promise<PublishResult> {
  const paths = warehousePaths(dataDir);
  fs.mkdirSync(paths.published, { recursive: true });
  const spare = spareSnapshot(paths.published, paths.snapshot);
  const t0 = performance.now();
  const current = await currentParts(conn);
  const tables = current.map((t) => t.table);
  const t1 = performance.now();
  const parquet = await publishParquet(conn, paths.published, paths.parquet, runId, current);
  const t2 = performance.now();
  await beforeSnapshot?.();
  const snapshot = await publishSnapshot(conn, spare, paths.snapshot, runId, current);
  removeLeftovers(paths.published, parquet.keep);
  const t3 = performance.now();
  const changed = new Set([...parquet.tablesChanged, ...snapshot.tablesChanged]);
  return {
    snapshot: paths.snapshot,
    parquet: paths.parquet,
    tables,
    tablesChanged: tables.filter((t) => changed.has(t)),
    partsWritten: parquet.written + snapshot.written,
    partsKept: parquet.kept + snapshot.kept,
    freshSnapshot: snapshot.fresh,
    snapshotCopied: snapshot.copied,
    snapshotPartsCaughtUp: snapshot.caughtUp,
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
  const signatures = await columnSignatures(conn, 'current_database()');
  const out: TableParts[] = [];
  for (const table of tables) {
    const columns = signatures.get(table) ?? '';
    const layout = layouts.get(table);
    if (layout !== undefined) {
      const column = /strftime\(([a-z0-9_]+),/.exec(layout)?.[1] ?? null;
      const parts = recorded.get(table) ?? new Map<string, string>();
      // An empty table is published as one empty part, so its schema is still there to read.
      out.push({ table, column, parts: parts.size > 0 ? parts : new Map([['all', `empty:${columns}`]]), columns });
    } else {
      const fp = (await rowsJson(conn, `select count(*) || ':' || coalesce(cast(sum(hash(t)::hugeint) as varchar), '0') as fp from ${table} as t`))[0]!.fp;
      out.push({ table, column: null, parts: new Map([['all', `fp:${String(fp)}`]]), columns });
    }
  }
  return out;
}

/** Each public table's column names and types, `name TYPE, …` in column order (one catalog query for all). */
async function columnSignatures(conn: DuckDBConnection, database: string): Promise<Map<string, string>> {
  const rows = await rowsJson(
    conn,
    `select schema_name || '.' || table_name as t, string_agg(column_name || ' ' || data_type, ', ' order by column_index) as c
     from duckdb_columns() where database_name = ${database} and schema_name in (${PUBLIC_SCHEMAS.map(lit).join(', ')}) group by all`,
  );
  return new Map(rows.map((r) => [String(r.t), String(r.c)]));
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
  const manifest: Manifest = { run: runId, layout: 'hive', tables: {} };
  const tablesChanged: string[] = [];
  let written = 0;
  let kept = 0;
  for (const t of current) {
    const dir = path.join(next, t.table);
    fs.mkdirSync(dir);
    const before = previous?.tables[t.table];
    const sameLayout = before !== undefined && previous?.layout === 'hive' && before.column === t.column && before.columns === t.columns;
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
      tablesChanged.push(t.table);
      written += toWrite.length;
      if (t.column === null || toWrite.includes('all')) {
        const file = `${toWrite[0]}.parquet`;
        await conn.run(`copy (select * from ${t.table}) to ${lit(path.join(dir, file))} (format parquet, compression zstd)`);
        entry.parts[toWrite[0]!] = { version: t.parts.get(toWrite[0]!)!, files: [file] };
      } else {
        // One scan writes every changed part, each into its own folder; the files are then named by part.
        const scratch = path.join(next, `.scratch-${t.table}`);
        await conn.run(
          `copy (select *, ${partExpr(t)} as _part from ${t.table} where ${partFilter(t.column, toWrite)}) to ${lit(scratch)} (format parquet, compression zstd, partition_by (_part))`,
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
  return { tablesChanged, written, kept, keep: [nextName, ...(previousDir ? [path.basename(previousDir)] : [])] };
}

/** The inode of a file, or null when it does not exist. */
function inode(file: string): number | null {
  try {
    return fs.statSync(file).ino;
  } catch {
    return null;
  }
}

/**
 * The snapshot file this publish writes: the one of the pair that `warehouse.duckdb` does not
 * name (a reader opening the snapshot now gets the other), `a` when there is none yet.
 */
function spareSnapshot(published: string, snapshot: string): string {
  const current = inode(snapshot);
  const [a, b] = SNAPSHOT_FILES.map((f) => path.join(published, f)) as [string, string];
  const ia = inode(a);
  if (current !== null && ia === current) return b;
  if (ia !== null) return a;
  const ib = inode(b);
  return ib !== null && ib !== current ? b : a;
}

/**
 * True when this process itself has `file` open (DuckDB's lock on a file keeps other processes
 * out, not the process that holds it). Unknown (no /proc) counts as open: the safe answer.
 */
function openHere(file: string): boolean {
  const ino = inode(file);
  if (ino === null) return false;
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return true;
  }
  const dev = fs.statSync(file).dev;
  return fds.some((fd) => {
    try {
      const s = fs.statSync(`/proc/self/fd/${fd}`);
      return s.ino === ino && s.dev === dev;
    } catch {
      return false;
    }
  });
}

/** Replaces `spare` (and its WAL) with a copy of the current snapshot, or removes it when there is none. Returns whether it copied. */
function copyCurrent(spare: string, snapshot: string): boolean {
  fs.rmSync(spare, { force: true });
  fs.rmSync(`${spare}.wal`, { force: true });
  if (!fs.existsSync(snapshot)) return false;
  fs.copyFileSync(snapshot, spare, fs.constants.COPYFILE_FICLONE);
  return true;
}

/**
 * Opens the spare snapshot file for writing as `snap`: in place when it exists and no one
 * reads it, else after copying the current snapshot into it (or empty on a first publish).
 */
async function attachSpare(conn: DuckDBConnection, spare: string, snapshot: string): Promise<{ copied: boolean; fresh: boolean }> {
  if (fs.existsSync(spare) && !openHere(spare)) {
    try {
      await conn.run(`attach ${lit(spare)} as snap`);
      return { copied: false, fresh: false };
    } catch {
      // Held by a reader in another process (DuckDB's file lock), or unreadable: start from a copy.
    }
  }
  const copied = copyCurrent(spare, snapshot);
  await conn.run(`attach ${lit(spare)} as snap`);
  return { copied, fresh: !copied };
}

/** The parts of each table in the snapshot readers have now (null when there is none, or it records none). */
async function publishedParts(conn: DuckDBConnection, snapshot: string, spare: string): Promise<Map<string, Map<string, string>> | null> {
  if (inode(snapshot) === null || inode(snapshot) === inode(spare)) return null;
  try {
    await conn.run(`attach ${lit(snapshot)} as cur (read_only)`);
  } catch {
    return null;
  }
  try {
    const has = await rowsJson(conn, `select 1 from duckdb_tables() where database_name = 'cur' and schema_name = 'ops' and table_name = 'published_parts'`);
    if (has.length === 0) return null;
    const out = new Map<string, Map<string, string>>();
    for (const r of await rowsJson(conn, 'select table_name, part, version from cur.ops.published_parts')) {
      const t = String(r.table_name);
      if (!out.has(t)) out.set(t, new Map());
      out.get(t)!.set(String(r.part), String(r.version));
    }
    return out;
  } finally {
    await conn.run('detach cur');
  }
}

/** Brings the spare snapshot file up to date with changed parts only, then makes it the snapshot by a link renamed over it. */
async function publishSnapshot(conn: DuckDBConnection, spare: string, snapshot: string, runId: string, current: TableParts[]) {
  const tablesChanged: string[] = [];
  let written = 0;
  let kept = 0;
  const readers = await publishedParts(conn, snapshot, spare);
  let caughtUp = 0;
  const { copied, fresh } = await attachSpare(conn, spare, snapshot);
  try {
    const hasParts = (await rowsJson(conn, `select 1 from duckdb_tables() where database_name = 'snap' and schema_name = 'ops' and table_name = 'published_parts'`)).length > 0;
    const before = new Map<string, { column: string | null; parts: Map<string, string> }>();
    if (hasParts) {
      for (const r of await rowsJson(conn, 'select table_name, part_column, part, version from snap.ops.published_parts')) {
        const t = String(r.table_name);
        if (!before.has(t)) before.set(t, { column: r.part_column === null ? null : String(r.part_column), parts: new Map() });
        before.get(t)!.parts.set(String(r.part), String(r.version));
      }
    }
    const snapTables = new Set(
      (
        await rowsJson(
          conn,
          `select schema_name || '.' || table_name as t from duckdb_tables() where database_name = 'snap' and schema_name in (${PUBLIC_SCHEMAS.map(lit).join(', ')})`,
        )
      ).map((r) => String(r.t)),
    );
    const snapSignatures = await columnSignatures(conn, `'snap'`);
    // One transaction for the whole snapshot: a commit per statement would cost hundreds of syncs.
    await conn.run('begin transaction');
    for (const schema of [...PUBLIC_SCHEMAS, 'ops']) await conn.run(`create schema if not exists snap.${schema}`);
    for (const t of current) {
      const b = before.get(t.table);
      const same = snapTables.has(t.table) && b !== undefined && b.column === t.column && snapSignatures.get(t.table) === t.columns;
      if (!same) {
        await conn.run(`create or replace table snap.${t.table} as select * from ${t.table}`);
        tablesChanged.push(t.table);
        written += t.parts.size;
        continue;
      }
      const changed = [...t.parts].filter(([p, v]) => b.parts.get(p) !== v).map(([p]) => p);
      const removed = [...b.parts.keys()].filter((p) => !t.parts.has(p));
      // Counted against what readers had (the current snapshot): the rest is the spare file catching up.
      const had = readers?.get(t.table);
      const news = had ? [...t.parts].filter(([p, v]) => had.get(p) !== v).length : changed.length;
      const gone = had ? [...had.keys()].filter((p) => !t.parts.has(p)).length : removed.length;
      kept += t.parts.size - news;
      written += news;
      caughtUp += Math.max(0, changed.length - news);
      if (news > 0 || gone > 0) tablesChanged.push(t.table);
      if (changed.length === 0 && removed.length === 0) continue;
      await conn.run(`delete from snap.${t.table} where ${partFilter(t.column, [...changed, ...removed])}`);
      if (changed.length > 0) await conn.run(`insert into snap.${t.table} select * from ${t.table} where ${partFilter(t.column, changed)}`);
    }
    for (const t of snapTables) {
      if (!current.some((c) => c.table === t)) await conn.run(`drop table snap.${t}`);
    }
    for (const t of OPS_TABLES) await conn.run(`create or replace table snap.${t} as select * from ${t}`);
    const partRows = current.flatMap((t) => [...t.parts].map(([p, v]) => `(${lit(t.table)}, ${t.column === null ? 'null' : lit(t.column)}, ${lit(p)}, ${lit(v)})`));
    await conn.run(`create or replace table snap.ops.published_parts (table_name VARCHAR, part_column VARCHAR, part VARCHAR, version VARCHAR)`);
    if (partRows.length > 0) await conn.run(`insert into snap.ops.published_parts values ${partRows.join(', ')}`);
    await copyComments(conn);
    faultPoint('publish:before-snapshot-commit');
    await conn.run('commit');
    await conn.run('checkpoint snap');
  } catch (error) {
    await conn.run('rollback').catch(() => undefined);
    throw error;
  } finally {
    await conn.run('detach snap');
  }
  faultPoint('publish:before-snapshot-rename');
  // Owner only (0600) before it appears under its public name, like the warehouse it copies.
  keepPrivate(spare);
  // A second name for the file, renamed over the snapshot: readers see the old file or the new one.
  const link = path.join(path.dirname(snapshot), `.warehouse-${runId}.duckdb`);
  fs.rmSync(link, { force: true });
  fs.linkSync(spare, link);
  fs.renameSync(link, snapshot);
  return { tablesChanged, written, kept, fresh, copied, caughtUp };
}

/** Brings the snapshot's table and column comments in line with the warehouse's (only those that differ are written). */
async function copyComments(conn: DuckDBConnection): Promise<void> {
  const schemas = PUBLIC_SCHEMAS.map(lit).join(', ');
  const tables = await rowsJson(
    conn,
    `select w.schema_name || '.' || w.table_name as t, w.comment
     from duckdb_tables() as w
     left join duckdb_tables() as s on s.database_name = 'snap' and s.schema_name = w.schema_name and s.table_name = w.table_name
     where w.database_name = current_database() and w.schema_name in (${schemas}) and w.comment is not null and s.comment is distinct from w.comment`,
  );
  // Sent together: one call instead of one per comment.
  const statements = tables.map((c) => `comment on table snap.${String(c.t)} is ${lit(String(c.comment))}`);
  const columns = await rowsJson(
    conn,
    `select w.schema_name || '.' || w.table_name as t, w.column_name as c, w.comment
     from duckdb_columns() as w
     left join duckdb_columns() as s on s.database_name = 'snap' and s.schema_name = w.schema_name and s.table_name = w.table_name and s.column_name = w.column_name
     where w.database_name = current_database() and w.schema_name in (${schemas}) and w.comment is not null and s.comment is distinct from w.comment`,
  );
  for (const c of columns) statements.push(`comment on column snap.${String(c.t)}.${ident(String(c.c))} is ${lit(String(c.comment))}`);
  if (statements.length) await conn.run(statements.join(';\n'));
}

/**
 * Removes what earlier publishes left behind: Parquet folders other than the current one and
 * the one before it (a reader may still be reading that), and unfinished snapshot copies.
 */
function removeLeftovers(published: string, keep: string[]): void {
  for (const f of fs.readdirSync(published)) {
    if ((f.startsWith('.parquet-') && !keep.includes(f)) || /^\.warehouse-.*\.duckdb(\.wal)?$/.test(f)) {
      fs.rmSync(path.join(published, f), { recursive: true, force: true });
    }
  }
}
