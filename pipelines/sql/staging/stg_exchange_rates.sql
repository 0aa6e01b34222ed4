-- table: Daily reference rates from the core (`cashloop rates load`): on rate_date one unit of base buys `rate` units of currency. rate_e8 is the rate × 10^8 as an exact integer.
-- grain: one row per rate_date, base and currency
select
  cast(rate_date as date) as rate_date,
  base,
  currency,
  rate,
  rate_e8(rate) as rate_e8
from staging.core_exchange_rates
