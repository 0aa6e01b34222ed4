import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { appendRows, ensureTables, parseTables } from '../../models/tables.ts';
import { amountAtRisk, basisPoints, FORECAST_TABLES, paymentDateModels, runForecastStep } from '../../models/forecast-step.ts';
import { issueTimeFeatures } from '../../models/payment-date/features.ts';
import { fitHazard } from '../../models/payment-date/hazard.ts';
import { replayPaymentDates } from '../../models/payment-date/replay.ts';
import { openCore, closeCore } from '../../src/core.ts';
import { ManualClock } from '../../src/shared/clock.ts';
import { generateDemo } from '../../src/demo/generator.ts';
import { runPipeline } from '../../pipelines/run.ts';
import { openWarehouse, rowsJs } from '../../src/warehouse/warehouse.ts';
import { addDays } from '../../src/shared/dates.ts';

const memory = async () => {
  const instance = await DuckDBInstance.create(':memory:');
  return instance.connect();
};

describe('forecast tables: defined as commented SQL, written through the appender', () => {
  it('stores a figure that is not finite as NULL with the reason beside it, and refuses a fraction of a cent', async () => {
    const conn = await memory();
    await ensureTables(conn, FORECAST_TABLES);
    await appendRows(
      conn,
      'forecast.model_evaluations',
      [
        { model: 'cash-in/x', as_of: '2026-01-31', metric: 'wape', value: Number.POSITIVE_INFINITY, baseline: 'run_rate', baseline_value: Number.NaN, invoices: 3, months: 1 },
        { model: 'cash-in/x', as_of: '2026-01-31', metric: 'bias', value: 0.25, baseline: 'run_rate', baseline_value: -0.5, invoices: 3, months: 1 },
      ],
      { reasonColumn: 'note' },
    );
    const rows = (await conn.runAndReadAll(`select metric, value, baseline_value, note from forecast.model_evaluations order by metric`)).getRowObjectsJS();
    expect(rows).toEqual([
      { metric: 'bias', value: 0.25, baseline_value: -0.5, note: null },
      { metric: 'wape', value: null, baseline_value: null, note: 'value: not a finite number (Infinity); baseline_value: not a finite number (NaN)' },
    ]);
    await expect(appendRows(conn, 'forecast.cash_weekly', [{ as_of: '2026-01-31', week_start: '2026-02-02', expected_cents: 10.5 }])).rejects.toThrow(/forecast\.cash_weekly\.expected_cents takes whole numbers, got 10\.5/);
    // A text that looks like SQL is stored as text.
    await appendRows(conn, 'forecast.model_runs', [{ as_of: '2026-01-31', model: "x'); drop table forecast.cash_weekly; --", status: 'written', rows_written: 1 }]);
    expect((await conn.runAndReadAll(`select count(*)::int as n from forecast.cash_weekly`)).getRowObjectsJS()).toEqual([{ n: 0 }]);
  });

  it('gives every table and column its comment from the definition files, and adds columns an older warehouse lacks', async () => {
    const conn = await memory();
    await conn.run(`create schema forecast; create table forecast.invoice_payment (as_of date, invoice_key varchar)`);
    await ensureTables(conn, FORECAST_TABLES);
    const missing = (await conn.runAndReadAll(`select table_name, column_name from duckdb_columns() where schema_name = 'forecast' and (comment is null or comment = '')`)).getRowObjectsJS();
    expect(missing).toEqual([]);
    const cols = (await conn.runAndReadAll(`select column_name from duckdb_columns() where schema_name = 'forecast' and table_name = 'invoice_payment' order by column_index`)).getRowObjectsJS().map((r) => r.column_name);
    expect(cols).toContain('amount_at_risk_cents');
    expect(() => parseTables(`-- table forecast.x: t\n-- column a: A\ncreate table if not exists forecast.x (a bigint, b bigint);`, 'x.sql')).toThrow('x.sql: forecast.x.b has no "-- column b:" comment');
    expect(() => parseTables(`-- table forecast.x: t\n-- column a: A\n-- column c: C\ncreate table if not exists forecast.x (a bigint);`, 'x.sql')).toThrow('"-- column c" names no column');
  });

  it('amount at risk: open × probability in whole basis points, rounded half up, in integers', () => {
    expect(basisPoints(0.12345)).toBe(1235);
    expect(basisPoints(Number.NaN)).toBeNull();
    expect(amountAtRisk(4_876_900, 9850)).toBe(4_803_747); // 48,769.00 × 0.985 = 48,037.465 → 48,037.47
    expect(amountAtRisk(1, 5000)).toBe(1); // 0.5 of a cent rounds up
    expect(amountAtRisk(1, 4999)).toBe(0);
    expect(amountAtRisk(9_007_199_254_740_991, 10_000)).toBe(9_007_199_254_740_991);
  });

  it('no model outside sales builds an INSERT from figures as text', () => {
    const dir = path.resolve(import.meta.dirname, '../../models');
    const files = fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.startsWith('sales'));
    const offenders = files.filter((f) => /insert into [^`]*values \$\{/.test(fs.readFileSync(path.join(dir, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});

describe('the whole pipeline on a small demo company (20 customers × 12 months, SQLite core)', () => {
  it('runs every step, writes the forecasts, and skips with the reason when the history is too short', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-small-demo-'));
    try {
      const url = `sqlite:${path.join(dir, 'cashloop.db')}`;
      const clock = new ManualClock('2025-01-01T07:00:00Z');
      const core = await openCore({ url, clock });
      const demo = await generateDemo(core, clock, { seed: 11, customers: 20, months: 12, start: '2025-01-01' });
      await closeCore(core);
      const asOf = demo.manifest.end;
      const run = await runPipeline({ dataDir: dir, coreUrl: url, asOf, quiet: true, steps: ['all'], site: false });
      expect(run.published).not.toBeNull();
      const wh = await openWarehouse(path.join(dir, 'warehouse.duckdb'));
      try {
        const runs = await rowsJs(wh.conn, `select model, status, reason from forecast.model_runs where as_of = $1::date order by model`, [asOf]);
        expect(runs.filter((r) => r.status === 'written').map((r) => r.model)).toEqual(expect.arrayContaining(['payment-date@2', 'cash-in/13-week@2']));
        const open = await rowsJs(wh.conn, `select count(*)::int as n, count(amount_at_risk_cents)::int as at_risk, count(*) filter (where amount_at_risk_cents > open_cents)::int as above from forecast.invoice_payment where as_of = $1::date`, [asOf]);
        expect(open[0]!.n).toBeGreaterThan(0);
        expect(open[0]!.at_risk).toBe(open[0]!.n);
        expect(open[0]!.above).toBe(0);
        // Every figure of these models' evaluations is a number or NULL with its reason (the sales block writes its own).
        const bad = await rowsJs(wh.conn, `select model, metric from forecast.model_evaluations where model not like 'sales/%' and (value is null or baseline_value is null) and note is null`);
        expect(bad).toEqual([]);

        // The payment-date models are fitted in a worker thread while DuckDB computes the rest:
        // the same replay and hazard model as fitted on this thread.
        const history = (await issueTimeFeatures(wh.conn)).filter((r) => r.invoice_date <= asOf);
        const fitted = await paymentDateModels(history, asOf, { origins: 6, minSettled: 20 }).result();
        expect(fitted.thread).toBe('worker');
        expect(fitted.replay.dates.length).toBeGreaterThan(0);
        expect(fitted.replay).toEqual(replayPaymentDates(history, asOf, { origins: 6, minSettled: 20 }));
        expect(fitted.hazard).toEqual(fitHazard(history, asOf));

        // Ten days into the history almost nothing is settled: the models are skipped, with the reason.
        const early = addDays('2025-01-01', 10);
        await runForecastStep(wh.conn, { asOf: early, quiet: true });
        const skipped = await rowsJs(wh.conn, `select model, status, reason from forecast.model_runs where as_of = $1::date and status = 'skipped' order by model`, [early]);
        expect(skipped.map((r) => r.model)).toEqual(expect.arrayContaining(['cash-in/13-week@2', 'payment-date@2']));
        expect(String(skipped.find((r) => r.model === 'payment-date@2')!.reason)).toMatch(/^\d+ invoices settled by 2025-01-11; the payment-date model needs 20$/);
        expect(await rowsJs(wh.conn, `select count(*)::int as n from forecast.invoice_payment where as_of = $1::date`, [early])).toEqual([{ n: 0 }]);
      } finally {
        wh.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
