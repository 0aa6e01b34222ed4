import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';

/**
 * 0005: the lookups every invoice (invoice_lines by order line) and every stock receipt
 * (order_lines by product) and every shipment read (invoices by shipment) make use an index, not a scan that grows with history.
 */
describe(`foreign-key indexes (${testDialect})`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore();
  });
  afterAll(async () => t.cleanup());

  it('has the indexes, and SQLite plans the hot lookups with them', async () => {
    const db = t.core.db.kysely;
    if (testDialect === 'postgres') {
      const rows = await sql<{ indexname: string }>`select indexname from pg_indexes where indexname in ('invoice_lines_order_line', 'order_lines_product', 'invoices_shipment') order by indexname`.execute(db);
      expect(rows.rows.map((r) => r.indexname)).toEqual(['invoice_lines_order_line', 'invoices_shipment', 'order_lines_product']);
      return;
    }
    const plan = async (query: string) => (await sql<{ detail: string }>`explain query plan ${sql.raw(query)}`.execute(db)).rows.map((r) => r.detail).join(' | ');
    const invoiced = await plan(`select sum(il.quantity) from invoice_lines il join invoices i on i.id = il.invoice_id where il.order_line_id = 1 and i.status != 'cancelled'`);
    expect(invoiced).toContain('USING INDEX invoice_lines_order_line');
    expect(invoiced).not.toContain('SCAN il');
    const waiting = await plan(`select ol.* from order_lines ol join orders o on o.id = ol.order_id where ol.product_id = 1 and o.status in ('approved', 'partially_shipped')`);
    expect(waiting).toContain('USING INDEX order_lines_product');
    expect(await plan(`select number from invoices where shipment_id = 1`)).toContain('USING INDEX invoices_shipment');
  });
});
