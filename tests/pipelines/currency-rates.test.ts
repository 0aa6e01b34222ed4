import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCore, testDialect, type TestCore } from '../helpers/db.ts';
import { loadRates, parseRatesCsv, rateOn } from '../../src/rates/rates.service.ts';
import { DomainError } from '../../src/shared/errors.ts';
import { cli, cliEnv } from '../helpers/cli.ts';

describe('reading a reference-rate file', () => {
  it('reads the central bank layout: Date first, a column per currency, N/A and empty cells skipped, a trailing comma', () => {
    const rows = parseRatesCsv('Date,USD,JPY,CYP,\n2026-11-30,1.0856,161.23,N/A,\n2026-11-27,1.0841,,N/A,\n', 'EUR');
    expect(rows).toEqual([
      { rateDate: '2026-11-30', base: 'EUR', currency: 'USD', rate: '1.0856' },
      { rateDate: '2026-11-30', base: 'EUR', currency: 'JPY', rate: '161.23' },
      { rateDate: '2026-11-27', base: 'EUR', currency: 'USD', rate: '1.0841' },
    ]);
  });

  it('names every bad cell (row, currency, value, rule) and returns nothing', () => {
    const bad = 'Date,USD,JPY,\n2026-11-30,1,0856,161.23,\n30.11.2026,1.08,160,\n2026-11-29,-1.08,1.123456789,\n2026-11-28,0,abc,\n';
    let error: DomainError | undefined;
    try {
      parseRatesCsv(bad, 'EUR', 'bad.csv');
    } catch (e) {
      error = e as DomainError;
    }
    expect(error).toBeInstanceOf(DomainError);
    expect(error!.kind).toBe('invalid');
    expect(error!.detail.rule).toBe('rates_file');
    for (const part of ['row 3: Date "30.11.2026" is not a date written YYYY-MM-DD', 'row 4, USD: "-1.08"', 'row 4, JPY: "1.123456789"', 'row 5, USD: "0"', 'row 5, JPY: "abc"']) {
      expect(error!.message).toContain(part);
    }
    expect(() => parseRatesCsv('Day,USD\n2026-11-30,1.08\n', 'EUR')).toThrow(/first column must be Date/);
    expect(() => parseRatesCsv('Date,EUR\n2026-11-30,1\n', 'EUR')).toThrow(/EUR is the base currency itself/);
    expect(() => parseRatesCsv('Date,USD\n2026-11-30,1.08\n2026-11-30,1.09\n', 'EUR')).toThrow(/appears twice/);
  });
});

describe(`loading rates (${testDialect})`, () => {
  let t: TestCore;
  beforeAll(async () => {
    t = await createTestCore('2026-12-01T09:00:00Z', testDialect, { poolSize: 6 });
  });
  afterAll(async () => t?.cleanup());

  it('adds new rates, updates changed ones, leaves equal ones, and finds the latest rate on or before a date', async () => {
    const first = await loadRates(t.core, parseRatesCsv('Date,USD,JPY,\n2026-11-27,1.0841,160.50,\n2026-11-30,1.0856,161.23,\n', 'EUR'), 'a.csv', 'test');
    expect([first.inserted, first.updated, first.unchanged]).toEqual([4, 0, 0]);
    const again = await loadRates(t.core, parseRatesCsv('Date,USD,JPY,\n2026-11-30,1.0860,161.23,\n', 'EUR'), 'b.csv', 'test');
    expect([again.inserted, again.updated, again.unchanged]).toEqual([0, 1, 1]);
    const db = t.core.db.kysely;
    expect(await rateOn(db, 'EUR', 'USD', '2026-11-30')).toEqual({ rate: '1.0860', rateDate: '2026-11-30' });
    expect(await rateOn(db, 'EUR', 'JPY', '2026-11-29')).toEqual({ rate: '160.50', rateDate: '2026-11-27' });
    expect(await rateOn(db, 'EUR', 'JPY', '2026-11-26')).toBeNull();
    const events = await db.selectFrom('events').select(['event_type', 'aggregate_id']).where('event_type', '=', 'exchange_rates.published').orderBy('seq').execute();
    expect(events.map((e) => e.aggregate_id)).toEqual(['EUR:2026-11-27', 'EUR:2026-11-30', 'EUR:2026-11-30']);
    await expect(loadRates(t.core, parseRatesCsv('Date,EUR,\n2026-11-30,0.92,\n', 'USD'), 'c.csv', 'test')).rejects.toThrow(/rates per 1 EUR are loaded already/);
  });

  it('keeps one base and one row per date and currency when loads run at once', async () => {
    const db = t.core.db.kysely;
    for (let round = 0; round < 6; round++) {
      await db.deleteFrom('exchange_rates').execute();
      const date = `2026-10-${String(10 + round).padStart(2, '0')}`;
      const results = await Promise.allSettled([
        loadRates(t.core, parseRatesCsv(`Date,USD,JPY,\n${date},1.08,160,\n`, 'EUR'), 'eur.csv', 'test'),
        loadRates(t.core, parseRatesCsv(`Date,EUR,JPY,\n${date},0.92,148,\n`, 'USD'), 'usd.csv', 'test'),
        loadRates(t.core, parseRatesCsv(`Date,USD,JPY,\n${date},1.08,160,\n`, 'EUR'), 'eur2.csv', 'test'),
      ]);
      const bases = await db.selectFrom('exchange_rates').select('base').distinct().execute();
      expect(bases.length, `round ${round}: ${results.map((r) => r.status).join(', ')}`).toBe(1);
      const rows = await db.selectFrom('exchange_rates').select(['rate_date', 'currency']).execute();
      expect(new Set(rows.map((r) => `${r.rate_date}|${r.currency}`)).size).toBe(rows.length);
      for (const r of results) if (r.status === 'rejected') expect(String(r.reason.message)).toMatch(/cannot be mixed/);
    }
  });
});

describe(`cashloop rates (${testDialect})`, () => {
  let t: TestCore;
  let dir: string;
  beforeAll(async () => {
    t = await createTestCore('2026-12-01T09:00:00Z');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-rates-'));
  });
  afterAll(async () => {
    await t?.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('loads the shipped sample, lists it, and refuses a bad file with exit code 2, writing nothing', async () => {
    const env = cliEnv(t.url, dir, '2026-12-01T09:00:00Z');
    const bad = path.join(dir, 'bad.csv');
    fs.writeFileSync(bad, 'Date,USD,\n2026-13-01,1.08,\n');
    const refused = await cli(['rates', 'load', bad], env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('row 2: Date "2026-13-01" is not a date written YYYY-MM-DD');
    expect(await t.core.db.kysely.selectFrom('exchange_rates').selectAll().execute()).toEqual([]);
    const sample = path.resolve(import.meta.dirname, '../../data/samples/rates-eur.csv');
    const loaded = await cli(['rates', 'load', sample, '--json'], env);
    expect(loaded.code, loaded.stderr).toBe(0);
    const r = JSON.parse(loaded.stdout) as { base: string; currencies: string[]; inserted: number };
    expect(r.base).toBe('EUR');
    expect(r.currencies).toEqual(expect.arrayContaining(['JPY', 'USD']));
    const listed = await cli(['rates', 'list', '--json'], env);
    const rows = JSON.parse(listed.stdout) as { currency: string; days: number }[];
    expect(rows.find((x) => x.currency === 'USD')!.days).toBe(r.inserted / r.currencies.length);
  });
});
