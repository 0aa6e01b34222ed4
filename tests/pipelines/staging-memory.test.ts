import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newestImages } from '../../pipelines/transform/core-staging.ts';
import { openWarehouse, rowsJson } from '../../src/warehouse/warehouse.ts';
import { tempDir } from './ledger.ts';

const VARS = ['CASHLOOP_DUCKDB_MEMORY', 'CASHLOOP_DUCKDB_THREADS'] as const;
const IMAGES = 400_000;
const ROWS = 200_000;

describe('staging the newest image of each core row within DuckDB’s memory limit', () => {
  const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
  afterEach(() => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
  });

  it('keeps each row’s newest image when the images are several times the limit (they spill)', async () => {
    // A first build of a large feed in small: every row has two images, each a wide struct
    // in a list, as the parsed payloads hold them; the limit is a fraction of their size.
    process.env.CASHLOOP_DUCKDB_MEMORY = '64MB';
    process.env.CASHLOOP_DUCKDB_THREADS = '1';
    const wh = await openWarehouse(path.join(tempDir(), 'warehouse.duckdb'));
    try {
      const fields = Array.from({ length: 12 }, (_, f) => `'c${f}': 'value ' || i || ' of field ${f}'`).join(', ');
      await wh.conn.run(
        `create temp table parsed as select i as seq, {'invoices': [{'id': i % ${ROWS}, 'number': 'INV-' || i, ${fields}}]} as p from range(${IMAGES}) as t(i)`,
      );
      await wh.conn.run(`create temp table staged as ${newestImages('invoices', ['id', 'number', 'c0', 'c11'], 'parsed')}`);
      const [r] = await rowsJson(
        wh.conn,
        `select count(*) as n, count(distinct id) as ids,
           count(*) filter (where number = 'INV-' || (id + ${ROWS}) and _seq = id + ${ROWS} and c11 = 'value ' || (id + ${ROWS}) || ' of field 11') as newest
         from staged`,
      );
      expect({ n: Number(r!.n), ids: Number(r!.ids), newest: Number(r!.newest) }).toEqual({ n: ROWS, ids: ROWS, newest: ROWS });
    } finally {
      wh.close();
    }
  }, 120_000);

  it('takes, of one row’s images in the same event, the last in the list', async () => {
    const wh = await openWarehouse(path.join(tempDir(), 'warehouse.duckdb'));
    try {
      await wh.conn.run(
        `create temp table parsed as select * from (values
           (1, {'t': [{'id': 1, 'v': 'a'}, {'id': 2, 'v': 'b'}]}),
           (2, {'t': [{'id': 1, 'v': 'c'}, {'id': 1, 'v': 'd'}]}),
           (3, {'t': []})) as x(seq, p)`,
      );
      const rows = await rowsJson(wh.conn, `select id, v, _seq from (${newestImages('t', ['id', 'v'], 'parsed')}) order by id`);
      expect(rows.map((r) => [Number(r.id), r.v, Number(r._seq)])).toEqual([
        [1, 'd', 2],
        [2, 'b', 1],
      ]);
    } finally {
      wh.close();
    }
  });
});
