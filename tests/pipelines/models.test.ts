import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { buildIncremental } from '../../pipelines/transform/build.ts';
import { bodyOverDelta, loadModels } from '../../pipelines/transform/models.ts';
import { rowsJson } from '../../src/warehouse/warehouse.ts';

/** The declarations of an SQL model file, read as the transform reads them. */
describe('SQL model declarations', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  function modelsOf(files: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-models-'));
    dirs.push(dir);
    for (const [file, sql] of Object.entries(files)) {
      fs.mkdirSync(path.join(dir, path.dirname(file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), sql);
    }
    return loadModels(dir);
  }
  const items = `-- table: items
-- incremental key: item_key
/* changed keys:
select 'core:' || id as item_key from delta_staging_core_invoices
*/
select 'core:' || id as item_key, customer_id, total_minor as cents from staging.core_invoices`;
  const totals = (header: string, from = 'metrics.items') => `-- table: totals
-- incremental key: customer_id
${header}
/* changed keys:
select customer_id from delta_metrics_items
*/
select customer_id, sum(cents) as cents, count(*) as n from ${from} as i group by all`;

  it('a sums model adds up one input: its delta replaces it in the SELECT, old or new rows', () => {
    const models = modelsOf({
      'metrics/items.sql': items,
      'metrics/totals.sql': totals('-- incremental sums: cents, n\n-- incremental row count: n'),
    });
    const t = models.find((m) => m.name === 'totals')!;
    expect(t.sums).toEqual(['cents', 'n']);
    expect(t.rowCount).toBe('n');
    expect(t.sumsInput).toBe('metrics.items');
    expect(models.map((m) => m.name)).toEqual(['items', 'totals']);
    expect(bodyOverDelta(t, 'new')).toContain(`from (select * exclude (_change) from delta_metrics_items where _change = 'new') as i group by all`);
    expect(bodyOverDelta(t, 'old')).toContain(`where _change = 'old'`);
    expect(bodyOverDelta(t, 'old')).not.toContain('metrics.items');
  });

  it('refuses sums without a row count, a row count that is not a sum, and sums without a key', () => {
    expect(() => modelsOf({ 'metrics/items.sql': items, 'metrics/totals.sql': totals('-- incremental sums: cents, n') })).toThrow(/incremental row count/);
    expect(() => modelsOf({ 'metrics/items.sql': items, 'metrics/totals.sql': totals('-- incremental sums: cents\n-- incremental row count: n') })).toThrow(/incremental row count/);
    expect(() => modelsOf({ 'metrics/t.sql': '-- table: t\n-- incremental sums: n\n-- incremental row count: n\nselect count(*) as n from metrics.items' })).toThrow(/needs an "-- incremental key:"/);
  });

  it('refuses a sums model whose input is read twice or has no delta it follows', () => {
    expect(() =>
      modelsOf({
        'metrics/items.sql': items,
        'metrics/totals.sql': totals('-- incremental sums: cents, n\n-- incremental row count: n', 'metrics.items as i1 join metrics.items'),
      }),
    ).toThrow(/exactly one table whose delta/);
    expect(() =>
      modelsOf({
        'metrics/items.sql': items,
        'metrics/totals.sql': totals('-- incremental sums: cents, n\n-- incremental row count: n', 'staging.core_invoices'),
      }),
    ).toThrow(/exactly one table whose delta/);
  });
});

