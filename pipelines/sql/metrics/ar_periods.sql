-- table: The dates measures are computed for: every month-end from each source and currency's first invoice to the as-of date, and the as-of date itself when it is not a month-end (its period is the month up to that day).
-- grain: one row per source, currency and period end
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency (measures never add up different currencies)
-- column period_end: The as-of date of the period: a month-end, or the run's as-of date
-- column month_start: First day of the period's month
-- column days_in_period: Days from month_start to period_end inclusive
-- column is_month_end: True when period_end is the last day of its month
with spans as (
  -- The monthly invoice totals (not cancelled) hold a row for every month with an invoice.
  select source, currency, min(invoice_month) as first_month
  from metrics.ar_invoiced_monthly
  group by source, currency
),

months as (
  select s.source, s.currency, cast(m as date) as month_start
  from spans as s, range(s.first_month, cast(getvariable('as_of') as date) + interval 1 day, interval 1 month) as t(m)
),

final as (
  select
    source,
    currency,
    least(last_day(month_start), cast(getvariable('as_of') as date)) as period_end,
    month_start,
    cast(least(last_day(month_start), cast(getvariable('as_of') as date)) - month_start + 1 as integer) as days_in_period,
    least(last_day(month_start), cast(getvariable('as_of') as date)) = last_day(month_start) as is_month_end
  from months
)

select * from final order by source, currency, period_end
