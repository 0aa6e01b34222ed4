import { randomUUID } from 'node:crypto';
import type { DuckDBConnection } from '@duckdb/node-api';
import { clockFromEnv } from '../../src/shared/clock.ts';
import { invalid } from '../../src/shared/errors.ts';
import { coreTables, getWatermark } from '../schema.ts';
import { faultPoint, inTransaction, lit, rowsJson, scalarNumber } from '../../src/warehouse/warehouse.ts';
import { buildFull, buildIncremental, buildView, checkKeys, emptyDelta, recordDeltaParts, recordFullParts, tableColumns, type Column } from './build.ts';
import { STAGING_WATERMARK, stageCoreEvents } from './core-staging.ts';
import { deltaTable, loadModels, partExpression, qualified, sqlDir } from './models.ts';
import type { Progress } from '../progress.ts';

/** Changes to how models are built, or to the staged core tables, rebuild every model whole once. */
const RUNNER_VERSION = 'incremental-1';

export interface ModelBuild {
  model: string;
  /** view; full (rebuilt whole); incremental (only the changed keys); unchanged (nothing it reads changed). */
  mode: 'view' | 'full' | 'incremental' | 'unchanged';
  rows: number;
  /** Rows written: the whole table for a full build, the changed rows (old and new) for an incremental one. */
  rowsWritten: number;
  ms: number;
}

export interface TransformResult {
  asOf: string;
  eventsStaged: number;
  /** Time spent staging the new events, ms. */
  stagedMs: number;
  rowsWritten: number;
  /** Why this run could not update models in place (null when it could). */
  fullReason: string | null;
  models: ModelBuild[];
}

interface InputStatus {
  /** The table's content may differ from the last build. */
  changed: boolean;
  /** Its change is described by a delta table (directly, or for a view by those of what it reads). */
  delta: boolean;
}

/** New events above this share of those already staged (and above the floor) rebuild whole: it is cheaper. */
const LARGE_BATCH_SHARE = 0.25;
const LARGE_BATCH_FLOOR = 50_000;

/**
 * Brings the warehouse up to date with what has landed: the core's new events into core
 * staging, then every SQL model in dependency order, all in one transaction. A run that dies
 * midway leaves the previous marts and metrics exactly as they were.
 *
 * A model is rebuilt only when something it reads changed. A model that declares an
 * incremental key is updated in place (only the keys its changed-keys query names) when the
 * as-of date, the extracts and its definition are those of its last build and everything it
 * reads changed in a way described by a delta; otherwise it is rebuilt whole. Either way the
 * result is the same table.
 */
