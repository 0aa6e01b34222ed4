import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { connect, dataDir as defaultDataDir, type Db } from '../src/db/connection.ts';
import { invalid } from '../src/shared/errors.ts';
import { ingestEvents } from './ingest/events.ts';
import { ingestExtract } from './ingest/extract.ts';
import { publish, type PublishResult } from './publish.ts';
import { allowVacuum, checkpointAtClose, compactionDue } from './compact.ts';
import { createProgress, type Progress } from './progress.ts';
import { readCoreTotals, reconcile, ReconciliationError, type CoreTotals, type ReconciliationResult } from './reconcile.ts';
import { ensureWarehouseSchema } from './schema.ts';
import { transform } from './transform/transform.ts';
import { removeStaleBuilds } from '../reports/build.ts';
import { asDamaged, openWarehouse, rowsJson, warehousePaths } from '../src/warehouse/warehouse.ts';

export interface PipelineOptions {
  /** Data directory: holds `warehouse.duckdb`, `published/`, and the core's SQLite file by default. */
  dataDir: string;
  /** Step names to run (`ingest`, `transform`, `reconcile`, … or `all`); default `all`. */
  steps?: string[];
  /** Extract folder to load (canonical layout, or any layout with `mapping`). */
  extract?: string;
  /** Mapping JSON for the extract. */
  mapping?: string;
  /** Compute everything as known on this date (`YYYY-MM-DD`). */
  asOf?: string;
  /** Core database URL; default `DATABASE_URL`, else `<dataDir>/cashloop.db` when it exists. */
  coreUrl?: string;
  /** No progress bars and no log lines. */
  quiet?: boolean;
  /** Name recorded in the run log (the scheduler passes its job name). */
  job?: string;
  /** After publishing, rebuild the reports site into `<dataDir>/site` (the CLI and the scheduler do). */
  site?: boolean;
  /** Vacuum the warehouse file in this run even if it is not due (see compact.ts). */
  compact?: boolean;
}

export interface StepResult {
  name: string;
  rowsRead: number;
  rowsWritten: number;
  ms: number;
  /** CPU time of the process during the step (every thread, DuckDB's included), ms: on a shared machine the wall time also counts others' work. */
  cpuMs?: number;
  /** The process's peak resident memory so far (MB) when the step ended: where a run's peak RSS was reached. */
  peakRssMb?: number;
  detail?: unknown;
}

export interface PipelineRunResult {
  runId: string;
  job: string;
  status: 'succeeded';
  steps: StepResult[];
  asOf: string | null;
  rowsRead: number;
  rowsWritten: number;
  reconciliation: ReconciliationResult | null;
  published: PublishResult | null;
  warehouse: string;
  /** True when this run's checkpoints vacuumed the warehouse file (see compact.ts). */
  compacted: boolean;
  /**
   * What the run spends outside its steps, wall ms and CPU ms: opening the warehouse file,
   * checking its schema and whether it is due for compaction (`setup`), and closing it, which
   * checkpoints what the run wrote (`close`). Closing happens after the result is made, so
   * `close` is filled in just before `runPipeline` returns.
   */
  overhead: { open: Timing; setup: Timing; close: Timing };
  ms: number;
}

/** Wall and CPU milliseconds of one part of a run. */
export interface Timing {
  ms: number;
  cpuMs: number;
}

/** What a step sees: the open warehouse, the core (opened on first use), the options, and shared results. */
export interface StepContext {
  conn: DuckDBConnection;
  dataDir: string;
  runId: string;
  options: PipelineOptions;
  progress: Progress;
  /** The core database, or null when there is none (an extract-only warehouse). */
  core(): Promise<Db | null>;
  /** Set by `transform`: the date the marts were computed as of. */
  asOf: string | undefined;
  reconciliation: ReconciliationResult | null;
  /** The core's totals for reconciliation, when read ahead (after the ingest, while the transform runs). */
  coreTotals?: Promise<CoreTotals>;
  log(message: string): void;
}

export interface PipelineStep {
  name: string;
  description: string;
  run(ctx: StepContext): Promise<Omit<StepResult, 'name' | 'ms'>>;
}

