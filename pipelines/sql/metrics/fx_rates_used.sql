-- table: The exchange rates each conversion into the reporting currency uses: for every source, currency and period end of metrics.ar_periods, the rate of that date or, when it has none, the latest date before it (rates give the units of a currency one unit of the base buys). A conversion that needs a rate none is loaded for fails the run, naming the currency and the date. With no rates loaded at all, only amounts already in the reporting currency are convertible.
-- grain: one row per source, currency and period_end
-- column source: `core` or the extract's source name
-- column currency: The currency converted from
-- column period_end: The date converted at: a month-end or the run's as-of date
-- column reporting_currency: The currency converted into (setting reporting.currency)
-- column base: The currency the rates are quoted per (one unit of it buys `rate` of the other)
-- column rate_date: The date of the currency's rate used: period_end, or the latest date before it with a rate; null when the currency is the base
-- column rate: Units of currency per unit of base on rate_date, as published ('1' for the base and for the reporting currency itself)
-- column reporting_rate_date: The date of the reporting currency's rate used; null when it is the base
-- column reporting_rate: Units of the reporting currency per unit of base on reporting_rate_date ('1' when it is the base or no conversion is needed)
-- column convertible: False only when no rates are loaded and the currency is not the reporting currency
-- column fine_num: Exact integer factor: minor units × fine_num / fine_den = billionths of the reporting currency's minor unit
-- column fine_den: Exact integer divisor of that factor
with setting as (
  select * from staging.stg_reporting_currency
),

rates as (
  select r.* from staging.stg_exchange_rates as r join setting as s on r.base = s.base
),

periods as (
  select distinct p.source, p.currency, p.period_end, s.reporting_currency, s.base, s.rates_loaded
  from metrics.ar_periods as p cross join setting as s
),

own as (
  select p.*, r.rate_date, r.rate, r.rate_e8
  from periods as p
  asof left join rates as r on r.currency = p.currency and r.rate_date <= p.period_end
),

reporting as (
  select o.*, r.rate_date as reporting_rate_date, r.rate as reporting_rate, r.rate_e8 as reporting_rate_e8
  from own as o
  asof left join rates as r on r.currency = o.reporting_currency and r.rate_date <= o.period_end
),

checked as (
  select
    *,
    currency = reporting_currency
      or ((currency = base or rate_e8 is not null) and (reporting_currency = base or reporting_rate_e8 is not null)) as has_rates
  from reporting
),

final as (
  select
    source,
    currency,
    period_end,
    reporting_currency,
    base,
    case when currency = base or currency = reporting_currency then null else rate_date end as rate_date,
    case when currency = base or currency = reporting_currency then '1' else rate end as rate,
    case when reporting_currency = base or currency = reporting_currency then null else reporting_rate_date end as reporting_rate_date,
    case when reporting_currency = base or currency = reporting_currency then '1' else reporting_rate end as reporting_rate,
    case
      when has_rates then true
      when rates_loaded then error(
        'no exchange rate for ' || (case when currency <> base and rate_e8 is null then currency else reporting_currency end)
        || ' per ' || base || ' on or before ' || cast(period_end as varchar)
        || ': load the rates of that date with `cashloop rates load FILE`')
      else false
    end as convertible,
    case
      when currency = reporting_currency then pow10(9 + currency_exponent(reporting_currency))
      else coalesce(case when reporting_currency = base then cast(100000000 as hugeint) else reporting_rate_e8 end, 0) * pow10(9 + currency_exponent(reporting_currency))
    end as fine_num,
    case
      when currency = reporting_currency then pow10(currency_exponent(currency))
      else coalesce(case when currency = base then cast(100000000 as hugeint) else rate_e8 end, 1) * pow10(currency_exponent(currency))
    end as fine_den
  from checked
)

select * from final order by source, currency, period_end
