import type { DuckDBConnection } from '@duckdb/node-api';
import { rowsJs } from '../../src/warehouse/warehouse.ts';
import { scoreCustomer, type CreditScore } from './score.ts';

/** Scores every customer of the warehouse as of `asOf` (features in DuckDB SQL over the marts and metrics). */
export async function customerScores(conn: DuckDBConnection, asOf: string): Promise<(CreditScore & { customerKey: string; customerId: string; source: string })[]> {
  const rows = await rowsJs(
    conn,
    `with sales as (
       select customer_key,
              sum(amount_cents) filter (where invoice_date > date '${asOf}' - interval 3 month) as s3,
              sum(amount_cents) filter (where invoice_date <= date '${asOf}' - interval 3 month and invoice_date > date '${asOf}' - interval 6 month) as p3,
              avg(case when is_disputed then 1.0 else 0.0 end) as disputed_share,
              sum(written_off_cents) / nullif(sum(amount_cents), 0) as written_off_share
       from marts.fct_invoices where invoice_date <= date '${asOf}' and not coalesce(is_cancelled, false) group by all)
     select c.customer_key, c.customer_id, c.source, c.currency, coalesce(c.credit_limit_cents, 0)::bigint as limit_cents,
            coalesce(b.invoices_paid, 0)::bigint as paid, b.share_paid_late as share_late, b.mean_days_late, b.trend_days_per_quarter,
            coalesce(b.open_cents, 0)::bigint as open_cents, coalesce(b.overdue_cents, 0)::bigint as overdue_cents,
            coalesce(s.s3, 0)::bigint as s3, coalesce(s.p3, 0)::bigint as p3, coalesce(s.disputed_share, 0) as disputed_share, coalesce(s.written_off_share, 0)::double as written_off_share
     from marts.dim_customer c
     left join metrics.customer_payment_behaviour b on b.customer_id = c.customer_key
     left join sales s on s.customer_key = c.customer_key`,
  );
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return rows.map((r) => ({
    customerKey: String(r.customer_key),
    customerId: String(r.customer_id),
    source: String(r.source),
    ...scoreCustomer({
      currency: String(r.currency),
      invoicesPaid: Number(r.paid),
      shareLate: n(r.share_late),
      meanDaysLate: n(r.mean_days_late),
      trendDaysPerQuarter: n(r.trend_days_per_quarter),
      openCents: Number(r.open_cents),
      overdueCents: Number(r.overdue_cents),
      creditLimitCents: Number(r.limit_cents),
      disputedShare: Number(r.disputed_share),
      sales3mCents: Number(r.s3),
      salesPrior3mCents: Number(r.p3),
      writtenOffShare: Number(r.written_off_share),
    }),
  }));
}
