-- table: Products of every source, typed.
-- grain: one row per product_key
with core as (
  select
    'core:' || id as product_key,
    sku,
    name as product_name,
    category,
    currency,
    list_price_minor as list_price_cents,
    unit_cost_minor as unit_cost_cents,
    'core' as source
  from staging.core_products
),

extract as (
  select
    source || ':' || product_id as product_key,
    product_id as sku,
    name as product_name,
    category,
    cast(null as varchar) as currency,
    -- an extract's products carry no currency: their prices are read with two decimals
    units_to_minor(unit_price, null) as list_price_cents,
    units_to_minor(unit_cost, null) as unit_cost_cents,
    source
  from raw.extract_products
  qualify row_number() over (partition by source, product_id order by row_no desc) = 1
),

final as (
  select * from core
  union all by name
  select * from extract
)

select * from final
