import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { readWarehouse, tempDir } from '../pipelines/ledger.ts';
import { writeMessyExtract } from '../../pipelines/bench/messy-extract.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { importFile, type ImportReport } from '../../src/onboarding/import.service.ts';
import { tieOut } from '../../src/onboarding/tieout.ts';
import { DomainError } from '../../src/shared/errors.ts';

/**
 * The invoices file summed by hand: each invoice once (a row written twice is one invoice),
 * its amount read as text into cents, per month of its date. Nothing of cashloop's readers.
 */
function monthlySalesOfFile(file: string): Map<string, bigint> {
  const [header, ...rows] = fs.readFileSync(file, 'utf8').trim().split('\n');
  const cols = header!.split(',');
  const at = (name: string) => cols.indexOf(name);
  const seen = new Set<string>();
  const months = new Map<string, bigint>();
  for (const row of rows) {
    const f = row.split(',');
    if (seen.has(f[at('invoice_id')]!)) continue;
    seen.add(f[at('invoice_id')]!);
    const [whole, frac = ''] = f[at('amount')]!.split('.');
    const cents = BigInt(whole!) * 100n + BigInt(frac.padEnd(2, '0'));
    const month = f[at('invoice_date')]!.slice(0, 7);
    months.set(month, (months.get(month) ?? 0n) + cents);
  }
  return months;
}

async function monthlySalesOfWarehouse(dataDir: string, source: string): Promise<Map<string, bigint>> {
  const rows = await readWarehouse(
    warehousePaths(dataDir).warehouse,
    `select strftime(month_start, '%Y-%m') as m, sum(invoiced_cents)::varchar as c from metrics.ar_credit_sales where source = '${source}' group by 1 having sum(invoiced_cents) <> 0 order by 1`,
  );
  return new Map(rows.map((r) => [String(r.m), BigInt(String(r.c))]));
}

const sorted = (m: Map<string, bigint>) => [...m].filter(([, v]) => v !== 0n).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, v.toString()]);

