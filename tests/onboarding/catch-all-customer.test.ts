import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { readWarehouse, tempDir } from '../pipelines/ledger.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { importFile, type ImportReport } from '../../src/onboarding/import.service.ts';
import { tieOut } from '../../src/onboarding/tieout.ts';
import { DomainError } from '../../src/shared/errors.ts';

/**
 * Rows with a blank customer id go to one catch-all customer (`UNKNOWN`) and rows naming a
 * customer the customers file lacks get a stand-in, by the same rules whether the extract goes
 * into the core (a folder, or one file at a time) or into the warehouse; both report the
 * catch-all's rows and amounts. Figures below are summed by hand from the files.
 */
const FILES: Record<string, string> = {
  'customers.csv': 'customer_id,name,currency\nK1,Kettle Ltd,GBP\n',
  'products.csv': 'product_id,name,unit_price\nP1,Mug,3.00\n',
  'order_lines.csv':
    'order_id,line_no,customer_id,order_date,product_id,quantity,unit_price,currency\n' +
    'O1,1,,2025-03-01,P1,2,3.00,GBP\n' +
    'O1,2,,2025-03-01,P1,1,3.00,GBP\n',
  'invoices.csv':
    'invoice_id,customer_id,invoice_date,due_date,amount,currency,settled_date\n' +
    'I1,K1,2025-03-01,2025-03-31,100.00,GBP,\n' +
    'I2,,2025-03-02,2025-04-01,20.50,GBP,\n' + // blank: the catch-all customer
    'I3, ,2025-03-03,2025-04-02,9.50,GBP,2025-03-20\n' + // blank but for a space: the same
    'I4,X9,2025-03-04,2025-04-03,7.00,GBP,\n' + // not in the customers file: a stand-in
    'I2,,2025-03-02,2025-04-01,20.50,GBP,\n', // I2 written twice, word for word
  'payments.csv':
    'payment_id,customer_id,payment_date,amount,currency,invoice_id\n' +
    'Y1,,2025-03-10,5.00,GBP,I2\n' +
    'Y2,K1,2025-03-15,40.00,GBP,I1\n',
};

const openOf = (r: { externalId: string | null; expectedMinor: number; actualMinor: number; agrees: boolean }[]) =>
  Object.fromEntries(r.map((t) => [t.externalId, [t.expectedMinor, t.actualMinor, t.agrees]]));