const ingestStep: PipelineStep = {
  name: 'ingest',
  description: 'load the extract folder (if given) and the core event feed after the watermark into raw',
  async run(ctx) {
    let rowsRead = 0;
    let rowsWritten = 0;
    const detail: Record<string, unknown> = {};
    if (ctx.options.extract) {
      const r = await ingestExtract(ctx.conn, ctx.options.extract, ctx.options.mapping, { runId: ctx.runId });
      ctx.log(`extract ${r.source}: ${r.rowsRead} rows from ${r.files.length} file(s)`);
      rowsRead += r.rowsRead;
      rowsWritten += r.rowsWritten;
      detail.extract = r;
    }
    const core = await ctx.core();
    if (core) {
      const r = await ingestEvents(ctx.conn, core, { runId: ctx.runId, progress: ctx.progress });
      ctx.log(`events: ${r.rowsRead} new (seq ${r.fromSeq} → ${r.toSeq})`);
      rowsRead += r.rowsRead;
      rowsWritten += r.rowsWritten;
      detail.events = r;
    } else detail.events = 'no core database';
    return { rowsRead, rowsWritten, detail };
  },
};

const transformStep: PipelineStep = {
  name: 'transform',
  description: 'stage new events, then bring marts and metrics up to date from the SQL models (in place where only some keys changed)',
  async run(ctx) {
    const r = await transform(ctx.conn, { asOf: ctx.options.asOf, progress: ctx.progress, runId: ctx.runId });
    ctx.asOf = r.asOf;
    const modes = ['full', 'incremental', 'unchanged'].map((m) => `${r.models.filter((x) => x.mode === m).length} ${m}`).join(', ');
    ctx.log(`transform as of ${r.asOf}: ${r.eventsStaged} events staged; models ${modes}${r.fullReason ? ` (whole: ${r.fullReason})` : ''}; ${r.rowsWritten} rows written`);
    return { rowsRead: r.eventsStaged, rowsWritten: r.rowsWritten, detail: r };
  },
};

const forecastStep: PipelineStep = {
  name: 'forecast',
  description: 'forecast payment dates of open invoices and 13 weeks of cash-in, and evaluate the model walking forward (models/)',
  async run(ctx) {
    const asOf = ctx.asOf ?? ctx.options.asOf ?? (await lastAsOf(ctx.conn));
    if (!asOf) throw invalid('the forecast step needs an as-of date: run transform first or give --as-of', { field: 'asOf', rule: 'as_of_known' });
    const { runForecastStep } = await import('../models/forecast-step.ts');
    const r = await runForecastStep(ctx.conn, { asOf, quiet: ctx.options.quiet });
    ctx.asOf = asOf;
    const written = Object.values(r.tables).reduce((a, b) => a + b, 0);
    ctx.log(`forecast as of ${asOf}: ${Object.entries(r.tables).map(([t, n]) => `${n} ${t}`).join(', ')}`);
    return { rowsRead: r.tables['forecast.invoice_payment'] ?? 0, rowsWritten: written, detail: r };
  },
};

const reconcileStep: PipelineStep = {
  name: 'reconcile',
  description: 'compare the core (and extracts) with the warehouse; any difference fails the run',
  async run(ctx) {
    const asOf = ctx.asOf ?? (await lastAsOf(ctx.conn));
    const r = await reconcile(ctx.conn, await ctx.core(), asOf, ctx.coreTotals);
    ctx.reconciliation = r;
    // One statement for every check.
    if (r.checks.length > 0) {
      await ctx.conn.run(
        `insert into ops.reconciliation values ${r.checks.map((_, i) => `($1, now(), $${5 * i + 2}, $${5 * i + 3}, $${5 * i + 4}, $${5 * i + 5}, $${5 * i + 6})`).join(', ')}`,
        [ctx.runId, ...r.checks.flatMap((c) => [c.source, c.check, c.expected, c.actual, c.ok])],
      );
    }
    if (r.status === 'failed') throw new ReconciliationError(r.checks);
    ctx.log(`reconcile: ${r.status}${r.note ? ` (${r.note})` : ''}, ${r.checks.length} checks`);
    return { rowsRead: r.checks.length, rowsWritten: r.checks.length, detail: r };
  },
};

/**
 * The registry of steps, in order. `all` runs every one of them and then publishes.
 * To add a step (e.g. forecasts after transform), insert it here.
 */
export const pipelineSteps: PipelineStep[] = [ingestStep, transformStep, forecastStep, reconcileStep];

