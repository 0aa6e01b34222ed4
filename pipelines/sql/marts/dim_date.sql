-- table: Calendar from the earliest business date in the warehouse to the as-of date.
-- grain: one row per calendar day
-- column date_day: The day
-- column year: Calendar year
-- column quarter: Calendar quarter 1–4
-- column month: Month number 1–12
-- column month_start: First day of the month
-- column month_end: Last day of the month
-- column day_of_week: ISO day of week, 1 = Monday … 7 = Sunday
-- column iso_week: ISO week number
-- column is_month_end: True on the last day of a month
-- column is_weekend: True on Saturday and Sunday
-- incremental key: date_day
/* changed keys:
-- The calendar only moves when its first day does: when a changed invoice, order or payment
-- (its row before or after the change) is dated on or before the first day. Then every day from
-- that date to the first day is computed again, and to the as-of date when a row that was on the
-- first day changed (the first day may move later); otherwise nothing is (and nothing is scanned).
select cast(d as date) as date_day
from
  (select min(day) as low, min(day) filter (where _change = 'old') as low_old from (
    select _change, invoice_date as day from delta_marts_fct_invoices
    union all select _change, order_date from delta_marts_fct_orders
    union all select _change, payment_date from delta_marts_fct_payments)) as changed_rows,
  (select min(date_day) as first_day from marts.dim_date) as calendar,
  range(
    cast(changed_rows.low as timestamp),
    cast(case when changed_rows.low_old <= calendar.first_day then getvariable('as_of') else calendar.first_day end as timestamp) + interval 1 day,
    interval 1 day) as t(d)
where changed_rows.low <= calendar.first_day
*/
with bounds as (
  -- From the marts (already cut at the as-of date), whose date columns are plain and cheap to scan.
  select
    least(
      coalesce((select min(invoice_date) from marts.fct_invoices), getvariable('as_of')),
      coalesce((select min(order_date) from marts.fct_orders), getvariable('as_of')),
      coalesce((select min(payment_date) from marts.fct_payments), getvariable('as_of'))
    ) as first_day,
    cast(getvariable('as_of') as date) as last_day
),

days as (
  select cast(d as date) as date_day
  from bounds, range(bounds.first_day, bounds.last_day + interval 1 day, interval 1 day) as t(d)
),

final as (
  select
    date_day,
    year(date_day) as year,
    quarter(date_day) as quarter,
    month(date_day) as month,
    cast(date_trunc('month', date_day) as date) as month_start,
    last_day(date_day) as month_end,
    isodow(date_day) as day_of_week,
    weekofyear(date_day) as iso_week,
    date_day = last_day(date_day) as is_month_end,
    isodow(date_day) >= 6 as is_weekend
  from days
)

select * from final order by date_day
