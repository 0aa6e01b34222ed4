-- table: Receivables KPIs of all currencies together, converted into the reporting currency at every month-end and the as-of date. Every input of a row M (AR(M), current AR(M), the credit sales of M's month and of every earlier month the countback walks, and the AR of the previous month-end) is converted at the one rate of M in metrics.fx_rates_used (M's rate, or the latest before it), so a rate that moves between month-ends changes no ratio. Each currency's amount is converted exactly, the currencies are added up, and amounts are rounded half up to the reporting currency's exponent once, at the end; the day measures and CEI are ratios of the unrounded sums. Periods with a currency that cannot be converted (no rates loaded) are left out.
-- grain: one row per source and month_end
-- column source: `core` or the extract's source name
-- column month_end: Month-end M, or the run's as-of date
-- column is_month_end: False for the as-of row of an unfinished month
-- column reporting_currency: The currency of every amount of the row (setting reporting.currency)
-- column currencies: The currencies added up, in alphabetical order
-- column rates_used: Which rate converted each currency: `JPY 161.23 (2026-11-30)`; `at par` for the reporting currency itself
-- column ar_total_cents: AR(M) of all currencies, in minor units of the reporting currency
-- column ar_current_cents: Current AR(M) of all currencies, in minor units of the reporting currency
-- column ar_overdue_cents: Overdue AR(M) (total less current, converted exactly, then rounded), in minor units of the reporting currency
-- column credit_sales_cents: Credit sales of the month up to M, in minor units of the reporting currency
-- column credit_sales_3m_cents: Credit sales of the 3 months ending at M, converted at M's rate, in minor units of the reporting currency
-- column ar_total: AR(M) in units of the reporting currency
-- column ar_overdue: Overdue AR(M) in units of the reporting currency
-- column credit_sales: Credit sales of the month in units of the reporting currency
-- column dso_standard: Converted AR(M) / converted credit sales of the 3 months × their days (the longest window of the currencies; null without sales)
-- column bpdso: Best possible DSO from the converted current AR
-- column dso_countback: Countback DSO of the converted amounts: walk back from M's month over the credit sales of all currencies converted at M's rate, subtracting each month's from the converted AR(M) while they fit and adding its days; the month where they no longer fit adds days × remaining / sales; a month whose converted sales are not above zero stops the walk
-- column add_days: Average days delinquent: dso_standard − bpdso (converted overdue AR / converted credit sales of the 3 months × their days)
-- column cei: Collection effectiveness index (%) of the converted amounts, all at M's rate: (AR at the previous month-end + the month's credit sales − AR(M)) / (AR at the previous month-end + the month's credit sales − current AR(M)) × 100; null when the divisor is zero
-- column ar_previous_cents: AR at the previous month-end (0 before a currency's first), converted at M's rate (not the previous month-end's), in minor units of the reporting currency
with joined as (
  select
    k.source,
    k.month_end,
    k.is_month_end,
    k.currency,
    k.days_3m,
    f.reporting_currency,
    f.convertible,
    f.rate,
    f.rate_date,
    div_round_half_up(cast(k.ar_total_cents as hugeint) * f.fine_num, f.fine_den) as ar_total_fine,
    div_round_half_up(cast(k.ar_current_cents as hugeint) * f.fine_num, f.fine_den) as ar_current_fine,
    div_round_half_up(cast(k.credit_sales_cents as hugeint) * f.fine_num, f.fine_den) as credit_sales_fine,
    div_round_half_up(cast(k.credit_sales_3m_cents as hugeint) * f.fine_num, f.fine_den) as credit_sales_3m_fine,
    div_round_half_up(cast(k.ar_previous_cents as hugeint) * f.fine_num, f.fine_den) as ar_previous_fine
  from metrics.ar_kpis_monthly as k
  join metrics.fx_rates_used as f on f.source = k.source and f.currency = k.currency and f.period_end = k.month_end
),

summed as (
  select
    source,
    month_end,
    bool_and(is_month_end) as is_month_end,
    any_value(reporting_currency) as reporting_currency,
    string_agg(currency, ', ' order by currency) as currencies,
    string_agg(
      case when currency = reporting_currency then currency || ' at par'
           else currency || ' ' || rate || ' (' || coalesce(cast(rate_date as varchar), 'base') || ')' end,
      ', ' order by currency) as rates_used,
    sum(ar_total_fine) as ar_total_fine,
    sum(ar_current_fine) as ar_current_fine,
    sum(credit_sales_fine) as credit_sales_fine,
    sum(credit_sales_3m_fine) as credit_sales_3m_fine,
    sum(ar_previous_fine) as ar_previous_fine,
    max(days_3m) as days_3m
  from joined
  group by source, month_end
  having bool_and(convertible)
),

walked_months as (
  -- For each M, the credit sales of every month up to M of all currencies, converted at M's rate.
  select
    f.source,
    f.period_end as month_end,
    s.period_end as walked_end,
    max(s.days_in_period) as days,
    sum(div_round_half_up(cast(s.credit_sales_cents as hugeint) * f.fine_num, f.fine_den)) as sales_fine
  from metrics.fx_rates_used as f
  join metrics.ar_credit_sales as s
    on s.source = f.source and s.currency = f.currency and s.period_end <= f.period_end
  group by all
),

walk as (
  -- The months back from M's month with the converted sales already walked before each.
  select
    w.source, w.month_end, w.days, w.sales_fine, a.ar_total_fine,
    coalesce(sum(w.sales_fine) over before, 0) as walked_fine,
    coalesce(max(case when w.sales_fine <= 0 then 1 else 0 end) over before, 0) as stopped_earlier
  from walked_months as w
  join summed as a using (source, month_end)
  window before as (partition by w.source, w.month_end order by w.walked_end desc rows between unbounded preceding and 1 preceding)
),

countback as (
  select
    source, month_end,
    sum(
      case
        when stopped_earlier = 1 or sales_fine <= 0 or walked_fine >= ar_total_fine then 0
        when ar_total_fine - walked_fine >= sales_fine then days
        else days * cast(ar_total_fine - walked_fine as double) / cast(sales_fine as double)
      end
    ) as dso_countback
  from walk
  group by all
),

final as (
  select
    source,
    month_end,
    is_month_end,
    reporting_currency,
    currencies,
    rates_used,
    cast(div_round_half_up(ar_total_fine, pow10(9)) as bigint) as ar_total_cents,
    cast(div_round_half_up(ar_current_fine, pow10(9)) as bigint) as ar_current_cents,
    cast(div_round_half_up(ar_total_fine - ar_current_fine, pow10(9)) as bigint) as ar_overdue_cents,
    cast(div_round_half_up(credit_sales_fine, pow10(9)) as bigint) as credit_sales_cents,
    cast(div_round_half_up(credit_sales_3m_fine, pow10(9)) as bigint) as credit_sales_3m_cents,
    minor_to_units(div_round_half_up(ar_total_fine, pow10(9)), reporting_currency) as ar_total,
    minor_to_units(div_round_half_up(ar_total_fine - ar_current_fine, pow10(9)), reporting_currency) as ar_overdue,
    minor_to_units(div_round_half_up(credit_sales_fine, pow10(9)), reporting_currency) as credit_sales,
    case when credit_sales_3m_fine > 0 then cast(ar_total_fine as double) / cast(credit_sales_3m_fine as double) * days_3m end as dso_standard,
    case when credit_sales_3m_fine > 0 then cast(ar_current_fine as double) / cast(credit_sales_3m_fine as double) * days_3m end as bpdso,
    c.dso_countback,
    case when credit_sales_3m_fine > 0 then cast(ar_total_fine - ar_current_fine as double) / cast(credit_sales_3m_fine as double) * days_3m end as add_days,
    case
      when ar_previous_fine + credit_sales_fine - ar_current_fine <> 0
        then 100.0 * cast(ar_previous_fine + credit_sales_fine - ar_total_fine as double) / cast(ar_previous_fine + credit_sales_fine - ar_current_fine as double)
    end as cei,
    cast(div_round_half_up(ar_previous_fine, pow10(9)) as bigint) as ar_previous_cents
  from summed
  join countback as c using (source, month_end)
)

select * from final order by source, month_end
