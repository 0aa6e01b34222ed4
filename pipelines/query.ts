import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { defineMoneyMacros } from '../src/warehouse/money.ts';
import { DomainError } from '../src/shared/errors.ts';
import { warehousePaths } from '../src/warehouse/warehouse.ts';

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  snapshot: string;
}

/**
 * Runs SQL on the published snapshot, read-only: only queries run, and EXPLAIN [ANALYZE] of one
 * (a statement DuckDB cannot serialise as a SELECT — COPY, ATTACH, SET, any write — is refused before it runs); the file
 * is opened in READ_ONLY mode with external access off except for reading the published
 * folder (the snapshot's views read its Parquet files), settings locked, so a query can read
 * the marts and metrics and change nothing anywhere.
 */
export async function queryPublished(dataDir: string, sqlText: string): Promise<QueryResult> {
  const { snapshot, published } = warehousePaths(dataDir);
  if (!fs.existsSync(snapshot)) {
    throw new DomainError('not_found', `no published warehouse at ${snapshot}: run \`cashloop pipeline run\` first`, { entity: 'warehouse', id: snapshot, rule: 'published' });
  }
  const instance = await DuckDBInstance.create(snapshot, {
    access_mode: 'READ_ONLY',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
  const conn = await instance.connect();
  const folders = [...new Set([path.resolve(published), path.dirname(fs.realpathSync(snapshot))])].map((d) => `'${`${d}${path.sep}`.replaceAll("'", "''")}'`);
  await conn.run(`set allowed_directories = [${folders.join(', ')}]; set enable_external_access = false; set lock_configuration = true`);
  await defineMoneyMacros(conn); // minor_to_units(amount_cents, currency) in analysts' queries too
  try {
    // EXPLAIN [ANALYZE] of a query shows its plan (ANALYZE runs it, a read like any other): the
    // query after it is checked as any other statement is.
    const checked = sqlText.replace(/^\s*explain(\s+analyze)?\s+/i, '');
    const parsed = JSON.parse(String((await conn.runAndReadAll(`select json_serialize_sql(${`'${checked.replaceAll("'", "''")}'`}) as j`)).getRowObjectsJson()[0]!.j)) as {
      error: boolean;
      error_type?: string;
      error_message?: string;
    };
    if (parsed.error && parsed.error_type === 'not implemented') throw new Error('not a query: only SELECT, FROM, WITH, DESCRIBE, SHOW and SUMMARIZE run on the read-only snapshot, and EXPLAIN [ANALYZE] of one (not PRAGMA, SET or any write)');
    const reader = await conn.runAndReadAll(sqlText);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Record<string, unknown>[], snapshot };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const refused = /read-only|read only|external access|disabled by configuration|configuration has been locked|cannot be changed/i.test(message);
    throw new DomainError(refused ? 'forbidden' : 'invalid', refused ? `query refused, the published warehouse is read-only: ${message}` : `query failed: ${message}`, {
      entity: 'query',
      rule: refused ? 'read_only' : 'valid_sql',
    });
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
