import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPipeline } from '../../pipelines/run.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { readWarehouse, tempDir } from './ledger.ts';

function write(dir: string, files: Record<string, string>) {
  for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), body);
}

/** The canonical extract (DESIGN.md), in its own layout, and with a mapping. */
describe('canonical extract', () => {
  let extract: string;
  let dir: string;
  beforeEach(() => {
    extract = tempDir('cashloop-extract-');
    dir = tempDir();
  });
  afterEach(() => {
    fs.rmSync(extract, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads customers, products, order lines, invoices and payments; a settled date no payment covers becomes a payment of the rest', async () => {
    write(extract, {
      'customers.csv': 'customer_id,name,country,segment,currency,credit_limit,payment_terms_days\nK1,Kappa AG,CH,retail,CHF,5000.00,30\nK2,Lambda SA,FR,wholesale,CHF,,45\n',
      'products.csv': 'product_id,name,category,unit_price,unit_cost\nP1,Bolt,Hardware,0.35,0.10\n',
      'order_lines.csv': 'order_id,line_no,customer_id,order_date,product_id,quantity,unit_price,currency\nO1,1,K1,2025-11-03,P1,1000,0.35,CHF\nO1,2,K1,2025-11-03,P1,3,0.35,CHF\n',
      'invoices.csv':
        'invoice_id,customer_id,invoice_date,due_date,amount,currency,disputed,settled_date\n' +
        'I1,K1,2025-11-05,2025-12-05,351.05,,no,2025-12-20\n' + // paid 100.00 on 12-01, the rest on its settled date
        'I2,K2,2025-11-20,2026-01-04,99.99,,yes,\n' + // open
        'I3,K2,2025-12-02,2026-01-16,10.00,,0,2025-12-10\n', // fully covered by its payment row
      'payments.csv': 'payment_id,customer_id,payment_date,amount,currency,invoice_id\nX1,K1,2025-12-01,100.00,CHF,I1\nX2,K2,2025-12-10,10.00,CHF,I3\n',
    });
    const r = await runPipeline({ dataDir: dir, extract, quiet: true });
    expect(r.asOf).toBe('2025-12-20'); // no core feed: the latest business date of the extract
    expect(r.reconciliation?.status).toBe('ok');
    const f = warehousePaths(dir).warehouse;
    const source = path.basename(extract).toLowerCase();
    expect(await readWarehouse(f, `select customer_key, currency, credit_limit_cents, payment_terms_days from marts.dim_customer order by 1`)).toEqual([
      { customer_key: `${source}:K1`, currency: 'CHF', credit_limit_cents: '500000', payment_terms_days: 30 },
      { customer_key: `${source}:K2`, currency: 'CHF', credit_limit_cents: null, payment_terms_days: 45 },
    ]);
    expect(await readWarehouse(f, `select order_key, total_cents from marts.fct_orders`)).toEqual([{ order_key: `${source}:O1`, total_cents: '35105' }]);
    expect(await readWarehouse(f, `select invoice_number, currency, amount_cents, paid_cents, open_cents, settled_date::varchar s, is_disputed from marts.fct_invoices order by 1`)).toEqual([
      { invoice_number: 'I1', currency: 'CHF', amount_cents: '35105', paid_cents: '35105', open_cents: '0', s: '2025-12-20', is_disputed: false },
      { invoice_number: 'I2', currency: 'CHF', amount_cents: '9999', paid_cents: '0', open_cents: '9999', s: null, is_disputed: true },
      { invoice_number: 'I3', currency: 'CHF', amount_cents: '1000', paid_cents: '1000', open_cents: '0', s: '2025-12-10', is_disputed: false },
    ]);
    expect(await readWarehouse(f, `select payment_key, amount_cents, method, payment_date::varchar d from marts.fct_payments order by 1`)).toEqual([
      { payment_key: `${source}:X1`, amount_cents: '10000', method: 'extract', d: '2025-12-01' },
      { payment_key: `${source}:X2`, amount_cents: '1000', method: 'extract', d: '2025-12-10' },
      { payment_key: `${source}:settle:I1`, amount_cents: '25105', method: 'settlement', d: '2025-12-20' },
    ]);
    // Loading the same extract again replaces it: nothing doubles.
    await runPipeline({ dataDir: dir, extract, quiet: true });
    expect(await readWarehouse(f, `select count(*) n from marts.fct_invoices`)).toEqual([{ n: '3' }]);
  });

  it('reads each amount by its currency: yen without decimals, dinars with three, reconciled to the unit', async () => {
    write(extract, {
      'customers.csv': 'customer_id,name,currency\nJ1,Yamada KK,JPY\nK1,Al Kuwait Co,KWD\n',
      'invoices.csv': 'invoice_id,customer_id,invoice_date,due_date,amount\nI1,J1,2025-11-05,2025-12-05,"1,200"\nI2,K1,2025-11-05,2025-12-05,1.234\n',
    });
    const r = await runPipeline({ dataDir: dir, extract, quiet: true, steps: ['ingest', 'transform', 'reconcile'] });
    expect(r.reconciliation?.status).toBe('ok');
    expect(r.reconciliation?.checks.find((c) => c.check === 'invoiced cents')).toMatchObject({ expected: '2434', actual: '2434' });
    expect(await readWarehouse(warehousePaths(dir).warehouse, 'select invoice_number, currency, amount_cents from marts.fct_invoices order by 1')).toEqual([
      { invoice_number: 'I1', currency: 'JPY', amount_cents: '1200' },
      { invoice_number: 'I2', currency: 'KWD', amount_cents: '1234' },
    ]);
  });

  it('rejects bad rows with every problem named and loads nothing', async () => {
    write(extract, {
      'invoices.csv': 'invoice_id,customer_id,invoice_date,due_date,amount,disputed\nI1,K1,2025-11-05,2025-12-05,12.5,no\n,K1,2025-13-01,2025-12-05,abc,maybe\n',
    });
    const err = await runPipeline({ dataDir: dir, extract, quiet: true }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DomainError);
    const messages = (err as DomainError).problems.map((p) => p.message);
    expect(messages).toEqual([
      'invoices.csv row 2: invoices.invoice_id "" is required [required]',
      'invoices.csv row 2: invoices.invoice_date "2025-13-01" is not a date in the file\'s date format [date_format]',
      'invoices.csv row 2: invoices.amount "abc" is not a decimal amount [amount_format]',
      'invoices.csv row 2: invoices.disputed "maybe" is not one of the words for true or false [boolean]',
    ]);
    expect(await readWarehouse(warehousePaths(dir).warehouse, `select count(*) n from raw.extract_invoices`)).toEqual([{ n: '0' }]);
    expect(await readWarehouse(warehousePaths(dir).warehouse, `select status from ops.pipeline_runs`)).toEqual([{ status: 'failed' }]);
  });

  it('names a mapped column the file does not have', async () => {
    write(extract, { 'ar.csv': 'Inv,Cust,Date,Due,Amt\n1,A,1/2/2025,2/1/2025,5.00\n' });
    const mapping = path.join(extract, 'mapping.json');
    fs.writeFileSync(
      mapping,
      JSON.stringify({ source: 'x', files: [{ file: 'ar.csv', entity: 'invoices', date_format: '%m/%d/%Y', columns: { invoice_id: 'Inv', customer_id: 'Customer', invoice_date: 'Date', due_date: 'Due', amount: 'Amt' } }] }),
    );
    await expect(runPipeline({ dataDir: dir, extract, mapping, quiet: true })).rejects.toThrow('extract file ar.csv has no column Customer (mapped to invoices.customer_id; header: Inv, Cust, Date, Due, Amt)');
  });
});

describe('the CLI commands', () => {
  it('pipeline run --json, then query in table, csv and json; a write exits 5, nothing published exits 3', async () => {
    const { spawnSync } = await import('node:child_process');
    const repo = path.resolve(import.meta.dirname, '../..');
    const extract = tempDir('cashloop-extract-');
    const dir = tempDir();
    try {
      write(extract, { 'invoices.csv': 'invoice_id,customer_id,invoice_date,due_date,amount\nI1,K1,2025-11-05,2025-12-05,12.50\nI2,K1,2025-11-20,2025-12-20,7.25\n' });
      const cli = (...args: string[]) =>
        spawnSync(process.execPath, [path.join(repo, 'bin/cashloop.js'), ...args], { cwd: repo, env: { ...process.env, CASHLOOP_DATA_DIR: dir, DATABASE_URL: '' }, encoding: 'utf8' });
      expect(cli('query', 'select 1').status).toBe(3);
      const run = cli('pipeline', 'run', '--extract', extract, '--no-site', '--json');
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ status: 'succeeded', asOf: '2025-11-20', steps: [{ name: 'ingest' }, { name: 'transform' }, { name: 'forecast' }, { name: 'reconcile' }, { name: 'publish' }] });
      const csv = cli('query', 'select invoice_number, open_cents from marts.fct_invoices order by 1', '--format', 'csv');
      expect(csv.stdout).toBe('invoice_number,open_cents\nI1,1250\nI2,725\n');
      const json = cli('query', 'select sum(amount_cents) as s from metrics.ar_aging', '--format', 'json');
      expect(JSON.parse(json.stdout)).toEqual([{ s: '1975' }]);
      const table = cli('query', "select month_end::varchar m, ar_total from metrics.ar_kpis_monthly");
      expect(table.stdout).toBe('m           ar_total\n----------  --------\n2025-11-20  19.750\n');
      const refused = cli('query', 'delete from marts.fct_invoices');
      expect(refused.status).toBe(5);
      expect(refused.stderr).toMatch(/read-only/);
      expect(cli('pipeline', 'run', 'nonsense').status).toBe(2);
    } finally {
      fs.rmSync(extract, { recursive: true, force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
