import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCore, closeCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { openWarehouse, warehousePaths } from '../../src/warehouse/warehouse.ts';
import { testDialect } from '../helpers/db.ts';

interface Health {
  reconciliationStatus: string;
  checkedAt: string | null;
  reconciliation: { run_id: string; ok: boolean }[];
}

const load = (dataDir: string): Health =>
  JSON.parse(execFileSync(path.resolve('node_modules/.bin/tsx'), [path.resolve('reports/data/health.json.ts')], { env: { ...process.env, CASHLOOP_DATA_DIR: dataDir }, encoding: 'utf8' })) as Health;

/**
 * Data health says a reconciliation was skipped when the last run had the step and recorded no
 * check, instead of showing an earlier run's checks as the last run's.
 */
describe.skipIf(testDialect === 'postgres')('data health: the last run reconciliation, or that it was skipped', () => {
  let dataDir: string;
  let copy: string;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-health-'));
    const clock = new ManualClock('2025-01-01T07:00:00Z');
    const db = `sqlite:${path.join(dataDir, 'cashloop.db')}`;
    const core = await openCore({ url: db, clock });
    const demo = await generateDemo(core, clock, { seed: 4, customers: 6, months: 3, start: '2025-01-01' });
    await closeCore(core);
    await runPipeline({ dataDir, coreUrl: db, asOf: demo.manifest.end, quiet: true });
    // The same snapshot, after a later run that had the reconcile step but recorded no check.
    copy = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-health-skipped-'));
    fs.mkdirSync(path.join(copy, 'published'));
    fs.copyFileSync(warehousePaths(dataDir).snapshot, warehousePaths(copy).snapshot);
    const wh = await openWarehouse(warehousePaths(copy).snapshot);
    try {
      await wh.conn.run(`insert into ops.pipeline_runs (run_id, job, steps, as_of, started_at, ended_at, status)
                         values ('later', 'manual', 'ingest,transform,forecast,reconcile,publish', date '${demo.manifest.end}', now() + interval 1 hour, now() + interval 61 minute, 'succeeded')`);
    } finally {
      wh.close();
    }
  }, 240_000);

  afterAll(() => {
    for (const d of [dataDir, copy]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  it("shows the last run's checks as the last run's", () => {
    const h = load(dataDir);
    expect(h.reconciliation.length).toBeGreaterThan(0);
    expect(h.reconciliationStatus).toBe('agrees');
    expect(h.checkedAt).toBeNull();
  });

  it('says skipped when the last run recorded no check, and dates the earlier checks it shows', () => {
    const h = load(copy);
    expect(h.reconciliationStatus).toBe('skipped');
    expect(h.checkedAt).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(h.reconciliation.every((r) => r.run_id !== 'later')).toBe(true);
  });
});
