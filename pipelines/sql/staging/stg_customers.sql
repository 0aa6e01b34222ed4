-- table: Customers of every source, typed and deduplicated (core feed and extracts).
-- grain: one row per customer_key
with core as (
  select
    'core:' || id as customer_key,
    cast(id as varchar) as customer_id,
    name as customer_name,
    country,
    segment,
    currency,
    credit_limit_minor as credit_limit_cents,
    cast(payment_terms_days as integer) as payment_terms_days,
    risk_class,
    status,
    'core' as source
  from staging.core_customers
),

extract as (
  select
    source || ':' || customer_id as customer_key,
    customer_id,
    name as customer_name,
    country,
    segment,
    currency,
    units_to_minor(credit_limit, currency) as credit_limit_cents,
    cast(payment_terms_days as integer) as payment_terms_days,
    cast(null as varchar) as risk_class,
    'active' as status,
    source
  from raw.extract_customers
  qualify row_number() over (partition by source, customer_id order by row_no) = 1
),

final as (
  select * from core
  union all by name
  select * from extract
)

select * from final
