import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { openWarehouse, rowsJson, warehousePaths } from '../../src/warehouse/warehouse.ts';
import { dumpSchemas, Ledger, parquetDifferences, tempDir } from './ledger.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const OPEN_INVOICES = `select count(*) as n, sum(open_cents) as open from marts.fct_invoices`;

/**
 * A reader in a process of its own: opens the snapshot read-only and answers OPEN_INVOICES
 * each time it is asked, on the same open database, until its input ends.
 */
function reader(file: string): { child: ChildProcessWithoutNullStreams; ask: () => Promise<string> } {
  const code = `
    import { DuckDBInstance } from '@duckdb/node-api';
    import readline from 'node:readline';
    const db = await DuckDBInstance.create(${JSON.stringify(file)}, { access_mode: 'READ_ONLY' });
    const conn = await db.connect();
    const answer = async () => console.log(JSON.stringify((await conn.runAndReadAll(${JSON.stringify(OPEN_INVOICES)})).getRowObjectsJson()));
    await answer();
    for await (const _ of readline.createInterface({ input: process.stdin })) await answer();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { cwd: repo });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const r = await lines.next();
    if (r.done) throw new Error('the reader process ended');
    return String(r.value);
  };
  let first: Promise<string> | null = next();
  return {
    child,
    ask: async () => {
      if (first) {
        const f = first;
        first = null;
        return f;
      }
      child.stdin.write('again\n');
      return next();
    },
  };
}

async function openInvoices(file: string): Promise<string> {
  const wh = await openWarehouse(file, { readOnly: true });
  try {
    return JSON.stringify(await rowsJson(wh.conn, OPEN_INVOICES));
  } finally {
    wh.close();
  }
}

/** The snapshot's views and tables in the public schemas and ops, with the Parquet folders their views read. */
async function snapshotObjects(file: string) {
  const wh = await openWarehouse(file, { readOnly: true });
  try {
    const views = await rowsJson(wh.conn, `select schema_name || '.' || view_name as v, sql, comment from duckdb_views() where not internal and database_name = current_database() order by 1`);
    const tables = await rowsJson(wh.conn, `select schema_name || '.' || table_name as t from duckdb_tables() where database_name = current_database() order by 1`);
    const folders = new Set(views.flatMap((v) => [...String(v.sql).matchAll(/'([^']+\.parquet)'/g)].map((m) => path.dirname(m[1]!).split(path.sep).find((_, i, all) => all.slice(0, i).join(path.sep).endsWith('published'))!)));
    return { views, tables: tables.map((r) => String(r.t)), folders: [...folders] };
  } finally {
    wh.close();
  }
}

describe(`publishing the snapshot as views over the Parquet (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  const children: ChildProcessWithoutNullStreams[] = [];
  const run = () => runPipeline({ dataDir: dir, coreUrl: t.url, asOf: '2026-03-31', quiet: true });
  beforeEach(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    dir = tempDir();
  });
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the snapshot is a small file of views over the Parquet folder of its own publish, with the comments, and reads as the warehouse', async () => {
    const l = new Ledger(t.core);
    const c1 = await l.customer('C1');
    const paths = warehousePaths(dir);
    const schemas = ['marts', 'metrics'];
    for (let k = 0; k < 3; k++) {
      const inv = await l.invoice(c1, `INV${k}`, `2026-0${1 + k}-1${k}`, `2026-0${2 + k}-1${k}`, 10_000 * (k + 1));
      if (k > 0) await l.payment(c1, '2026-03-2' + String(k), 1_000, [[inv, 1_000]]);
      const r = await run();
      // What analysts read is what the run built, in the snapshot and in the Parquet copies.
      expect(await dumpSchemas(paths.snapshot, schemas)).toEqual(await dumpSchemas(paths.warehouse, schemas));
      expect(await parquetDifferences(dir)).toEqual({});
      const snap = await snapshotObjects(paths.snapshot);
      // Every public table is a view reading the folder this publish wrote; only the run log is copied as tables.
      expect(snap.folders).toEqual([path.basename(r.published!.parquetVersion)]);
      expect(snap.tables).toEqual(['ops.extract_loads', 'ops.pipeline_runs', 'ops.reconciliation']);
      expect(snap.views.map((v) => String(v.v)).sort()).toEqual([...r.published!.tables].sort());
      expect(fs.statSync(paths.snapshot).size).toBeLessThan(2_000_000);
    }
    // The tables' and columns' comments are on the views.
    const wh = await openWarehouse(paths.warehouse, { readOnly: true });
    const snap = await openWarehouse(paths.snapshot, { readOnly: true });
    try {
      const comments = `select schema_name || '.' || table_name as t, column_name, comment from duckdb_columns() where database_name = current_database() and schema_name in ('marts', 'metrics') and comment is not null order by all`;
      const wanted = await rowsJson(wh.conn, comments);
      expect(wanted.length).toBeGreaterThan(20);
      expect(await rowsJson(snap.conn, comments)).toEqual(wanted);
      const tableComments = await rowsJson(wh.conn, `select schema_name || '.' || table_name as t, comment from duckdb_tables() where schema_name in ('marts', 'metrics') and comment is not null order by all`);
      expect(tableComments.length).toBeGreaterThan(5);
      expect(await rowsJson(snap.conn, `select schema_name || '.' || view_name as t, comment from duckdb_views() where schema_name in ('marts', 'metrics') and comment is not null order by all`)).toEqual(tableComments);
      // The column types are the warehouse's; a HUGEINT is kept exact in the Parquet, as DECIMAL(38,0).
      const types = `select schema_name || '.' || table_name as t, column_name, data_type from duckdb_columns() where database_name = current_database() and schema_name in ('marts', 'metrics') order by all`;
      expect(await rowsJson(snap.conn, types)).toEqual(await rowsJson(wh.conn, types));
      const huge = await rowsJson(
        wh.conn,
        `select column_name, column_type from (describe select * from read_parquet('${paths.parquet}/metrics.ar_settled_monthly/**/*.parquet', hive_partitioning = false)) where column_name = 'amount_cents'`,
      );
      expect(huge).toEqual([{ column_name: 'amount_cents', column_type: 'DECIMAL(38,0)' }]);
    } finally {
      wh.close();
      snap.close();
    }
    // A run with nothing new changes nothing readers see; nothing else is left beside the snapshot.
    const idle = await run();
    expect(idle.published).toMatchObject({ tablesChanged: [], partsWritten: 0 });
    expect(await dumpSchemas(paths.snapshot, schemas)).toEqual(await dumpSchemas(paths.warehouse, schemas));
    expect(fs.readdirSync(paths.published).filter((f) => f.includes('.duckdb'))).toEqual(['warehouse.duckdb']);
  }, 240_000);

  it('a reader holding an older snapshot keeps reading it while later publishes replace it; replaced Parquet folders go an hour later', async () => {
    const l = new Ledger(t.core);
    const c1 = await l.customer('C1');
    const paths = warehousePaths(dir);
    await l.invoice(c1, 'INV0', '2026-01-10', '2026-02-09', 10_000);
    await run();
    await l.invoice(c1, 'INV1', '2026-01-11', '2026-02-10', 20_000);
    await run();
    const before = await openInvoices(paths.snapshot);

    // A reader in another process, and one in this process, hold the snapshot open across four publishes.
    const other = reader(paths.snapshot);
    children.push(other.child);
    expect(await other.ask()).toBe(before);
    const here = await openWarehouse(paths.snapshot, { readOnly: true });
    try {
      for (let k = 2; k < 6; k++) {
        await l.invoice(c1, `INV${k}`, '2026-01-1' + String(k), '2026-02-1' + String(k), 1_000 * k);
        await run();
        expect(await other.ask()).toBe(before);
        expect(JSON.stringify(await rowsJson(here.conn, OPEN_INVOICES))).toBe(before);
        expect(await dumpSchemas(paths.snapshot, ['marts', 'metrics'])).toEqual(await dumpSchemas(paths.warehouse, ['marts', 'metrics']));
      }
    } finally {
      here.close();
    }
    expect(await openInvoices(paths.snapshot)).toBe(await openInvoices(paths.warehouse));
    expect(await openInvoices(paths.snapshot)).not.toBe(before);
    const versions = () => fs.readdirSync(paths.published).filter((f) => /^\.parquet-\d/.test(f)).sort();
    expect(versions()).toHaveLength(6);

    // Two hours later: a publish keeps its own folder and the one before it, and removes the others.
    const earlier = new Date(Date.now() - 2 * 3600_000);
    for (const v of versions()) fs.utimesSync(path.join(paths.published, v, '_manifest.json'), earlier, earlier);
    const last = versions().at(-1)!;
    const r = await run();
    expect(versions()).toEqual([last, path.basename(r.published!.parquetVersion)].sort());
    expect(await openInvoices(paths.snapshot)).toBe(await openInvoices(paths.warehouse));
  }, 240_000);

  it('a data folder published by the earlier layout (two snapshot files with tables, DOUBLE for HUGEINT) is published afresh, and its files removed', async () => {
    const l = new Ledger(t.core);
    const c1 = await l.customer('C1');
    const paths = warehousePaths(dir);
    await l.invoice(c1, 'INV0', '2026-01-10', '2026-02-09', 10_000);
    const first = await run();
    // As the earlier code left it: a manifest of the `hive` layout, the two snapshot files.
    const manifest = path.join(paths.parquet, '_manifest.json');
    fs.writeFileSync(manifest, fs.readFileSync(manifest, 'utf8').replace('"layout": "hive-exact"', '"layout": "hive"'));
    for (const f of ['.snapshot-a.duckdb', '.snapshot-b.duckdb']) fs.copyFileSync(paths.snapshot, path.join(paths.published, f));
    const r = await run();
    expect(r.published!.partsKept).toBe(0);
    expect(r.published!.partsWritten).toBe(first.published!.partsWritten + first.published!.partsKept);
    expect(fs.readdirSync(paths.published).filter((f) => f.includes('.duckdb'))).toEqual(['warehouse.duckdb']);
    expect(await parquetDifferences(dir)).toEqual({});
  }, 240_000);
});
