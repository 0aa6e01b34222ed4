import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sql } from 'kysely';
import type { Db } from '../src/db/connection.ts';
import { EVENTS_WATERMARK } from './ingest/events.ts';
import { getWatermark } from './schema.ts';
import { rowsJson, scalarNumber } from '../src/warehouse/warehouse.ts';
import { CATCH_ALL_CUSTOMER, UNLISTED_CUSTOMER_NAME } from '../src/extract/contract.ts';
import { formatAmount } from '../src/shared/money.ts';

export interface ReconciliationCheck {
  source: string;
  check: string;
  expected: string;
  actual: string;
  ok: boolean;
}

export interface ReconciliationResult {
  status: 'ok' | 'failed' | 'deferred' | 'skipped';
  note?: string;
  checks: ReconciliationCheck[];
}

export class ReconciliationError extends Error {
  readonly checks: ReconciliationCheck[];
  constructor(checks: ReconciliationCheck[]) {
    const bad = checks.filter((c) => !c.ok);
    super(`reconciliation failed: ${bad.map((c) => `${c.source} ${c.check}: expected ${c.expected}, warehouse has ${c.actual}`).join('; ')}`);
    this.name = 'ReconciliationError';
    this.checks = checks;
  }
}

export interface CoreTotals {
  seq: number;
  invoices: number;
  invoiced: number;
  payments: number;
  received: number;
  open: number;
}

// One scan per table: on a large core these reads are most of an incremental run's reconciliation.
// Cancelled invoices are few, so what reduced the others is summed with a list rather than a join per row.
const CANCELLED = `(select id from invoices where status = 'cancelled')`;
const TOTALS_QUERIES: Record<'seq' | 'invoices' | 'payments' | 'reduced', string> = {
  seq: 'select coalesce(max(seq), 0) as v from events',
  invoices: `select count(*) as n, coalesce(sum(total_minor), 0) as total,
      coalesce(sum(case when status <> 'cancelled' then total_minor end), 0) as open_total from invoices`,
  payments: `select count(*) as n, coalesce(sum(amount_minor), 0) as total from payments where status = 'received'`,
  reduced: `select
      (select coalesce(sum(amount_minor), 0) from credit_notes where invoice_id not in ${CANCELLED}) as credited,
      (select coalesce(sum(amount_minor), 0) from payment_allocations where reversed = 0 and invoice_id not in ${CANCELLED}) as allocated,
      (select coalesce(sum(amount_minor), 0) from write_offs where invoice_id not in ${CANCELLED}) as written_off`,
};
type TotalsRows = Record<keyof typeof TOTALS_QUERIES, Record<string, unknown>>;

function totalsFrom(rows: TotalsRows): CoreTotals {
  const n = (row: Record<string, unknown>, key: string) => Number(row[key] ?? 0);
  return {
    seq: n(rows.seq, 'v'),
    invoices: n(rows.invoices, 'n'),
    invoiced: n(rows.invoices, 'total'),
    payments: n(rows.payments, 'n'),
    received: n(rows.payments, 'total'),
    open: n(rows.invoices, 'open_total') - n(rows.reduced, 'credited') - n(rows.reduced, 'allocated') - n(rows.reduced, 'written_off'),
  };
}

