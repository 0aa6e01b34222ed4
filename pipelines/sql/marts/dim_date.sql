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
