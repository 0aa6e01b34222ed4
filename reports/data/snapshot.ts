import fs from 'node:fs';
import path from 'node:path';
import { openWarehouse, rowsJson, type Warehouse } from '../../src/warehouse/warehouse.ts';

/**
 * What every data loader shares: the published, read-only warehouse snapshot of the data
 * directory (`CASHLOOP_DATA_DIR`, default ./data), opened read-only so the next pipeline
 * run can replace it while a build reads.
 */
export function snapshotFile(): string {
  const dataDir = path.resolve(process.env.CASHLOOP_DATA_DIR ?? 'data');
  const file = path.join(dataDir, 'published', 'warehouse.duckdb');
  if (!fs.existsSync(file)) throw new Error(`no published warehouse at ${file}: run \`cashloop pipeline run all\` first`);
  return file;
}

export type Row = Record<string, unknown>;

/** Runs queries against the snapshot; numbers come back as numbers (cast money to DOUBLE in SQL). */
export async function withSnapshot<T>(fn: (q: (sql: string) => Promise<Row[]>, has: (table: string) => Promise<boolean>) => Promise<T>): Promise<T> {
  // In the one-process build (build-site.ts) every loader shares one open snapshot.
  const shared = runner?.warehouse;
  const wh = shared ?? (await openWarehouse(snapshotFile(), { readOnly: true }));
  try {
    const q = async (sql: string) =>
      ((await rowsJson(wh.conn, sql)) as Row[]).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && !k.endsWith('_key') && !k.endsWith('_id') ? Number(v) : v])));
    const has = async (table: string) => {
      const [schema, name] = table.split('.');
      const rows = await rowsJson(wh.conn, `select count(*) as n from information_schema.tables where table_schema = '${schema}' and table_name = '${name}'`);
      return Number((rows[0] as Row).n) > 0;
    };
    return await fn(q, has);
  } finally {
    if (!shared) wh.close();
  }
}

/**
 * The currency the reports show: the one with the most receivables (a company reporting in
 * several currencies gets one site per currency in a later version), and the two dates of the
 * as-of rule (reports/definitions.md#as-of): `asOf`, the data date, at which balances (open
 * receivables, aging, the worklist) and forecasts are shown; `monthEnd`, the last closed
 * month-end on or before it, at which month-based measures (DSO, CEI, days to pay) are shown.
 * They are the same day when the data date is a month-end.
 */
export async function mainScope(q: (sql: string) => Promise<Row[]>): Promise<Scope> {
  if (runner) return (runner.scope ??= findScope(q));
  return await findScope(q);
}

export interface Scope {
  source: string;
  currency: string;
  asOf: string;
  monthEnd: string;
}

async function findScope(q: (sql: string) => Promise<Row[]>): Promise<Scope> {
  // The reporting currency's receivables lead when the company has them; otherwise the largest
  // (minor units are not comparable across currencies, so they only break ties within one).
  let reporting = '';
  try {
    reporting = String((await q(`select any_value(reporting_currency) as c from metrics.ar_kpis_converted`))[0]?.c ?? '');
  } catch {
    // A warehouse from before the currency conversion has no such table.
  }
  const rows = await q(`select * from (select source, currency, max(month_end)::varchar as as_of, max(month_end) filter (where is_month_end)::varchar as month_end, sum(ar_total_cents) as ar
                        from metrics.ar_kpis_monthly group by source, currency) order by (currency = '${reporting.replaceAll("'", "''")}') desc, ar desc limit 1`);
  const r = rows[0];
  if (!r) throw new Error('metrics.ar_kpis_monthly is empty: the warehouse holds no receivables yet');
  const asOf = String(r.as_of);
  return { source: String(r.source), currency: String(r.currency), asOf, monthEnd: r.month_end == null ? asOf : String(r.month_end) };
}

/** Writes a loader's result as JSON (see `output`). */
export function emit(value: unknown): void {
  output(JSON.stringify(value));
}

/**
 * Writes a loader's one file: to stdout when Framework runs the loader (`observable preview`),
 * or to the site's source folder when build-site.ts runs every loader in its own process.
 */
export function output(data: string | Uint8Array): void {
  if (runner) runner.write(data);
  else process.stdout.write(data);
}

/**
 * The one-process build (build-site.ts): the snapshot every loader reads, opened once, the
 * main scope found once, and where the loader now running writes its file or its archive's
 * members.
 */
export interface Runner {
  warehouse: Warehouse;
  scope?: Promise<Scope>;
  write(data: string | Uint8Array): void;
  /** The members of an archive loader (`name.zip.ts`), written as the files the zip would hold. */
  writeMembers(members: Map<string, Uint8Array>): void;
}
let runner: Runner | undefined;
export function setRunner(r: Runner | undefined): void {
  runner = r;
}
export function currentRunner(): Runner | undefined {
  return runner;
}