async function lastAsOf(conn: DuckDBConnection): Promise<string | undefined> {
  const rows = await rowsJson(conn, `select cast(as_of as varchar) as d from ops.pipeline_runs where status = 'succeeded' and as_of is not null order by started_at desc limit 1`);
  const d = rows[0]?.d;
  return typeof d === 'string' ? d : undefined;
}

/** Expands `all` and checks names; `all` also publishes. */
export function resolveSteps(names: string[] | undefined): { steps: PipelineStep[]; publish: boolean } {
  const wanted = names && names.length ? names : ['all'];
  if (wanted.includes('all')) return { steps: [...pipelineSteps], publish: true };
  const steps: PipelineStep[] = [];
  let doPublish = false;
  for (const n of wanted) {
    if (n === 'publish') {
      doPublish = true;
      continue;
    }
    const step = pipelineSteps.find((s) => s.name === n);
    if (!step) {
      throw invalid(`unknown pipeline step ${n}: choose from ${[...pipelineSteps.map((s) => s.name), 'publish', 'all'].join(', ')}`, { field: 'steps', value: n, rule: 'known_step' });
    }
    steps.push(step);
  }
  return { steps: pipelineSteps.filter((s) => steps.includes(s)), publish: doPublish };
}

function openCoreDb(options: PipelineOptions): Db | null {
  const url = options.coreUrl ?? process.env.DATABASE_URL;
  if (url) return connect({ url });
  const file = path.join(options.dataDir, 'cashloop.db');
  return fs.existsSync(file) ? connect({ url: `sqlite:${file}` }) : null;
}

/**
 * Runs the pipeline: the chosen steps in registry order, each committing on its own, then
 * (for `all`) publishes. Every run is recorded in `ops.pipeline_runs`; a failed run is
 * recorded with its error and rethrown, and publishes nothing.
 *
 * @example await runPipeline({ dataDir: 'data', extract: '../shared/data/ibm-ar', mapping: 'pipelines/mappings/ibm-ar.json' })
 */
