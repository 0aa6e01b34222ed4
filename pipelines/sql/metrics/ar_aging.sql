-- table: Receivables aging per customer at every month-end and at the as-of date. For each as_of the buckets of all customers add up to the open total (ar_kpis_monthly.ar_total_cents).
-- grain: one row per as-of date, customer and non-empty bucket
-- incremental key: as_of, customer_id
-- incremental sums: amount_cents, amount, invoice_count
-- incremental row count: invoice_count
-- partition: month of as_of
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column as_of: Month-end or the run's as-of date
-- column customer_id: Customer key (marts.dim_customer.customer_key)
-- column bucket: current, 1-30, 31-60, 61-90, 91-120, 120+ (days past due at as_of)
-- column bucket_order: 0 for current … 5 for 120+, to sort buckets
-- column amount_cents: Open balance in the bucket, minor units
-- column amount: Open balance in the bucket, in currency units (decimal)
-- column invoice_count: Number of open invoices in the bucket
/* changed keys:
select as_of, customer_key as customer_id from delta_metrics_ar_open_items
*/
select
  source,
  currency,
  as_of,
  customer_key as customer_id,
  bucket,
  case bucket when 'current' then 0 when '1-30' then 1 when '31-60' then 2 when '61-90' then 3 when '91-120' then 4 else 5 end as bucket_order,
  cast(sum(open_cents) as bigint) as amount_cents,
  minor_to_units(sum(open_cents), currency) as amount,
  count(*) as invoice_count
from metrics.ar_open_items as o
group by source, currency, as_of, customer_key, bucket
