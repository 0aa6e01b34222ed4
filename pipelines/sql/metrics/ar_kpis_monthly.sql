-- table: Receivables KPIs at every month-end and at the as-of date, as defined in DESIGN.md: AR, DSO standard and countback, best possible DSO, ADD, CEI, days to pay and days late.
-- grain: one row per source, currency and month_end (the last row is the as-of date when it is not a month-end)
-- column source: `core` or the extract's source name
-- column currency: ISO 4217 currency
-- column month_end: Month-end M, or the run's as-of date
-- column is_month_end: False for the as-of row of an unfinished month
-- column ar_total_cents: AR(M): open balance at M, minor units
-- column ar_current_cents: Current AR(M): open balance not yet past due at M, minor units
-- column ar_overdue_cents: ar_total_cents − ar_current_cents
-- column credit_sales_cents: Credit sales of the month up to M (invoices less credit notes), minor units
-- column ar_total: AR(M) in currency units
-- column ar_current: Current AR(M) in currency units
-- column ar_overdue: Overdue AR(M) in currency units
-- column credit_sales: Credit sales of the month in currency units
-- column credit_sales_3m_cents: Credit sales of the 3 months ending at M, minor units
-- column days_3m: Days in those 3 months (up to M)
-- column dso_standard: AR(M) / credit sales of the 3 months × their days (null without sales)
-- column dso_countback: Countback DSO: walk back from M's month subtracting each month's credit sales from AR while they fit, adding its days; the month where they no longer fit adds days × remaining / sales; a month without sales stops the walk
-- column bpdso: Best possible DSO: current AR(M) / credit sales of the 3 months × their days
-- column add_days: Average days delinquent: dso_standard − bpdso
-- column cei: Collection effectiveness index (%): (AR at previous month-end + month's credit sales − AR(M)) / (AR at previous month-end + month's credit sales − current AR(M)) × 100
-- column ar_previous_cents: AR at the previous month-end, minor units (0 before the first)
-- column invoices_settled: Invoices whose balance reached zero with a payment in the month up to M
-- column avg_days_to_pay: Mean days to pay of those invoices
-- column weighted_days_to_pay: Mean days to pay weighted by invoice amount
-- column avg_days_late: Mean days late of those invoices
-- column weighted_days_late: Mean days late weighted by invoice amount
with aged as (
  -- AR(M) and current AR(M) from the aging's per-currency totals, whose buckets hold every
  -- open invoice at M (current = not yet past due): a few rows per month-end to add up.
  select source, currency, as_of, cast(sum(amount_cents) as bigint) as ar_total_cents, cast(sum(amount_cents) filter (where bucket = 'current') as bigint) as ar_current_cents
  from metrics.ar_aging_totals
  group by all
),

ar as (
  select
    p.source, p.currency, p.period_end, p.month_start, p.days_in_period, p.is_month_end,
    coalesce(a.ar_total_cents, 0) as ar_total_cents,
    coalesce(a.ar_current_cents, 0) as ar_current_cents
  from metrics.ar_periods as p
  left join aged as a on a.source = p.source and a.currency = p.currency and a.as_of = p.period_end
),

with_sales as (
  select
    ar.*,
    s.credit_sales_cents,
    cast(sum(s.credit_sales_cents) over w3 as bigint) as credit_sales_3m_cents,
    sum(s.days_in_period) over w3 as days_3m,
    coalesce(lag(ar.ar_total_cents) over w, 0) as ar_previous_cents
  from ar
  join metrics.ar_credit_sales as s using (source, currency, period_end)
  window
    w as (partition by ar.source, ar.currency order by ar.period_end),
    w3 as (partition by ar.source, ar.currency order by ar.period_end rows between 2 preceding and current row)
),

walk as (
  -- For each M, the months back from M's month with the sales already walked before each.
  select
    a.source, a.currency, a.period_end, a.ar_total_cents as ar_cents,
    s.credit_sales_cents as sales_cents, s.days_in_period as days,
    coalesce(sum(s.credit_sales_cents) over before, 0) as walked_cents,
    coalesce(max(case when s.credit_sales_cents <= 0 then 1 else 0 end) over before, 0) as stopped_earlier
  from ar as a
  join metrics.ar_credit_sales as s
    on s.source = a.source and s.currency = a.currency and s.period_end <= a.period_end
  window before as (partition by a.source, a.currency, a.period_end order by s.period_end desc rows between unbounded preceding and 1 preceding)
),

countback as (
  select
    source, currency, period_end,
    sum(
      case
        when stopped_earlier = 1 or sales_cents <= 0 or walked_cents >= ar_cents then 0
        when ar_cents - walked_cents >= sales_cents then days
        else days * (ar_cents - walked_cents) / sales_cents
      end
    ) as dso_countback
  from walk
  group by all
),

settled as (
  -- From the settled invoices' monthly counts and sums, kept up to date by their changes.
  select
    p.source, p.currency, p.period_end,
    coalesce(i.invoices_settled, 0) as invoices_settled,
    i.days_to_pay_sum / i.invoices_settled as avg_days_to_pay,
    i.days_to_pay_weighted / nullif(i.amount_cents, 0) as weighted_days_to_pay,
    case when i.days_late_count > 0 then i.days_late_sum / i.days_late_count end as avg_days_late,
    case when i.days_late_count > 0 then i.days_late_weighted / nullif(i.amount_cents, 0) end as weighted_days_late
  from metrics.ar_periods as p
  left join metrics.ar_settled_monthly as i
    on i.source = p.source and i.currency = p.currency and i.settled_month = p.month_start
),

final as (
  select
    w.source,
    w.currency,
    w.period_end as month_end,
    w.is_month_end,
    w.ar_total_cents,
    w.ar_current_cents,
    w.ar_total_cents - w.ar_current_cents as ar_overdue_cents,
    w.credit_sales_cents,
    minor_to_units(w.ar_total_cents, w.currency) as ar_total,
    minor_to_units(w.ar_current_cents, w.currency) as ar_current,
    minor_to_units(w.ar_total_cents - w.ar_current_cents, w.currency) as ar_overdue,
    minor_to_units(w.credit_sales_cents, w.currency) as credit_sales,
    w.credit_sales_3m_cents,
    cast(w.days_3m as integer) as days_3m,
    case when w.credit_sales_3m_cents > 0 then w.ar_total_cents / w.credit_sales_3m_cents * w.days_3m end as dso_standard,
    c.dso_countback,
    case when w.credit_sales_3m_cents > 0 then w.ar_current_cents / w.credit_sales_3m_cents * w.days_3m end as bpdso,
    case when w.credit_sales_3m_cents > 0 then (w.ar_total_cents - w.ar_current_cents) / w.credit_sales_3m_cents * w.days_3m end as add_days,
    case
      when w.ar_previous_cents + w.credit_sales_cents - w.ar_current_cents <> 0
        then 100.0 * (w.ar_previous_cents + w.credit_sales_cents - w.ar_total_cents) / (w.ar_previous_cents + w.credit_sales_cents - w.ar_current_cents)
    end as cei,
    w.ar_previous_cents,
    s.invoices_settled,
    s.avg_days_to_pay,
    s.weighted_days_to_pay,
    s.avg_days_late,
    s.weighted_days_late
  from with_sales as w
  join countback as c using (source, currency, period_end)
  join settled as s using (source, currency, period_end)
)

select * from final order by source, currency, month_end
