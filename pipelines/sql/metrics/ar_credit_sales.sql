-- table: Credit sales per period: invoices dated in the period less credit notes dated in it.
-- grain: one row per source, currency and period end
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column period_end: Month-end, or the as-of date for the current month
-- column month_start: First day of the month
-- column days_in_period: Days from month_start to period_end inclusive
-- column invoiced_cents: Invoices dated in the period, minor units
-- column credited_cents: Credit notes dated in the period, minor units
-- column credit_sales_cents: invoiced_cents − credited_cents
with invoiced as (
  -- From the monthly invoice totals (not cancelled), kept up to date by their changes.
  select p.source, p.currency, p.period_end, cast(sum(i.invoiced_cents) as bigint) as cents
  from metrics.ar_periods as p
  join metrics.ar_invoiced_monthly as i
    on i.source = p.source and i.currency = p.currency and i.invoice_month = p.month_start
  group by all
),

credited as (
  select p.source, p.currency, p.period_end, cast(sum(c.amount_cents) as bigint) as cents
  from metrics.ar_periods as p
  join marts.fct_credit_notes as c
    on c.source = p.source and c.currency = p.currency and cast(date_trunc('month', c.credit_date) as date) = p.month_start
  group by all
),

final as (
  select
    p.source,
    p.currency,
    p.period_end,
    p.month_start,
    p.days_in_period,
    coalesce(i.cents, 0) as invoiced_cents,
    coalesce(c.cents, 0) as credited_cents,
    coalesce(i.cents, 0) - coalesce(c.cents, 0) as credit_sales_cents
  from metrics.ar_periods as p
  left join invoiced as i using (source, currency, period_end)
  left join credited as c using (source, currency, period_end)
)

select * from final order by source, currency, period_end
