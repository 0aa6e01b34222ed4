import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { cli } from '../helpers/cli.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { rebuildWarehouse, type RebuildResult } from '../../pipelines/rebuild.ts';
import { WarehouseDamagedError, warehousePaths } from '../../src/warehouse/warehouse.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { dumpParquet, dumpPublic, dumpSchemas, Ledger, parquetDifferences, readWarehouse, tempDir } from './ledger.ts';

const AS_OF = '2026-03-31';
const extract = path.resolve(import.meta.dirname, '../fixtures/onboarding/canonical');

/** A receivables history with the hard cases: partial and reversed payments, a credit note, a write-off. */
async function history(l: Ledger): Promise<void> {
  const c1 = await l.customer('C1');
  const c2 = await l.customer('C2');
  const i1 = await l.invoice(c1, 'INV1', '2026-01-10', '2026-02-09', 100_000);
  const i2 = await l.invoice(c2, 'INV2', '2026-01-20', '2026-02-19', 50_000);
  await l.payment(c1, '2026-01-25', 40_000, [[i1, 40_000]]);
  const i3 = await l.invoice(c1, 'INV3', '2026-03-05', '2026-04-04', 200_000);
  await l.payment(c1, '2026-03-20', 60_000, [[i1, 60_000]]);
  const p3 = await l.payment(c2, '2026-03-22', 50_000, [[i2, 50_000]]);
  await l.reversePayment(p3, '2026-03-27');
  await l.creditNote(i3, c1, '2026-03-31', 20_000);
  const i4 = await l.invoice(c2, 'INV4', '2026-03-25', '2026-04-24', 30_000);
  await l.writeOff(i4, '2026-03-30', 10_000);
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** What the first build produced and what a rebuild must produce again. */
async function measures(dataDir: string) {
  const paths = warehousePaths(dataDir);
  return {
    kpis: await readWarehouse(paths.warehouse, 'select * from metrics.ar_kpis_monthly order by all'),
    warehouse: await dumpPublic(paths.warehouse),
    snapshot: await dumpSchemas(paths.snapshot, ['marts', 'metrics']),
    parquet: await dumpParquet(dataDir),
  };
}

describe(`pipeline rebuild of a lost or damaged warehouse (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  beforeEach(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    dir = tempDir();
    await history(new Ledger(t.core));
  });
  afterEach(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a deleted warehouse is rebuilt from the core with the same marts and metrics, row by row', async () => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true });
    const first = await measures(dir);
    expect(first.kpis.length).toBeGreaterThan(0);
    expect(Number(first.kpis.at(-1)!.ar_total_cents)).toBeGreaterThan(0);

    fs.rmSync(warehousePaths(dir).warehouse);
    const r = await rebuildWarehouse({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true });
    expect(r.previous).toBe('missing');
    expect(r.removed.map((x) => path.basename(x.path))).toEqual(['published']);
    expect(r.run.reconciliation?.status).toBe('ok');
    expect(await measures(dir)).toEqual(first);
    expect(await parquetDifferences(dir)).toEqual({});
    // The run log starts again: the rebuild is the only run the new warehouse knows.
    expect(await readWarehouse(warehousePaths(dir).warehouse, `select job, status from ops.pipeline_runs`)).toEqual([{ job: 'rebuild', status: 'succeeded' }]);
  }, 240_000);

  it('a warehouse truncated to half its bytes fails the run with what to do, keeps the published snapshot, and is rebuilt with the same metrics', async () => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true });
    const first = await measures(dir);
    const paths = warehousePaths(dir);
    const snapshotSha = sha(paths.snapshot);
    // A site the reports server is serving: a failed run must leave it alone.
    fs.mkdirSync(path.join(dir, 'site'));
    fs.writeFileSync(path.join(dir, 'site', 'index.html'), '<p>last good run</p>');

    fs.truncateSync(paths.warehouse, Math.floor(fs.statSync(paths.warehouse).size / 2));
    const env = { DATABASE_URL: t.url, CASHLOOP_DATA_DIR: dir };
    const failed = await cli(['pipeline', 'run', '--quiet', '--as-of', AS_OF], env);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`error: the warehouse file ${paths.warehouse} is damaged (DuckDB: IO Error:`);
    expect(failed.stderr).toContain('`cashloop pipeline rebuild` deletes the warehouse files and builds them again from the core');
    expect(failed.stderr.trim().split('\n')).toHaveLength(1); // one line saying what to do, no stack
    expect(sha(paths.snapshot)).toBe(snapshotSha);
    expect(fs.readFileSync(path.join(dir, 'site', 'index.html'), 'utf8')).toBe('<p>last good run</p>');
    expect(await dumpSchemas(paths.snapshot, ['marts', 'metrics'])).toEqual(first.snapshot);

    const rebuilt = await cli(['pipeline', 'rebuild', '--no-site', '--as-of', AS_OF, '--json'], env);
    expect(rebuilt.stderr).not.toMatch(/^error/m);
    expect(rebuilt.code).toBe(0);
    const r = JSON.parse(rebuilt.stdout) as RebuildResult;
    expect(r.previous).toBe('damaged');
    expect(r.removed.map((x) => path.basename(x.path))).toEqual(['warehouse.duckdb', 'published']);
    expect(await measures(dir)).toEqual(first);
  }, 240_000);

  it('a warehouse whose header blocks are overwritten is reported as damaged, in the run and in the query', async () => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true });
    const first = await measures(dir);
    const paths = warehousePaths(dir);
    const fd = fs.openSync(paths.warehouse, 'r+');
    fs.writeSync(fd, Buffer.alloc(8192, 0x5a), 0, 8192, 4096);
    fs.closeSync(fd);
    const error = await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WarehouseDamagedError);
    expect((error as WarehouseDamagedError).file).toBe(paths.warehouse);

    // The same words for a damaged published snapshot read by `cashloop query`.
    const snapshotCopy = path.join(dir, 'damaged-snapshot.duckdb');
    fs.copyFileSync(paths.snapshot, snapshotCopy);
    fs.truncateSync(snapshotCopy, 100);
    const { openWarehouse } = await import('../../src/warehouse/warehouse.ts');
    await expect(openWarehouse(snapshotCopy, { readOnly: true })).rejects.toThrow(`the warehouse file ${snapshotCopy} is damaged`);

    const r = await rebuildWarehouse({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true });
    expect(r.previous).toBe('damaged');
    expect(await measures(dir)).toEqual(first);
  }, 240_000);

  it('a warehouse holding another ERP’s extract is not rebuilt without it, unless asked; with it, to the same result', async () => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true, extract });
    const first = await measures(dir);
    expect(first.warehouse['marts.fct_invoices']!.some((r) => String((r as { invoice_key: string }).invoice_key).startsWith('canonical:'))).toBe(true);

    const refused = await rebuildWarehouse({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).detail.rule).toBe('extracts_reloaded');
    expect((refused as DomainError).message).toContain('canonical (customers.csv');
    expect(fs.existsSync(warehousePaths(dir).warehouse)).toBe(true); // nothing deleted
    expect(await measures(dir)).toEqual(first);

    const again = await rebuildWarehouse({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true, extract });
    expect(again.previous).toBe('readable');
    expect(await measures(dir)).toEqual(first);

    const coreOnly = await rebuildWarehouse({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true, withoutExtracts: true });
    expect(coreOnly.run.reconciliation?.status).toBe('ok');
    const invoices = await readWarehouse(warehousePaths(dir).warehouse, `select count(*) filter (where invoice_key like 'canonical:%') as extract_rows, count(*) as all_rows from marts.fct_invoices`);
    expect(invoices).toEqual([{ extract_rows: '0', all_rows: '4' }]);
  }, 240_000);

  it('a warehouse another run holds open is not deleted', async () => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, asOf: AS_OF, quiet: true });
    const { openWarehouse } = await import('../../src/warehouse/warehouse.ts');
    const holder = await openWarehouse(warehousePaths(dir).warehouse);
    try {
      // DuckDB's lock is per process: a second process is what meets it.
      const r = await cli(['pipeline', 'rebuild', '--no-site', '--as-of', AS_OF], { DATABASE_URL: t.url, CASHLOOP_DATA_DIR: dir });
      expect(r.code).toBe(4);
      expect(r.stderr).toContain('is in use by another pipeline run');
      expect(fs.existsSync(warehousePaths(dir).snapshot)).toBe(true);
    } finally {
      holder.close();
    }
  }, 240_000);
});
