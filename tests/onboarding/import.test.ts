import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor, countEvents } from '../helpers/fixtures.ts';
import { dryRunMemory, importFile, rejectedFileFor, type ImportReport } from '../../src/onboarding/import.service.ts';
import { getInvoice, listInvoices } from '../../src/invoicing/invoice.service.ts';
import { listPayments } from '../../src/payments/payment.service.ts';
import { listCustomers } from '../../src/customers/customer.service.ts';
import { getProduct } from '../../src/catalog/product.service.ts';
import { DomainError } from '../../src/shared/errors.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures/onboarding');
const canonical = (name: string) => path.join(fixtures, 'canonical', `${name}.csv`);

async function importCanonical(core: TestCore['core']): Promise<[ImportReport, ImportReport, ImportReport, ImportReport]> {
  const one = (entity: string) => importFile(core, { entity, file: canonical(entity), actor });
  return [await one('customers'), await one('products'), await one('invoices'), await one('payments')];
}

async function rejection(p: Promise<unknown>): Promise<DomainError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DomainError) return e;
    throw e;
  }
  throw new Error('the import was accepted');
}

const openByCustomer = (r: ImportReport) => Object.fromEntries(r.tieOut!.map((t) => [t.externalId, [t.expectedMinor, t.actualMinor]]));

