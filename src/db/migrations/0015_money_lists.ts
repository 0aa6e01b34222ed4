import type { Kysely } from 'kysely';

/**
 * Indexes for the workspace's money lists at size (thousands of customers, a hundred
 * thousand invoices):
 * - `invoices (status, customer_id, due_date, total_minor)`: the account-level worklist and
 *   the sales portfolio sum the open invoices per customer; with the index they read only
 *   the open ones, not the whole history of paid invoices;
 * - `customers (sales_rep)` and `customers (collector)`: a salesperson's portfolio and a
 *   collector's worklist start from their customers;
 * - `invoices (total_minor)`: cash application suggests the open invoices of exactly a bank
 *   line's amount when the payer is not known.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('invoices_status_customer').on('invoices').columns(['status', 'customer_id', 'due_date', 'total_minor']).execute();
  await db.schema.createIndex('customers_sales_rep').on('customers').column('sales_rep').execute();
  await db.schema.createIndex('customers_collector').on('customers').column('collector').execute();
  await db.schema.createIndex('invoices_total').on('invoices').column('total_minor').execute();
}
