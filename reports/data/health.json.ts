import fs from 'node:fs';
import path from 'node:path';
import { emit, mainScope, withSnapshot } from './snapshot.ts';

/** Site builds logged by reports/build.ts (`site-builds.jsonl` in the data directory), the latest 200. */
function siteBuilds(): { startedAt: string; seconds: number }[] {
  const file = path.join(path.resolve(process.env.CASHLOOP_DATA_DIR ?? 'data'), 'site-builds.jsonl');
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).slice(-200).flatMap((l) => {
    try {
      return [JSON.parse(l) as { startedAt: string; seconds: number }];
    } catch {
      return [];
    }
  });
}

/** Data health: pipeline runs, freshness, reconciliation results, extract loads. */
emit(
  await withSnapshot(async (q, has) => {
    const scope = await mainScope(q);
    const runs = await q(`select run_id, job, steps, as_of::varchar as as_of, started_at::varchar as started_at, ended_at::varchar as ended_at, status,
                                 rows_read, rows_written, error, epoch(ended_at - started_at) as seconds
                          from ops.pipeline_runs order by started_at desc limit 50`);
    const reconciliation = (await has('ops.reconciliation'))
      ? await q(`select run_id, checked_at::varchar as checked_at, source, check_name, expected, actual, ok from ops.reconciliation
                 where run_id = (select run_id from ops.reconciliation order by checked_at desc limit 1) order by check_name`)
      : [];
    const loads = (await has('ops.extract_loads')) ? await q(`select run_id, source, loaded_at::varchar as loaded_at, files, rows from ops.extract_loads order by loaded_at desc limit 20`) : [];
    const freshness = await q(`select max(invoice_date)::varchar as last_invoice, (select max(payment_date)::varchar from marts.fct_payments) as last_payment,
                                      (select max(ended_at)::varchar from ops.pipeline_runs where status = 'succeeded') as last_success from marts.fct_invoices`);
    // A run's reconciliation was skipped when the run had the step but recorded no check; the
    // checks shown are then an earlier run's, and the page says so.
    const lastRun = runs.find((r) => r.status === 'succeeded');
    const checkedRun = reconciliation.length ? String(reconciliation[0]!.run_id) : null;
    const lastReconciled = lastRun != null && checkedRun === String(lastRun.run_id);
    const result = reconciliation.some((r) => r.ok === false) ? 'differs' : 'agrees';
    const reconciliationStatus = lastReconciled
      ? result
      : lastRun && String(lastRun.steps).split(',').includes('reconcile') ? 'skipped' : reconciliation.length ? result : 'not run';
    const checkedAt = reconciliation.length && !lastReconciled ? String(reconciliation[0]!.checked_at) : null;
    return { ...scope, runs, siteBuilds: siteBuilds(), reconciliationStatus, checkedAt, lastRunId: lastRun?.run_id ?? null, reconciliation, loads, freshness: freshness[0] ?? {} };
  }),
);
