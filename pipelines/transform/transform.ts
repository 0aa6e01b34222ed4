import type { DuckDBConnection } from '@duckdb/node-api';
import { clockFromEnv } from '../../src/shared/clock.ts';
import { invalid } from '../../src/shared/errors.ts';
import { faultPoint, inTransaction, lit, rowsJson, scalarNumber } from '../warehouse.ts';
import { stageCoreEvents } from './core-staging.ts';
import { buildModel, loadModels, qualified } from './models.ts';
import type { Progress } from '../progress.ts';

export interface TransformResult {
  asOf: string;
  eventsStaged: number;
  /** Time spent staging the new events, ms. */
  stagedMs: number;
  rowsWritten: number;
  models: { model: string; rows: number; ms: number }[];
}

/**
 * Rebuilds the warehouse from what has landed: the core's new events into core staging,
 * then every SQL model in dependency order, all in one transaction. A run that dies
 * midway leaves the previous marts and metrics exactly as they were.
 */
export async function transform(conn: DuckDBConnection, options: { asOf?: string; progress?: Progress }): Promise<TransformResult> {
  if (options.asOf !== undefined && !isIsoDate(options.asOf)) {
    throw invalid(`as-of date ${options.asOf} is not a YYYY-MM-DD date`, { field: 'asOf', value: options.asOf, rule: 'iso_date' });
  }
  const models = loadModels();
  return inTransaction(conn, async () => {
    const t0 = performance.now();
    const staged = await stageCoreEvents(conn);
    const stagedMs = Math.round(performance.now() - t0);
    options.progress?.start('transform models', models.length);
    const built: TransformResult['models'] = [];
    let rowsWritten = staged.rowsWritten;
    let asOf = options.asOf;
    for (const model of models) {
      if (model.layer !== 'staging' && asOf === undefined) {
        asOf = await defaultAsOf(conn);
      }
      if (asOf !== undefined) await conn.run(`set variable as_of = date ${lit(asOf)}`);
      const t0 = performance.now();
      const rows = await buildModel(conn, model);
      built.push({ model: qualified(model), rows, ms: Math.round(performance.now() - t0) });
      options.progress?.increment(1);
      rowsWritten += rows;
    }
    options.progress?.stop();
    faultPoint('transform:before-commit');
    return { asOf: asOf ?? (await defaultAsOf(conn)), eventsStaged: staged.events, stagedMs, rowsWritten, models: built };
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
