-- table: Receivables aging of all currencies together, converted into the reporting currency at every month-end and the as-of date: each currency's bucket total converted exactly at the rate of metrics.fx_rates_used, added up, and rounded half up to the reporting currency's exponent once. Periods with a currency that cannot be converted (no rates loaded) are left out.
-- grain: one row per source, as-of date and non-empty bucket
-- column source: `core` or the extract's source name
-- column as_of: Month-end or the run's as-of date
-- column reporting_currency: The currency of the amounts (setting reporting.currency)
-- column bucket: current, 1-30, 31-60, 61-90, 91-120, 120+ (days past due at as_of)
-- column bucket_order: 0 for current … 5 for 120+, to sort buckets
-- column amount_cents: Open balance in the bucket, all currencies, in minor units of the reporting currency
-- column amount: The same in units of the reporting currency
-- column invoice_count: Number of open invoices in the bucket, all currencies
-- column currencies: The currencies added up
with per_currency as (
  -- The aging's per-currency totals, kept up to date by its changes.
  select source, currency, as_of, bucket, bucket_order, amount_cents, invoice_count
  from metrics.ar_aging_totals
),

joined as (
  select a.*, f.reporting_currency, f.convertible, div_round_half_up(cast(a.amount_cents as hugeint) * f.fine_num, f.fine_den) as amount_fine
  from per_currency as a
  join metrics.fx_rates_used as f on f.source = a.source and f.currency = a.currency and f.period_end = a.as_of
),

convertible_periods as (
  select source, as_of from joined group by source, as_of having bool_and(convertible)
),

final as (
  select
    j.source,
    j.as_of,
    any_value(j.reporting_currency) as reporting_currency,
    j.bucket,
    min(j.bucket_order) as bucket_order,
    cast(div_round_half_up(sum(j.amount_fine), pow10(9)) as bigint) as amount_cents,
    minor_to_units(div_round_half_up(sum(j.amount_fine), pow10(9)), any_value(j.reporting_currency)) as amount,
    cast(sum(j.invoice_count) as bigint) as invoice_count,
    string_agg(j.currency, ', ' order by j.currency) as currencies
  from joined as j
  semi join convertible_periods as p on p.source = j.source and p.as_of = j.as_of
  group by j.source, j.as_of, j.bucket
)

select * from final order by source, as_of, bucket_order