describe(`legacy import (${testDialect})`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore('2026-01-10T09:00:00Z');
  });
  afterEach(async () => t.cleanup());

  it('imports a folder of canonical files and the tie-out agrees per customer', async () => {
    const [customers, products, invoices, payments] = await importCanonical(t.core);
    expect(customers).toMatchObject({ rowsRead: 3, accepted: 3, rejected: 0, created: 3, unchanged: 0 });
    expect(products).toMatchObject({ rowsRead: 2, created: 2 });
    expect((await getProduct(t.core, 'P-200')).listPriceMinor).toBe(9990);
    expect(invoices).toMatchObject({ rowsRead: 6, accepted: 6, created: 6, tieOutAgrees: true });
    expect(invoices.amounts).toEqual([
      { currency: 'EUR', rows: 5, amountMinor: 302525 },
      { currency: 'USD', rows: 1, amountMinor: 199999 },
    ]);
    // settled_date without payment rows = paid in full on that date
    expect(openByCustomer(invoices)).toEqual({ C001: [125000, 125000], C002: [27525, 27525], C003: [199999, 199999] });
    expect(payments).toMatchObject({ rowsRead: 5, accepted: 5, created: 5, tieOutAgrees: true });
    expect(openByCustomer(payments)).toEqual({ C001: [90000, 90000], C002: [27525, 27525], C003: [149999, 149999] });

    // Historical invoices keep their numbers and stay out of the gapless INV sequence.
    const inv = await getInvoice(t.core, '2025-0002');
    expect(inv).toMatchObject({ number: 'IMP-2025-0002', externalRef: '2025-0002', balanceMinor: 45000, dueDate: '2025-12-03' });
    expect((await getInvoice(t.core, '2025-0003')).disputed).toBe(true);
    expect(await t.core.db.kysely.selectFrom('document_sequences').selectAll().where('kind', '=', 'INV').execute()).toEqual([]);
    // 2025-0004 was settled on 2025-12-10 and the payment rows cover it: the stand-in settlement is reversed.
    const c2 = (await listCustomers(t.core)).find((c) => c.externalId === 'C002')!;
    const c2Payments = await listPayments(t.core, { customerId: c2.id });
    expect(c2Payments.map((p) => [p.externalId, p.status, p.amount])).toEqual([
      ['settled:2025-0004', 'reversed', '300.00'],
      ['PAY-2', 'received', '100.00'],
      ['PAY-3', 'received', '200.00'],
    ]);
    expect((await getInvoice(t.core, '2025-0004')).status).toBe('paid');
  });

  it('re-running the same files changes nothing', async () => {
    await importCanonical(t.core);
    const events = await countEvents(t.core);
    const again = await importCanonical(t.core);
    expect(again.map((r) => [r.created, r.unchanged])).toEqual([[0, 3], [0, 2], [0, 6], [0, 5]]);
    expect(again[3].tieOutAgrees).toBe(true);
    expect(await countEvents(t.core)).toBe(events);
  });

  it('reads CSV with a BOM, semicolons, decimal commas and quoted newlines', async () => {
    const r = await importFile(t.core, { entity: 'customers', file: path.join(fixtures, 'customers-bom-semicolon.csv'), actor });
    expect(r).toMatchObject({ rowsRead: 2, accepted: 2, created: 2 });
    const [k1, k2] = await listCustomers(t.core);
    expect(k1).toMatchObject({ externalId: 'K-1', name: 'Müller & Söhne\nZweigniederlassung Nord', creditLimitMinor: 123450, currency: 'EUR', paymentTermsDays: 30 });
    expect(k2).toMatchObject({ externalId: 'K-2', name: 'Café "Zentral"', creditLimitMinor: 75000 });
  });

  it('adapts another layout through a mapping file in the warehouse format (the IBM receivables sample)', async () => {
    const mapping = path.join(fixtures, 'ibm-invoices.mapping.json');
    // One table holds customers and invoices: a customer on several rows is a duplicate id, hence --accept-valid.
    const c = await importFile(t.core, { entity: 'customers', file: path.join(fixtures, 'ibm-invoices.csv'), mapping, actor, dryRun: true });
    expect(c).toMatchObject({ accepted: 2, rejected: 0 });
    await importFile(t.core, { entity: 'customers', file: canonical('customers'), actor });
    const r = await importFile(t.core, { entity: 'invoices', file: path.join(fixtures, 'ibm-invoices.csv'), mapping, actor });
    expect(r).toMatchObject({ accepted: 2, rejected: 0, tieOutAgrees: true });
    expect(r.ignoredColumns).toEqual(['countryCode', 'PaperlessDate', 'PaperlessBill', 'DaysToSettle', 'DaysLate']);
    const settled = await getInvoice(t.core, '0000611365');
    expect(settled).toMatchObject({ invoiceDate: '2013-01-02', dueDate: '2013-02-01', totalMinor: 5594, status: 'paid', settledDate: '2013-01-15', disputed: false });
    expect(await getInvoice(t.core, '0007900770')).toMatchObject({ disputed: true, status: 'open', balanceMinor: 6174 });
  });

  it('a broken file is rejected whole, naming every row and field, and writes nothing', async () => {
    await importCanonical(t.core);
    const events = await countEvents(t.core);
    const e = await rejection(importFile(t.core, { entity: 'invoices', file: path.join(fixtures, 'invoices-broken.csv'), actor }));
    expect(e.kind).toBe('invalid');
    // Row 2 (a blank customer: the catch-all) and row 5 (C999, not in cashloop: a stand-in) are fine.
    expect(e.message).toMatch(/6 of 10 invoices rows rejected; nothing was written/);
    expect(e.problems.map((p) => [p.id, p.field, p.rule])).toEqual([
      ['row 3', 'invoice_date', 'date_format'],
      ['row 4', 'amount', 'amount_not_negative'],
      ['row 6', 'invoice_id', 'duplicate_id'],
      ['row 7', 'currency', 'currency_match'],
      ['row 8', 'amount', 'amount_precision'],
      ['row 8', 'disputed', 'boolean'],
      ['row 9', '*', 'field_count'],
    ]);
    expect(e.problems[0]!.message).toBe('row 3 (line 4): invoice_date "2025-02-30" is not a date written YYYY-MM-DD');
    expect(await countEvents(t.core)).toBe(events);
    expect(fs.existsSync(rejectedFileFor(path.join(fixtures, 'invoices-broken.csv')))).toBe(false);
  });

  it('--dry-run validates and reports, writing nothing', async () => {
    const r = await importFile(t.core, { entity: 'customers', file: canonical('customers'), actor, dryRun: true });
    expect(r).toMatchObject({ dryRun: true, rowsRead: 3, accepted: 3, created: 0, tieOut: null });
    expect(await countEvents(t.core)).toBe(0);
  });

  it('a dry run over a folder checks each file as if the files before it were loaded', async () => {
    const memory = dryRunMemory();
    const reports = [];
    for (const entity of ['customers', 'products', 'order_lines', 'invoices', 'payments']) {
      reports.push(await importFile(t.core, { entity: entity === 'order_lines' ? 'orders' : entity, file: canonical(entity), actor, dryRun: true, dryRunMemory: memory }));
    }
    memory.close();
    expect(reports.map((r) => [r.entity, r.accepted, r.rejected])).toEqual([['customers', 3, 0], ['products', 2, 0], ['orders', 4, 0], ['invoices', 6, 0], ['payments', 5, 0]]);
    expect(await countEvents(t.core)).toBe(0);
    // without the memory, later files know nothing of the earlier ones
    await expect(importFile(t.core, { entity: 'payments', file: canonical('payments'), actor, dryRun: true })).rejects.toMatchObject({ detail: { rule: 'unknown_invoice' } });
  });

  it('--accept-valid loads the valid rows and writes the rejected ones with reasons beside the input', async () => {
    await importCanonical(t.core);
    const dir = fs.mkdtempSync(path.join(t.dataDir, 'in-'));
    const file = path.join(dir, 'invoices-broken.csv');
    fs.copyFileSync(path.join(fixtures, 'invoices-broken.csv'), file);
    const r = await importFile(t.core, { entity: 'invoices', file, actor, acceptValid: true });
    expect(r).toMatchObject({ rowsRead: 10, accepted: 4, rejected: 6, created: 4, tieOutAgrees: true, rejectedFile: path.join(dir, 'invoices-broken.rejected.csv') });
    expect(r.standInCustomers).toEqual(['C999']);
    expect(r.catchAll).toMatchObject({ customer: 'UNKNOWN', rows: 1, amounts: [{ currency: 'EUR', rows: 1, amountMinor: 10000 }] });
    const rejects = fs.readFileSync(r.rejectedFile!, 'utf8').trim().split('\n');
    expect(rejects[0]).toBe('row,line,field,rule,reason,invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed,settled_date');
    expect(rejects).toHaveLength(7);
    expect(rejects[5]).toMatch(/^8,9,amount \| disputed,amount_precision \| boolean,"row 8 \(line 9\): amount has 3 decimals; EUR allows 2 \| row 8/);
    expect((await getInvoice(t.core, 'B-9')).totalMinor).toBe(4000);
    const events = await countEvents(t.core);
    expect(await importFile(t.core, { entity: 'invoices', file, actor, acceptValid: true })).toMatchObject({ created: 0, unchanged: 4 });
    expect(await countEvents(t.core)).toBe(events);
  });

  it('payment rows that cover part of a settled invoice leave a smaller settlement for the rest', async () => {
    await importFile(t.core, { entity: 'customers', file: canonical('customers'), actor });
    await importFile(t.core, { entity: 'invoices', file: canonical('invoices'), actor });
    const file = path.join(t.dataDir, 'payments.csv');
    fs.writeFileSync(file, 'payment_id,customer_id,payment_date,amount,currency,invoice_id\nX-1,C001,2025-10-20,1000.00,EUR,2025-0001\nX-2,C001,2025-12-20,100.00,EUR,\n');
    const r = await importFile(t.core, { entity: 'payments', file, actor });
    expect(r.tieOutAgrees).toBe(true);
    // 2025-0001: 1200 settled on 2025-10-28, rows cover 1000 → settlement of 200 on that date; X-2 goes to the oldest open invoice.
    expect(openByCustomer(r).C001).toEqual([115000, 115000]);
    const c1 = (await listCustomers(t.core)).find((c) => c.externalId === 'C001')!;
    expect((await listPayments(t.core, { customerId: c1.id })).map((p) => [p.externalId, p.status, p.amount, p.paymentDate])).toEqual([
      ['settled:2025-0001', 'reversed', '1200.00', '2025-10-28'],
      ['settled:2025-0001:2', 'received', '200.00', '2025-10-28'],
      ['X-1', 'received', '1000.00', '2025-10-20'],
      ['X-2', 'received', '100.00', '2025-12-20'],
    ]);
    const events = await countEvents(t.core);
    expect(await importFile(t.core, { entity: 'payments', file, actor })).toMatchObject({ created: 0, unchanged: 2, tieOutAgrees: true });
    expect(await countEvents(t.core)).toBe(events);
  });

  it('reads Parquet in chunks through DuckDB', async () => {
    await importFile(t.core, { entity: 'customers', file: canonical('customers'), actor });
    const file = path.join(t.dataDir, 'invoices.parquet');
    const duck = await DuckDBInstance.create(':memory:');
    const conn = await duck.connect();
    await conn.run(`copy (select invoice_id, customer_id, invoice_date::date as invoice_date, due_date::date as due_date, amount::decimal(12,2) as amount, currency, disputed, settled_date::date as settled_date from read_csv('${canonical('invoices')}', all_varchar = true)) to '${file}' (format parquet)`);
    conn.closeSync();
    duck.closeSync();
    const r = await importFile(t.core, { entity: 'invoices', file, actor });
    expect(r).toMatchObject({ format: 'parquet', rowsRead: 6, accepted: 6, created: 6, tieOutAgrees: true });
    expect((await listInvoices(t.core)).map((i) => i.number).sort()).toEqual(['IMP-2025-0001', 'IMP-2025-0002', 'IMP-2025-0003', 'IMP-2025-0004', 'IMP-2025-0005', 'IMP-2025-0006']);
    expect((await getInvoice(t.core, '2025-0006')).totalMinor).toBe(199999);
  });

  it('imports order lines as history: one order per order_id, invoiced, no stock touched', async () => {
    await importFile(t.core, { entity: 'customers', file: canonical('customers'), actor });
    await importFile(t.core, { entity: 'products', file: canonical('products'), actor });
    const r = await importFile(t.core, { entity: 'orders', file: canonical('order_lines'), actor });
    expect(r).toMatchObject({ rowsRead: 4, accepted: 4, rejected: 0, created: 4, tieOut: null });
    expect(r.amounts).toEqual([
      { currency: 'EUR', rows: 3, amountMinor: 50000 + 69930 + 30000 },
      { currency: 'USD', rows: 1, amountMinor: 199980 },
    ]);
    const orders = await t.core.db.kysely.selectFrom('orders').select(['external_id', 'status', 'total_minor', 'order_date']).orderBy('id').execute();
    expect(orders.map((o) => [o.external_id, o.status, Number(o.total_minor), o.order_date])).toEqual([
      ['SO-1001', 'invoiced', 119930, '2025-09-28'],
      ['SO-1002', 'invoiced', 30000, '2025-11-10'],
      ['SO-1003', 'invoiced', 199980, '2025-12-18'],
    ]);
    expect((await getProduct(t.core, 'P-100')).reserved).toBe(0);
    const events = await countEvents(t.core);
    expect(await importFile(t.core, { entity: 'orders', file: canonical('order_lines'), actor })).toMatchObject({ created: 0, unchanged: 4 });
    expect(await countEvents(t.core)).toBe(events);
  });

  it('an order with a bad line is rejected whole; lines of an order must follow each other', async () => {
    await importFile(t.core, { entity: 'customers', file: canonical('customers'), actor });
    await importFile(t.core, { entity: 'products', file: canonical('products'), actor });
    const e = await rejection(importFile(t.core, { entity: 'orders', file: path.join(fixtures, 'order-lines-broken.csv'), actor }));
    expect(e.problems.map((p) => [p.id, p.field, p.rule])).toEqual([
      ['row 1', 'order_id', 'group_rejected'],
      ['row 2', 'product_id', 'unknown_product'],
      ['row 3', 'order_id', 'group_rejected'],
      ['row 4', 'quantity', 'integer_range'],
      ['row 4', 'line_no', 'duplicate_id'],
      ['row 5', 'order_id', 'group_rejected'],
      ['row 6', 'customer_id', 'order_consistent'],
      ['row 6', 'order_date', 'order_consistent'],
      ['row 8', 'order_id', 'order_lines_together'],
    ]);
    const r = await importFile(t.core, { entity: 'orders', file: path.join(fixtures, 'order-lines-broken.csv'), actor, acceptValid: true, dryRun: true });
    expect(r).toMatchObject({ accepted: 1, rejected: 7 });
  });

  it('file-level problems name the file, line or column', async () => {
    const noId = await rejection(importFile(t.core, { entity: 'customers', file: path.join(fixtures, 'customers-no-id-column.csv'), actor }));
    expect(noId.detail).toMatchObject({ field: 'customer_id', rule: 'column_required' });
    const quote = await rejection(importFile(t.core, { entity: 'customers', file: path.join(fixtures, 'customers-unclosed-quote.csv'), actor }));
    expect(quote.message).toMatch(/customers-unclosed-quote\.csv line \d+: .*quote/i);
    const missing = await rejection(importFile(t.core, { entity: 'customers', file: path.join(fixtures, 'nope.csv'), actor }));
    expect(missing.detail.rule).toBe('file_exists');
    const entity = await rejection(importFile(t.core, { entity: 'widgets', file: canonical('customers'), actor }));
    expect(entity.detail).toMatchObject({ field: 'entity', rule: 'one_of' });
    expect(await countEvents(t.core)).toBe(0);
  });
});