export async function transform(conn: DuckDBConnection, options: { asOf?: string; progress?: Progress; runId?: string }): Promise<TransformResult> {
  if (options.asOf !== undefined && !isIsoDate(options.asOf)) {
    throw invalid(`as-of date ${options.asOf} is not a YYYY-MM-DD date`, { field: 'asOf', value: options.asOf, rule: 'iso_date' });
  }
  const runId = options.runId ?? randomUUID();
  const models = loadModels(sqlDir, `${RUNNER_VERSION}\0${JSON.stringify(coreTables)}`);
  return inTransaction(conn, async () => {
    const state = new Map(
      (await rowsJson(conn, `select model, definition_hash, cast(as_of as varchar) as as_of, extract_mark, part_expr from ops.model_state`)).map((r) => [String(r.model), r]),
    );
    const built: ModelBuild[] = [];
    options.progress?.start('transform models', models.length);
    // One look at the catalog for the whole run: a query of it costs milliseconds each time.
    const relations = new Set(
      (await rowsJson(conn, `select table_schema || '.' || table_name as t from information_schema.tables where table_catalog = current_database()`)).map((r) => String(r.t)),
    );

    // Views are read lazily, so those whose definition changed can be made before the rows move.
    // Relations made afresh this run (views, then tables), whose columns may differ from before.
    const remade = new Set<string>();
    for (const model of models.filter((m) => m.layer === 'staging')) {
      const name = qualified(model);
      if (state.get(name)?.definition_hash === model.hash && relations.has(name)) continue;
      await buildView(conn, model);
      relations.add(name);
      remade.add(name);
    }
    const asOf = options.asOf ?? (await defaultAsOf(conn));
    await conn.run(`set variable as_of = date ${lit(asOf)}`);
    const extractMark = String((await rowsJson(conn, `select count(*) || ':' || coalesce(cast(max(loaded_at) as varchar), '-') as m from ops.extract_loads`))[0]?.m);

    const tableModels = models.filter((m) => m.layer !== 'staging');
    const previous = tableModels.map((m) => state.get(qualified(m))).filter((s) => s !== undefined);
    const pending = await scalarNumber(conn, 'select count(*) from raw.events where seq > $1', [BigInt(await getWatermark(conn, STAGING_WATERMARK))]);
    const staged = await scalarNumber(conn, 'select count(*) from raw.events') - pending;
    const fullReason =
      previous.length === 0 ? 'first build'
      : previous.some((s) => s.as_of !== asOf) ? `as-of date ${String(previous.find((s) => s.as_of !== asOf)!.as_of)} → ${asOf}`
      : previous.some((s) => s.extract_mark !== extractMark) ? 'an extract was loaded'
      : pending > Math.max(LARGE_BATCH_FLOOR, staged * LARGE_BATCH_SHARE) ? `${pending} new events, a large share of the ${staged} staged`
      : null;
    const deltas = fullReason === null;

    const t0 = performance.now();
    const stagedResult = await stageCoreEvents(conn, { deltas });
    const stagedMs = Math.round(performance.now() - t0);

    const status = new Map<string, InputStatus>();
    const deltaTables = new Set<string>();
    for (const [table, n] of Object.entries(stagedResult.changed)) {
      status.set(`staging.core_${table}`, { changed: n > 0, delta: deltas });
      if (deltas) deltaTables.add(deltaTable(`staging.core_${table}`));
    }
    status.set('raw.events', { changed: stagedResult.events > 0, delta: false });
    // Anything else a model reads (raw extracts, another schema) counts as changed, with no delta.
    const statusOf = (table: string): InputStatus => {
      if (table.startsWith('raw.extract_')) return { changed: previous.some((s) => s.extract_mark !== extractMark) || previous.length === 0, delta: false };
      return status.get(table) ?? { changed: true, delta: false };
    };

    // An unchanged model's empty delta is made only when a model downstream reads it.
    const readDeltas = new Set(models.flatMap((m) => m.deltaReads));
    const noChange = async (name: string) => {
      if (readDeltas.has(deltaTable(name))) await emptyDelta(conn, name);
    };
    // Tables left unchanged or updated in place are counted together at the end, in one statement.
    const uncounted: { build: ModelBuild; table: string }[] = [];
    // The columns of the sums models, read from the catalog once, when the first one is updated in place.
    let sumsColumns: Map<string, Column[]> | null = null;
    let tableRows: Map<string, number> | undefined;

    let rowsWritten = stagedResult.rowsWritten;
    // What each model was built from, written to ops.model_state in one statement at the end.
    const stateRows: [string, string, string | null, string, string, string][] = [];
    for (const model of models) {
      const name = qualified(model);
      const started = performance.now();
      const inputs = model.reads.map(statusOf);
      if (model.layer === 'staging') {
        const isNew = remade.has(name);
        status.set(name, { changed: isNew || inputs.some((i) => i.changed), delta: !isNew && inputs.every((i) => !i.changed || i.delta) });
        built.push({ model: name, mode: 'view', rows: 0, rowsWritten: 0, ms: Math.round(performance.now() - started) });
        options.progress?.increment(1);
        continue;
      }
      const prev = state.get(name);
      const same =
        prev !== undefined &&
        prev.definition_hash === model.hash &&
        prev.as_of === asOf &&
        prev.extract_mark === extractMark &&
        prev.part_expr === partExpression(model) &&
        relations.has(name);
      let mode: ModelBuild['mode'];
      let written: number;
      let result: InputStatus;
      if (same && inputs.every((i) => !i.changed)) {
        mode = 'unchanged';
        written = 0;
        await noChange(name);
        result = { changed: false, delta: true };
      } else if (same && model.incrementalKey.length > 0 && inputs.every((i) => !i.changed || i.delta) && model.deltaReads.every((d) => deltaTables.has(d))) {
        mode = 'incremental';
        if (model.sums.length > 0 && sumsColumns === null) sumsColumns = await tableColumns(conn, models.filter((m) => m.sums.length > 0).map(qualified));
        // The tables' rows as their part records count them (no scan), read once, when the first model is updated in place.
        tableRows ??= new Map((await rowsJson(conn, 'select table_name, sum(row_count) as n from ops.table_parts group by table_name')).map((r) => [String(r.table_name), Number(r.n)]));
        const r = await buildIncremental(conn, model, { columns: sumsColumns?.get(name), tableRows: tableRows.get(name) });
        await recordDeltaParts(conn, model, runId, r.parts);
        written = r.deltaRows;
        result = { changed: r.deltaRows > 0, delta: true };
      } else {
        mode = 'full';
        // A model always rebuilt whole (no incremental key: the small ones) is refilled in its
        // table when its file is the same. A table made afresh (new or redefined) is made again
        // with its comments, and so is every table that reads one: its SELECT's column types may
        // have changed with it. A large model rebuilt whole (a new as-of date) gets a fresh table.
        const refill =
          model.incrementalKey.length === 0 && prev !== undefined && prev.definition_hash === model.hash && relations.has(name) && !model.reads.some((r) => remade.has(r));
        written = await buildFull(conn, model, { refill });
        if (!refill) remade.add(name);
        await checkKeys(conn, model);
        const changed = await recordFullParts(conn, model, runId, written);
        if (!changed) await noChange(name);
        result = { changed, delta: !changed };
      }
      if (result.delta) deltaTables.add(deltaTable(name));
      status.set(name, result);
      relations.add(name);
      stateRows.push([name, model.hash, asOf, extractMark, partExpression(model), mode]);
      const build: ModelBuild = { model: name, mode, rows: 0, rowsWritten: written, ms: 0 };
      if (mode === 'full') build.rows = written;
      else uncounted.push({ build, table: name });
      build.ms = Math.round(performance.now() - started);
      built.push(build);
      rowsWritten += written;
      options.progress?.increment(1);
    }
    for (const m of models.filter((x) => x.layer === 'staging')) stateRows.push([qualified(m), m.hash, null, extractMark, "'all'", 'view']);
    await conn.run(
      `insert or replace into ops.model_state values ${stateRows.map(([name, hash, date, mark, part, mode]) => `(${lit(name)}, ${lit(hash)}, ${date === null ? 'null' : `date ${lit(date)}`}, ${lit(mark)}, ${lit(part)}, ${lit(mode)}, ${lit(runId)}, now())`).join(', ')}`,
    );
    if (uncounted.length > 0) {
      const counts = (await rowsJson(conn, `select ${uncounted.map((u, i) => `(select count(*) from ${u.table}) as n${i}`).join(', ')}`))[0]!;
      uncounted.forEach((u, i) => (u.build.rows = Number(counts[`n${i}`])));
    }
    if (deltaTables.size > 0) await conn.run([...deltaTables].map((t) => `drop table if exists ${t}`).join(';\n'));
    options.progress?.stop();
    faultPoint('transform:before-commit');
    return { asOf, eventsStaged: stagedResult.events, stagedMs, rowsWritten, fullReason, models: built };
  });
}

/**
 * The as-of date when none is given: today (from the core's clock) when the warehouse holds
 * the core's feed, since a live core's receivables age every day; otherwise the latest
 * business date in the extracts, the day the other ERP's snapshot was taken.
 */
async function defaultAsOf(conn: DuckDBConnection): Promise<string> {
  const today = clockFromEnv().now().toISOString().slice(0, 10);
  if ((await scalarNumber(conn, 'select count(*) from raw.events')) > 0) return today;
  const rows = await rowsJson(
    conn,
    `select cast(greatest(
       (select max(greatest(invoice_date, coalesce(settled_date_reported, invoice_date))) from staging.stg_invoices),
       (select max(payment_date) from staging.stg_payments),
       (select max(order_date) from staging.stg_orders)) as varchar) as d`,
  );
  const d = rows[0]?.d;
  return typeof d === 'string' ? d : today;
}

function isIsoDate(s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s);
}