/** An update in place on a real DuckDB: the delta it leaves is exactly the rows that differ. */
describe('updating a model in place', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-models-'));
  fs.mkdirSync(path.join(dir, 'metrics'));
  fs.writeFileSync(
    path.join(dir, 'metrics', 'lines.sql'),
    `-- table: lines
-- incremental key: k
/* changed keys:
select k from delta_staging_src
*/
select k, v from staging.src`,
  );
  const model = loadModels(dir)[0]!;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function update(before: [number, string][], after: [number, string][], changed: number[]) {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const values = (rows: [number, string][]) => rows.map(([k, v]) => `(${k}, '${v}')`).join(', ');
    await conn.run('create schema staging; create schema metrics');
    await conn.run(`create table staging.src as select * from (values ${values(after)}) as t(k, v)`);
    await conn.run(`create table metrics.lines as select * from (values ${values(before)}) as t(k, v)`);
    await conn.run(`create temp table delta_staging_src as select * from (values ${changed.map((k) => `(${k})`).join(', ')}) as t(k)`);
    const r = await buildIncremental(conn, model);
    const table = await rowsJson(conn, 'select k, v from metrics.lines order by k, v');
    const delta = await rowsJson(conn, 'select _change, k, v from delta_metrics_lines order by _change, k, v');
    conn.closeSync();
    db.closeSync();
    return { ...r, table, delta };
  }

  it('rows that differ, compared by hash and whole row: an unchanged key is left alone', async () => {
    const r = await update([[1, 'a'], [2, 'b'], [3, 'c']], [[1, 'a'], [2, 'B'], [3, 'c'], [4, 'd']], [1, 2, 4]);
    expect(r.table).toEqual([{ k: 1, v: 'a' }, { k: 2, v: 'B' }, { k: 3, v: 'c' }, { k: 4, v: 'd' }]);
    expect(r.delta).toEqual([{ _change: 'new', k: 2, v: 'B' }, { _change: 'new', k: 4, v: 'd' }, { _change: 'old', k: 2, v: 'b' }]);
    expect(r.deltaRows).toBe(3);
  });

  it('repeated rows are counted: one of two equal rows gone is a change', async () => {
    const r = await update([[1, 'a'], [1, 'a'], [2, 'b']], [[1, 'a'], [2, 'b']], [1, 2]);
    expect(r.table).toEqual([{ k: 1, v: 'a' }, { k: 2, v: 'b' }]);
    expect(r.delta).toEqual([{ _change: 'old', k: 1, v: 'a' }]);
  });
});

/** A sums model updated from its input's delta: the same rows a recount gives, or a loud failure. */
describe('updating a sums model in place', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-models-'));
  fs.mkdirSync(path.join(dir, 'metrics'));
  fs.writeFileSync(
    path.join(dir, 'metrics', 'totals.sql'),
    `-- table: totals
-- incremental key: customer_id
-- incremental sums: cents, n
-- incremental row count: n
/* changed keys:
select customer_id from delta_metrics_items
*/
select customer_id, bucket, sum(cents) as cents, count(*) as n from metrics.items as i group by all`,
  );
  const model = loadModels(dir)[0]!;
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  type Item = [string, string, number];
  async function update(before: Item[], removed: Item[], added: Item[]) {
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const rows = (items: Item[]) => (items.length ? items.map(([c, b, v]) => `('${c}', '${b}', ${v})`).join(', ') : `('', '', 0)`);
    const after = [...before.filter((x) => !removed.some((r) => r.join() === x.join())), ...added];
    await conn.run('create schema metrics');
    await conn.run(`create table metrics.items as select * from (values ${rows(after)}) as t(customer_id, bucket, cents) where customer_id <> ''`);
    await conn.run(`create table metrics.totals as select customer_id, bucket, cast(sum(cents) as bigint) as cents, count(*) as n from (values ${rows(before)}) as t(customer_id, bucket, cents) where customer_id <> '' group by all`);
    await conn.run(`create temp table delta_metrics_items as
      select 'old' as _change, * from (values ${rows(removed)}) as t(customer_id, bucket, cents) where customer_id <> ''
      union all select 'new', * from (values ${rows(added)}) as t(customer_id, bucket, cents) where customer_id <> ''`);
    try {
      await buildIncremental(conn, model);
      return {
        table: await rowsJson(conn, 'select customer_id, bucket, cents, n from metrics.totals order by all'),
        recount: await rowsJson(conn, 'select customer_id, bucket, cast(sum(cents) as bigint) as cents, count(*) as n from metrics.items group by all order by all'),
      };
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  }

  it('adds the new rows, subtracts the replaced ones, and drops a row whose count falls to zero', async () => {
    const r = await update(
      [['A', 'current', 100], ['A', '1-30', 50], ['B', 'current', 70], ['C', 'current', 10]],
      [['A', '1-30', 50], ['B', 'current', 70]],
      [['A', 'current', 25], ['B', '31-60', 70]],
    );
    expect(r.table).toEqual(r.recount);
    expect(r.table).toEqual([
      { customer_id: 'A', bucket: 'current', cents: '125', n: '2' },
      { customer_id: 'B', bucket: '31-60', cents: '70', n: '1' },
      { customer_id: 'C', bucket: 'current', cents: '10', n: '1' },
    ]);
  });

  it('fails the run when the delta takes away rows the table never counted', async () => {
    await expect(update([['A', 'current', 100]], [['A', '1-30', 50]], [])).rejects.toThrow(/would count fewer than no n/);
  });
});
