import fs from 'node:fs';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BACKFILL_MARK, ensureWarehouseSchema, setWatermark, STAGING_WATERMARK } from '../../pipelines/schema.ts';
import { openWarehouse, rowsJson, type Warehouse } from '../../src/warehouse/warehouse.ts';
import { tempDir } from './ledger.ts';

/** The real connection, with the statements sent through `run` counted (each `if not exists` one is a catalog change DuckDB must check). */
function counting(conn: DuckDBConnection): { conn: DuckDBConnection; runs: string[] } {
  const runs: string[] = [];
  const proxy = new Proxy(conn, {
    get(target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver);
      if (key === 'run' && typeof value === 'function') {
        return (sql: string, ...rest: unknown[]) => {
          runs.push(sql);
          return (value as (...a: unknown[]) => unknown).call(target, sql, ...rest);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { conn: proxy, runs };
}

describe("the pipeline's own tables in the warehouse", () => {
  let dir: string;
  let wh: Warehouse;
  beforeEach(async () => {
    dir = tempDir();
    wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'));
  });
  afterEach(() => {
    wh.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a warehouse that has them all is only read: no statement is run on it', async () => {
    const first = counting(wh.conn);
    await ensureWarehouseSchema(first.conn);
    expect(first.runs.length).toBeGreaterThan(20);
    const again = counting(wh.conn);
    await ensureWarehouseSchema(again.conn);
    expect(again.runs).toEqual([]);
  });

  it('a table, a column or a schema missing (a warehouse made by an older version) is made again; a core table staged for the first time gets its backfill mark', async () => {
    await ensureWarehouseSchema(wh.conn);
    await setWatermark(wh.conn, STAGING_WATERMARK, 42);
    await wh.conn.run('alter table staging.core_products drop column external_code');
    await wh.conn.run('alter table raw.extract_products drop column currency');
    await wh.conn.run('drop table staging.core_write_offs');
    await wh.conn.run('drop table ops.table_parts');
    await ensureWarehouseSchema(wh.conn);
    const columns = await rowsJson(
      wh.conn,
      `select table_name, column_name from duckdb_columns() where (schema_name = 'staging' and table_name = 'core_products' and column_name = 'external_code')
         or (schema_name = 'raw' and table_name = 'extract_products' and column_name = 'currency') order by 1`,
    );
    expect(columns).toEqual([
      { table_name: 'core_products', column_name: 'external_code' },
      { table_name: 'extract_products', column_name: 'currency' },
    ]);
    const tables = await rowsJson(wh.conn, `select schema_name || '.' || table_name as t from duckdb_tables() where table_name in ('core_write_offs', 'table_parts') order by 1`);
    expect(tables).toEqual([{ t: 'ops.table_parts' }, { t: 'staging.core_write_offs' }]);
    const marks = await rowsJson(wh.conn, `select name, value from ops.watermarks where name like '${BACKFILL_MARK}%'`);
    expect(marks).toEqual([{ name: `${BACKFILL_MARK}write_offs`, value: '42' }]);
  });
});
