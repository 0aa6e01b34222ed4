import type { Kysely } from 'kysely';
import type { Database, InvoiceForecastsTable } from '../db/schema.ts';

/** One row of `invoice_forecasts`, as the core keeps it. */
export type InvoiceForecastRow = InvoiceForecastsTable;

/** The forecasts of one customer's invoices, by invoice id. */
export async function forecastsOfCustomer(db: Kysely<Database>, customerId: number): Promise<InvoiceForecastRow[]> {
  return db.selectFrom('invoice_forecasts').selectAll().where('customer_id', '=', customerId).orderBy('invoice_id').execute();
}

/** The forecast of one invoice, or undefined when the forecast step wrote none for it. */
export async function forecastOfInvoice(db: Kysely<Database>, invoiceId: number): Promise<InvoiceForecastRow | undefined> {
  return db.selectFrom('invoice_forecasts').selectAll().where('invoice_id', '=', invoiceId).executeTakeFirst();
}

/** Every forecast held, by invoice id. */
export async function allForecasts(db: Kysely<Database>): Promise<Map<number, InvoiceForecastRow>> {
  const rows = await db.selectFrom('invoice_forecasts').selectAll().execute();
  return new Map(rows.map((r) => [r.invoice_id, r]));
}

/** Ids of the given invoices that exist, with their customer. */
export async function invoiceCustomers(db: Kysely<Database>, invoiceIds: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < invoiceIds.length; i += 500) {
    const rows = await db.selectFrom('invoices').select(['id', 'customer_id']).where('id', 'in', invoiceIds.slice(i, i + 500)).execute();
    for (const r of rows) out.set(r.id, r.customer_id);
  }
  return out;
}

/** Removes every forecast and writes `rows` in their place (inside the caller's transaction). */
export async function replaceForecastRows(db: Kysely<Database>, rows: InvoiceForecastRow[]): Promise<void> {
  await db.deleteFrom('invoice_forecasts').execute();
  for (let i = 0; i < rows.length; i += 500) await db.insertInto('invoice_forecasts').values(rows.slice(i, i + 500)).execute();
}
