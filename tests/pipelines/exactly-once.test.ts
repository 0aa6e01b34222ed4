import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { ReconciliationError } from '../../pipelines/reconcile.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { dumpParquet, dumpPublic, dumpSchemas, Ledger, parquetDifferences, readWarehouse, tempDir } from './ledger.ts';

const repo = path.resolve(import.meta.dirname, '../..');

/** First half of a history, then the second half: the incremental tests load them in two runs. */
async function firstHalf(l: Ledger) {
  const c1 = await l.customer('C1');
  const c2 = await l.customer('C2');
  const i1 = await l.invoice(c1, 'INV1', '2026-01-10', '2026-02-09', 100_000);
  const i2 = await l.invoice(c2, 'INV2', '2026-01-20', '2026-02-19', 50_000);
  const p1 = await l.payment(c1, '2026-01-25', 40_000, [[i1, 40_000]]);
  return { c1, c2, i1, i2, p1 };
}
async function secondHalf(l: Ledger, ids: Awaited<ReturnType<typeof firstHalf>>) {
  const i3 = await l.invoice(ids.c1, 'INV3', '2026-03-05', '2026-04-04', 200_000);
  await l.payment(ids.c1, '2026-03-20', 60_000, [[ids.i1, 60_000]]);
  const p3 = await l.payment(ids.c2, '2026-03-22', 50_000, [[ids.i2, 50_000]]);
  await l.reversePayment(p3, '2026-03-27'); // returned debit: INV2 open again
  await l.creditNote(i3, ids.c1, '2026-03-31', 20_000);
  const i4 = await l.invoice(ids.c2, 'INV4', '2026-03-25', '2026-04-24', 30_000);
  await l.writeOff(i4, '2026-03-30', 10_000);
}

