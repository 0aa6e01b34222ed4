import { type Kysely, type CreateTableBuilder } from 'kysely';

/**
 * The transactional core: customers, catalog and stock, orders, credit decisions,
 * shipments, invoices, credit notes, payments and their allocations, and the event feed.
 * Written once for both SQLite and PostgreSQL: `isPg` picks identity columns and 64-bit
 * integers for money on PostgreSQL.
 */
export async function up(db: Kysely<unknown>, isPg: boolean): Promise<void> {
  const money = isPg ? 'bigint' : 'integer';
  const id = <T extends string>(t: CreateTableBuilder<T, never>) =>
    isPg
      ? t.addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('document_sequences')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('year', 'integer', (c) => c.notNull())
    .addColumn('last_value', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('document_sequences_pk', ['kind', 'year'])
    .execute();

  let events = db.schema.createTable('events');
  events = isPg
    ? events.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
    : events.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
  await events
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('aggregate_type', 'text', (c) => c.notNull())
    .addColumn('aggregate_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('events_aggregate').on('events').columns(['aggregate_type', 'aggregate_id']).execute();

  await id(db.schema.createTable('customers'))
    .addColumn('external_id', 'text', (c) => c.unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('country', 'text')
    .addColumn('segment', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('payment_terms_days', 'integer', (c) => c.notNull())
    .addColumn('early_discount_days', 'integer')
    .addColumn('early_discount_bp', 'integer')
    .addColumn('credit_limit_minor', money, (c) => c.notNull())
    .addColumn('risk_class', 'text')
    .addColumn('sales_rep', 'text')
    .addColumn('email', 'text')
    .addColumn('iban', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await id(db.schema.createTable('products'))
    .addColumn('sku', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('category', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('list_price_minor', money, (c) => c.notNull())
    .addColumn('unit_cost_minor', money, (c) => c.notNull())
    .addColumn('tax_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('stock_levels')
    .addColumn('product_id', 'integer', (c) => c.primaryKey().references('products.id'))
    .addColumn('on_hand', 'integer', (c) => c.notNull())
    .addColumn('reserved', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await id(db.schema.createTable('stock_movements'))
    .addColumn('product_id', 'integer', (c) => c.notNull().references('products.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('reference', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await id(db.schema.createTable('orders'))
    .addColumn('customer_id', 'integer', (c) => c.notNull().references('customers.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('order_date', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.unique())
    .addColumn('external_id', 'text', (c) => c.unique())
    .addColumn('subtotal_minor', money, (c) => c.notNull())
    .addColumn('discount_minor', money, (c) => c.notNull())
    .addColumn('tax_minor', money, (c) => c.notNull())
    .addColumn('total_minor', money, (c) => c.notNull())
    .addColumn('cancel_reason', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('submitted_at', 'text')
    .addColumn('approved_at', 'text')
    .addColumn('shipped_at', 'text')
    .addColumn('delivered_at', 'text')
    .addColumn('invoiced_at', 'text')
    .addColumn('paid_at', 'text')
    .addColumn('cancelled_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('orders_customer').on('orders').columns(['customer_id', 'status']).execute();

  await id(db.schema.createTable('order_lines'))
    .addColumn('order_id', 'integer', (c) => c.notNull().references('orders.id'))
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('product_id', 'integer', (c) => c.notNull().references('products.id'))
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('unit_price_minor', money, (c) => c.notNull())
    .addColumn('discount_bp', 'integer', (c) => c.notNull())
    .addColumn('tax_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('gross_minor', money, (c) => c.notNull())
    .addColumn('discount_minor', money, (c) => c.notNull())
    .addColumn('net_minor', money, (c) => c.notNull())
    .addColumn('tax_minor', money, (c) => c.notNull())
    .addColumn('total_minor', money, (c) => c.notNull())
    .addColumn('reserved_qty', 'integer', (c) => c.notNull())
    .addColumn('shipped_qty', 'integer', (c) => c.notNull())
    .addColumn('invoiced_qty', 'integer', (c) => c.notNull())
    .addUniqueConstraint('order_lines_order_line_no', ['order_id', 'line_no'])
    .execute();

  await id(db.schema.createTable('order_status_history'))
    .addColumn('order_id', 'integer', (c) => c.notNull().references('orders.id'))
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('order_status_history_order').on('order_status_history').column('order_id').execute();

  await id(db.schema.createTable('credit_decisions'))
    .addColumn('order_id', 'integer', (c) => c.notNull().references('orders.id'))
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('automatic', 'integer', (c) => c.notNull())
    .addColumn('exposure_minor', money, (c) => c.notNull())
    .addColumn('credit_limit_minor', money, (c) => c.notNull())
    .addColumn('open_ar_minor', money, (c) => c.notNull())
    .addColumn('unbilled_minor', money, (c) => c.notNull())
    .addColumn('order_total_minor', money, (c) => c.notNull())
    .addColumn('overdue_minor', money, (c) => c.notNull())
    .addColumn('max_days_overdue', 'integer', (c) => c.notNull())
    .addColumn('risk_class', 'text')
    .addColumn('reasons', 'text', (c) => c.notNull())
    .addColumn('rules', 'text', (c) => c.notNull())
    .addColumn('decided_by', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credit_decisions_order').on('credit_decisions').column('order_id').execute();

  await id(db.schema.createTable('shipments'))
    .addColumn('order_id', 'integer', (c) => c.notNull().references('orders.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('carrier', 'text', (c) => c.notNull())
    .addColumn('tracking_number', 'text', (c) => c.notNull())
    .addColumn('shipped_at', 'text')
    .addColumn('delivered_at', 'text')
    .addColumn('signed_by', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('shipments_order').on('shipments').column('order_id').execute();

  await id(db.schema.createTable('shipment_lines'))
    .addColumn('shipment_id', 'integer', (c) => c.notNull().references('shipments.id'))
    .addColumn('order_line_id', 'integer', (c) => c.notNull().references('order_lines.id'))
    .addColumn('product_id', 'integer', (c) => c.notNull().references('products.id'))
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('shipment_lines_shipment').on('shipment_lines').column('shipment_id').execute();

  await id(db.schema.createTable('shipment_events'))
    .addColumn('shipment_id', 'integer', (c) => c.notNull().references('shipments.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('shipment_events_shipment').on('shipment_events').column('shipment_id').execute();

  await id(db.schema.createTable('invoices'))
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('external_ref', 'text', (c) => c.unique())
    .addColumn('customer_id', 'integer', (c) => c.notNull().references('customers.id'))
    .addColumn('order_id', 'integer', (c) => c.references('orders.id'))
    .addColumn('shipment_id', 'integer', (c) => c.references('shipments.id'))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('invoice_date', 'text', (c) => c.notNull())
    .addColumn('due_date', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('subtotal_minor', money, (c) => c.notNull())
    .addColumn('tax_minor', money, (c) => c.notNull())
    .addColumn('total_minor', money, (c) => c.notNull())
    .addColumn('disputed', 'integer', (c) => c.notNull())
    .addColumn('settled_date', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invoices_customer').on('invoices').columns(['customer_id', 'status', 'due_date']).execute();
  await db.schema.createIndex('invoices_order').on('invoices').column('order_id').execute();

  await id(db.schema.createTable('invoice_lines'))
    .addColumn('invoice_id', 'integer', (c) => c.notNull().references('invoices.id'))
    .addColumn('order_line_id', 'integer', (c) => c.references('order_lines.id'))
    .addColumn('product_id', 'integer', (c) => c.references('products.id'))
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('unit_price_minor', money, (c) => c.notNull())
    .addColumn('net_minor', money, (c) => c.notNull())
    .addColumn('tax_rate_bp', 'integer', (c) => c.notNull())
    .addColumn('tax_minor', money, (c) => c.notNull())
    .addColumn('total_minor', money, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invoice_lines_invoice').on('invoice_lines').column('invoice_id').execute();

  await id(db.schema.createTable('credit_notes'))
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('invoice_id', 'integer', (c) => c.notNull().references('invoices.id'))
    .addColumn('customer_id', 'integer', (c) => c.notNull().references('customers.id'))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('credit_date', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credit_notes_invoice').on('credit_notes').column('invoice_id').execute();

  await id(db.schema.createTable('payments'))
    .addColumn('customer_id', 'integer', (c) => c.notNull().references('customers.id'))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('payment_date', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('bank_reference', 'text')
    .addColumn('payer', 'text')
    .addColumn('external_id', 'text', (c) => c.unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reversal_reason', 'text')
    .addColumn('reversed_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payments_customer').on('payments').columns(['customer_id', 'status']).execute();

  await id(db.schema.createTable('payment_allocations'))
    .addColumn('payment_id', 'integer', (c) => c.notNull().references('payments.id'))
    .addColumn('invoice_id', 'integer', (c) => c.notNull().references('invoices.id'))
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('applied_on', 'text', (c) => c.notNull())
    .addColumn('reversed', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('payment_allocations_invoice').on('payment_allocations').column('invoice_id').execute();
  await db.schema.createIndex('payment_allocations_payment').on('payment_allocations').column('payment_id').execute();

  await id(db.schema.createTable('write_offs'))
    .addColumn('invoice_id', 'integer', (c) => c.notNull().references('invoices.id'))
    .addColumn('amount_minor', money, (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('write_off_date', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('write_offs_invoice').on('write_offs').column('invoice_id').execute();

}
