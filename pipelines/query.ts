import fs from 'node:fs';
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
 * Runs SQL on the published snapshot, read-only: the file is opened in READ_ONLY mode and
 * with external access off (no COPY TO, ATTACH or file reads), settings locked, so a query
 * can read the marts and metrics and change nothing anywhere.
 */
export async function queryPublished(dataDir: string, sqlText: string): Promise<QueryResult> {
  const { snapshot } = warehousePaths(dataDir);
  if (!fs.existsSync(snapshot)) {
    throw new DomainError('not_found', `no published warehouse at ${snapshot}: run \`cashloop pipeline run\` first`, { entity: 'warehouse', id: snapshot, rule: 'published' });
  }
  const instance = await DuckDBInstance.create(snapshot, {
    access_mode: 'READ_ONLY',
    enable_external_access: 'false',
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    lock_configuration: 'true',
  });
  const conn = await instance.connect();
  await defineMoneyMacros(conn); // minor_to_units(amount_cents, currency) in analysts' queries too
  try {
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