describe(`the catch-all customer and stand-ins (${testDialect})`, () => {
  let extract: string;
  let t: TestCore;
  beforeEach(async () => {
    extract = path.join(tempDir('cashloop-catch-all-'), 'till');
    fs.mkdirSync(extract, { recursive: true });
    for (const [name, body] of Object.entries(FILES)) fs.writeFileSync(path.join(extract, name), body);
    t = await createTestCore('2026-01-05T09:00:00Z');
  });
  afterEach(async () => {
    await t.cleanup();
    fs.rmSync(path.dirname(extract), { recursive: true, force: true });
  });

  it('a single file takes rows of unknown customers (a stand-in) and of blank ones (the catch-all), reported with rows, amounts and tie-out', async () => {
    await importFile(t.core, { entity: 'customers', file: path.join(extract, 'customers.csv'), actor });
    const invoices = await importFile(t.core, { entity: 'invoices', file: path.join(extract, 'invoices.csv'), actor });
    expect(invoices).toMatchObject({ rowsRead: 5, accepted: 5, rejected: 0, repeated: 1, created: 4, standInCustomers: ['X9'], tieOutAgrees: true });
    expect(invoices.catchAll).toEqual({ customer: 'UNKNOWN', name: 'Unknown customer (from the extract)', rows: 2, amounts: [{ currency: 'GBP', rows: 2, amountMinor: 3000 }] });
    // I3 is settled in the extract: only I2 is open for the catch-all.
    expect(openOf(invoices.tieOut!)).toEqual({ K1: [10000, 10000, true], UNKNOWN: [2050, 2050, true], X9: [700, 700, true] });
    const made = await t.core.db.kysely.selectFrom('customers').select(['external_id', 'name', 'currency']).where('external_id', 'in', ['UNKNOWN', 'X9']).orderBy('external_id').execute();
    expect(made).toEqual([
      { external_id: 'UNKNOWN', name: 'Unknown customer (from the extract)', currency: 'GBP' },
      { external_id: 'X9', name: 'X9 (not in the customers file)', currency: 'GBP' },
    ]);

    const payments = await importFile(t.core, { entity: 'payments', file: path.join(extract, 'payments.csv'), actor });
    expect(payments).toMatchObject({ accepted: 2, rejected: 0, standInCustomers: [], tieOutAgrees: true });
    expect(payments.catchAll).toMatchObject({ rows: 1, amounts: [{ currency: 'GBP', rows: 1, amountMinor: 500 }] });
    expect(openOf(payments.tieOut!)).toEqual({ K1: [6000, 6000, true], UNKNOWN: [1550, 1550, true] });

    // Again: nothing new, one catch-all customer, the same report.
    const again = await importFile(t.core, { entity: 'invoices', file: path.join(extract, 'invoices.csv'), actor });
    expect(again).toMatchObject({ created: 0, standInCustomers: [], catchAll: { rows: 2 } });
    expect(await t.core.db.kysely.selectFrom('customers').select('id').where('external_id', '=', 'UNKNOWN').execute()).toHaveLength(1);
  });

  it('two imports at once with blank customers make one catch-all customer, which both files bill', async () => {
    const files = [1, 2].map((n) => {
      const file = path.join(extract, `invoices-${n}.csv`);
      const rows = Array.from({ length: 5 }, (_, i) => `C${n}-${i},,2025-03-0${i + 1},2025-04-01,1.0${i},GBP,`).join('\n');
      fs.writeFileSync(file, `invoice_id,customer_id,invoice_date,due_date,amount,currency,settled_date\n${rows}\n`);
      return file;
    });
    // Both find no catch-all while checking and both create it: the unique key on
    // customers.external_id lets one insert win (without it, PostgreSQL makes two).
    const reports = await Promise.all(files.map((file) => importFile(t.core, { entity: 'invoices', file, actor })));
    expect(reports.map((r) => [r.rejected, r.created, r.catchAll?.rows])).toEqual([[0, 5, 5], [0, 5, 5]]);
    const catchAll = await t.core.db.kysely.selectFrom('customers').select('id').where('external_id', '=', 'UNKNOWN').execute();
    expect(catchAll).toHaveLength(1);
    const billed = await t.core.db.kysely.selectFrom('invoices').select('customer_id').distinct().execute();
    expect(billed).toEqual([{ customer_id: catchAll[0]!.id }]);
  });

  it('a dry run of a single file says what would go to the catch-all and to stand-ins, writing nothing', async () => {
    const r = await importFile(t.core, { entity: 'invoices', file: path.join(extract, 'invoices.csv'), actor, dryRun: true });
    expect(r).toMatchObject({ rejected: 0, standInCustomers: ['K1', 'X9'], catchAll: { rows: 2, amounts: [{ currency: 'GBP', amountMinor: 3000 }] } });
    expect(await t.core.db.kysely.selectFrom('customers').select('id').execute()).toEqual([]);
  });

  it('both paths refuse the same rows of a stand-in or the catch-all in another currency than its first row', async () => {
    fs.rmSync(path.join(extract, 'order_lines.csv'));
    fs.rmSync(path.join(extract, 'payments.csv'));
    fs.writeFileSync(
      path.join(extract, 'invoices.csv'),
      'invoice_id,customer_id,invoice_date,due_date,amount,currency\n' +
        'A1,,2025-03-01,2025-03-31,10.00,GBP\n' +
        'A2,,2025-03-02,2025-04-01,5.00,EUR\n' + // the catch-all bills in GBP, as its first row
        'B1,X9,2025-03-01,2025-03-31,7.00,USD\n' +
        'B2,X9,2025-03-02,2025-04-01,7.00,GBP\n' + // X9's stand-in bills in USD
        'B3,X9,2025-03-03,2025-04-02,8.00,\n', // no currency: X9's
    );
    const expected = [['invoices.csv', 2, 'currency', 'EUR', 'currency_match'], ['invoices.csv', 4, 'currency', 'GBP', 'currency_match']];
    const warehouse = tempDir();
    try {
      const e = await runPipeline({ dataDir: warehouse, extract, quiet: true, steps: ['ingest'] }).then(() => null, (x: unknown) => x as DomainError);
      expect(e).toBeInstanceOf(DomainError);
      expect(e!.problems.map((p) => [...String(p.id).split(' row ').map((v, i) => (i ? Number(v) : v)), String(p.field).split('.')[1], p.value, p.rule])).toEqual(expected);
    } finally {
      fs.rmSync(warehouse, { recursive: true, force: true });
    }
    await importFile(t.core, { entity: 'customers', file: path.join(extract, 'customers.csv'), actor });
    const e = await importFile(t.core, { entity: 'invoices', file: path.join(extract, 'invoices.csv'), actor }).then(() => null, (x: unknown) => x as DomainError);
    expect(e).toBeInstanceOf(DomainError);
    expect(e!.problems.map((p) => ['invoices.csv', Number(String(p.id).replace('row ', '')), p.field, p.value, p.rule])).toEqual(expected);
  });

  it('the folder path and the warehouse path give the catch-all the same rows and amounts', async () => {
    const reports: ImportReport[] = [];
    for (const [entity, file] of [['customers', 'customers'], ['products', 'products'], ['orders', 'order_lines'], ['invoices', 'invoices'], ['payments', 'payments']] as const) {
      reports.push(await importFile(t.core, { entity, file: path.join(extract, `${file}.csv`), actor }));
    }
    expect(reports.map((r) => [r.entity, r.catchAll?.rows ?? 0, r.catchAll?.amounts.map((a) => a.amountMinor) ?? []])).toEqual([
      ['customers', 0, []], ['products', 0, []], ['orders', 2, [900]], ['invoices', 2, [3000]], ['payments', 1, [500]],
    ]);
    const touched = new Set(reports.flatMap((r) => (r.tieOut ?? []).map((c) => c.customerId)));
    expect(openOf(await tieOut(t.core, touched))).toEqual({ K1: [6000, 6000, true], UNKNOWN: [1550, 1550, true], X9: [700, 700, true] });

    const warehouse = tempDir();
    try {
      const run = await runPipeline({ dataDir: warehouse, extract, quiet: true, steps: ['ingest', 'transform', 'reconcile'] });
      expect(run.reconciliation?.status).toBe('ok');
      const checks = Object.fromEntries((run.reconciliation?.checks ?? []).map((c) => [c.check, [c.expected, c.actual]]));
      expect(checks['invoices of the catch-all customer UNKNOWN (blank customer id)']).toEqual(['GBP: 2 rows, 30.00', 'GBP: 2 rows, 30.00']);
      expect(checks['payments of the catch-all customer UNKNOWN (blank customer id)']).toEqual(['GBP: 1 row, 5.00', 'GBP: 1 row, 5.00']);
      expect(checks['customers not in the customers file (stand-ins)']).toEqual(['2', '2']); // UNKNOWN and X9
      const wh = warehousePaths(warehouse).warehouse;
      expect(await readWarehouse(wh, `select customer_id, customer_name, currency from marts.dim_customer where source = 'till' order by 1`)).toEqual([
        { customer_id: 'K1', customer_name: 'Kettle Ltd', currency: 'GBP' },
        { customer_id: 'UNKNOWN', customer_name: 'Unknown customer (from the extract)', currency: 'GBP' },
        { customer_id: 'X9', customer_name: 'X9 (not in the customers file)', currency: 'GBP' },
      ]);
      // The order lines of the catch-all: 2 × 3.00 + 1 × 3.00, as onboarding counted them.
      expect(await readWarehouse(wh, `select count(*)::int n, sum(quantity * unit_price_cents)::int c from marts.fct_order_lines where source = 'till' and customer_key = 'till:UNKNOWN'`)).toEqual([{ n: 2, c: 900 }]);
    } finally {
      fs.rmSync(warehouse, { recursive: true, force: true });
    }
  }, 120_000);
});