// SQLite reads block the thread that makes them (better-sqlite3 is synchronous), so on a SQLite
// core they run in a worker thread with their own read-only connection and one read transaction.
const SQLITE_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
try {
  db = new Database(workerData.file, { readonly: true, fileMustExist: true });
  const rows = db.transaction(() => Object.fromEntries(Object.entries(workerData.queries).map(([k, q]) => [k, db.prepare(q).get()])))();
  parentPort.postMessage({ rows });
} catch (error) {
  parentPort.postMessage({ error: String((error && error.message) || error) });
} finally {
  if (db) db.close();
}
`;

function readSqliteTotals(file: string): Promise<CoreTotals> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(SQLITE_WORKER, {
      eval: true,
      workerData: { file, driver: createRequire(import.meta.url).resolve('better-sqlite3'), queries: TOTALS_QUERIES },
    });
    worker.once('message', (m: { rows?: TotalsRows; error?: string }) => (m.rows ? resolve(totalsFrom(m.rows)) : reject(new Error(`reading the core's totals from ${file}: ${m.error}`))));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`reading the core's totals from ${file}: worker exited with ${code}`));
    });
  });
}

/**
 * Reads the core's totals in one read snapshot, together with the feed position they
 * correspond to, so that a core which keeps taking orders never produces a false alarm.
 * The pipeline reads them while the transform runs (they only need to be taken after the
 * ingest): the core's database and DuckDB then work at the same time — on PostgreSQL over
 * the connection, on SQLite in a worker thread.
 */
export async function readCoreTotals(core: Db): Promise<CoreTotals> {
  if (core.dialect === 'sqlite' && fs.existsSync(core.location)) return readSqliteTotals(core.location);
  return core.kysely.connection().execute(async (c) => {
    await sql.raw(core.dialect === 'postgres' ? 'begin isolation level repeatable read' : 'begin').execute(c);
    try {
      const rows = {} as TotalsRows;
      for (const [key, query] of Object.entries(TOTALS_QUERIES) as [keyof TotalsRows, string][]) {
        rows[key] = (await sql.raw<Record<string, unknown>>(query).execute(c)).rows[0] ?? {};
      }
      await sql.raw('commit').execute(c);
      return totalsFrom(rows);
    } catch (error) {
      await sql.raw('rollback').execute(c).catch(() => undefined);
      throw error;
    }
  });
}

/**
 * Compares the core with the warehouse: invoice and payment counts and sums, and the open
 * receivables, in staging and (unless replaying an earlier date) in the marts. Extract
 * sources are compared with their landed rows. Any difference is a failure.
 */
export async function reconcile(conn: DuckDBConnection, core: Db | null, asOf: string | undefined, totals?: Promise<CoreTotals>): Promise<ReconciliationResult> {
  const checks: ReconciliationCheck[] = [];
  const add = (source: string, check: string, expected: number | string, actual: number | string) =>
    checks.push({ source, check, expected: String(expected), actual: String(actual), ok: expected === actual });
  let note: string | undefined;
  let deferred = false;
  if (asOf !== undefined) await conn.run(`set variable as_of = date '${asOf.replaceAll("'", '')}'`);

  if (core) {
    const t = await (totals ?? readCoreTotals(core));
    const watermark = await getWatermark(conn, EVENTS_WATERMARK);
    if (t.seq !== watermark) {
      deferred = true;
      note = `core is at event ${t.seq}, the warehouse at ${watermark}: the core moved on after the load; checked next run`;
    } else {
      // One statement for the staged totals and the latest business date (read from the staged
      // core tables: the staging views would join and rename every row to answer). The dates are
      // ISO text, so the latest text is the latest date and only it is cast.
      const staged = (
        await rowsJson(
          conn,
          `select (select count(*) from staging.core_invoices) as invoices,
             (select coalesce(sum(total_minor), 0) from staging.core_invoices) as invoiced,
             (select count(*) from staging.core_payments where status = 'received') as payments,
             (select coalesce(sum(amount_minor), 0) from staging.core_payments where status = 'received') as received,
             cast(greatest(
               (select cast(max(invoice_date) as date) from staging.core_invoices),
               (select greatest(cast(max(payment_date) as date), cast(max(left(reversed_at, 10)) as date)) from staging.core_payments),
               (select cast(max(applied_on) as date) from staging.core_payment_allocations),
               (select cast(max(credit_date) as date) from staging.core_credit_notes),
               (select cast(max(write_off_date) as date) from staging.core_write_offs)) as varchar) as latest`,
        )
      )[0]!;
      add('core', 'invoice count', t.invoices, Number(staged.invoices));
      add('core', 'invoiced cents', t.invoiced, Number(staged.invoiced));
      add('core', 'payment count', t.payments, Number(staged.payments));
      add('core', 'received cents', t.received, Number(staged.received));
      // The marts are as of the run's date; compare them when nothing in the core is dated after it.
      const latestDate = staged.latest;
      if (asOf !== undefined && (typeof latestDate !== 'string' || latestDate <= asOf)) {
        const marts = (await rowsJson(conn, `select count(*) as n, coalesce(sum(open_cents), 0) as open from marts.fct_invoices where source = 'core'`))[0]!;
        add('core', 'invoices in marts', t.invoices, Number(marts.n));
        add('core', 'open receivables cents', t.open, Number(marts.open));
      }
    }
  }

  for (const s of await rowsJson(conn, 'select distinct source from raw.extract_invoices order by 1')) {
    const source = String(s.source);
    const landed = `(select * from raw.extract_invoices where source = $1 and cast(invoice_date as date) <= getvariable('as_of')
                     qualify row_number() over (partition by invoice_id order by row_no desc) = 1)`;
    add(source, 'invoice count', await scalarNumber(conn, `select count(*) from ${landed}`, [source]), await scalarNumber(conn, 'select count(*) from marts.fct_invoices where source = $1', [source]));
    add(
      source,
      'invoiced cents',
      // Each amount in minor units of its currency: the row's own, else its customer's.
      await scalarNumber(
        conn,
        `select coalesce(sum(units_to_minor(i.amount, coalesce(i.currency, c.currency))), 0) from ${landed} i
         left join (select customer_id, any_value(currency) as currency from raw.extract_customers where source = $1 group by 1) c on c.customer_id = i.customer_id`,
        [source],
      ),
      await scalarNumber(conn, 'select coalesce(sum(amount_cents), 0) from marts.fct_invoices where source = $1', [source]),
    );
    // A zero-amount invoice is settled the day it is issued, whatever the extract says: nothing was ever owed on it.
    add(
      source,
      'settled invoices',
      await scalarNumber(conn, `select count(*) from ${landed} where cast(settled_date as date) <= getvariable('as_of') or cast(amount as decimal(38, 3)) = 0`, [source]),
      await scalarNumber(conn, 'select count(*) from marts.fct_invoices where source = $1 and settled_date is not null', [source]),
    );
  }

  // Customers that rows name but the customers file does not list: each has a stand-in customer
  // (pipelines/ingest/extract.ts). Counted from the rows and from the customer dimension.
  for (const s of await rowsJson(conn, `select distinct source from raw.extract_customers where file = '(stand-in)' order by 1`)) {
    const source = String(s.source);
    const named = ['order_lines', 'invoices', 'payments'].map((e) => `select customer_id from raw.extract_${e} where source = $1`).join(' union ');
    add(
      source,
      'customers not in the customers file (stand-ins)',
      await scalarNumber(conn, `select count(*) from (${named}) n where customer_id not in (select customer_id from raw.extract_customers where source = $1 and file <> '(stand-in)')`, [source]),
      await scalarNumber(
        conn,
        `select count(*) from marts.dim_customer where source = $1 and (customer_name = customer_id || $2 or (customer_id = $3 and customer_name = $4))`,
        [source, UNLISTED_CUSTOMER_NAME(''), CATCH_ALL_CUSTOMER.id, CATCH_ALL_CUSTOMER.name],
      ),
    );
  }

  // Rows whose customer id was blank belong to the catch-all customer (src/extract/contract.ts):
  // their count and amount per currency, from the landed rows and from the marts.
  for (const s of await rowsJson(conn, `select distinct source from raw.extract_customers where file = '(stand-in)' and customer_id = $1 order by 1`, [CATCH_ALL_CUSTOMER.id])) {
    const source = String(s.source);
    const customerCurrency = `(select customer_id, any_value(currency) as currency from raw.extract_customers where source = $1 group by 1)`;
    const described = (rows: Record<string, unknown>[]) =>
      rows.map((r) => `${String(r.currency)}: ${Number(r.n)} row${Number(r.n) === 1 ? '' : 's'}, ${formatAmount(Number(r.minor), String(r.currency))}`).join('; ') || 'none';
    const sides: Record<string, [string, string]> = {
      invoices: [
        `select coalesce(i.currency, c.currency) as currency, count(*) as n, sum(units_to_minor(i.amount, coalesce(i.currency, c.currency))) as minor
         from (select * from raw.extract_invoices where source = $1 and customer_id = $2 and cast(invoice_date as date) <= getvariable('as_of')
               qualify row_number() over (partition by invoice_id order by row_no desc) = 1) i
         left join ${customerCurrency} c on c.customer_id = i.customer_id group by 1 order by 1`,
        `select currency, count(*) as n, sum(amount_cents) as minor from marts.fct_invoices where source = $1 and customer_key = $1 || ':' || $2 group by 1 order by 1`,
      ],
      payments: [
        `select coalesce(p.currency, c.currency) as currency, count(*) as n, sum(units_to_minor(p.amount, coalesce(p.currency, c.currency))) as minor
         from (select * from raw.extract_payments where source = $1 and customer_id = $2 and cast(payment_date as date) <= getvariable('as_of')
               qualify row_number() over (partition by payment_id order by row_no desc) = 1) p
         left join ${customerCurrency} c on c.customer_id = p.customer_id group by 1 order by 1`,
        `select currency, count(*) as n, sum(amount_cents) as minor from marts.fct_payments where source = $1 and customer_key = $1 || ':' || $2 and not is_synthesized group by 1 order by 1`,
      ],
    };
    for (const [file, [landed, marts]] of Object.entries(sides)) {
      add(
        source,
        `${file} of the catch-all customer ${CATCH_ALL_CUSTOMER.id} (blank customer id)`,
        described(await rowsJson(conn, landed, [source, CATCH_ALL_CUSTOMER.id])),
        described(await rowsJson(conn, marts, [source, CATCH_ALL_CUSTOMER.id])),
      );
    }
  }

  const failed = checks.some((c) => !c.ok);
  const status = failed ? 'failed' : deferred ? 'deferred' : checks.length ? 'ok' : 'skipped';
  return { status, checks, ...(note ? { note } : {}) };
}
