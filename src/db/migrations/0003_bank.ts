import type { Kysely } from 'kysely';

/**
 * Bank statements: one row per statement entry (camt.053 `Ntry`/`TxDtls`, or a CSV line).
 * A credit entry becomes a payment once its customer is known; until then it waits here as
 * `unmatched`, because a payment needs a customer. `entry_key` (statement id + entry
 * reference) makes a re-imported statement change nothing.
 */
export async function up(db: Kysely<unknown>, isPg: boolean): Promise<void> {
  const money = isPg ? 'bigint' : 'integer';
  let t = db.schema.createTable('bank_entries');
  t = isPg
    ? t.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  await t
    .addColumn('entry_key', 'text', (c) => c.notNull().unique())
    .addColumn('statement_id', 'text', (c) => c.notNull())
    .addColumn('entry_ref', 'text', (c) => c.notNull())
    .addColumn('account_iban', 'text')
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('booking_date', 'text', (c) => c.notNull())
    .addColumn('value_date', 'text')
    .addColumn('payer_name', 'text')
    .addColumn('payer_iban', 'text')
    .addColumn('remittance', 'text')
    .addColumn('end_to_end_id', 'text')
    .addColumn('return_reason', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('match_rule', 'text')
    .addColumn('customer_id', 'integer', (c) => c.references('customers.id'))
    .addColumn('invoice_id', 'integer', (c) => c.references('invoices.id'))
    .addColumn('payment_id', 'integer', (c) => c.references('payments.id'))
    .addColumn('source_file', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('bank_entries_status').on('bank_entries').column('status').execute();
  await db.schema.createIndex('bank_entries_e2e').on('bank_entries').column('end_to_end_id').execute();
  await db.schema.createIndex('bank_entries_payment').on('bank_entries').column('payment_id').execute();
}