export async function runPipeline(options: PipelineOptions): Promise<PipelineRunResult> {
  const started = Date.now();
  const dataDir = path.resolve(options.dataDir ?? defaultDataDir());
  const { steps, publish: doPublish } = resolveSteps(options.steps);
  const runId = `${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${randomUUID().slice(0, 8)}`;
  const job = options.job ?? 'manual';
  const paths = warehousePaths(dataDir);
  // What a site build killed outright (SIGKILL, power cut) left beside the site goes first.
  removeStaleBuilds(path.join(dataDir, 'site'));
  const openStart = timingStart();
  const wh = await openWarehouse(paths.warehouse, { deferCompaction: true });
  const overhead = { open: timingSince(openStart), setup: { ms: 0, cpuMs: 0 }, close: { ms: 0, cpuMs: 0 } };
  let coreDb: Db | null | undefined;
  const ctx: StepContext = {
    conn: wh.conn,
    dataDir,
    runId,
    options: { ...options, dataDir },
    progress: createProgress(options.quiet),
    async core() {
      if (coreDb === undefined) coreDb = openCoreDb(options);
      return coreDb;
    },
    asOf: undefined,
    reconciliation: null,
    log: (message) => {
      if (!options.quiet) process.stderr.write(`${message}\n`);
    },
  };
  const results: StepResult[] = [];
  const stepNames = [...steps.map((s) => s.name), ...(doPublish ? ['publish'] : [])].join(',');
  let result: PipelineRunResult | undefined;
  try {
    const setupStart = timingStart();
    await ensureWarehouseSchema(wh.conn);
    await checkpointAtClose(wh.conn);
    const compaction = await compactionDue(wh.conn);
    const compacted = options.compact === true || compaction.due;
    if (compacted) {
      await allowVacuum(wh.conn);
      ctx.log(`this run compacts the warehouse file (raw.events in ${compaction.rowGroups} row groups, ${compaction.needed} needed)`);
    }
    // The DuckDB file lock makes this process the only writer: a run still marked running was killed.
    await wh.conn.run(`update ops.pipeline_runs set status = 'abandoned', ended_at = now(), error = 'process ended before the run finished' where status = 'running'`);
    await wh.conn.run(`insert into ops.pipeline_runs (run_id, job, steps, started_at, status) values ($1, $2, $3, now(), 'running')`, [runId, job, stepNames]);
    overhead.setup = timingSince(setupStart);
    let published: PublishResult | null = null;
    const markSucceeded = () =>
      wh.conn.run(
        `update ops.pipeline_runs set status = 'succeeded', ended_at = now(), as_of = $2, rows_read = $3, rows_written = $4, detail = $5 where run_id = $1`,
        [
          runId,
          ctx.asOf ?? null,
          BigInt(sum(results, 'rowsRead')),
          BigInt(sum(results, 'rowsWritten')),
          JSON.stringify(results.map((r) => ({ name: r.name, ms: r.ms, rowsRead: r.rowsRead, rowsWritten: r.rowsWritten }))),
        ],
      );
    try {
      for (const step of steps) {
        if (step.name === 'transform' && steps.some((s) => s.name === 'reconcile')) {
          const core = await ctx.core();
          if (core) {
            ctx.coreTotals = readCoreTotals(core);
            ctx.coreTotals.catch(() => undefined);
          }
        }
        const t0 = Date.now();
        const c0 = process.cpuUsage();
        const r = await step.run(ctx);
        results.push({ name: step.name, ms: Date.now() - t0, cpuMs: cpuMsSince(c0), peakRssMb: peakRssMb(), ...r });
      }
      if (doPublish) {
        const t0 = Date.now();
        const c0 = process.cpuUsage();
        // The run is recorded as succeeded just before the snapshot is taken, so the published
        // ops.pipeline_runs includes it; should the copy fail, the catch below marks it failed.
        published = await publish(wh.conn, dataDir, runId, async () => {
          await markSucceeded();
        });
        results.push({ name: 'publish', rowsRead: 0, rowsWritten: published.tables.length, ms: Date.now() - t0, cpuMs: cpuMsSince(c0), peakRssMb: peakRssMb(), detail: published });
        ctx.log(`published ${published.tables.length} tables to ${published.snapshot} and ${published.parquet}`);
        if (options.site) {
          const t1 = Date.now();
          // The site reads the snapshot just published; loaded only when asked for.
          const { buildReports } = await import('../reports/build.ts');
          const site = await buildReports({ dataDir, quiet: true });
          results.push({ name: 'site', rowsRead: published.tables.length, rowsWritten: site.pages.length, ms: Date.now() - t1, detail: site });
          ctx.log(`reports built into ${site.siteDir} in ${site.seconds.toFixed(1)} s`);
        }
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await wh.conn
        .run(`update ops.pipeline_runs set status = 'failed', ended_at = now(), error = $2, rows_read = $3, rows_written = $4, detail = $5 where run_id = $1`, [
          runId,
          message,
          BigInt(sum(results, 'rowsRead')),
          BigInt(sum(results, 'rowsWritten')),
          JSON.stringify(results),
        ])
        .catch(() => undefined);
      throw error;
    }
    result = {
      runId,
      job,
      status: 'succeeded',
      steps: results,
      asOf: ctx.asOf ?? null,
      rowsRead: sum(results, 'rowsRead'),
      rowsWritten: sum(results, 'rowsWritten'),
      reconciliation: ctx.reconciliation,
      published,
      warehouse: paths.warehouse,
      compacted,
      overhead,
      ms: 0,
    };
    if (!published) await markSucceeded();
  } catch (error) {
    // A file DuckDB cannot read back fails the run with what to do about it, not an IO error.
    throw asDamaged(error, paths.warehouse);
  } finally {
    await ctx.coreTotals?.catch(() => undefined);
    const closeStart = timingStart();
    wh.close();
    overhead.close = timingSince(closeStart);
    if (coreDb) await coreDb.close();
  }
  result.ms = Date.now() - started;
  return result;
}

function timingStart(): { at: number; cpu: NodeJS.CpuUsage } {
  return { at: performance.now(), cpu: process.cpuUsage() };
}

function timingSince(start: { at: number; cpu: NodeJS.CpuUsage }): Timing {
  return { ms: Math.round(performance.now() - start.at), cpuMs: cpuMsSince(start.cpu) };
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const c = process.cpuUsage(start);
  return Math.round((c.user + c.system) / 1000);
}

function sum(results: StepResult[], key: 'rowsRead' | 'rowsWritten'): number {
  return results.reduce((s, r) => s + r[key], 0);
}
