import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { actor } from '../helpers/fixtures.ts';
import { cli, cliEnv } from '../helpers/cli.ts';
import { csvLines, toCsv } from '../../src/shared/csv.ts';
import { createCustomer } from '../../src/customers/customer.service.ts';
import { exportCanonical } from '../../src/demo/export.ts';
import { importFile } from '../../src/onboarding/import.service.ts';
import { warehousePaths } from '../../src/warehouse/warehouse.ts';

const LINK = '=HYPERLINK("http://x")';
const read = (text: string): string[][] => parse(text, { relax_column_count: true });

describe('the CSV writer', () => {
  it('neutralises every formula-leading text cell with an apostrophe and quotes only where needed', () => {
    const text = csvLines([
      ['formula', LINK],
      ['plus', '+cmd|"/c calc"!A1'],
      ['minus', '-2+3'],
      ['at', '@SUM(A1:A2)'],
      ['tab', '\t=1'],
      ['cr', '\r=1'],
      ['fullwidth', '＝1+1'],
      ['plain', 'a,"b"\nc'],
    ]);
    expect(read(text)).toEqual([
      ['formula', `'${LINK}`],
      ['plus', `'+cmd|"/c calc"!A1`],
      ['minus', "'-2+3"],
      ['at', "'@SUM(A1:A2)"],
      ['tab', "'\t=1"],
      ['cr', "'\r=1"],
      ['fullwidth', "'＝1+1"],
      ['plain', 'a,"b"\nc'],
    ]);
    expect(text.split('\n')[0]).toBe(`formula,"'=HYPERLINK(""http://x"")"`);
  });

  it('keeps plain numbers numbers, given as numbers or as text', () => {
    expect(csvLines([[-12.5, '-12.50', '+3', '1e-6', -7n, 0]])).toBe('-12.5,-12.50,+3,1e-6,-7,0\n');
    expect(toCsv(['a', 'b', 'c', 'd'], [{ a: null, b: true, c: { x: 1 }, d: undefined }])).toBe('a,b,c,d\n,true,"{""x"":1}",\n');
  });
});

describe(`every CSV cashloop writes is neutralised (${testDialect})`, () => {
  let t: TestCore;
  beforeEach(async () => {
    t = await createTestCore('2026-03-02T09:00:00Z');
  });
  afterEach(async () => t.cleanup());

  it('query --format csv', async () => {
    // A published snapshot holding a hostile text and negative amounts, as a mart would.
    const { snapshot, published } = warehousePaths(t.dataDir);
    fs.mkdirSync(published, { recursive: true });
    const duck = await DuckDBInstance.create(snapshot);
    const conn = await duck.connect();
    await conn.run(`create schema marts; create table marts.t as select '${LINK.replaceAll("'", "''")}' as customer_name, -12.50::decimal(12, 2) as amount, '-12.50' as amount_text`);
    conn.closeSync();
    duck.closeSync();
    const r = await cli(['query', '--format', 'csv', 'select * from marts.t'], cliEnv(t.url, t.dataDir, '2026-03-02T09:00:00Z'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(read(r.stdout)).toEqual([['customer_name', 'amount', 'amount_text'], [`'${LINK}`, '-12.50', '-12.50']]);
  });

  it('demo export', async () => {
    await createCustomer(t.core, { name: LINK, externalId: '@C1', creditLimit: '1000', paymentTermsDays: 30, currency: 'EUR', email: 'ap@x.example', segment: '-retail' }, actor);
    const dir = path.join(t.dataDir, 'extract');
    await exportCanonical(t.core, dir);
    const rows = read(fs.readFileSync(path.join(dir, 'customers.csv'), 'utf8'));
    expect(rows[0]).toEqual(['customer_id', 'name', 'country', 'segment', 'currency', 'credit_limit', 'payment_terms_days', 'email', 'iban']);
    expect(rows[1]).toEqual(["'@C1", `'${LINK}`, '', "'-retail", 'EUR', '1000.00', '30', 'ap@x.example', '']);
  });

  it('the rejected rows of an import (--accept-valid)', async () => {
    const file = path.join(t.dataDir, 'customers.csv');
    fs.writeFileSync(file, `customer_id,name,currency,credit_limit\nC1,Good AG,EUR,100.00\nC2,"${LINK.replaceAll('"', '""')}",EUR,-12.50\n`);
    const report = await importFile(t.core, { entity: 'customers', file, acceptValid: true, actor });
    expect(report).toMatchObject({ accepted: 1, rejected: 1 });
    const rows = read(fs.readFileSync(report.rejectedFile!, 'utf8'));
    expect(rows[0]).toEqual(['row', 'line', 'field', 'rule', 'reason', 'customer_id', 'name', 'currency', 'credit_limit']);
    expect(rows[1]!.slice(0, 2)).toEqual(['2', '3']);
    expect(rows[1]![2]).toBe('credit_limit');
    expect(rows[1]!.slice(5)).toEqual(['C2', `'${LINK}`, 'EUR', '-12.50']);
  });
});
