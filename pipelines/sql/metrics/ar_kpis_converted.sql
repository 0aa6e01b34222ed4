-- table: Receivables KPIs of all currencies together, converted into the reporting currency at every month-end and the as-of date. Each currency's amount is converted exactly at the rate of metrics.fx_rates_used (that date's, or the latest before it), the currencies are added up, and the total is rounded half up to the reporting currency's exponent once, at the end. Periods with a currency that cannot be converted (no rates loaded) are left out.
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
    div_round_half_up(cast(k.credit_sales_3m_cents as hugeint) * f.fine_num, f.fine_den) as credit_sales_3m_fine
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
    max(days_3m) as days_3m
  from joined
  group by source, month_end
  having bool_and(convertible)
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
    case when credit_sales_3m_fine > 0 then cast(ar_current_fine as double) / cast(credit_sales_3m_fine as double) * days_3m end as bpdso
  from summed
)

select * from final order by source, month_end
