import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { lit, rowsJson } from './warehouse.ts';
import { warehousePaths } from './warehouse.ts';

export interface PublishResult {
  snapshot: string;
  parquet: string;
  tables: string[];
}

/** The schemas analysts read; raw, staging and ops stay inside the warehouse file. */
export const PUBLIC_SCHEMAS = ['marts', 'metrics', 'forecast'];

/**
 * Publishes what the run built: Parquet copies of every mart and metric, then a read-only
 * snapshot of the warehouse file. Both appear by rename, so a reader sees the previous
 * complete set or the new one, never half of either (a reader that has the old snapshot
 * open keeps reading it).
 */
export async function publish(conn: DuckDBConnection, dataDir: string, runId: string, beforeSnapshot?: () => Promise<void>): Promise<PublishResult> {
  const paths = warehousePaths(dataDir);
  fs.mkdirSync(paths.published, { recursive: true });
  const tables = (
    await rowsJson(
      conn,
      `select table_schema || '.' || table_name as t from information_schema.tables
       where table_schema in (${PUBLIC_SCHEMAS.map(lit).join(', ')}) and table_type = 'BASE TABLE' order by 1`,
    )
  ).map((r) => String(r.t));

  const parquetTmp = path.join(paths.published, `.parquet-${runId}`);
  fs.rmSync(parquetTmp, { recursive: true, force: true });
  fs.mkdirSync(parquetTmp, { recursive: true });
  for (const t of tables) {
    await conn.run(`copy (select * from ${t}) to ${lit(path.join(parquetTmp, `${t}.parquet`))} (format parquet, compression zstd)`);
  }
  const old = path.join(paths.published, `.parquet-old-${runId}`);
  if (fs.existsSync(paths.parquet)) fs.renameSync(paths.parquet, old);
  fs.renameSync(parquetTmp, paths.parquet);
  fs.rmSync(old, { recursive: true, force: true });

  await beforeSnapshot?.();

  // The snapshot holds what analysts read (marts, metrics, the run log), not the raw
  // payloads: it is written as a fresh DuckDB file, comments included, then renamed.
  const snapshotTmp = path.join(paths.published, `.warehouse-${runId}.duckdb`);
  fs.rmSync(snapshotTmp, { force: true });
  await conn.run(`attach ${lit(snapshotTmp)} as snap`);
  try {
    // One transaction for the whole snapshot: a commit per comment would cost hundreds of syncs.
    await conn.run('begin transaction');
    for (const schema of [...PUBLIC_SCHEMAS, 'ops']) await conn.run(`create schema snap.${schema}`);
    const snapTables = [...tables, 'ops.pipeline_runs', 'ops.reconciliation', 'ops.extract_loads'];
    for (const t of snapTables) await conn.run(`create table snap.${t} as select * from ${t}`);
    const comments = await rowsJson(
      conn,
      `select schema_name || '.' || table_name as t, comment from duckdb_tables() where database_name = current_database() and schema_name in (${PUBLIC_SCHEMAS.map(lit).join(', ')}) and comment is not null`,
    );
    for (const c of comments) await conn.run(`comment on table snap.${String(c.t)} is ${lit(String(c.comment))}`);
    const columnComments = await rowsJson(
      conn,
      `select schema_name || '.' || table_name || '.' || column_name as c, comment from duckdb_columns() where database_name = current_database() and schema_name in (${PUBLIC_SCHEMAS.map(lit).join(', ')}) and comment is not null`,
    );
    for (const c of columnComments) await conn.run(`comment on column snap.${String(c.c)} is ${lit(String(c.comment))}`);
    await conn.run('commit');
  } catch (error) {
    await conn.run('rollback').catch(() => undefined);
    throw error;
  } finally {
    await conn.run('detach snap');
  }
  fs.renameSync(snapshotTmp, paths.snapshot);
  return { snapshot: paths.snapshot, parquet: paths.parquet, tables };
}
