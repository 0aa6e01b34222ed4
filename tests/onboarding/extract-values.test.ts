import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseDecimal, parseBoolean, parseDate, skuOf, sqlBoolean, sqlDate, sqlDecimal, nextSku } from '../../src/extract/values.ts';

/**
 * Onboarding reads extract values in TypeScript, the warehouse ingest in DuckDB SQL: the same
 * patterns and word lists, checked here on one table of values, so both paths accept and
 * refuse the same cells and read them alike.
 */
let instance: DuckDBInstance;
let sqlOne: (expr: string, value: string) => Promise<string | null>;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  sqlOne = async (expr, value) => {
    const r = await conn.runAndReadAll(`select ${expr.replaceAll('$v', '$1::varchar')} as v`, [value]);
    const v = r.getRowsJS()[0]![0];
    return v === null || v === undefined ? null : String(v);
  };
});
afterAll(() => instance.closeSync());

const DATES: [string, string][] = [
  ['2026-03-01', 'YYYY-MM-DD'], ['2025-02-30', 'YYYY-MM-DD'], ['2025-2-3', 'YYYY-MM-DD'], [' 2024-02-29 ', 'YYYY-MM-DD'], ['2023-02-29', 'YYYY-MM-DD'],
  ['1/2/2013', 'M/D/YYYY'], ['12/31/2013', 'M/D/YYYY'], ['13/01/2013', 'M/D/YYYY'], ['31.12.25', 'DD.MM.YY'], ['31.12.85', 'DD.MM.YY'],
  ['03/04/2025', 'DD.MM.YYYY'], ['2025-01-01T10:00', 'YYYY-MM-DD'], ['', 'YYYY-MM-DD'], ['20250101', 'YYYYMMDD'],
];
const DECIMALS: [string, '.' | ','][] = [
  ['12.50', '.'], ['1,234.56', '.'], ['1234,56', ','], ['1.234,56', ','], ['12,5', '.'], ['-3', '.'], ['+4.10', '.'], ['1 234.5', '.'],
  ["1'234.50", '.'], ['abc', '.'], ['1.2.3', '.'], ['12,345', ','], ['12.345', ','], ['0.00', '.'], ['.5', '.'], ['5.', '.'], ['1,23,456.00', '.'],
];
const WORDS = ['yes', 'No', 'TRUE', 'f', 't', '1', '0', 'y', 'maybe', ' n ', 'Ja'];

describe('extract values: TypeScript and SQL agree', () => {
  it('dates', async () => {
    for (const [value, format] of DATES) expect([value, format, await sqlOne(sqlDate('$v', format), value)]).toEqual([value, format, parseDate(value, format)]);
  });
  it('decimals with either separator', async () => {
    for (const [value, sep] of DECIMALS) expect([value, sep, await sqlOne(sqlDecimal('$v', sep), value)]).toEqual([value, sep, normaliseDecimal(value, sep)]);
  });
  it('true and false words, default and mapped', async () => {
    for (const mapping of [{}, { true: ['Ja'], false: ['Nein'] }]) {
      for (const w of WORDS) {
        const b = parseBoolean(w, mapping);
        expect([w, await sqlOne(sqlBoolean('$v', mapping), w)]).toEqual([w, b === null ? null : String(b)]);
      }
    }
  });
});

describe('product codes', () => {
  it('become SKUs of letters, digits, dot, dash and underscore; the code itself is kept beside', () => {
    expect(['BANK CHARGES', 'POST', 'post', 'DOT', 'C2', 'c2', '15C/BAG', ' gift  0001 ', '***', 'a'.repeat(80)].map(skuOf)).toEqual([
      'BANK-CHARGES', 'POST', 'POST', 'DOT', 'C2', 'C2', '15C-BAG', 'GIFT-0001', 'ITEM', 'A'.repeat(64),
    ]);
    expect(nextSku('POST', 2)).toBe('POST-2');
    expect(nextSku('A'.repeat(64), 12)).toBe(`${'A'.repeat(61)}-12`);
  });
});