describe(`exactly-once and incremental loads (${testDialect})`, () => {
  let t: TestCore;
  let dirs: string[];
  const dir = () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  const run = (dataDir: string, extra: Partial<Parameters<typeof runPipeline>[0]> = {}) =>
    runPipeline({ dataDir, coreUrl: t.url, asOf: '2026-03-31', quiet: true, ...extra });

  beforeEach(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    dirs = [];
  });
  afterEach(async () => {
    delete process.env.CASHLOOP_FAULT;
    await t.cleanup();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('an incremental run after new events gives the same warehouse as one full run; reversals and write-offs count', async () => {
    const l = new Ledger(t.core);
    const ids = await firstHalf(l);
    const inc = dir();
    const first = await run(inc);
    expect(first.steps.find((s) => s.name === 'ingest')!.rowsRead).toBe(5);
    await secondHalf(l, ids);
    const second = await run(inc);
    expect(second.steps.find((s) => s.name === 'ingest')!.rowsRead).toBe(7); // only the new events
    const again = await run(inc);
    expect(again.steps.find((s) => s.name === 'ingest')!.rowsRead).toBe(0);

    const full = dir();
    await run(full);
    expect(await dumpPublic(warehousePaths(inc).warehouse)).toEqual(await dumpPublic(warehousePaths(full).warehouse));

    const inv = await readWarehouse(warehousePaths(inc).warehouse, `select invoice_number, paid_cents, written_off_cents, open_cents from marts.fct_invoices order by 1`);
    expect(inv).toEqual([
      { invoice_number: 'INV1', paid_cents: '100000', written_off_cents: '0', open_cents: '0' },
      { invoice_number: 'INV2', paid_cents: '0', written_off_cents: '0', open_cents: '50000' },
      { invoice_number: 'INV3', paid_cents: '0', written_off_cents: '0', open_cents: '180000' },
      { invoice_number: 'INV4', paid_cents: '0', written_off_cents: '10000', open_cents: '20000' },
    ]);
    // Between the payment (03-22) and its reversal (03-27) INV2 was paid: a replay of 03-25 sees it settled.
    const replay = dir();
    await run(replay, { asOf: '2026-03-25' });
    const inv2 = await readWarehouse(warehousePaths(replay).warehouse, `select paid_cents, open_cents, cast(settled_date as varchar) s from marts.fct_invoices where invoice_number = 'INV2'`);
    expect(inv2).toEqual([{ paid_cents: '50000', open_cents: '0', s: '2026-03-22' }]);
    const pay = await readWarehouse(warehousePaths(replay).warehouse, `select count(*) filter (where is_reversed) as r from marts.fct_payments`);
    expect(pay).toEqual([{ r: '0' }]);
  });

  it('a run that fails inside the transform leaves the previous marts; the next run completes to the same result', async () => {
    const l = new Ledger(t.core);
    const ids = await firstHalf(l);
    const inc = dir();
    await run(inc);
    const before = await dumpPublic(warehousePaths(inc).warehouse);
    await secondHalf(l, ids);
    process.env.CASHLOOP_FAULT = 'transform:before-commit';
    await expect(run(inc)).rejects.toThrow(/injected fault at transform:before-commit/);
    delete process.env.CASHLOOP_FAULT;
    // The ingest step committed on its own; the transform rolled back whole.
    expect(await dumpPublic(warehousePaths(inc).warehouse)).toEqual(before);
    const runs = await readWarehouse(warehousePaths(inc).warehouse, `select status, error from ops.pipeline_runs order by started_at`);
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'failed']);
    expect(String(runs[1]!.error)).toMatch(/injected fault/);

    await run(inc);
    const full = dir();
    await run(full);
    expect(await dumpPublic(warehousePaths(inc).warehouse)).toEqual(await dumpPublic(warehousePaths(full).warehouse));
  });

  it('a process killed before the ingest commits loads nothing; the next run loads every event exactly once', async () => {
    const l = new Ledger(t.core);
    const ids = await firstHalf(l);
    const inc = dir();
    await run(inc);
    await secondHalf(l, ids);
    const child = spawnSync(process.execPath, [path.join(repo, 'bin/cashloop.js'), 'pipeline', 'run', '--quiet', '--as-of', '2026-03-31'], {
      cwd: repo,
      env: { ...process.env, CASHLOOP_DATA_DIR: inc, DATABASE_URL: t.url, CASHLOOP_FAULT: 'ingest:before-commit:kill' },
      encoding: 'utf8',
    });
    expect(child.signal).toBe('SIGKILL');
    const wh = warehousePaths(inc).warehouse;
    expect(await readWarehouse(wh, `select count(*) n, max(seq) m from raw.events`)).toEqual([{ n: '5', m: '5' }]);
    expect(await readWarehouse(wh, `select value from ops.watermarks where name = 'core_events'`)).toEqual([{ value: '5' }]);

    const next = await run(inc);
    expect(next.steps.find((s) => s.name === 'ingest')!.rowsRead).toBe(7);
    expect(await readWarehouse(wh, `select status from ops.pipeline_runs order by started_at`)).toEqual([{ status: 'succeeded' }, { status: 'abandoned' }, { status: 'succeeded' }]);
    expect(await readWarehouse(wh, `select count(*) n, count(distinct seq) d from raw.events`)).toEqual([{ n: '12', d: '12' }]);
    const full = dir();
    await run(full);
    expect(await dumpPublic(wh)).toEqual(await dumpPublic(warehousePaths(full).warehouse));
  });

  it('a process killed while transforming or publishing leaves the published copies as they were; the next run completes to the same result', async () => {
    const l = new Ledger(t.core);
    const ids = await firstHalf(l);
    const wh = (d: string) => warehousePaths(d);
    const points = ['transform:before-commit', 'publish:before-parquet-switch', 'publish:before-snapshot-commit', 'publish:before-snapshot-rename'];
    for (const [k, point] of points.entries()) {
      const inc = dir();
      await run(inc);
      const snapshot = await dumpSchemas(wh(inc).snapshot, ['marts', 'metrics', 'ops']);
      const parquet = await dumpParquet(inc);
      // More history, each time: a late payment to an old invoice, and a new invoice.
      await l.payment(ids.c2, '2026-03-0' + String(k + 1), 1_000, [[ids.i2, 1_000]]);
      await l.invoice(ids.c1, `INV-K${k}`, '2026-03-1' + String(k), '2026-04-1' + String(k), 5_000);
      const child = spawnSync(process.execPath, [path.join(repo, 'bin/cashloop.js'), 'pipeline', 'run', '--quiet', '--as-of', '2026-03-31'], {
        cwd: repo,
        env: { ...process.env, CASHLOOP_DATA_DIR: inc, DATABASE_URL: t.url, CASHLOOP_FAULT: `${point}:kill` },
        encoding: 'utf8',
      });
      expect({ point, signal: child.signal }).toEqual({ point, signal: 'SIGKILL' });
      // Readers still see the previous snapshot, whole. The Parquet copies are switched first:
      // killed before that, they are the previous run's; after it, the complete new set.
      expect({ point, snapshot: await dumpSchemas(wh(inc).snapshot, ['marts', 'metrics', 'ops']) }).toEqual({ point, snapshot });
      if (k < 2) expect({ point, parquet: await dumpParquet(inc) }).toEqual({ point, parquet });
      else expect({ point, parquet: await parquetDifferences(inc) }).toEqual({ point, parquet: {} });

      await run(inc);
      const full = dir();
      await run(full);
      expect(await dumpPublic(wh(inc).warehouse)).toEqual(await dumpPublic(wh(full).warehouse));
      expect(await dumpSchemas(wh(inc).snapshot, ['marts', 'metrics'])).toEqual(await dumpSchemas(wh(full).snapshot, ['marts', 'metrics']));
      expect(await dumpParquet(inc)).toEqual(await dumpParquet(full));
      // What the killed run left behind is gone.
      expect(fs.readdirSync(path.join(inc, 'published')).filter((f) => f.startsWith('.warehouse-'))).toEqual([]);
    }
    // Four kill points, each with a killed child process, a resumed run and a full run to compare.
  }, 120_000);

  it('reconciliation fails the run loudly when the core and the warehouse disagree, and nothing is published', async () => {
    const l = new Ledger(t.core);
    await firstHalf(l);
    const d = dir();
    const ok = await run(d);
    expect(ok.reconciliation?.status).toBe('ok');
    const snapshot = warehousePaths(d).snapshot;
    const publishedBefore = fs.statSync(snapshot).mtimeMs;
    // A change made behind the core's back: no event, so the feed never hears of it.
    await sql`update invoices set total_minor = total_minor + 1 where number = 'INV2'`.execute(t.core.db.kysely);
    const err = await run(d).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ReconciliationError);
    expect((err as Error).message).toMatch(/invoiced cents: expected 150001, warehouse has 150000/);
    expect(fs.statSync(snapshot).mtimeMs).toBe(publishedBefore);
    const checks = await readWarehouse(warehousePaths(d).warehouse, `select check_name, expected, actual from ops.reconciliation where not ok`);
    expect(checks).toContainEqual({ check_name: 'invoiced cents', expected: '150001', actual: '150000' });
    expect(await readWarehouse(warehousePaths(d).warehouse, `select status from ops.pipeline_runs order by started_at desc limit 1`)).toEqual([{ status: 'failed' }]);
  });
});