describe('a messy real-shaped extract', () => {
  let extract: string;
  let t: TestCore;
  let warehouse: string;
  beforeEach(async () => {
    extract = path.join(tempDir('cashloop-messy-'), 'shop');
    warehouse = tempDir();
    t = await createTestCore('2026-01-05T09:00:00Z');
  });
  afterEach(async () => {
    await t.cleanup();
    fs.rmSync(path.dirname(extract), { recursive: true, force: true });
    fs.rmSync(warehouse, { recursive: true, force: true });
  });

  it('loads through the warehouse ingest and through onboarding, every tie-out agreeing, monthly credit sales equal to the files to the cent', async () => {
    const written = writeMessyExtract(extract, { orders: 240 });
    const fileSales = monthlySalesOfFile(path.join(extract, 'invoices.csv'));
    const fileTotal = [...fileSales.values()].reduce((a, b) => a + b, 0n);
    expect(fileTotal).toBeGreaterThan(0n);

    // 1. The warehouse ingest: `cashloop pipeline run all --extract DIR`.
    const run = await runPipeline({ dataDir: warehouse, extract, quiet: true, steps: ['ingest', 'transform', 'reconcile'] });
    expect(run.reconciliation?.status).toBe('ok');
    const checks = Object.fromEntries((run.reconciliation?.checks ?? []).map((c) => [c.check, [c.expected, c.actual]]));
    // Every invoice is settled in the extract but those of the seventh orders; the zero-amount ones are settled too.
    expect(checks['settled invoices']![0]).toBe(checks['settled invoices']![1]);
    expect(checks['customers not in the customers file (stand-ins)']).toEqual(['4', '4']); // X001, X002, X003 and X900
    expect(sorted(await monthlySalesOfWarehouse(warehouse, 'shop'))).toEqual(sorted(fileSales));
    const wh = warehousePaths(warehouse).warehouse;
    expect(await readWarehouse(wh, `select count(*)::int n from marts.fct_invoices where source = 'shop' and amount_cents = 0 and settled_date is null`)).toEqual([{ n: 0 }]);
    expect(await readWarehouse(wh, `select sku from marts.dim_product where source = 'shop' and sku in ('BANK CHARGES', 'post', 'POST', '15C/BAG') order by 1`)).toEqual([
      { sku: '15C/BAG' }, { sku: 'BANK CHARGES' }, { sku: 'POST' }, { sku: 'post' },
    ]);

    // 2. Onboarding: `cashloop import folder DIR`.
    const reports: ImportReport[] = [];
    for (const [entity, file] of [['customers', 'customers'], ['products', 'products'], ['orders', 'order_lines'], ['invoices', 'invoices'], ['payments', 'payments']] as const) {
      reports.push(await importFile(t.core, { entity, file: path.join(extract, `${file}.csv`), actor }));
    }
    for (const r of reports) expect([r.entity, r.rejected, r.problems]).toEqual([r.entity, 0, []]);
    const byEntity = Object.fromEntries(reports.map((r) => [r.entity, r]));
    expect(byEntity.orders!.rowsRead).toBe(written.lines);
    expect(byEntity.orders!.repeated).toBeGreaterThan(0);
    expect(byEntity.invoices!.accepted - byEntity.invoices!.repeated).toBe(written.invoices);
    expect(new Set(reports.flatMap((r) => r.standInCustomers))).toEqual(new Set(['X001', 'X002', 'X003', 'X900']));
    const touched = new Set(reports.flatMap((r) => (r.tieOut ?? []).map((c) => c.customerId)));
    const folderTieOut = await tieOut(t.core, touched);
    expect(folderTieOut.filter((c) => !c.agrees)).toEqual([]);
    // Odd product codes are kept as written beside a SKU cashloop can print and type.
    const products = await t.core.db.kysely.selectFrom('products').select(['sku', 'external_code']).where('external_code', 'in', ['BANK CHARGES', 'POST', 'post', 'c2', 'C2', '15C/BAG']).orderBy('sku').execute();
    expect(products).toEqual([
      { sku: '15C-BAG', external_code: '15C/BAG' },
      { sku: 'BANK-CHARGES', external_code: 'BANK CHARGES' },
      { sku: 'C2', external_code: 'C2' },
      { sku: 'C2-2', external_code: 'c2' },
      { sku: 'POST', external_code: 'POST' },
      { sku: 'POST-2', external_code: 'post' },
    ]);
    const zero = await t.core.db.kysely.selectFrom('invoices').select(['status', 'settled_date', 'invoice_date']).where('total_minor', '=', 0).execute();
    expect(zero.length).toBeGreaterThan(0);
    for (const z of zero) expect(z).toEqual({ status: 'paid', settled_date: z.invoice_date, invoice_date: z.invoice_date });

    // The core, loaded by onboarding, through the warehouse: its reconciliation agrees and its credit sales are the files'.
    const coreWarehouse = tempDir();
    try {
      const coreRun = await runPipeline({ dataDir: coreWarehouse, coreUrl: t.url, quiet: true, steps: ['ingest', 'transform', 'reconcile'] });
      expect(coreRun.reconciliation?.status).toBe('ok');
      expect(sorted(await monthlySalesOfWarehouse(coreWarehouse, 'core'))).toEqual(sorted(fileSales));
    } finally {
      fs.rmSync(coreWarehouse, { recursive: true, force: true });
    }

    // Loading the same folder again changes nothing.
    const again = await importFile(t.core, { entity: 'invoices', file: path.join(extract, 'invoices.csv'), actor });
    expect(again.created).toBe(0);
  }, 240_000);

  it('refuses the same rows for the same rules on both paths, naming file, row, field, value and rule, and loads nothing', async () => {
    fs.mkdirSync(extract, { recursive: true });
    const files: Record<string, string> = {
      'customers.csv': 'customer_id,name,currency\nJ1,Yamada KK,JPY\nK1,Al Kuwait Co,KWD\nE1,Euro GmbH,EUR\n',
      'invoices.csv':
        'invoice_id,customer_id,invoice_date,due_date,amount,currency\n' +
        'I1,J1,2025-03-01,2025-03-31,5.5,\n' + // yen have no decimals
        'I2,K1,2025-03-01,2025-03-31,1.2345,\n' + // dinars have three
        'I3,E1,2025-03-01,2025-03-31,-5.00,\n' +
        'I4,E1,2025-03-01,2025-03-31,10.00,\n' +
        'I4,E1,2025-03-01,2025-03-31,11.00,\n' + // the same invoice with another amount
        'I5,E1,2025-03-01,2025-03-31,12.00,USD\n' + // not the customer's currency
        'I6,K1,2025-03-01,2025-03-31,1.234,\n' + // fine: three decimals in dinars
        'I7,E1,2025-03-01,2025-03-31,0.00,\n' + // fine: free of charge
        'I8,"E\t1",2025-03-01,2025-03-31,1.00,\n' + // a tab inside an id
        `${'N'.repeat(91)},E1,2025-03-01,2025-03-31,1.00,\n`, // an invoice number longer than 90 characters
      'payments.csv': 'payment_id,customer_id,payment_date,amount\nY1,E1,2025-03-05,0.00\nY2,J1,2025-03-05,1200\n',
    };
    for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(extract, name), body);
    const expected = [
      ['invoices.csv', 1, 'amount', '5.5', 'amount_precision'],
      ['invoices.csv', 2, 'amount', '1.2345', 'amount_precision'],
      ['invoices.csv', 3, 'amount', '-5.00', 'amount_not_negative'],
      ['invoices.csv', 5, 'invoice_id', 'I4', 'duplicate_id'],
      ['invoices.csv', 6, 'currency', 'USD', 'currency_match'],
      ['invoices.csv', 9, 'customer_id', 'E\t1', 'control_character'],
      ['invoices.csv', 10, 'invoice_id', 'N'.repeat(91), 'max_length'],
      ['payments.csv', 1, 'amount', '0.00', 'amount_positive'],
    ];

    const pipelineError = await runPipeline({ dataDir: warehouse, extract, quiet: true, steps: ['ingest'] }).then(() => null, (e: unknown) => e as DomainError);
    expect(pipelineError).toBeInstanceOf(DomainError);
    const fromPipeline = pipelineError!.problems.map((p) => {
      const [file, row] = String(p.id).split(' row ');
      return [file, Number(row), String(p.field).split('.')[1], p.value, p.rule];
    });
    const byRow = (a: unknown[], b: unknown[]) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]);
    expect(fromPipeline.sort(byRow)).toEqual(expected);
    expect(pipelineError!.problems.map((p) => p.message)).toContain('invoices.csv row 1: invoices.amount "5.5" has more decimals than its currency allows [amount_precision]');
    expect(await readWarehouse(warehousePaths(warehouse).warehouse, 'select count(*)::int n from raw.extract_invoices')).toEqual([{ n: 0 }]);

    await importFile(t.core, { entity: 'customers', file: path.join(extract, 'customers.csv'), actor });
    const fromOnboarding: unknown[] = [];
    for (const file of ['invoices.csv', 'payments.csv']) {
      const e = await importFile(t.core, { entity: file.replace('.csv', ''), file: path.join(extract, file), actor }).then(() => null, (x: unknown) => x as DomainError);
      expect(e).toBeInstanceOf(DomainError);
      for (const p of e!.problems) fromOnboarding.push([file, Number(String(p.id).replace('row ', '')), p.field, p.value, p.rule]);
    }
    expect((fromOnboarding as unknown[][]).sort(byRow)).toEqual(expected);
    expect(await t.core.db.kysely.selectFrom('invoices').select('id').execute()).toEqual([]);
  });
});

