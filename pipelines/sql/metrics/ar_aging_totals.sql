-- table: Receivables aging per currency at every month-end and at the as-of date: the customer aging added up over customers. The small table the KPIs and the converted aging read, kept up to date by adding the aging's changes (a run that moves a few customers' open items touches a few of its rows) instead of adding up the whole aging again.
-- grain: one row per source, currency, as-of date and non-empty bucket
-- incremental key: source, currency, as_of
-- incremental sums: amount_cents, invoice_count, customer_count
-- incremental row count: customer_count
-- partition: month of as_of
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column as_of: Month-end or the run's as-of date
-- column bucket: current, 1-30, 31-60, 61-90, 91-120, 120+ (days past due at as_of)
-- column bucket_order: 0 for current … 5 for 120+, to sort buckets
-- column amount_cents: Open balance in the bucket, all customers, minor units
-- column invoice_count: Number of open invoices in the bucket
-- column customer_count: Number of customers with an open invoice in the bucket
/* changed keys:
select source, currency, as_of from delta_metrics_ar_aging
*/
select
  source,
  currency,
  as_of,
  bucket,
  bucket_order,
  cast(sum(amount_cents) as bigint) as amount_cents,
  cast(sum(invoice_count) as bigint) as invoice_count,
  count(*) as customer_count
from metrics.ar_aging
group by source, currency, as_of, bucket, bucket_order
