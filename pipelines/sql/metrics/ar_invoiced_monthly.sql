-- table: Invoices (not cancelled) per month of their invoice date: the totals credit sales and the measured periods start from, kept up to date by adding the changed invoices (old rows out, new rows in) instead of adding up every invoice again.
-- grain: one row per source, currency and invoice month
-- incremental key: source, currency, invoice_month
-- incremental sums: invoiced_cents, invoice_count
-- incremental row count: invoice_count
-- partition: month of invoice_month
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column invoice_month: First day of the month the invoices are dated in
-- column invoiced_cents: Invoices dated in the month, minor units
-- column invoice_count: Number of those invoices
/* changed keys:
select source, currency, cast(date_trunc('month', invoice_date) as date) as invoice_month from delta_marts_fct_invoices
*/
select
  source,
  currency,
  cast(date_trunc('month', invoice_date) as date) as invoice_month,
  cast(sum(amount_cents) as bigint) as invoiced_cents,
  count(*) as invoice_count
from marts.fct_invoices
where not is_cancelled
group by all
