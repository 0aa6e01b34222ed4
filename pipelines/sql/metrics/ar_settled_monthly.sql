-- table: Invoices settled with a payment, per month of their settled date: counts and sums from which the KPIs' days to pay and days late are computed, kept up to date by adding the changed invoices (old rows out, new rows in) instead of reading every invoice again.
-- grain: one row per source, currency and settled month
-- incremental key: source, currency, settled_month
-- incremental sums: invoices_settled, amount_cents, days_to_pay_sum, days_to_pay_weighted, days_late_count, days_late_sum, days_late_weighted
-- incremental row count: invoices_settled
-- partition: month of settled_month
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column settled_month: First day of the month the invoices' balance reached zero
-- column invoices_settled: Invoices settled in the month with a payment (days_to_pay known)
-- column amount_cents: Their amounts, minor units
-- column days_to_pay_sum: Sum of their days to pay
-- column days_to_pay_weighted: Sum of days to pay × amount_cents
-- column days_late_count: Of them, those whose days late are known
-- column days_late_sum: Sum of their days late (0 when none is known)
-- column days_late_weighted: Sum of days late × amount_cents (0 when none is known)
/* changed keys:
select source, currency, cast(date_trunc('month', settled_date) as date) as settled_month from delta_marts_fct_invoices where settled_date is not null
*/
select
  source,
  currency,
  cast(date_trunc('month', settled_date) as date) as settled_month,
  count(*) as invoices_settled,
  cast(sum(amount_cents) as hugeint) as amount_cents,
  cast(sum(days_to_pay) as bigint) as days_to_pay_sum,
  cast(sum(days_to_pay * amount_cents) as hugeint) as days_to_pay_weighted,
  count(days_late) as days_late_count,
  cast(coalesce(sum(days_late), 0) as bigint) as days_late_sum,
  cast(coalesce(sum(days_late * amount_cents), 0) as hugeint) as days_late_weighted
from marts.fct_invoices
where days_to_pay is not null and settled_date is not null
group by all
