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
export const PUBLIC_SCHEMAS = ['marts', 'metrics'];

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
  // After a checkpoint the file holds every committed change and nothing else writes it.
  await conn.run('checkpoint');
  const snapshotTmp = path.join(paths.published, `.warehouse-${runId}.duckdb`);
  fs.copyFileSync(paths.warehouse, snapshotTmp);
  fs.renameSync(snapshotTmp, paths.snapshot);
  return { snapshot: paths.snapshot, parquet: paths.parquet, tables };
}
