import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openWarehouse, rowsJs } from '../../src/warehouse/warehouse.ts';
import { CYCLE_SQL } from '../../models/payment-cycle/cycle.ts';

describe('customer payment cycle', () => {
  it('gives the distribution, reliability and next payment as computed by hand', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cashloop-cycle-'));
    const wh = await openWarehouse(path.join(dir, 'w.duckdb'));
    try {
      await wh.conn.run(`create schema marts; create schema forecast;
        create table marts.fct_invoices (customer_key varchar, invoice_date date, settled_date date, days_to_pay integer);
        create table forecast.invoice_payment (as_of date, invoice_key varchar, customer_key varchar, open_cents bigint, predicted_date date);
        insert into marts.fct_invoices values
          ('K', '2025-01-01', '2025-01-11', 10), ('K', '2025-02-01', '2025-02-21', 20), ('K', '2025-03-01', '2025-03-31', 30),
          ('K', '2025-04-01', '2025-05-11', 40), ('K', '2025-05-01', '2025-06-20', 50),
          ('K', '2025-06-01', '2025-07-25', 54); -- settled after the as-of date: not known yet
        insert into forecast.invoice_payment values ('2025-06-30', 'I9', 'K', 5000, '2025-07-09'), ('2025-06-30', 'I8', 'K', 2500, '2025-07-02');`);
      const [row] = await rowsJs(wh.conn, CYCLE_SQL('2025-06-30'));
      // days 10, 20, 30, 40, 50 → p10 14, median 30, p90 46 (linear interpolation); only 30 is within ±7 of 30.
      expect(row).toMatchObject({ customer_key: 'K', invoices_paid: 5n, p10_days: 14, median_days: 30, p90_days: 46, mean_days: 30, reliability: 0.2 });
      expect((row!.next_expected_payment_date as Date).toISOString().slice(0, 10)).toBe('2025-07-02');
      expect(Number(row!.trend_days_per_quarter)).toBeGreaterThan(29); // 10 days more per month ≈ 30 per quarter
    } finally {
      wh.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
