import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { runPipeline, type PipelineRunResult } from '../../pipelines/run.ts';
import { Scheduler, loadScheduleConfig } from '../../pipelines/schedule.ts';
import { tryAcquireJobLock } from '../../pipelines/lock.ts';
import { queryPublished } from '../../pipelines/query.ts';
import { toCsv } from '../../src/shared/csv.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { Ledger, readWarehouse, tempDir } from './ledger.ts';

const repo = path.resolve(import.meta.dirname, '../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe(`scheduler and read-only query (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  const config = { jobs: [{ name: 'warehouse', cron: '*/15 * * * *', retries: 2, backoffMs: 10 }] };

  beforeAll(async () => {
    t = await createTestCore('2026-04-01T09:00:00Z');
    const l = new Ledger(t.core);
    const c = await l.customer('C1');
    await l.invoice(c, 'INV1', '2026-03-10', '2026-04-09', 12_345);
    dir = tempDir();
  });
  afterAll(async () => {
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a job through the pipeline and records it in ops.pipeline_runs under the job name', async () => {
    const s = new Scheduler({ dataDir: dir, coreUrl: t.url, config, log: () => {} });
    const outcome = await s.runJob('warehouse');
    expect(outcome).toMatchObject({ job: 'warehouse', status: 'succeeded', attempts: 1 });
    const runs = await readWarehouse(warehousePaths(dir).warehouse, `select job, status, steps, rows_read > 0 as read_some, rows_written > 0 as wrote_some from ops.pipeline_runs`);
    expect(runs).toEqual([{ job: 'warehouse', status: 'succeeded', steps: 'ingest,transform,forecast,reconcile,publish', read_some: true, wrote_some: true }]);
  }, 90_000); // the job also builds the reports site

  it('never overlaps a job with itself in one process', async () => {
    let calls = 0;
    const slow = async (): Promise<PipelineRunResult> => {
      calls++;
      await sleep(150);
      return { runId: 'x', ms: 150 } as PipelineRunResult;
    };
    const s = new Scheduler({ dataDir: dir, coreUrl: t.url, config, run: slow, log: () => {} });
    const [a, b] = await Promise.all([s.runJob('warehouse'), s.runJob('warehouse')]);
    expect([a.status, b.status].sort()).toEqual(['skipped', 'succeeded']);
    expect(b).toMatchObject({ status: 'skipped', reason: 'overlap' });
    expect(calls).toBe(1);
  });

  it('lets only one process (or server) run a job: a second holder is skipped, and the lock frees when the job ends', async () => {
    const held = await tryAcquireJobLock('job-warehouse', { dataDir: dir, coreUrl: t.url });
    expect(held?.kind).toBe(testDialect === 'postgres' ? 'advisory' : 'file');
    let calls = 0;
    const s = new Scheduler({ dataDir: dir, coreUrl: t.url, config, run: async () => ({ runId: String(++calls) }) as PipelineRunResult, log: () => {} });
    expect(await s.runJob('warehouse')).toEqual({ job: 'warehouse', status: 'skipped', reason: 'locked' });
    await held!.release();
    expect(await s.runJob('warehouse')).toMatchObject({ status: 'succeeded' });
    expect(calls).toBe(1);
  });

  it('another process holding the job lock keeps this scheduler out until it exits', async () => {
    // A child process takes the lock and holds it until we close its stdin.
    const script = `import { tryAcquireJobLock } from ${JSON.stringify(path.join(repo, 'pipelines/lock.ts'))};
      const lock = await tryAcquireJobLock('job-warehouse', { dataDir: ${JSON.stringify(dir)}, coreUrl: ${JSON.stringify(t.url)} });
      process.stdout.write(lock ? 'held\\n' : 'busy\\n');
      process.stdin.on('end', async () => { await lock?.release(); process.exit(0); });
      process.stdin.resume();`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, stdio: ['pipe', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    expect(first).toBe('held');
    const s = new Scheduler({ dataDir: dir, coreUrl: t.url, config, run: async () => ({ runId: 'x' }) as PipelineRunResult, log: () => {} });
    expect(await s.runJob('warehouse')).toMatchObject({ status: 'skipped', reason: 'locked' });
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    expect(await s.runJob('warehouse')).toMatchObject({ status: 'succeeded' });
  });

  it.skipIf(testDialect === 'postgres')('takes over a lock file left by a process that died', async () => {
    const locks = path.join(dir, 'locks');
    fs.mkdirSync(locks, { recursive: true });
    fs.writeFileSync(path.join(locks, 'job-stale.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), since: '2026-01-01' }));
    const lock = await tryAcquireJobLock('job-stale', { dataDir: dir });
    expect(lock).not.toBeNull();
    await lock!.release();
  });

  it('retries a failing job with backoff, then reports the failure', async () => {
    let calls = 0;
    const flaky = async (): Promise<PipelineRunResult> => {
      calls++;
      if (calls < 3) throw new Error(`boom ${calls}`);
      return { runId: 'ok' } as PipelineRunResult;
    };
    const s = new Scheduler({ dataDir: dir, coreUrl: t.url, config, run: flaky, log: () => {} });
    expect(await s.runJob('warehouse')).toMatchObject({ status: 'succeeded', attempts: 3 });
    const failing = new Scheduler({ dataDir: dir, coreUrl: t.url, config, run: async () => Promise.reject(new Error('down')), log: () => {} });
    expect(await failing.runJob('warehouse')).toEqual({ job: 'warehouse', status: 'failed', attempts: 3, error: 'down' });
  });

  it('checks the schedule file', () => {
    const f = path.join(dir, 'bad-schedule.json');
    fs.writeFileSync(f, JSON.stringify({ jobs: [{ name: 'x', cron: 'every minute' }] }));
    expect(() => loadScheduleConfig(dir, f)).toThrow(/invalid cron expression "every minute"/);
    expect(loadScheduleConfig(dir).from).toBe('default');
  });

  it('the monthly statement run is the job statement-run; the former job and task names still run it, each saying it is deprecated', async () => {
    const defaults = loadScheduleConfig(dir).config;
    expect(defaults.jobs.find((j) => j.task === 'collections-statement-run')?.name).toBe('statement-run');
    expect(defaults.jobs.some((j) => j.name === 'statements')).toBe(false);
    const ran: string[] = [];
    const lines: string[] = [];
    const tasks = { 'collections-statement-run': async (job: { name: string }) => (ran.push(job.name), { summary: 'statement run' }), 'collections-reminders': async () => ({ summary: '' }) };
    const s = new Scheduler({ dataDir: dir, coreUrl: t.url, config: { jobs: [{ name: 'statement-run', cron: '0 7 1 * *', task: 'collections-statement-run' }] }, tasks, log: (l) => lines.push(l) });
    expect(await s.runJob('statements')).toMatchObject({ job: 'statement-run', status: 'succeeded' });
    expect(lines[0]).toBe('job "statements" is deprecated: it is now "statement-run"; the old name will stop working in a later version');
    // A schedule file written with the old task name.
    const old = new Scheduler({ dataDir: dir, coreUrl: t.url, config: { jobs: [{ name: 'monthly', cron: '0 7 1 * *', task: 'collections-statements' }] }, tasks, log: (l) => lines.push(l) });
    expect(lines.at(-1)).toBe('task "collections-statements" is deprecated: it is now "collections-statement-run"; the old name will stop working in a later version (job monthly)');
    expect(await old.runJob('monthly')).toMatchObject({ status: 'succeeded' });
    expect(ran).toEqual(['statement-run', 'monthly']);
    // A job of that name in a schedule file is the user's own: no renaming.
    const own = new Scheduler({ dataDir: dir, coreUrl: t.url, config: { jobs: [{ name: 'statements', cron: '0 7 1 * *', task: 'collections-reminders' }] }, tasks, log: (l) => lines.push(l) });
    const before = lines.length;
    expect(await own.runJob('statements')).toMatchObject({ job: 'statements', status: 'succeeded' });
    expect(lines.slice(before).filter((l) => l.includes('deprecated'))).toEqual([]);
  });

  it('queries the published snapshot read-only: reads work, every kind of write is refused', async () => {
    await runPipeline({ dataDir: dir, coreUrl: t.url, quiet: true });
    const r = await queryPublished(dir, `select invoice_number, open_cents from marts.fct_invoices`);
    expect(r.rows).toEqual([{ invoice_number: 'INV1', open_cents: '12345' }]);
    expect(toCsv(r.columns, r.rows)).toBe('invoice_number,open_cents\nINV1,12345\n');
    for (const write of [
      `delete from marts.fct_invoices`,
      `update marts.fct_invoices set open_cents = 0`,
      `create table marts.x as select 1`,
      `drop table metrics.ar_aging`,
      `copy (select 1) to '${path.join(dir, 'leak.csv')}'`,
      // The views read the published folder, so its files can be read: no statement may write there.
      `copy (select 1) to '${path.join(warehousePaths(dir).published, 'leak.csv')}'`,
      `copy (select 1) to '${path.join(warehousePaths(dir).parquet, 'marts.dim_customer', 'all.parquet')}' (format parquet)`,
      `attach '${path.join(dir, 'other.duckdb')}' as other`,
      `set access_mode = 'READ_WRITE'`,
      // EXPLAIN shows a query's plan; of anything else it is refused like the statement itself.
      `explain copy (select 1) to '${path.join(warehousePaths(dir).published, 'leak.csv')}'`,
      `explain analyze copy (select 1) to '${path.join(warehousePaths(dir).published, 'leak.csv')}'`,
      `explain analyze delete from marts.fct_invoices`,
    ]) {
      const err = await queryPublished(dir, write).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, write).toBeInstanceOf(DomainError);
      expect((err as DomainError).kind, write).toBe('forbidden');
    }
    expect(fs.existsSync(path.join(dir, 'leak.csv'))).toBe(false);
    expect(fs.existsSync(path.join(warehousePaths(dir).published, 'leak.csv'))).toBe(false);
    // Reading the published Parquet files is allowed (they are public); nothing outside it is.
    expect((await queryPublished(dir, `select count(*) as n from read_parquet('${warehousePaths(dir).parquet}/marts.fct_invoices/**/*.parquet')`)).rows).toEqual([{ n: '1' }]);
    const outside = await queryPublished(dir, `select * from read_csv('${path.join(dir, 'x.csv')}')`).then(
      () => null,
      (e: unknown) => e,
    );
    expect((outside as DomainError).kind).toBe('forbidden');
    expect((await queryPublished(dir, `select count(*) as n from marts.fct_invoices`)).rows).toEqual([{ n: '1' }]);
    // An analyst may see a query's plan, and its run's (EXPLAIN ANALYZE).
    for (const [explain, key] of [
      [`explain select invoice_number from marts.fct_invoices where open_cents > 0`, 'physical_plan'],
      [`EXPLAIN ANALYZE select invoice_number from marts.fct_invoices where open_cents > 0`, 'analyzed_plan'],
    ]) {
      const plan = await queryPublished(dir!, explain!);
      expect(plan.rows.map((r) => r.explain_key), explain).toEqual([key]);
      expect(String(plan.rows[0]!.explain_value), explain).toMatch(/invoice_number/i);
    }
  });
});
