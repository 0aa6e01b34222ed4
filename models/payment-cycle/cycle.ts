import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../src/warehouse/warehouse.ts';

/**
 * Customer payment cycle as of a date: the distribution of days to pay of the customer's
 * invoices settled by then (p10, median, p90), its trend (least-squares slope of days to pay
 * against invoice date, in days per quarter), its reliability (share of payments within
 * ±7 days of the customer's median) and the expected date of the next payment (the earliest
 * predicted payment date of its open invoices, from forecast.invoice_payment).
 * For credit controllers and collectors; the baseline is the customer's plain mean.
 */
export const CYCLE_SQL = (asOf: string) => `
  with settled as (
    select customer_key, invoice_date, days_to_pay from marts.fct_invoices
    where settled_date <= date '${asOf}' and days_to_pay is not null
  ),
  stats as (
    select customer_key, count(*) as invoices_paid,
           quantile_cont(days_to_pay, 0.1) as p10_days, quantile_cont(days_to_pay, 0.5) as median_days, quantile_cont(days_to_pay, 0.9) as p90_days,
           avg(days_to_pay) as mean_days,
           regr_slope(days_to_pay, epoch(invoice_date) / 86400.0) * 91.3125 as trend_days_per_quarter
    from settled group by all
  ),
  reliability as (
    select s.customer_key, avg(case when abs(s.days_to_pay - st.median_days) <= 7 then 1.0 else 0.0 end) as reliability
    from settled s join stats st using (customer_key) group by all
  ),
  next_payment as (
    select customer_key, min(predicted_date) as next_expected_payment_date, sum(open_cents) as open_cents
    from forecast.invoice_payment where as_of = date '${asOf}' group by all
  )
  select date '${asOf}' as as_of, st.customer_key, st.invoices_paid, st.p10_days, st.median_days, st.p90_days, st.mean_days,
         st.trend_days_per_quarter, r.reliability, n.next_expected_payment_date, coalesce(n.open_cents, 0) as open_cents
  from stats st join reliability r using (customer_key) left join next_payment n using (customer_key)`;

export async function writePaymentCycle(conn: DuckDBConnection, asOf: string): Promise<number> {
  await conn.run(`delete from forecast.customer_payment_cycle where as_of = date '${asOf}'`);
  await conn.run(`insert into forecast.customer_payment_cycle ${CYCLE_SQL(asOf)}`);
  const rows = await rowsJs(conn, `select count(*) as n from forecast.customer_payment_cycle where as_of = date '${asOf}'`);
  return Number(rows[0]!.n);
}
