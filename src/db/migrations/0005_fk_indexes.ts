import type { Kysely } from 'kysely';

/**
 * Indexes on two foreign keys the core's hot paths filter by, which 0001 left without one:
 * - `invoice_lines.order_line_id`: every invoice (at shipment or delivery) sums what each
 *   shipped order line has already been invoiced;
 * - `order_lines.product_id`: every stock receipt looks for order lines waiting for the
 *   product (backorders);
 * - `invoices.shipment_id`: every shipment read (after shipping, a carrier status, delivery)
 *   looks up the shipment's invoice.
 * Without them both are full table scans, so each delivery and each receipt got slower as
 * history grew (found by the demo generator's profile; see docs/demo.md).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('invoice_lines_order_line').on('invoice_lines').column('order_line_id').execute();
  await db.schema.createIndex('order_lines_product').on('order_lines').column('product_id').execute();
  await db.schema.createIndex('invoices_shipment').ifNotExists().on('invoices').column('shipment_id').execute();
}
