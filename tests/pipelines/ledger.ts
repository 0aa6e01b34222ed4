import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runChange, type Core } from '../../src/core.ts';
import { openWarehouse, rowsJson } from '../../src/warehouse/warehouse.ts';

/**
 * Writes receivables history into a test core through the real write path (`runChange`):
 * each call inserts the core rows and records their after-images as the event payload,
 * shaped as `src/events/README.md` says. It lets a test pick every business date exactly.
 */
export class Ledger {
  constructor(private readonly core: Core) {}

  private at(date: string): string {
    return `${date}T12:00:00.000Z`;
  }

  async customer(name: string, currency = 'EUR'): Promise<number> {
    return runChange(this.core, 'test', async ({ trx, at }) => {
      const row = await trx
        .insertInto('customers')
        .values({
          external_id: null, name, country: 'DE', segment: 'wholesale', currency, payment_terms_days: 30, early_discount_days: null,
          early_discount_bp: null, credit_limit_minor: 1_000_000, risk_class: null, sales_rep: null, email: null, iban: null,
          status: 'active', created_at: at, updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { result: row.id, events: [{ type: 'customer.created', aggregate: 'customer', id: row.id, after: { customers: [row] } }] };
    });
  }

  async invoice(customerId: number, number: string, invoiceDate: string, dueDate: string, totalMinor: number, currency = 'EUR'): Promise<number> {
    return runChange(this.core, 'test', async ({ trx }) => {
      const at = this.at(invoiceDate);
      const row = await trx
        .insertInto('invoices')
        .values({
          number, external_ref: null, customer_id: customerId, order_id: null, shipment_id: null, currency, invoice_date: invoiceDate,
          due_date: dueDate, status: 'open', subtotal_minor: totalMinor, tax_minor: 0, total_minor: totalMinor, disputed: 0,
          settled_date: null, created_at: at, updated_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { result: row.id, events: [{ type: 'invoice.issued', aggregate: 'invoice', id: row.id, after: { invoices: [row] } }] };
    });
  }

  /** A payment applied to invoices: `allocations` are [invoiceId, amountMinor]. */
  async payment(customerId: number, date: string, amountMinor: number, allocations: [number, number][], currency = 'EUR'): Promise<number> {
    return runChange(this.core, 'test', async ({ trx }) => {
      const at = this.at(date);
      const payment = await trx
        .insertInto('payments')
        .values({
          customer_id: customerId, currency, amount_minor: amountMinor, payment_date: date, method: 'transfer', bank_reference: null,
          payer: null, external_id: null, status: 'received', reversal_reason: null, reversed_at: null, created_at: at,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const allocs = [];
      for (const [invoiceId, minor] of allocations) {
        allocs.push(
          await trx
            .insertInto('payment_allocations')
            .values({ payment_id: payment.id, invoice_id: invoiceId, amount_minor: minor, rule: 'manual', applied_on: date, reversed: 0, created_at: at })
            .returningAll()
            .executeTakeFirstOrThrow(),
        );
      }
      return { result: payment.id, events: [{ type: 'payment.recorded', aggregate: 'payment', id: payment.id, after: { payments: [payment], payment_allocations: allocs } }] };
    });
  }

  async reversePayment(paymentId: number, date: string): Promise<void> {
    await runChange(this.core, 'test', async ({ trx }) => {
      const payment = await trx
        .updateTable('payments')
        .set({ status: 'reversed', reversal_reason: 'returned', reversed_at: this.at(date) })
        .where('id', '=', paymentId)
        .returningAll()
        .executeTakeFirstOrThrow();
      const allocs = await trx.updateTable('payment_allocations').set({ reversed: 1 }).where('payment_id', '=', paymentId).returningAll().execute();
      return { result: null, events: [{ type: 'payment.reversed', aggregate: 'payment', id: paymentId, after: { payments: [payment], payment_allocations: allocs } }] };
    });
  }

  async creditNote(invoiceId: number, customerId: number, date: string, amountMinor: number, currency = 'EUR'): Promise<number> {
    return runChange(this.core, 'test', async ({ trx }) => {
      const row = await trx
        .insertInto('credit_notes')
        .values({
          number: `CN-${invoiceId}-${date}`, invoice_id: invoiceId, customer_id: customerId, currency, amount_minor: amountMinor,
          kind: 'price_correction', reason: 'test', credit_date: date, created_at: this.at(date),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { result: row.id, events: [{ type: 'credit_note.issued', aggregate: 'credit_note', id: row.id, after: { credit_notes: [row] } }] };
    });
  }

  async writeOff(invoiceId: number, date: string, amountMinor: number): Promise<void> {
    await runChange(this.core, 'test', async ({ trx }) => {
      const row = await trx
        .insertInto('write_offs')
        .values({ invoice_id: invoiceId, amount_minor: amountMinor, reason: 'uncollectable', write_off_date: date, created_at: this.at(date) })
        .returningAll()
        .executeTakeFirstOrThrow();
      return { result: null, events: [{ type: 'invoice.written_off', aggregate: 'invoice', id: invoiceId, after: { write_offs: [row] } }] };
    });
  }
}

/** A fresh temporary folder for a warehouse. */
export function tempDir(prefix = 'cashloop-wh-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Reads rows from a warehouse file (opened read-only, then closed). */
export async function readWarehouse(file: string, sql: string): Promise<Record<string, unknown>[]> {
  const wh = await openWarehouse(file, { readOnly: true });
  try {
    return (await rowsJson(wh.conn, sql)) as Record<string, unknown>[];
  } finally {
    wh.close();
  }
}

/** Every public table of a warehouse, sorted, as JSON: two warehouses built the same way compare equal. */
export async function dumpPublic(file: string): Promise<Record<string, unknown[]>> {
  const wh = await openWarehouse(file, { readOnly: true });
  try {
    const tables = await rowsJson(wh.conn, `select table_schema || '.' || table_name as t from information_schema.tables where table_schema in ('staging', 'marts', 'metrics') order by 1`);
    const out: Record<string, unknown[]> = {};
    for (const { t } of tables) {
      const name = String(t);
      out[name] = (await rowsJson(wh.conn, `select * from ${name} order by all`)) as unknown[];
    }
    // The catalog too: column types and the comments on tables and columns.
    out['(catalog)'] = (await rowsJson(
      wh.conn,
      `select c.schema_name, c.table_name, t.comment as table_comment, c.column_name, c.data_type, c.comment
       from duckdb_columns() as c join duckdb_tables() as t using (database_name, schema_name, table_name)
       where c.schema_name in ('marts', 'metrics') order by all`,
    )) as unknown[];
    return out;
  } finally {
    wh.close();
  }
}

/** Every table of the given schemas in a warehouse or snapshot file, sorted, as JSON. */
export async function dumpSchemas(file: string, schemas: string[]): Promise<Record<string, unknown[]>> {
  const wh = await openWarehouse(file, { readOnly: true });
  try {
    const tables = await rowsJson(
      wh.conn,
      `select table_schema || '.' || table_name as t from information_schema.tables where table_schema in (${schemas.map((s) => `'${s}'`).join(', ')}) order by 1`,
    );
    const out: Record<string, unknown[]> = {};
    for (const { t } of tables) out[String(t)] = (await rowsJson(wh.conn, `select * from ${String(t)} order by all`)) as unknown[];
    return out;
  } finally {
    wh.close();
  }
}

/**
 * Differences between the working warehouse's public tables and their published Parquet
 * copies (`published/parquet/<schema>.<table>/`, Hive-partitioned): per table, the rows only one side
 * has. Empty when every copy holds exactly its table.
 */
export async function parquetDifferences(dataDir: string, schemas = ['marts', 'metrics', 'forecast']): Promise<Record<string, string>> {
  const wh = await openWarehouse(path.join(dataDir, 'warehouse.duckdb'), { readOnly: true });
  try {
    const tables = await rowsJson(
      wh.conn,
      `select table_schema || '.' || table_name as t from information_schema.tables where table_type = 'BASE TABLE' and table_schema in (${schemas.map((s) => `'${s}'`).join(', ')}) order by 1`,
    );
    const folder = path.join(dataDir, 'published', 'parquet');
    const out: Record<string, string> = {};
    const listed = fs.readdirSync(folder).filter((f) => !f.startsWith('_')).sort();
    const expected = tables.map((r) => String(r.t));
    if (JSON.stringify(listed) !== JSON.stringify(expected)) out['(folders)'] = `published ${listed.join(', ')}; warehouse ${expected.join(', ')}`;
    for (const t of expected) {
      const files = `read_parquet('${path.join(folder, t)}/**/*.parquet', hive_partitioning = false)`;
      const [d] = await rowsJson(
        wh.conn,
        `select (select count(*) from (select * from ${t} except all select * from ${files})) as only_table,
                (select count(*) from (select * from ${files} except all select * from ${t})) as only_parquet`,
      );
      if (d!.only_table !== '0' || d!.only_parquet !== '0') out[t] = `${String(d!.only_table)} rows only in the table, ${String(d!.only_parquet)} only in Parquet`;
    }
    return out;
  } finally {
    wh.close();
  }
}

/** Every published Parquet table (`published/parquet/<schema>.<table>/`, Hive-partitioned), sorted, as JSON. */
export async function dumpParquet(dataDir: string): Promise<Record<string, unknown[]>> {
  const folder = path.join(dataDir, 'published', 'parquet');
  const wh = await openWarehouse(':memory:');
  try {
    const out: Record<string, unknown[]> = {};
    for (const t of fs.readdirSync(folder).filter((f) => !f.startsWith('_')).sort()) {
      out[t] = (await rowsJson(wh.conn, `select * from read_parquet('${path.join(folder, t)}/**/*.parquet', hive_partitioning = false) order by all`)) as unknown[];
    }
    return out;
  } finally {
    wh.close();
  }
}
